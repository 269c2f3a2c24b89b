//! Known answers for `StackTree`: exact stacks and self times of traces with known durations,
//! aggregation, selection of an operation, diffs and the bounds.

use otelscope_app::model::fixture::span;

use super::*;

/// The trace every span of these tests is in.
const TRACE: &str = "11111111111111111111111111111111";

/// The JSON tree as lines: `name self total traces`, indented by depth (diffs add
/// `| base_self base_total`).
fn dump(graph: &FlameGraph) -> String {
    fn walk(node: &FlameNode, depth: usize, out: &mut String) {
        out.push_str(&format!(
            "{}{} {} {} {}",
            "  ".repeat(depth),
            node.name,
            node.self_value,
            node.total,
            node.traces
        ));
        if let (Some(s), Some(t)) = (node.base_self, node.base_total) {
            out.push_str(&format!(" | {s} {t}"));
        }
        out.push('\n');
        for child in &node.children {
            walk(child, depth + 1, out);
        }
    }
    let mut out = String::new();
    walk(&graph.root, 0, &mut out);
    out
}

/// `GET /a` (web, 0-100 ms) → `load` (web, 0-60) → `SELECT` (db, 10-60); `render` (web, 70-100)
/// beside `load`; `render` calls `db SELECT` too (75-85) when `twice`.
fn shop(twice: bool) -> Vec<Span> {
    let mut spans = vec![
        span(TRACE, 3, "SELECT").parent(2).service("db").ms(10, 60).build(),
        span(TRACE, 1, "GET /a").service("web").ms(0, 100).build(),
        span(TRACE, 4, "render").parent(1).service("web").ms(70, 100).build(),
        span(TRACE, 2, "load").parent(1).service("web").ms(0, 60).build(),
    ];
    if twice {
        spans.push(span(TRACE, 5, "SELECT").parent(4).service("db").ms(75, 85).build());
    }
    spans
}

#[test]
fn one_trace_gives_exact_stacks_self_times_and_a_tree() {
    let tree = StackTree::from_trace(&shop(false));
    assert_eq!(
        tree.to_text(),
        "web GET /a 10000\n\
         web GET /a;load 10000\n\
         web GET /a;load;db SELECT 50000\n\
         web GET /a;render 30000\n"
    );
    assert_eq!(
        dump(&tree.graph(FlameKind::Trace, "t")),
        "all 0 100000 1\n\
         \x20 web GET /a 10000 100000 1\n\
         \x20   load 10000 60000 1\n\
         \x20     db SELECT 50000 50000 1\n\
         \x20   render 30000 30000 1\n"
    );
}

#[test]
fn concurrent_children_summing_past_their_parent_leave_it_zero_self_time() {
    // The spec's rule: self = duration minus the sum of the children's durations, clipped at
    // 0. Two concurrent 8 ms children of a 10 ms parent sum to 16 ms: the parent has 0, not
    // the 2 ms it spent alone.
    let spans = vec![
        span(TRACE, 1, "root").service("web").ms(0, 10).build(),
        span(TRACE, 2, "a").parent(1).service("web").ms(0, 8).build(),
        span(TRACE, 3, "b").parent(1).service("web").ms(0, 8).build(),
    ];
    assert_eq!(StackTree::from_trace(&spans).to_text(), "web root;a 8000\nweb root;b 8000\n");
}

#[test]
fn a_child_outliving_its_parent_clips_the_parent_at_zero() {
    let spans = vec![
        span(TRACE, 1, "root").service("web").ms(0, 10).build(),
        // Starts inside and ends 5 ms after its parent (an async job): 15 ms of its own.
        span(TRACE, 2, "send mail").parent(1).service("jobs").ms(0, 15).build(),
    ];
    let tree = StackTree::from_trace(&spans);
    assert_eq!(tree.to_text(), "web root;jobs send mail 15000\n");
    assert_eq!(
        dump(&tree.graph(FlameKind::Trace, "t")),
        "all 0 15000 1\n  web root 0 15000 1\n    jobs send mail 15000 15000 1\n"
    );
}

#[test]
fn orphans_root_their_own_stacks_and_cycles_end() {
    let spans = vec![
        span(TRACE, 1, "root").service("web").ms(0, 10).build(),
        // The parent of 4 never arrived.
        span(TRACE, 4, "orphan").parent(99).service("api").ms(0, 5).build(),
        span(TRACE, 7, "inner").parent(4).service("api").ms(1, 3).build(),
        // 5 and 6 are each other's parent; 8 is its own.
        span(TRACE, 5, "p").parent(6).service("x").ms(0, 1).build(),
        span(TRACE, 6, "q").parent(5).service("x").ms(0, 2).build(),
        span(TRACE, 8, "self").parent(8).service("x").ms(0, 3).build(),
    ];
    let text = StackTree::from_trace(&spans).to_text();
    assert!(text.contains("api orphan 3000\napi orphan;inner 2000\n"), "{text}");
    assert!(text.contains("web root 10000\n"), "{text}");
    assert!(text.contains("x self 3000\n"), "{text}");
    // The cycle yields finite stacks; only `q` (2 ms, minus its 1 ms "child") has time.
    let cycle: Vec<_> = text.lines().filter(|l| l.contains(" p") || l.contains(" q")).collect();
    assert_eq!(cycle.len(), 1, "{text}");
    assert!(cycle[0].ends_with(" q 1000"), "{text}");
}

#[test]
fn the_service_is_named_at_the_top_and_wherever_it_changes_mid_stack() {
    // web → api → api → db → web (a callback) → web.
    let spans = vec![
        span(TRACE, 1, "GET /").service("web").ms(0, 60).build(),
        span(TRACE, 2, "handle").parent(1).service("api").ms(0, 50).build(),
        span(TRACE, 3, "query").parent(2).service("api").ms(0, 40).build(),
        span(TRACE, 4, "SELECT").parent(3).service("db").ms(0, 30).build(),
        span(TRACE, 5, "hook").parent(4).service("web").ms(0, 20).build(),
        span(TRACE, 6, "log").parent(5).service("web").ms(0, 10).build(),
    ];
    assert_eq!(
        StackTree::from_trace(&spans).to_text(),
        "web GET / 10000\n\
         web GET /;api handle 10000\n\
         web GET /;api handle;query 10000\n\
         web GET /;api handle;query;db SELECT 10000\n\
         web GET /;api handle;query;db SELECT;web hook 10000\n\
         web GET /;api handle;query;db SELECT;web hook;log 10000\n"
    );
}

#[test]
fn hostile_names_cannot_split_stacks_or_lines() {
    let spans = vec![span(TRACE, 1, "a;b\nc <script>").service("svc;x").ms(0, 1).build()];
    assert_eq!(StackTree::from_trace(&spans).to_text(), "svc:x a:b c <script> 1000\n");
}

#[test]
fn aggregation_sums_self_times_and_counts_traces_per_frame() {
    let mut all = StackTree::default();
    all.merge(&StackTree::from_trace(&shop(false)));
    all.merge(&StackTree::from_trace(&shop(true)));
    // The second trace's `render` spends 10 of its 30 ms in `db SELECT`.
    assert_eq!(
        dump(&all.graph(FlameKind::Operation, "t")),
        "all 0 200000 2\n\
         \x20 web GET /a 20000 200000 2\n\
         \x20   load 20000 120000 2\n\
         \x20     db SELECT 100000 100000 2\n\
         \x20   render 50000 60000 2\n\
         \x20     db SELECT 10000 10000 1\n"
    );
    assert_eq!(all.traces, 2);
}

#[test]
fn selecting_an_operation_reroots_at_its_outermost_spans_or_keeps_whole_traces_it_roots() {
    let mut all = StackTree::default();
    all.merge(&StackTree::from_trace(&shop(true)));
    // A trace rooted at `db SELECT`, which calls itself.
    all.merge(&StackTree::from_trace(&[
        span(TRACE, 1, "SELECT").service("db").ms(0, 8).build(),
        span(TRACE, 2, "SELECT").parent(1).service("db").ms(0, 4).build(),
    ]));
    let any = all.select(&Matcher { service: "db", name: Some("SELECT"), root_only: false });
    assert_eq!(any.to_text(), "db SELECT 64000\ndb SELECT;SELECT 4000\n");
    // Three traces' worth of top frames: two under `load`/`render` of one trace (the same
    // trace through two call paths counts twice) and one root.
    assert_eq!(any.traces, 3);
    assert_eq!(
        dump(&any.graph(FlameKind::Operation, "t")),
        "all 0 68000 3\n  db SELECT 64000 68000 3\n    SELECT 4000 4000 1\n"
    );
    let root = all.select(&Matcher { service: "db", name: Some("SELECT"), root_only: true });
    assert_eq!(root.to_text(), "db SELECT 4000\ndb SELECT;SELECT 4000\n");
    assert_eq!(root.traces, 1);
    let web_roots = all.select(&Matcher { service: "web", name: None, root_only: true });
    assert_eq!(web_roots.traces, 1);
    assert_eq!(web_roots.stacks().values().sum::<u64>(), 100_000);
    let none = all.select(&Matcher { service: "web", name: Some("nope"), root_only: false });
    assert_eq!((none.traces, none.to_text().as_str()), (0, ""));
}

#[test]
fn a_diff_gives_per_trace_values_on_both_sides_and_keeps_frames_of_either() {
    let base = StackTree::from_trace(&shop(false));
    let mut selection = StackTree::default();
    selection.merge(&StackTree::from_trace(&shop(true)));
    selection.merge(&StackTree::from_trace(&shop(true)));
    let mut only_base = shop(false);
    only_base.push(span(TRACE, 9, "gone").parent(1).service("web").ms(60, 70).build());
    let mut base2 = base.clone();
    base2.merge(&StackTree::from_trace(&only_base));
    let graph = diff_graph(&base2, &selection, FlameKind::Operation, "now", "before");
    assert_eq!(graph.traces, 2);
    assert_eq!(graph.base.as_ref().map(|b| (b.title.as_str(), b.traces)), Some(("before", 2)));
    // Base: two traces (`GET /a` self 10 then 0 ms: 5 per trace; `gone` 10 ms once: 5).
    assert_eq!(
        dump(&graph),
        "all 0 100000 2 | 0 100000\n\
         \x20 web GET /a 10000 100000 2 | 5000 100000\n\
         \x20   gone 0 0 0 | 5000 5000\n\
         \x20   load 10000 60000 2 | 10000 60000\n\
         \x20     db SELECT 50000 50000 2 | 50000 50000\n\
         \x20   render 20000 30000 2 | 30000 30000\n\
         \x20     db SELECT 10000 10000 2 | 0 0\n"
    );
    assert_eq!(
        diff_text(&base2, &selection),
        "web GET /a 5000 10000\n\
         web GET /a;gone 5000 0\n\
         web GET /a;load 10000 10000\n\
         web GET /a;load;db SELECT 50000 50000\n\
         web GET /a;render 30000 20000\n\
         web GET /a;render;db SELECT 0 10000\n"
    );
}

#[test]
fn stacks_deeper_than_the_bound_end_in_one_deeper_frame() {
    let depth = MAX_DEPTH as u32 + 40;
    let spans: Vec<Span> = (1..=depth)
        .map(|i| {
            span(TRACE, i, "f")
                .parent_opt((i > 1).then(|| i - 1))
                .service("deep")
                .ms(0, u64::from(depth - i + 1))
                .build()
        })
        .collect();
    let tree = StackTree::from_trace(&spans);
    assert!(tree.truncated);
    let stacks = tree.stacks();
    let deepest = stacks.keys().map(|s| s.split(';').count()).max().unwrap();
    assert_eq!(deepest, MAX_DEPTH);
    let last = stacks.iter().find(|(s, _)| s.ends_with(DEEPER)).unwrap();
    // Spans 128..=168 each have 1 ms of their own.
    assert_eq!(*last.1, 41_000);
    assert_eq!(stacks.values().sum::<u64>(), u64::from(depth) * 1_000);
}
