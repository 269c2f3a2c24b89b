//! `StackTree`: span-derived flame graph stacks as a tree of (service, name) frames, each with
//! its self time (µs) and the traces passing through it. Built from one trace, merged over many,
//! re-rooted at an operation (`select`), and turned into folded text, the API's JSON tree or a
//! differential tree. Pure; the store's rollup keeps the same frames (`store/flame_rollup.rs`).
//! A leaf: it depends on the wire model only, so the store can return it and the query layer
//! can read it without either depending on the other.

use std::collections::{BTreeMap, HashMap};

use otelscope_app::model::{FlameBase, FlameGraph, FlameNode, Span};
use serde::Deserialize;

/// The deepest frame kept: spans deeper than this add their self time to one `[deeper]` frame
/// at this depth (and the graph says `truncated`).
pub const MAX_DEPTH: usize = 128;
/// The frame that stands for every span below [`MAX_DEPTH`].
pub const DEEPER: &str = "[deeper]";
/// The frame (under the root, no service) holding stacks past the store's bound per bucket.
pub const OTHER: &str = "[other]";
/// The index of the root frame, `all`.
pub const ROOT: usize = 0;

/// What folding needs of a span.
pub trait FoldSpan {
    fn span_id(&self) -> &str;
    fn parent_span_id(&self) -> Option<&str>;
    fn service(&self) -> &str;
    fn name(&self) -> &str;
    fn duration_ns(&self) -> u64;
}

impl FoldSpan for Span {
    fn span_id(&self) -> &str {
        &self.span_id
    }
    fn parent_span_id(&self) -> Option<&str> {
        self.parent_span_id.as_deref()
    }
    fn service(&self) -> &str {
        &self.service
    }
    fn name(&self) -> &str {
        &self.name
    }
    fn duration_ns(&self) -> u64 {
        Span::duration_ns(self)
    }
}

/// A stored span read for folding only: its attributes, events and links are skipped while
/// parsing, never built (the fold pass reads every span once more).
#[derive(Clone, Debug, Deserialize)]
pub struct SpanTiming {
    pub span_id: String,
    #[serde(default)]
    pub parent_span_id: Option<String>,
    pub name: String,
    pub service: String,
    pub start_ns: u64,
    pub end_ns: u64,
}

impl FoldSpan for SpanTiming {
    fn span_id(&self) -> &str {
        &self.span_id
    }
    fn parent_span_id(&self) -> Option<&str> {
        self.parent_span_id.as_deref()
    }
    fn service(&self) -> &str {
        &self.service
    }
    fn name(&self) -> &str {
        &self.name
    }
    fn duration_ns(&self) -> u64 {
        self.end_ns.saturating_sub(self.start_ns)
    }
}

/// One frame: its parent, service and name (cleaned of `;` and line breaks), its own time and
/// the number of traces passing through it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TreeNode {
    pub parent: usize,
    pub service: String,
    pub name: String,
    pub self_us: u64,
    pub traces: u64,
}

/// Frames in insertion order (a parent always before its children); node 0 is the root.
#[derive(Clone, Debug)]
pub struct StackTree {
    nodes: Vec<TreeNode>,
    index: HashMap<(usize, String, String), usize>,
    /// Traces folded in (for a selection: traces through its top frames).
    pub traces: u64,
    /// Stacks were bounded somewhere (`[deeper]` or `[other]` frames, or traces left out).
    pub truncated: bool,
}

impl Default for StackTree {
    fn default() -> StackTree {
        let root = TreeNode {
            parent: ROOT,
            service: String::new(),
            name: "all".into(),
            self_us: 0,
            traces: 0,
        };
        StackTree { nodes: vec![root], index: HashMap::new(), traces: 0, truncated: false }
    }
}

/// Which frames an operation selection keeps (see `select`).
#[derive(Clone, Copy, Debug)]
pub struct Matcher<'a> {
    pub service: &'a str,
    /// `None`: any name of the service.
    pub name: Option<&'a str>,
    /// Only top frames (trace roots, and spans whose parent never arrived).
    pub root_only: bool,
}

impl Matcher<'_> {
    pub fn matches(&self, service: &str, name: &str) -> bool {
        self.service == service && self.name.is_none_or(|n| n == name)
    }
}

impl StackTree {
    pub fn nodes(&self) -> &[TreeNode] {
        &self.nodes
    }

    /// The child of `parent` named (`service`, `name`), created when missing.
    pub fn child(&mut self, parent: usize, service: &str, name: &str) -> usize {
        let key = (parent, service.to_owned(), name.to_owned());
        if let Some(&at) = self.index.get(&key) {
            return at;
        }
        let at = self.nodes.len();
        self.nodes.push(TreeNode {
            parent,
            service: key.1.clone(),
            name: key.2.clone(),
            self_us: 0,
            traces: 0,
        });
        self.index.insert(key, at);
        at
    }

    /// Adds self time and traces to `node`.
    pub fn add(&mut self, node: usize, self_us: u64, traces: u64) {
        let n = &mut self.nodes[node];
        n.self_us = n.self_us.saturating_add(self_us);
        n.traces = n.traces.saturating_add(traces);
    }

    /// One trace's spans: a stack is the chain of span names from the root to a span, its
    /// value the span's self time (duration minus the sum of its children's durations, clipped
    /// at 0; concurrent children can sum past their parent, which then has 0). A span whose
    /// parent is not in the trace starts a stack of its own; a cycle of parent ids is broken
    /// where it closes. Every frame of the trace counts the trace once. Iterative and linear.
    pub fn from_trace<S: FoldSpan>(spans: &[S]) -> StackTree {
        let index: HashMap<&str, usize> =
            spans.iter().enumerate().map(|(i, s)| (s.span_id(), i)).collect();
        let parent: Vec<Option<usize>> = spans
            .iter()
            .enumerate()
            .map(|(i, s)| {
                s.parent_span_id().and_then(|p| index.get(p).copied()).filter(|&p| p != i)
            })
            .collect();
        let mut children_ns = vec![0u64; spans.len()];
        for (i, span) in spans.iter().enumerate() {
            if let Some(p) = parent[i] {
                children_ns[p] = children_ns[p].saturating_add(span.duration_ns());
            }
        }
        let mut tree = StackTree::default();
        let mut node_of: Vec<Option<(usize, usize)>> = vec![None; spans.len()];
        let mut on_path = vec![false; spans.len()];
        let mut path = Vec::new();
        for start in 0..spans.len() {
            path.clear();
            let mut at = Some(start);
            while let Some(i) = at {
                if node_of[i].is_some() || on_path[i] {
                    break;
                }
                on_path[i] = true;
                path.push(i);
                at = parent[i];
            }
            for &i in path.iter().rev() {
                let (above, depth) = parent[i].and_then(|p| node_of[p]).unwrap_or((ROOT, 0));
                let span = &spans[i];
                node_of[i] = Some(if depth + 1 < MAX_DEPTH {
                    (tree.child(above, &clean(span.service()), &clean(span.name())), depth + 1)
                } else {
                    tree.truncated = true;
                    if depth == MAX_DEPTH {
                        (above, depth)
                    } else {
                        let service = tree.nodes[above].service.clone();
                        (tree.child(above, &service, DEEPER), MAX_DEPTH)
                    }
                });
            }
            for &i in &path {
                on_path[i] = false;
            }
        }
        for (i, span) in spans.iter().enumerate() {
            let own = span.duration_ns().saturating_sub(children_ns[i]) / 1_000;
            if let Some((node, _)) = node_of[i] {
                tree.nodes[node].self_us += own;
            }
        }
        for node in &mut tree.nodes {
            node.traces = 1;
        }
        tree.traces = 1;
        tree
    }

    /// Adds `other`'s frames, values, traces and truncation.
    pub fn merge(&mut self, other: &StackTree) {
        let mut map = vec![ROOT; other.nodes.len()];
        for (i, node) in other.nodes.iter().enumerate().skip(1) {
            map[i] = self.child(map[node.parent], &node.service, &node.name);
            self.add(map[i], node.self_us, node.traces);
        }
        self.add(ROOT, other.nodes[ROOT].self_us, other.nodes[ROOT].traces);
        self.traces += other.traces;
        self.truncated |= other.truncated;
    }

    /// An operation's part of the tree. `root_only`: the subtrees of top frames that match (the
    /// whole traces the operation is the root of). Otherwise every outermost matching frame,
    /// wherever it sits, becomes a top frame with its subtree (frames above it are cut off; one
    /// nested in another stays inside the outer one's subtree). `traces` is the sum of the top
    /// frames' traces.
    pub fn select(&self, m: &Matcher<'_>) -> StackTree {
        let mut out = StackTree { truncated: self.truncated, ..StackTree::default() };
        let mut map: Vec<Option<usize>> = vec![None; self.nodes.len()];
        for (i, node) in self.nodes.iter().enumerate().skip(1) {
            let inside = if node.parent == ROOT { None } else { map[node.parent] };
            map[i] = match inside {
                Some(above) => Some(out.child(above, &node.service, &node.name)),
                None if m.matches(&node.service, &node.name)
                    && (!m.root_only || node.parent == ROOT) =>
                {
                    out.traces += node.traces;
                    Some(out.child(ROOT, &node.service, &node.name))
                }
                None => None,
            };
            if let Some(at) = map[i] {
                out.add(at, node.self_us, node.traces);
            }
        }
        out.nodes[ROOT].traces = out.traces;
        out
    }

    /// A frame's text in folded stacks: the name, prefixed by the service at the top and where
    /// the service changes.
    pub fn label(&self, i: usize) -> String {
        let node = &self.nodes[i];
        let changes = node.parent == ROOT || self.nodes[node.parent].service != node.service;
        if changes && !node.service.is_empty() {
            format!("{} {}", node.service, node.name)
        } else {
            node.name.clone()
        }
    }

    /// Each frame's folded stack (`a;b;c`); the root's is empty.
    fn stack_texts(&self) -> Vec<String> {
        let mut texts: Vec<String> = Vec::with_capacity(self.nodes.len());
        texts.push(String::new());
        for i in 1..self.nodes.len() {
            let above = &texts[self.nodes[i].parent];
            let label = self.label(i);
            texts.push(if above.is_empty() { label } else { format!("{above};{label}") });
        }
        texts
    }

    /// (stack, self µs) of every frame with self time, by stack. Frames that print alike
    /// (e.g. `[other]` and a span named so) are summed.
    pub fn stacks(&self) -> BTreeMap<String, u64> {
        let mut out = BTreeMap::new();
        for (i, text) in self.stack_texts().into_iter().enumerate().skip(1) {
            if self.nodes[i].self_us > 0 {
                *out.entry(text).or_default() += self.nodes[i].self_us;
            }
        }
        out
    }

    /// The folded text (`a;b;c 123` lines, µs), the format inferno and speedscope read.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for (stack, micros) in self.stacks() {
            out.push_str(&stack);
            out.push(' ');
            out.push_str(&micros.to_string());
            out.push('\n');
        }
        out
    }

    /// Each frame's self plus its descendants' self time.
    fn totals(&self, values: &[f64]) -> Vec<f64> {
        let mut totals = values.to_vec();
        for i in (1..self.nodes.len()).rev() {
            let p = self.nodes[i].parent;
            totals[p] += totals[i];
        }
        totals
    }

    /// Children of each frame, ordered by label (deterministic answers).
    fn children(&self) -> Vec<Vec<usize>> {
        let mut children = vec![Vec::new(); self.nodes.len()];
        for i in 1..self.nodes.len() {
            children[self.nodes[i].parent].push(i);
        }
        for list in &mut children {
            list.sort_by_cached_key(|&i| self.label(i));
        }
        children
    }

    /// The API's JSON tree (root `all`, values in µs, `traces` per frame).
    pub fn graph(&self, kind: &str, title: &str) -> FlameGraph {
        let values: Vec<f64> = self.nodes.iter().map(|n| n.self_us as f64).collect();
        let totals = self.totals(&values);
        let children = self.children();
        let root = self.build(ROOT, &children, &mut |i| FlameNode {
            name: self.label(i),
            self_value: values[i],
            total: totals[i],
            traces: if i == ROOT { self.traces } else { self.nodes[i].traces },
            ..FlameNode::default()
        });
        FlameGraph {
            kind: kind.into(),
            title: title.into(),
            unit: "µs".into(),
            traces: self.traces,
            matched_by: None,
            truncated: self.truncated,
            base: None,
            root,
        }
    }

    /// Builds the `FlameNode` tree below `i` (depth is bounded by `MAX_DEPTH`).
    fn build(
        &self,
        i: usize,
        children: &[Vec<usize>],
        make: &mut dyn FnMut(usize) -> FlameNode,
    ) -> FlameNode {
        let mut node = make(i);
        node.children = children[i].iter().map(|&c| self.build(c, children, make)).collect();
        node
    }
}

/// A span's service or name as a frame: no `;` (the folded separator) and no line breaks, so a
/// name cannot split a stack or a line.
pub fn clean(s: &str) -> String {
    if !s.contains([';', '\n', '\r']) {
        return s.to_owned();
    }
    s.replace(';', ":").replace(['\n', '\r'], " ")
}

/// Both sides of a differential graph on one set of frames.
struct DiffSides {
    tree: StackTree,
    base: Vec<f64>,
    selection: Vec<f64>,
    traces: Vec<u64>,
}

fn sides(base: &StackTree, selection: &StackTree) -> DiffSides {
    let mut tree = StackTree::default();
    let mut values = [Vec::new(), Vec::new()];
    let mut traces = vec![0u64];
    for (side, from) in [selection, base].into_iter().enumerate() {
        let per_trace = from.traces.max(1) as f64;
        let mut map = vec![ROOT; from.nodes.len()];
        for (i, node) in from.nodes.iter().enumerate().skip(1) {
            map[i] = tree.child(map[node.parent], &node.service, &node.name);
            for v in &mut values {
                v.resize(tree.nodes.len(), 0.0);
            }
            traces.resize(tree.nodes.len(), 0);
            values[side][map[i]] += node.self_us as f64 / per_trace;
            if side == 0 {
                traces[map[i]] += node.traces;
            }
        }
    }
    for v in &mut values {
        v.resize(tree.nodes.len(), 0.0);
    }
    traces.resize(tree.nodes.len(), 0);
    traces[ROOT] = selection.traces;
    tree.truncated = base.truncated || selection.truncated;
    let [selection, base] = values;
    DiffSides { tree, base, selection, traces }
}

/// The differential tree: the selection's frames and the base's (frames of either side are
/// kept, with 0 on the side that lacks them), every value divided by its side's trace count;
/// `traces` per frame counts the selection's traces.
pub fn diff_graph(
    base: &StackTree,
    selection: &StackTree,
    kind: &str,
    title: &str,
    base_title: &str,
) -> FlameGraph {
    let d = sides(base, selection);
    let (sel_totals, base_totals) = (d.tree.totals(&d.selection), d.tree.totals(&d.base));
    let children = d.tree.children();
    let root = d.tree.build(ROOT, &children, &mut |i| FlameNode {
        name: d.tree.label(i),
        self_value: d.selection[i],
        total: sel_totals[i],
        traces: d.traces[i],
        base_self: Some(d.base[i]),
        base_total: Some(base_totals[i]),
        children: Vec::new(),
    });
    FlameGraph {
        kind: kind.into(),
        title: title.into(),
        unit: "µs".into(),
        traces: selection.traces,
        matched_by: None,
        truncated: d.tree.truncated,
        base: Some(FlameBase { title: base_title.into(), traces: base.traces }),
        root,
    }
}

/// inferno's differential folded format, `stack base selection`, each value the per-trace self
/// time (µs) of its side rounded to an integer; stacks with self time on either side.
pub fn diff_text(base: &StackTree, selection: &StackTree) -> String {
    let d = sides(base, selection);
    let mut lines: BTreeMap<String, (f64, f64)> = BTreeMap::new();
    for (i, text) in d.tree.stack_texts().into_iter().enumerate().skip(1) {
        if d.base[i] > 0.0 || d.selection[i] > 0.0 {
            let line = lines.entry(text).or_default();
            line.0 += d.base[i];
            line.1 += d.selection[i];
        }
    }
    let mut out = String::new();
    for (stack, (b, s)) in lines {
        out.push_str(&format!("{stack} {} {}\n", b.round() as u64, s.round() as u64));
    }
    out
}

#[cfg(test)]
mod tests;
