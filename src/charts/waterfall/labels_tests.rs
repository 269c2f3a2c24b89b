//! Known answers for a row's label placement (on the 400 px track: "220 µs" is 40 px wide at
//! 11 px, "waited 88.36 ms" 90 px at 10 px) and for the event markers' kinds and cards.

use super::*;
use crate::model::{AttrValue, KeyValue};

/// The extents (px) of what `labels` draws for a bar, to check that nothing overlaps.
fn extents(offset: f64, width: f64, duration: &str, wait: Option<(f64, &str)>) -> Vec<(f64, f64)> {
    let labels = place_row_labels(offset, width, duration, wait);
    let (start, end) = (offset * TRACK_PX, (offset + width) * TRACK_PX);
    let duration_px = f64::from(text_size(duration, LABEL_PX).0);
    let mut drawn = vec![(start, end)];
    match labels.duration {
        Some(Place::Inside) | None => {}
        Some(Place::Right) => drawn.push((end + PAD_PX, end + PAD_PX + duration_px)),
        Some(Place::Left) => drawn.push((start - PAD_PX - duration_px, start - PAD_PX)),
    }
    if let (true, Some((from, text))) = (labels.wait, wait) {
        let from = from * TRACK_PX;
        drawn.push((from, from + f64::from(text_size(text, WAIT_LABEL_PX).0)));
    }
    drawn
}

fn assert_apart(drawn: &[(f64, f64)]) {
    for (i, a) in drawn.iter().enumerate() {
        assert!(a.0 >= 0.0 && a.1 <= TRACK_PX, "{a:?} leaves the track");
        for b in &drawn[i + 1..] {
            assert!(a.1 <= b.0 || b.1 <= a.0, "{a:?} overlaps {b:?} in {drawn:?}");
        }
    }
}

#[test]
fn a_wide_bar_carries_its_duration_and_the_wait_fits_its_gap() {
    let wait = Some((0.2, "waited 300 ms"));
    let labels = place_row_labels(0.5, 0.3, "417.00 ms", wait);
    assert_eq!(labels, RowLabels { duration: Some(Place::Inside), wait: true });
    assert_apart(&extents(0.5, 0.3, "417.00 ms", wait));
    assert!(!place_row_labels(0.5, 0.3, "417.00 ms", None).wait);
}

/// Issue 26: "waited 88.36 ms" was printed over "220 µs" (a short retry near the trace's end).
#[test]
fn the_wait_label_gives_way_to_the_duration_left_of_the_bar() {
    let wait = Some((0.70, "waited 88.36 ms"));
    let labels = place_row_labels(0.92, 0.0005, "220 µs", wait);
    assert_eq!(labels, RowLabels { duration: Some(Place::Left), wait: false });
    assert_apart(&extents(0.92, 0.0005, "220 µs", wait));
    // With room before the duration label, both.
    let early = Some((0.30, "waited 88.36 ms"));
    assert!(place_row_labels(0.92, 0.0005, "220 µs", early).wait);
    assert_apart(&extents(0.92, 0.0005, "220 µs", early));
}

#[test]
fn the_wait_label_never_reaches_the_bar() {
    // Duration right of a short bar; the gap before it is 20 px: too narrow for 90 px.
    let wait = Some((0.45, "waited 88.36 ms"));
    assert_eq!(
        place_row_labels(0.5, 0.001, "220 µs", wait),
        RowLabels { duration: Some(Place::Right), wait: false }
    );
    let wide = Some((0.1, "waited 88.36 ms"));
    assert!(place_row_labels(0.5, 0.001, "220 µs", wide).wait);
    for from in [0.0, 0.1, 0.2, 0.26, 0.27, 0.3, 0.45, 0.49] {
        assert_apart(&extents(0.5, 0.001, "220 µs", Some((from, "waited 88.36 ms"))));
    }
}

#[test]
fn a_label_with_no_room_anywhere_is_left_out() {
    let long = "x".repeat(80);
    let labels = place_row_labels(0.0, 0.95, &long, None);
    assert_eq!(labels.duration, None, "it fits neither on, after nor before the bar");
}

#[test]
fn placement_sweep_never_overlaps() {
    for offset in (0..100).map(|i| f64::from(i) / 100.0) {
        for width in [0.0, 0.0001, 0.01, 0.05, 0.2] {
            let width = f64::min(width, 1.0 - offset);
            for wait_from in [0.0, offset / 2.0, offset * 0.9] {
                let wait = Some((wait_from, "waited 27.14 ms"));
                assert_apart(&extents(offset, width, "27.14 ms", wait));
            }
        }
    }
}

fn event(name: &str, time_ns: u64, attributes: &[(&str, AttrValue)]) -> SpanEvent {
    SpanEvent {
        time_ns,
        name: name.into(),
        attributes: attributes
            .iter()
            .map(|(key, value)| KeyValue { key: (*key).into(), value: value.clone() })
            .collect(),
    }
}

#[test]
fn markers_by_kind_and_their_cards() {
    let s = |v: &str| AttrValue::String(v.into());
    let exception = event(
        "exception",
        1_040_000_000,
        &[("exception.type", s("PaymentError")), ("exception.message", s("card <b>declined</b>"))],
    );
    assert_eq!(EventKind::of(&exception), EventKind::Exception);
    assert_eq!(EventKind::of(&exception).class(), "wf-ev ev-exception");
    // Times count from the trace's start, as "Starts at" and the ruler do.
    assert_eq!(
        event_card(&exception, 1_000_000_000),
        "exception at +40.00 ms — PaymentError: card <b>declined</b>"
    );
    let retry = event("retry", 1_000_200_000, &[("retry.delay_ms", AttrValue::Int(25))]);
    assert_eq!(EventKind::of(&retry), EventKind::Retry);
    assert_eq!(event_card(&retry, 1_000_000_000), "retry at +200 µs — declared backoff 25 ms");
    let other = event("cache miss", 1_000_000_500, &[("key", s("p:6"))]);
    assert_eq!(EventKind::of(&other), EventKind::Other);
    assert_eq!(event_card(&other, 1_000_000_000), "cache miss at +500 ns — key = p:6");
    assert_eq!(event_card(&event("tick", 5, &[]), 10), "tick at +0 ns", "never negative");
    let kinds = [EventKind::Exception, EventKind::Retry, EventKind::Other];
    let classes: std::collections::HashSet<_> = kinds.iter().map(|k| k.class()).collect();
    assert_eq!(classes.len(), 3, "each kind its own look");
}

/// One number for one thing: the measured wait, the declared backoff beside it in words.
#[test]
fn the_wait_card_names_the_wait_and_the_declared_backoff() {
    assert_eq!(
        wait_card(27_140_000, Some(25.0)),
        "waited 27.14 ms since the previous attempt ended (declared backoff 25 ms)"
    );
    assert_eq!(wait_card(1_500, None), "waited 2 µs since the previous attempt ended");
}
