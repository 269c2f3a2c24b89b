//! Flame graphs from traces (pure): a trace's spans → folded stacks of self time, merged over
//! many traces, as a tree, and the difference of two selections.
//!
//! A stack is the chain of span names from the root to a span, each frame prefixed by its
//! service where the service changes (the root always is); its value is the span's self time,
//! its duration minus its children's durations, clipped at 0, in microseconds (what folded
//! files and inferno expect). A span whose parent is not in the trace starts a stack of its own.

use std::collections::BTreeMap;

use otelscope_app::model::{FlameGraph, FlameNode, Span};

pub use super::flame_tree::{diff_graph, diff_text, FoldSpan, Matcher, SpanTiming, StackTree};

/// Folded stacks: `frame;frame;frame` → self time (µs). Ordered, so output is deterministic.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Folded {
    pub stacks: BTreeMap<String, u64>,
    /// How many traces were folded in (for normalising a diff).
    pub traces: u64,
}

impl Folded {
    /// Adds one trace's spans.
    pub fn add_trace(&mut self, spans: &[Span]) {
        for (stack, micros) in fold_trace(spans) {
            *self.stacks.entry(stack).or_default() += micros;
        }
        self.traces += 1;
    }

    /// The folded text (`a;b;c 123` lines), the format inferno and speedscope read.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for (stack, micros) in &self.stacks {
            out.push_str(stack);
            out.push(' ');
            out.push_str(&micros.to_string());
            out.push('\n');
        }
        out
    }

    /// The stacks as a tree of frames, children by name.
    pub fn to_tree(&self) -> Frame {
        let mut root = Frame { name: "all".into(), ..Frame::default() };
        for (stack, &micros) in &self.stacks {
            let mut node = &mut root;
            node.total += micros;
            for name in stack.split(';') {
                let at = match node.children.iter().position(|c| c.name == name) {
                    Some(at) => at,
                    None => {
                        node.children.push(Frame { name: name.to_owned(), ..Frame::default() });
                        node.children.len() - 1
                    }
                };
                node = &mut node.children[at];
                node.total += micros;
            }
            node.self_time += micros;
        }
        root
    }
}

/// Folded stacks as the API's JSON tree (`kind`, `title`, `unit` as [`FlameGraph`] says).
pub fn graph(folded: &Folded, kind: &str, title: &str, unit: &str) -> FlameGraph {
    fn node(frame: Frame) -> FlameNode {
        FlameNode {
            name: frame.name,
            self_value: frame.self_time as f64,
            total: frame.total as f64,
            children: frame.children.into_iter().map(node).collect(),
            ..FlameNode::default()
        }
    }
    FlameGraph {
        kind: kind.into(),
        title: title.into(),
        unit: unit.into(),
        traces: folded.traces,
        matched_by: None,
        truncated: false,
        base: None,
        root: node(folded.to_tree()),
    }
}

/// One frame of a flame graph: its name, its own time and its time with its children (µs).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Frame {
    pub name: String,
    pub self_time: u64,
    pub total: u64,
    pub children: Vec<Frame>,
}

/// One trace's spans as (stack, self time in µs), one entry per distinct stack with self time,
/// by stack (see [`StackTree::from_trace`] for the rules).
pub fn fold_trace(spans: &[Span]) -> Vec<(String, u64)> {
    StackTree::from_trace(spans).stacks().into_iter().collect()
}

/// One frame of a differential flame graph: its value in the base and in the selection, each
/// divided by its side's trace count (so two selections of different sizes compare).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DiffFrame {
    pub name: String,
    pub base: f64,
    pub selection: f64,
    pub children: Vec<DiffFrame>,
}

/// The selection's tree with each frame's base value beside it (frames only in the base are
/// kept too, with selection 0), both per trace.
pub fn diff(base: &Folded, selection: &Folded) -> DiffFrame {
    fn add(node: &mut DiffFrame, stack: &str, value: f64, into_base: bool) {
        let mut node = node;
        let bump = |n: &mut DiffFrame| {
            if into_base {
                n.base += value;
            } else {
                n.selection += value;
            }
        };
        bump(node);
        for name in stack.split(';') {
            let at = match node.children.iter().position(|c| c.name == name) {
                Some(at) => at,
                None => {
                    node.children.push(DiffFrame { name: name.to_owned(), ..DiffFrame::default() });
                    node.children.len() - 1
                }
            };
            node = &mut node.children[at];
            bump(node);
        }
    }
    let mut root = DiffFrame { name: "all".into(), ..DiffFrame::default() };
    for (side, into_base) in [(base, true), (selection, false)] {
        let per_trace = side.traces.max(1) as f64;
        for (stack, &micros) in &side.stacks {
            add(&mut root, stack, micros as f64 / per_trace, into_base);
        }
    }
    root
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    fn span(
        id: u32,
        parent: Option<u32>,
        service: &str,
        name: &str,
        start_ms: u64,
        end_ms: u64,
    ) -> Span {
        Span {
            parent_span_id: parent.map(|p| format!("{p:016x}")),
            service: service.into(),
            start_ns: start_ms * MS,
            end_ns: end_ms * MS,
            ..Span::new("1".repeat(32), format!("{id:016x}"), name)
        }
    }

    /// `GET /a` (web, 100 ms) → `load` (web, 60 ms) → `SELECT` (db, 50 ms); `render` (web,
    /// 30 ms) beside `load`. Spans arrive in any order.
    fn trace() -> Vec<Span> {
        vec![
            span(3, Some(2), "db", "SELECT", 10, 60),
            span(1, None, "web", "GET /a", 0, 100),
            span(4, Some(1), "web", "render", 70, 100),
            span(2, Some(1), "web", "load", 0, 60),
        ]
    }

    #[test]
    fn self_times_per_stack_with_the_service_where_it_changes() {
        let mut folded = Folded::default();
        folded.add_trace(&trace());
        assert_eq!(
            folded.to_text(),
            "web GET /a 10000\n\
             web GET /a;load 10000\n\
             web GET /a;load;db SELECT 50000\n\
             web GET /a;render 30000\n"
        );
    }

    #[test]
    fn orphans_root_their_own_stacks_overlong_children_clip_at_zero_and_cycles_end() {
        let spans = vec![
            span(1, None, "web", "root", 0, 10),
            // Children longer than their parent: the parent's self time is 0, not negative.
            span(2, Some(1), "web", "a", 0, 8),
            span(3, Some(1), "web", "b", 0, 8),
            // The parent of 4 never arrived.
            span(4, Some(99), "api", "orphan", 0, 5),
            // 5 and 6 are each other's parent.
            span(5, Some(6), "x", "p", 0, 1),
            span(6, Some(5), "x", "q", 0, 2),
        ];
        let folded = fold_trace(&spans);
        let text: Vec<_> = folded.iter().map(|(s, v)| format!("{s} {v}")).collect();
        assert!(!text.iter().any(|l| l.starts_with("web root ")), "{text:?}");
        assert!(text.contains(&"web root;a 8000".to_owned()), "{text:?}");
        assert!(text.contains(&"api orphan 5000".to_owned()), "{text:?}");
        // The cycle yields finite stacks, one per span, whichever closes it.
        assert_eq!(text.iter().filter(|l| l.contains(" p") || l.contains(" q")).count(), 1);
    }

    #[test]
    fn hostile_names_cannot_split_stacks_or_lines() {
        let spans = vec![span(1, None, "svc;x", "a;b\nc 5", 0, 1)];
        assert_eq!(fold_trace(&spans), vec![("svc:x a:b c 5".to_owned(), 1000)]);
    }

    #[test]
    fn tree_totals_add_up_and_diff_normalises_by_trace_count() {
        let mut one = Folded::default();
        one.add_trace(&trace());
        let tree = one.to_tree();
        assert_eq!(tree.total, 100_000);
        let root = &tree.children[0];
        assert_eq!(
            (root.name.as_str(), root.self_time, root.total),
            ("web GET /a", 10_000, 100_000)
        );
        let load = root.children.iter().find(|c| c.name == "load").unwrap();
        assert_eq!((load.self_time, load.total), (10_000, 60_000));

        // Two traces in the selection, each with `render` twice as slow.
        let mut slower = trace();
        slower[2].end_ns = 130 * MS;
        slower[1].end_ns = 130 * MS;
        let mut two = Folded::default();
        two.add_trace(&slower);
        two.add_trace(&slower);
        let d = diff(&one, &two);
        let root = &d.children[0];
        let render = root.children.iter().find(|c| c.name == "render").unwrap();
        assert_eq!((render.base, render.selection), (30_000.0, 60_000.0));
        assert_eq!((root.base, root.selection), (100_000.0, 130_000.0));
    }
}
