//! Snapshots of the viewport maths: rows drawn per render mode, canvas height, row tops, the
//! minimap's window and bars, and the tab stop.

use expect_test::{expect, Expect};

use super::*;
use crate::env::RenderMode::{self, Live, Preview, Static};
use crate::model::fixture;
use crate::model::Span;

/// One line: the drawn positions, the canvas and box heights, the first two rows' tops.
fn check(mode: RenderMode, len: usize, scroll_top: f64, focus_at: Option<usize>, want: Expect) {
    let v = Viewport::new(mode, len, scroll_top, focus_at);
    let got = format!(
        "rows {}..{} canvas {} box {} tops {} {}",
        v.first,
        v.last,
        v.canvas_height,
        v.box_height(),
        v.top(0),
        v.top(1)
    );
    want.assert_eq(&got);
}

#[test]
fn live_draws_the_rows_in_view_and_overscan_at_their_place() {
    check(Live, 10_000, 0.0, None, expect!["rows 0..47 canvas 240000 box 560 tops 0 24"]);
    check(Live, 10_000, 2400.0, None, expect!["rows 88..135 canvas 240000 box 560 tops 2112 2136"]);
    check(
        Live,
        10_000,
        240_000.0,
        None,
        expect!["rows 9988..10000 canvas 240000 box 560 tops 239712 239736"],
    );
    check(Live, 3, 0.0, None, expect!["rows 0..3 canvas 72 box 74 tops 0 24"]);
    check(Live, 0, 0.0, None, expect!["rows 0..0 canvas 0 box 26 tops 0 24"]);
}

#[test]
fn a_preview_draws_the_live_rows_from_the_top_of_a_short_canvas() {
    check(
        Preview,
        10_000,
        2400.0,
        Some(100),
        expect!["rows 88..135 canvas 1128 box 560 tops 0 24"],
    );
}

#[test]
fn a_page_without_scripts_draws_the_page_holding_the_focus() {
    check(Static, 5000, 0.0, None, expect!["rows 0..2000 canvas 48000 box 560 tops 0 24"]);
    check(Static, 5000, 0.0, Some(4500), expect!["rows 4000..5000 canvas 24000 box 560 tops 0 24"]);
    check(
        Static,
        5000,
        99_999.0,
        Some(2000),
        expect!["rows 2000..4000 canvas 48000 box 560 tops 0 24"],
    );
}

#[test]
fn the_tab_stop_is_the_selected_row_while_drawn() {
    let visible: Vec<usize> = (0..100).collect();
    assert_eq!(tab_stop(Live, Some(5), &visible, (0, 47)), Some(5));
    assert_eq!(tab_stop(Live, Some(60), &visible, (0, 47)), Some(0), "not drawn: the first row");
    assert_eq!(tab_stop(Live, None, &visible, (10, 47)), Some(10));
    assert_eq!(tab_stop(Preview, Some(5), &visible, (0, 47)), None);
    assert_eq!(tab_stop(Static, Some(5), &visible, (0, 47)), None);
    assert_eq!(tab_stop(Live, None, &[], (0, 0)), None);
}

#[test]
fn the_minimap_window_and_a_jump() {
    let total = 10_000.0 * ROW_HEIGHT;
    assert_eq!(minimap_window(0.0, total, 10_000), (0.0, 2.0), "at least 2 high");
    assert_eq!(minimap_window(120_000.0, total, 10_000), (32.0, 2.0));
    assert_eq!(minimap_window(0.0, 240.0, 10), (0.0, 64.0), "all rows in view");
    assert_eq!(minimap_window(0.0, 0.0, 0), (0.0, 64.0));
    assert_eq!(minimap_jump(32.0, total), 120_000.0 - VIEW_HEIGHT / 2.0);
    assert_eq!(minimap_jump(0.0, total), 0.0, "never above the top");
}

/// The bars as `x+width@y:height row`.
fn bars(layout: &Layout, visible: &[usize]) -> String {
    minimap_bars(layout, visible)
        .iter()
        .map(|b| format!("{:.0}+{:.0}@{:.1}:{:.1} r{}", b.x, b.width, b.y, b.height, b.row))
        .collect::<Vec<_>>()
        .join("\n")
}

fn node(id: &str, parent: Option<&str>, start: u64, end: u64) -> Span {
    fixture::span("t", id, id).parent_opt(parent).ns(start, end).build()
}

#[test]
fn minimap_bars_one_per_row_then_bucketed() {
    let spans =
        [node("r", None, 0, 100), node("a", Some("r"), 0, 50), node("b", Some("r"), 50, 100)];
    let layout = super::super::layout::layout(&spans);
    expect![[r#"
        0+1000@0.0:21.3 r0
        0+500@21.3:21.3 r1
        500+500@42.7:21.3 r2"#]]
    .assert_eq(&bars(&layout, &[0, 1, 2]));
    assert_eq!(bars(&layout, &[]), "");
    // 1,000 rows: three per bar (at most 400 bars), each as wide as its rows together.
    let many: Vec<Span> = std::iter::once(node("r", None, 0, 1000))
        .chain((0..999).map(|i| node(&format!("s{i}"), Some("r"), i, i + 1)))
        .collect();
    let layout = super::super::layout::layout(&many);
    let visible: Vec<usize> = (0..1000).collect();
    let got = minimap_bars(&layout, &visible);
    assert_eq!(got.len(), 334, "1,000 rows in buckets of 3");
    expect![[r#"
        0+1000@0.0:0.5 r0
        2+3@0.2:0.5 r3"#]]
    .assert_eq(&bars(&layout, &visible).lines().take(2).collect::<Vec<_>>().join("\n"));
}

#[test]
fn minimap_paths_one_per_colour_in_order_of_first_use() {
    let bar = |y: f64, row: usize| MinimapBar { x: 10.0, y, width: 500.0, height: 2.5, row };
    let bars = [bar(0.0, 0), bar(2.5, 1), bar(5.0, 2), bar(7.5, 3)];
    let colour = |b: &MinimapBar| if b.row % 2 == 1 { "blue" } else { "red" };
    let got: Vec<String> =
        minimap_paths(&bars, colour).into_iter().map(|(c, d)| format!("{c}: {d}")).collect();
    expect![[r#"
        red: M10.0 0.00h500.0v2.50h-500.0zM10.0 5.00h500.0v2.50h-500.0z
        blue: M10.0 2.50h500.0v2.50h-500.0zM10.0 7.50h500.0v2.50h-500.0z"#]]
    .assert_eq(&got.join("\n"));
    assert!(minimap_paths(&[], colour).is_empty());
}
