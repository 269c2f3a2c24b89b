//! Snapshot tests of the waterfall layout on awkward traces: out-of-order arrival, missing
//! parents, clock skew, zero-duration spans, parent cycles, and depth.

use std::collections::HashSet;

use expect_test::{expect, Expect};

use super::*;
use crate::model::SpanKind;

/// A span `id` under `parent`, from `start` to `end` (ns).
fn span(id: &str, parent: Option<&str>, start: u64, end: u64) -> Span {
    Span {
        parent_span_id: parent.map(Into::into),
        kind: SpanKind::Internal,
        service: "svc".into(),
        start_ns: start,
        end_ns: end,
        ..Span::new("t", id, id)
    }
}

/// One line per row: indented name, bar offset/width, self time, descendants, marks.
fn render(spans: &[Span]) -> String {
    let layout = layout(spans);
    let mut out = String::new();
    for row in &layout.rows {
        out.push_str(&format!(
            "{}{} off={:.2} w={:.2} self={} desc={}{}{}{}\n",
            "  ".repeat(row.depth),
            spans[row.span].name,
            row.offset,
            row.width,
            row.self_ns,
            row.descendants,
            if row.critical { " critical" } else { "" },
            row.critical_parts.iter().map(|(o, w)| format!(" [{o:.2}+{w:.2}]")).collect::<String>(),
            if row.orphan { " orphan" } else { "" },
        ));
    }
    out
}

fn check(spans: &[Span], expected: Expect) {
    expected.assert_eq(&render(spans));
}

#[test]
fn out_of_order_arrival_is_nested_by_parent_and_start() {
    check(
        &[
            span("db", Some("api"), 30, 60),
            span("cache", Some("api"), 10, 20),
            span("api", Some("root"), 5, 90),
            span("root", None, 0, 100),
            span("render", Some("root"), 90, 100),
        ],
        expect![[r#"
            root off=0.00 w=1.00 self=5 desc=4 critical [0.00+0.05]
              api off=0.05 w=0.85 self=45 desc=2 critical [0.05+0.05] [0.20+0.10] [0.60+0.30]
                cache off=0.10 w=0.10 self=10 desc=0 critical [0.10+0.10]
                db off=0.30 w=0.30 self=30 desc=0 critical [0.30+0.30]
              render off=0.90 w=0.10 self=10 desc=0 critical [0.90+0.10]
        "#]],
    );
}

#[test]
fn missing_parents_are_shown_as_orphans_not_dropped() {
    check(
        &[
            span("root", None, 0, 50),
            span("late", Some("never-arrived"), 10, 40),
            span("kid", Some("late"), 20, 30),
        ],
        expect![[r#"
            root off=0.00 w=1.00 self=50 desc=0 critical [0.00+1.00]
            late off=0.20 w=0.60 self=20 desc=1 orphan
              kid off=0.40 w=0.20 self=10 desc=0
        "#]],
    );
}

#[test]
fn clock_skew_and_zero_duration_spans() {
    // The child's clock runs early: it starts before its parent and overhangs its start.
    check(
        &[
            span("parent", None, 100, 200),
            span("skewed", Some("parent"), 80, 150),
            span("instant", Some("parent"), 160, 160),
        ],
        expect![[r#"
            parent off=0.17 w=0.83 self=50 desc=2 critical [0.58+0.08] [0.67+0.33]
              skewed off=0.00 w=0.58 self=70 desc=0 critical [0.00+0.58]
              instant off=0.67 w=0.00 self=0 desc=0 critical
        "#]],
    );
}

#[test]
fn overlapping_children_count_once_in_self_time() {
    check(
        &[span("p", None, 0, 100), span("a", Some("p"), 10, 60), span("b", Some("p"), 40, 80)],
        expect![[r#"
            p off=0.00 w=1.00 self=30 desc=2 critical [0.00+0.10] [0.80+0.20]
              a off=0.10 w=0.50 self=50 desc=0 critical [0.10+0.30]
              b off=0.40 w=0.40 self=40 desc=0 critical [0.40+0.40]
        "#]],
    );
}

#[test]
fn parent_cycles_still_show_every_span() {
    check(
        &[span("a", Some("b"), 0, 10), span("b", Some("a"), 2, 8)],
        expect![[r#"
            a off=0.00 w=1.00 self=4 desc=1 orphan
              b off=0.20 w=0.60 self=6 desc=0
        "#]],
    );
}

#[test]
fn collapsing_hides_exactly_the_subtree() {
    let spans = [
        span("root", None, 0, 100),
        span("a", Some("root"), 0, 50),
        span("a1", Some("a"), 0, 10),
        span("a2", Some("a"), 10, 20),
        span("b", Some("root"), 50, 100),
    ];
    let layout = layout(&spans);
    let names = |rows: Vec<usize>| {
        rows.into_iter().map(|r| spans[layout.rows[r].span].name.clone()).collect::<Vec<_>>()
    };
    assert_eq!(names(visible_rows(&layout, &HashSet::new())), ["root", "a", "a1", "a2", "b"]);
    assert_eq!(names(visible_rows(&layout, &HashSet::from([1]))), ["root", "a", "b"]);
    assert_eq!(names(visible_rows(&layout, &HashSet::from([0]))), ["root"]);
}

#[test]
fn a_chain_100000_deep_does_not_overflow_the_stack() {
    let mut spans = vec![span("s0", None, 0, 200_000)];
    for i in 1..100_000u64 {
        spans.push(span(&format!("s{i}"), Some(&format!("s{}", i - 1)), i, 200_000 - i));
    }
    let layout = layout(&spans);
    assert_eq!(layout.rows.len(), 100_000);
    assert_eq!(layout.rows[99_999].depth, 99_999);
    assert_eq!(layout.rows[0].descendants, 99_999);
    assert!(layout.rows.iter().all(|r| r.critical));
}

/// Issue 8: `pending_roots.remove(0)` made a trace of many roots or orphans quadratic (200,000
/// orphans took minutes). The server sends spans in stored order, so they arrive unsorted too.
#[test]
fn two_hundred_thousand_orphans_in_reverse_order_are_laid_out_by_start() {
    let n = 200_000u64;
    let spans: Vec<Span> =
        (0..n).rev().map(|i| span(&format!("s{i:06}"), Some("gone"), i, i + 1)).collect();
    let layout = layout(&spans);
    assert_eq!(layout.rows.len(), n as usize);
    assert!(layout.rows.iter().all(|r| r.orphan && r.depth == 0 && r.descendants == 0));
    let starts: Vec<u64> = layout.rows.iter().map(|r| spans[r.span].start_ns).collect();
    assert!(starts.windows(2).all(|w| w[0] < w[1]), "rows ordered by start, not arrival");
}

#[test]
fn pages_and_centring() {
    assert_eq!(page_of(0, 5000, 2000), 0..2000);
    assert_eq!(page_of(1999, 5000, 2000), 0..2000);
    assert_eq!(page_of(2000, 5000, 2000), 2000..4000);
    assert_eq!(page_of(4999, 5000, 2000), 4000..5000);
    assert_eq!(page_of(7000, 5000, 2000), 0..2000, "out of range: first page");
    assert_eq!(page_of(0, 0, 2000), 0..0);
    assert_eq!(centred_scroll(0, 24.0, 560.0), 0.0);
    assert_eq!(centred_scroll(100, 24.0, 560.0), 2120.0);
}
