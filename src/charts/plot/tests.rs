//! Tests of the plotters charts: tick labels, where points land, legends, empty states, and
//! that the recorded drawing renders as SVG elements with labels as text.

use super::bars::attempts_chart;
use super::line::{
    clock, ellipsis, hit_rate_chart_in, series_detail, time_ticks, ChartTime, Series, WIDTH,
};

/// The chart over the whole range, in UTC.
fn hit_rate_chart(since_ns: u64, until_ns: u64, series: &[Series], width: u32) -> Drawing {
    let utc = ChartTime { offset_min: 0, zone: "UTC".into(), fit_step_ns: None };
    hit_rate_chart_in(since_ns, until_ns, series, width, utc)
}
use super::*;
use crate::model::AttemptCount;

const MIN: u64 = 60_000_000_000;
/// 2026-11-27 10:00:00 UTC.
const T0: u64 = 1_795_773_600_000_000_000;

fn texts(drawing: &Drawing) -> Vec<&str> {
    drawing
        .primitives
        .iter()
        .filter_map(|p| match p {
            Primitive::Text { text, .. } => Some(text.as_str()),
            _ => None,
        })
        .collect()
}

fn circles(drawing: &Drawing) -> Vec<(i32, i32)> {
    drawing
        .primitives
        .iter()
        .filter_map(|p| match p {
            Primitive::Circle { center, .. } => Some(*center),
            _ => None,
        })
        .collect()
}

#[test]
fn time_ticks_fall_on_whole_clock_steps() {
    let t0 = T0 as f64 / 1e9;
    assert_eq!(time_ticks(t0, t0 + 3600.0, 8).len(), 7, "an hour: every 10 minutes");
    assert_eq!(time_ticks(t0 + 30.0, t0 + 930.0, 8)[0], t0 + 120.0, "15 minutes: every 2");
    assert!(time_ticks(t0, t0 + 86400.0, 8).iter().all(|t| t % 10800.0 == 0.0));
}

#[test]
fn hit_rate_chart_has_clock_ticks_percent_ticks_and_a_legend() {
    let series = vec![Series {
        name: "catalog".into(),
        detail: series_detail("l1", "shop", "spans"),
        points: vec![(T0, 1.0), (T0 + 30 * MIN, 0.5), (T0 + 60 * MIN, 0.0)],
    }];
    let drawing = hit_rate_chart(T0, T0 + 60 * MIN, &series, WIDTH);
    assert!(!drawing.empty);
    let texts = texts(&drawing);
    for label in
        ["10:00", "10:10", "10:30", "11:00", "0%", "25%", "100%", "catalog", "l1 · shop (spans)"]
    {
        assert!(texts.contains(&label), "{label} missing from {texts:?}");
    }
    // The points: first at the left end, top; the last at the right end, bottom; the middle
    // one half way in both.
    let dots = circles(&drawing);
    assert_eq!(dots.len(), 3);
    let (first, mid, last) = (dots[0], dots[1], dots[2]);
    assert!(first.0 < mid.0 && mid.0 < last.0, "{dots:?}");
    assert!(first.1 < mid.1 && mid.1 < last.1, "higher rate, higher up: {dots:?}");
    assert!((mid.0 - (first.0 + last.0) / 2).abs() <= 1);
    assert!((mid.1 - (first.1 + last.1) / 2).abs() <= 1);
    assert!(last.0 <= 900, "inside the plot area, left of the legend");
    assert!(drawing
        .primitives
        .iter()
        .any(|p| matches!(p, Primitive::Path { points, .. } if points.len() == 3)));
}

#[test]
fn no_lookups_is_a_no_data_note() {
    let empty = hit_rate_chart(
        T0,
        T0 + MIN,
        &[Series { name: "a".into(), detail: String::new(), points: vec![] }],
        WIDTH,
    );
    assert!(empty.empty);
    assert_eq!(texts(&empty), ["No cache lookups in this range."]);
    assert!(hit_rate_chart(T0, T0 + MIN, &[], WIDTH).empty);
    assert!(attempts_chart(&[]).empty);
    assert!(attempts_chart(&[AttemptCount { attempts: 2, calls: 0 }]).empty);
}

#[test]
fn long_legend_entries_are_cut_and_many_are_counted() {
    assert_eq!(ellipsis("abcdef", 4), "abc…");
    assert_eq!(ellipsis("abc", 4), "abc");
    let series: Vec<Series> = (0..9)
        .map(|i| Series {
            name: format!("cache{i}"),
            detail: String::new(),
            points: vec![(T0, 0.5)],
        })
        .collect();
    let texts = texts(&hit_rate_chart(T0, T0 + MIN, &series, WIDTH)).join("|");
    assert!(texts.contains("cache6") && !texts.contains("cache7"), "{texts}");
    assert!(texts.contains("and 2 more (see the table)"));
}

#[test]
fn attempts_chart_has_a_bar_and_a_count_per_attempt_number() {
    let drawing = attempts_chart(&[
        AttemptCount { attempts: 1, calls: 40 },
        AttemptCount { attempts: 2, calls: 7 },
        AttemptCount { attempts: 4, calls: 1 },
    ]);
    let texts = texts(&drawing);
    for label in ["1", "2", "3", "4", "40", "7", "attempts", "calls"] {
        assert!(texts.contains(&label), "{label} missing from {texts:?}");
    }
    let bars: Vec<(i32, u32)> = drawing
        .primitives
        .iter()
        .filter_map(|p| match p {
            Primitive::Rect { x, height, filled: true, paint: Paint::Rgb(..), .. } => {
                Some((*x, *height))
            }
            _ => None,
        })
        .collect();
    assert_eq!(bars.len(), 3, "{bars:?}");
    assert!(bars[0].1 > bars[1].1 && bars[1].1 > bars[2].1, "taller for more calls: {bars:?}");
    assert!(bars[0].0 < bars[1].0 && bars[1].0 < bars[2].0);
}

#[test]
fn the_svg_keeps_hostile_labels_as_text() {
    let hostile = "</svg><script>alert(1)</script><img src=x onerror=alert(1)>";
    let drawing = hit_rate_chart(
        T0,
        T0 + MIN,
        &[Series { name: hostile.into(), detail: hostile.into(), points: vec![(T0, 1.0)] }],
        WIDTH,
    );
    let html = dioxus::ssr::render_element(
        rsx! { Plot { drawing, label: "chart".to_string(), class: "x".to_string() } },
    );
    assert!(!html.contains("<script>") && !html.contains("<img"), "{html}");
    assert!(html.contains("&#60;/svg&#62;&#60;script&#62;alert(1)"), "{html}");
    assert!(
        html.contains("style=\"fill: var(--muted); font-size: 11px\""),
        "theme colours: {html}"
    );
}

#[test]
fn tick_labels_name_seconds_minutes_or_dates_as_the_step_needs() {
    let t = T0 as f64 / 1e9 + 75.0;
    assert_eq!(clock(t, 10.0), "10:01:15");
    assert_eq!(clock(t, 600.0), "10:01");
    assert_eq!(clock(t, 86400.0), "2026-11-27");
    assert_eq!(clock(0.0, 86400.0), "1970-01-01");
    assert_eq!(clock(951_782_400.0, 86400.0), "2000-02-29");
    // A range of years: dates, not a row of "00:00".
    let drawing = hit_rate_chart(
        0,
        T0,
        &[Series { name: "a".into(), detail: String::new(), points: vec![(T0 / 2, 0.5)] }],
        WIDTH,
    );
    let labels = texts(&drawing);
    assert!(
        labels.iter().any(|l| l.starts_with("19") || l.starts_with("20"))
            && !labels.contains(&"00:00"),
        "{labels:?}"
    );
}

#[test]
fn a_narrow_box_gets_a_narrow_chart_with_fewer_time_labels_and_a_shorter_legend() {
    let series = [Series {
        name: "a very long cache name that is elided".into(),
        detail: String::new(),
        points: vec![(T0, 0.5), (T0 + 30 * MIN, 0.75)],
    }];
    let wide = hit_rate_chart(T0, T0 + 60 * MIN, &series, 1200);
    let narrow = hit_rate_chart(T0, T0 + 60 * MIN, &series, 600);
    assert_eq!((wide.width, narrow.width), (1200, 600));
    let clocks = |d: &Drawing| texts(d).iter().filter(|t| t.contains(':')).count();
    assert!(clocks(&narrow) < clocks(&wide), "{:?} vs {:?}", texts(&narrow), texts(&wide));
    assert!(texts(&narrow).iter().any(|t| t.ends_with('…')), "{:?}", texts(&narrow));
    assert_eq!(hit_rate_chart(T0, T0 + MIN, &series, 100).width, 480, "never narrower than 480");
}

#[test]
fn ten_minutes_of_an_hour_are_fitted_and_the_zone_is_named_on_the_axis() {
    use super::line::fitted_range;
    let s = 1_000_000_000u64;
    let t0 = 3_600 * s;
    // Lookups in the last 10 minutes of an hour, in 1-minute steps.
    let times: Vec<u64> = (50..60).map(|m| t0 + m * 60 * s).collect();
    let (x0, x1, fitted) = fitted_range(t0, t0 + 3_600 * s, &times, Some(60 * s));
    assert!(fitted);
    assert_eq!((x0, x1), ((t0 + 3_000 * s) as f64 / 1e9, (t0 + 3_600 * s) as f64 / 1e9));
    // Data over most of the range: the range stays.
    let most: Vec<u64> = (5..60).map(|m| t0 + m * 60 * s).collect();
    assert!(!fitted_range(t0, t0 + 3_600 * s, &most, Some(60 * s)).2);
    assert!(!fitted_range(t0, t0 + 3_600 * s, &times, None).2);
    let series = [Series {
        name: "c".into(),
        detail: "d".into(),
        points: times.iter().map(|&t| (t, 0.5)).collect(),
    }];
    let time = ChartTime { offset_min: 60, zone: "UTC+01:00".into(), fit_step_ns: Some(60 * s) };
    let drawing = hit_rate_chart_in(t0, t0 + 3_600 * s, &series, WIDTH, time);
    let labels = texts(&drawing);
    assert!(labels.contains(&"time (UTC+01:00) · fitted to the data"), "{labels:?}");
    // 01:50 UTC is 02:50 an hour east.
    assert!(labels.contains(&"02:50"), "{labels:?}");
}
