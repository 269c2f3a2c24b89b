//! Snapshot tests of the waterfall layout on awkward traces: out-of-order arrival, missing
//! parents, clock skew, zero-duration spans, parent cycles, and depth.

use std::collections::HashSet;

use expect_test::{expect, Expect};

use super::*;
use crate::model::fixture::span;
use crate::model::SpanKind;

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
            span("t", "db", "db")
                .parent("api")
                .kind(SpanKind::Internal)
                .service("svc")
                .ns(30, 60)
                .build(),
            span("t", "cache", "cache")
                .parent("api")
                .kind(SpanKind::Internal)
                .service("svc")
                .ns(10, 20)
                .build(),
            span("t", "api", "api")
                .parent("root")
                .kind(SpanKind::Internal)
                .service("svc")
                .ns(5, 90)
                .build(),
            span("t", "root", "root").kind(SpanKind::Internal).service("svc").ns(0, 100).build(),
            span("t", "render", "render")
                .parent("root")
                .kind(SpanKind::Internal)
                .service("svc")
                .ns(90, 100)
                .build(),
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
            span("t", "root", "root").kind(SpanKind::Internal).service("svc").ns(0, 50).build(),
            span("t", "late", "late")
                .parent("never-arrived")
                .kind(SpanKind::Internal)
                .service("svc")
                .ns(10, 40)
                .build(),
            span("t", "kid", "kid")
                .parent("late")
                .kind(SpanKind::Internal)
                .service("svc")
                .ns(20, 30)
                .build(),
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
            span("t", "parent", "parent")
                .kind(SpanKind::Internal)
                .service("svc")
                .ns(100, 200)
                .build(),
            span("t", "skewed", "skewed")
                .parent("parent")
                .kind(SpanKind::Internal)
                .service("svc")
                .ns(80, 150)
                .build(),
            span("t", "instant", "instant")
                .parent("parent")
                .kind(SpanKind::Internal)
                .service("svc")
                .ns(160, 160)
                .build(),
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
        &[
            span("t", "p", "p").kind(SpanKind::Internal).service("svc").ns(0, 100).build(),
            span("t", "a", "a")
                .parent("p")
                .kind(SpanKind::Internal)
                .service("svc")
                .ns(10, 60)
                .build(),
            span("t", "b", "b")
                .parent("p")
                .kind(SpanKind::Internal)
                .service("svc")
                .ns(40, 80)
                .build(),
        ],
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
        &[
            span("t", "a", "a")
                .parent("b")
                .kind(SpanKind::Internal)
                .service("svc")
                .ns(0, 10)
                .build(),
            span("t", "b", "b")
                .parent("a")
                .kind(SpanKind::Internal)
                .service("svc")
                .ns(2, 8)
                .build(),
        ],
        expect![[r#"
            a off=0.00 w=1.00 self=4 desc=1 orphan
              b off=0.20 w=0.60 self=6 desc=0
        "#]],
    );
}

#[test]
fn collapsing_hides_exactly_the_subtree() {
    let spans = [
        span("t", "root", "root").kind(SpanKind::Internal).service("svc").ns(0, 100).build(),
        span("t", "a", "a")
            .parent("root")
            .kind(SpanKind::Internal)
            .service("svc")
            .ns(0, 50)
            .build(),
        span("t", "a1", "a1").parent("a").kind(SpanKind::Internal).service("svc").ns(0, 10).build(),
        span("t", "a2", "a2")
            .parent("a")
            .kind(SpanKind::Internal)
            .service("svc")
            .ns(10, 20)
            .build(),
        span("t", "b", "b")
            .parent("root")
            .kind(SpanKind::Internal)
            .service("svc")
            .ns(50, 100)
            .build(),
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
    let mut spans =
        vec![span("t", "s0", "s0").kind(SpanKind::Internal).service("svc").ns(0, 200_000).build()];
    for i in 1..100_000u64 {
        spans.push(
            span("t", format!("s{i}"), &format!("s{i}"))
                .parent(format!("s{}", i - 1))
                .kind(SpanKind::Internal)
                .service("svc")
                .ns(i, 200_000 - i)
                .build(),
        );
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
    let spans: Vec<Span> = (0..n)
        .rev()
        .map(|i| {
            span("t", format!("s{i:06}"), &format!("s{i:06}"))
                .parent("gone")
                .kind(SpanKind::Internal)
                .service("svc")
                .ns(i, i + 1)
                .build()
        })
        .collect();
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
