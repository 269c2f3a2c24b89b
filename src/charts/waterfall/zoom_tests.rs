//! Known answers for the waterfall's time zoom.

use super::*;

fn close(a: Window, b: Window) -> bool {
    (a.from - b.from).abs() < 1e-9 && (a.to - b.to).abs() < 1e-9
}

#[test]
fn zooming_keeps_the_time_under_the_pointer_in_place() {
    let whole = Window::WHOLE;
    let zoomed = whole.zoom_at(0.5, 2.0);
    assert!(close(zoomed, Window { from: 0.25, to: 0.75 }), "{zoomed:?}");
    // At the pointer a quarter in, the trace's time there stays a quarter in.
    let zoomed = whole.zoom_at(0.25, 4.0);
    assert!(close(zoomed, Window { from: 0.1875, to: 0.4375 }), "{zoomed:?}");
    let at = |w: Window, x: f64| w.from + x * w.width();
    assert!((at(whole, 0.25) - at(zoomed, 0.25)).abs() < 1e-12);
    // Out again, never past the trace.
    let out = zoomed.zoom_at(0.25, 1.0 / 4.0);
    assert!(close(out, whole), "{out:?}");
    assert!(close(Window::WHOLE.zoom_at(0.9, 0.5), Window::WHOLE));
    // Near an edge, the window slides inside the trace.
    let edge = Window { from: 0.9, to: 1.0 }.zoom_at(1.0, 0.5);
    assert!(close(edge, Window { from: 0.8, to: 1.0 }), "{edge:?}");
    // In and out again is the whole trace exactly (no `0-1` in the URL from rounding).
    for factor in [STEP, 2.0, 3.0, 7.0] {
        for at in [0.1, 0.5, 0.9] {
            assert_eq!(whole.zoom_at(at, factor).zoom_at(0.5, 1.0 / factor), Window::WHOLE);
        }
    }
    // Never narrower than the floor.
    let deep = (0..100).fold(Window::WHOLE, |w, _| w.zoom_at(0.3, STEP));
    assert!(deep.width() >= MIN_WIDTH * 0.999_999 && deep.from >= 0.0 && deep.to <= 1.0);
}

#[test]
fn a_drag_selects_a_window_and_a_click_does_not() {
    let w = Window { from: 0.2, to: 0.6 };
    assert!(close(w.select(0.75, 0.25).unwrap(), Window { from: 0.3, to: 0.5 }), "either order");
    assert_eq!(w.select(0.5, 0.505), None, "a click");
    assert!(close(Window::WHOLE.select(-0.5, 0.5).unwrap(), Window { from: 0.0, to: 0.5 }));
}

#[test]
fn bars_keep_their_rows_and_are_cut_at_the_edges() {
    let w = Window { from: 0.25, to: 0.75 };
    let inside = w.place(0.5, 0.1);
    assert!((inside.left - 0.5).abs() < 1e-12 && (inside.width - 0.2).abs() < 1e-12);
    assert!(!inside.cut_before && !inside.cut_after);
    let across = w.place(0.0, 1.0);
    assert_eq!(
        (across.left, across.width, across.cut_before, across.cut_after),
        (0.0, 1.0, true, true)
    );
    let before = w.place(0.0, 0.1);
    assert_eq!(
        (before.left, before.width, before.cut_before),
        (0.0, 0.0, true),
        "a stub at the start"
    );
    let after = w.place(0.9, 0.05);
    assert_eq!((after.left, after.width, after.cut_after), (1.0, 0.0, true), "a stub at the end");
    let whole = Window::WHOLE.place(0.3, 0.2);
    assert!((whole.left - 0.3).abs() < 1e-12 && (whole.width - 0.2).abs() < 1e-12);
    assert!(!whole.cut_before && !whole.cut_after);
    assert_eq!(w.point(0.5), Some(0.5));
    assert_eq!(w.point(0.8), None);
    assert_eq!(w.range_ns(100_000_000), (25_000_000, 75_000_000));
}

#[test]
fn the_window_round_trips_through_the_url() {
    let w = Window { from: 0.25, to: 0.5 };
    assert_eq!(w.to_param(), "0.25-0.5");
    assert_eq!(Window::parse("0.25-0.5"), w);
    assert_eq!(Window::WHOLE.to_param(), "0-1");
    for junk in ["", "x", "0.5-0.25", "NaN-1", "0.3"] {
        assert_eq!(Window::parse(junk), Window::WHOLE, "{junk:?}");
    }
    assert_eq!(Window::parse("-1-2"), Window::WHOLE, "a leading minus is no window");
    let clamped = Window::parse("0.5-9");
    assert_eq!((clamped.from, clamped.to), (0.5, 1.0));
}

#[test]
fn the_minimap_scrolls_until_a_drag_goes_sideways() {
    assert!(!minimap_selects(0.5, 0.505), "a press and a little wobble scroll");
    assert!(minimap_selects(0.5, 0.4));
    assert!(minimap_selects(0.2, 0.6));
    // The minimap shows the whole trace: its drag selects within it.
    let w = Window::WHOLE.select(0.6, 0.8).unwrap();
    assert!(close(w, Window { from: 0.6, to: 0.8 }), "{w:?}");
    assert_eq!(share_of(150.0, 100.0, 200.0), 0.25);
    assert_eq!(share_of(50.0, 100.0, 200.0), 0.0, "left of it: its start");
    assert_eq!(share_of(150.0, 100.0, 0.0), 0.5, "unmeasured: the middle");
}
