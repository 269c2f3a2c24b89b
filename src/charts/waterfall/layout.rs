//! Pure waterfall layout: spans in any arrival order → rows in depth-first order with depth,
//! bar offset/width as fractions of the trace, self time and critical-path marks. No Dioxus.
//! Iterative throughout, so a 100,000-span trace or a chain 100,000 deep cannot blow the stack.

use std::collections::{HashMap, VecDeque};

use crate::model::Span;

/// One row of the waterfall.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// Index of the span in the input slice.
    pub span: usize,
    pub depth: usize,
    /// Rows in this row's subtree, itself excluded: collapsing the row hides exactly these.
    pub descendants: usize,
    /// The span names a parent that is not in the trace (yet); shown at the top level.
    pub orphan: bool,
    /// Bar start and width as fractions of the trace's time range.
    pub offset: f64,
    pub width: f64,
    /// Duration minus the time covered by its children (overlaps counted once).
    pub self_ns: u64,
    /// On the critical path: the chain of work that determined when the trace finished.
    pub critical: bool,
    /// The parts of the bar on that path (as Jaeger marks it): where the span itself was
    /// working, not waiting for a child that was; (offset, width) as fractions of the trace.
    pub critical_parts: Vec<(f64, f64)>,
}

/// The whole waterfall.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Layout {
    pub start_ns: u64,
    pub end_ns: u64,
    pub rows: Vec<Row>,
}

/// Lays out `spans` (one trace, any order).
pub fn layout(spans: &[Span]) -> Layout {
    if spans.is_empty() {
        return Layout::default();
    }
    let start_ns = spans.iter().map(|s| s.start_ns).min().unwrap_or(0);
    let end_ns = spans.iter().map(end_of).max().unwrap_or(start_ns);
    let total = end_ns.saturating_sub(start_ns).max(1) as f64;

    let index: HashMap<&str, usize> =
        spans.iter().enumerate().rev().map(|(i, s)| (s.span_id.as_str(), i)).collect();
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); spans.len()];
    let mut roots = Vec::new();
    let mut orphan = vec![false; spans.len()];
    for (i, span) in spans.iter().enumerate() {
        match span.parent_span_id.as_deref().map(|p| index.get(p).copied()) {
            Some(Some(parent)) if parent != i => children[parent].push(i),
            Some(None) => {
                orphan[i] = true;
                roots.push(i);
            }
            _ => roots.push(i),
        }
    }
    let by_start = |a: &usize, b: &usize| {
        let (a, b) = (&spans[*a], &spans[*b]);
        a.start_ns.cmp(&b.start_ns).then_with(|| a.span_id.cmp(&b.span_id))
    };
    for list in &mut children {
        list.sort_by(by_start);
    }
    roots.sort_by(by_start);

    let mut rows = Vec::with_capacity(spans.len());
    let mut row_of = vec![usize::MAX; spans.len()];
    // Spans in a parent cycle are reached from no root: they become roots after the rest.
    // A queue, not a Vec: a trace of 100,000 orphans would make `remove(0)` quadratic.
    let mut pending_roots: VecDeque<usize> = roots.iter().copied().collect();
    let mut next_unvisited = 0;
    loop {
        let Some(root) = pending_roots.pop_front() else {
            while next_unvisited < spans.len() && row_of[next_unvisited] != usize::MAX {
                next_unvisited += 1;
            }
            if next_unvisited == spans.len() {
                break;
            }
            orphan[next_unvisited] = true;
            pending_roots.push_back(next_unvisited);
            continue;
        };
        if row_of[root] != usize::MAX {
            continue;
        }
        visit(root, spans, &children, &orphan, start_ns, total, &mut rows, &mut row_of);
    }
    let to_fraction = |(from, to): (u64, u64)| {
        ((from - start_ns) as f64 / total, to.saturating_sub(from) as f64 / total)
    };
    mark_critical_path(spans, &children, &roots, &row_of, &mut rows, to_fraction);
    Layout { start_ns, end_ns, rows }
}

fn end_of(span: &Span) -> u64 {
    span.end_ns.max(span.start_ns)
}

/// Depth-first from `root`, appending rows; fills `descendants` when each subtree closes.
#[allow(clippy::too_many_arguments)]
fn visit(
    root: usize,
    spans: &[Span],
    children: &[Vec<usize>],
    orphan: &[bool],
    start_ns: u64,
    total: f64,
    rows: &mut Vec<Row>,
    row_of: &mut [usize],
) {
    enum Step {
        Enter(usize, usize),
        Exit(usize),
    }
    let mut stack = vec![Step::Enter(root, 0)];
    while let Some(step) = stack.pop() {
        match step {
            Step::Enter(i, depth) => {
                if row_of[i] != usize::MAX {
                    continue;
                }
                let span = &spans[i];
                row_of[i] = rows.len();
                rows.push(Row {
                    span: i,
                    depth,
                    descendants: 0,
                    orphan: orphan[i],
                    offset: (span.start_ns - start_ns) as f64 / total,
                    width: (end_of(span) - span.start_ns) as f64 / total,
                    // Only the children drawn under this row: in a parent cycle the span that
                    // closes the loop is already drawn above.
                    self_ns: self_time(
                        span,
                        children[i]
                            .iter()
                            .filter(|&&c| row_of[c] == usize::MAX)
                            .map(|&c| &spans[c]),
                    ),
                    critical: false,
                    critical_parts: Vec::new(),
                });
                stack.push(Step::Exit(row_of[i]));
                for &child in children[i].iter().rev() {
                    stack.push(Step::Enter(child, depth + 1));
                }
            }
            Step::Exit(row) => rows[row].descendants = rows.len() - row - 1,
        }
    }
}

/// The span's duration minus the union of its children's intervals clipped to it.
fn self_time<'a>(span: &Span, children: impl Iterator<Item = &'a Span>) -> u64 {
    let (lo, hi) = (span.start_ns, end_of(span));
    let mut intervals: Vec<(u64, u64)> = children
        .map(|c| (c.start_ns.clamp(lo, hi), end_of(c).clamp(lo, hi)))
        .filter(|(a, b)| b > a)
        .collect();
    intervals.sort_unstable();
    let mut covered = 0;
    let mut cursor = lo;
    for (a, b) in intervals {
        let a = a.max(cursor);
        if b > a {
            covered += b - a;
            cursor = b;
        }
    }
    (hi - lo) - covered
}

/// Marks the critical path from the root that ends last: walking back from its end, the child
/// that finished last before the cursor is on the path, then the cursor moves to that child's
/// start; recursively inside each child. Between those children, the span's own time is on
/// the path: its `critical_parts`, made fractions by `to_fraction`.
fn mark_critical_path(
    spans: &[Span],
    children: &[Vec<usize>],
    roots: &[usize],
    row_of: &[usize],
    rows: &mut [Row],
    to_fraction: impl Fn((u64, u64)) -> (f64, f64),
) {
    let Some(&root) =
        roots.iter().filter(|&&r| spans[r].parent_span_id.is_none()).chain(roots).next()
    else {
        return;
    };
    let mut stack = vec![(root, end_of(&spans[root]))];
    while let Some((i, bound)) = stack.pop() {
        if rows[row_of[i]].critical {
            continue;
        }
        rows[row_of[i]].critical = true;
        let mut by_end: Vec<usize> = children[i].clone();
        by_end.sort_by_key(|&c| std::cmp::Reverse(end_of(&spans[c])));
        let start = spans[i].start_ns;
        let mut cursor = bound.min(end_of(&spans[i])).max(start);
        let mut own = Vec::new();
        for child in by_end {
            let span = &spans[child];
            if span.start_ns < cursor || (span.start_ns == cursor && end_of(span) == cursor) {
                let child_end = end_of(span).clamp(start, cursor);
                if child_end < cursor {
                    own.push((child_end, cursor));
                }
                stack.push((child, cursor));
                cursor = span.start_ns.max(start);
            }
        }
        if cursor > start {
            own.push((start, cursor));
        }
        own.reverse();
        rows[row_of[i]].critical_parts = own.into_iter().map(&to_fraction).collect();
    }
}

/// Rows to draw when the rows in `collapsed` (row indices) have their subtrees hidden.
pub fn visible_rows(layout: &Layout, collapsed: &std::collections::HashSet<usize>) -> Vec<usize> {
    let mut visible = Vec::with_capacity(layout.rows.len());
    let mut i = 0;
    while i < layout.rows.len() {
        visible.push(i);
        i += if collapsed.contains(&i) { layout.rows[i].descendants + 1 } else { 1 };
    }
    visible
}

/// The row that shows `row` when the rows in `collapsed` hide their subtrees: `row` itself, or
/// its outermost collapsed ancestor.
pub fn shown_ancestor(
    layout: &Layout,
    collapsed: &std::collections::HashSet<usize>,
    row: usize,
) -> usize {
    collapsed
        .iter()
        .copied()
        .filter(|&c| c < row && row <= c + layout.rows[c].descendants)
        .min()
        .unwrap_or(row)
}

/// The page of `size` rows (of `len`) that holds position `at`: pages start at multiples of
/// `size`; a position past the end gives the first page.
pub fn page_of(at: usize, len: usize, size: usize) -> std::ops::Range<usize> {
    let size = size.max(1);
    let at = if at < len { at } else { 0 };
    let first = at / size * size;
    first..(first + size).min(len)
}

/// The scroll offset that puts row position `at` in the middle of a `view`-high viewport of
/// `row_height` rows (never negative).
pub fn centred_scroll(at: usize, row_height: f64, view: f64) -> f64 {
    (at as f64 * row_height - view / 2.0).max(0.0)
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
