//! Tests of the metric charts: which aggregations share a chart, line keys and legends, bucket
//! bounds and totals, where lines, heatmap cells and exemplars land, and unit-formatted ticks.

use super::layout::{bucket_totals, buckets, metric_chart, Bucket, Chart, Line, HEIGHT};
use super::series::{chart_groups, group_label, legend_rows, lines_of};
use super::units::Per;
use crate::charts::plot::{Drawing, Primitive};
use crate::model::{
    AttrValue, Exemplar, Heatmap, KeyValue, MetricAgg, MetricGroup, MetricInfo, MetricKind,
    MetricSeriesAnswer, Temporality,
};

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

fn filled_rects(drawing: &Drawing) -> Vec<(i32, i32, u32, u32)> {
    drawing
        .primitives
        .iter()
        .filter_map(|p| match p {
            Primitive::Rect {
                x,
                y,
                width,
                height,
                filled: true,
                paint: crate::charts::plot::Paint::Rgb(..),
            } => Some((*x, *y, *width, *height)),
            _ => None,
        })
        .collect()
}

pub(crate) fn info(kind: MetricKind, unit: &str) -> MetricInfo {
    MetricInfo {
        name: "http.server.request.duration".into(),
        kind,
        unit: unit.into(),
        description: String::new(),
        temporality: Temporality::Cumulative,
        monotonic: kind == MetricKind::Sum,
        series: 2,
        points: 20,
        services: vec!["shop".into()],
        last_seen_ns: T0,
    }
}

fn group(labels: &[(&str, &str)], values: Vec<Option<f64>>) -> MetricGroup {
    MetricGroup {
        labels: labels
            .iter()
            .map(|(k, v)| KeyValue { key: (*k).into(), value: AttrValue::String((*v).into()) })
            .collect(),
        others: false,
        values,
    }
}

pub(crate) fn answer(agg: MetricAgg, groups: Vec<MetricGroup>) -> MetricSeriesAnswer {
    MetricSeriesAnswer {
        info: info(MetricKind::Histogram, "s"),
        agg,
        since_ns: T0,
        until_ns: T0 + 4 * MIN,
        step_ns: MIN,
        groups,
        heatmap: None,
        exemplars: Vec::new(),
        notes: Vec::new(),
    }
}

#[test]
fn percentiles_share_one_chart_and_the_rest_have_their_own() {
    use MetricAgg::*;
    assert_eq!(chart_groups(&[Count, P50, Sum, P99]), vec![vec![Count], vec![P50, P99], vec![Sum]]);
    assert_eq!(chart_groups(&[Rate]), vec![vec![Rate]]);
}

#[test]
fn lines_are_keyed_by_aggregation_and_group() {
    let p50 = answer(MetricAgg::P50, vec![group(&[], vec![Some(0.01), None])]);
    let p99 = answer(MetricAgg::P99, vec![group(&[], vec![Some(0.09), Some(0.1)])]);
    let lines = lines_of(&[(MetricAgg::P50, &p50), (MetricAgg::P99, &p99)]);
    let keys: Vec<(&str, &str, usize)> =
        lines.iter().map(|l| (l.key.as_str(), l.label.as_str(), l.color)).collect();
    assert_eq!(keys, [("p50:all", "p50", 0), ("p99:all", "p99", 1)]);
    let grouped = answer(
        MetricAgg::Rate,
        vec![
            group(&[("http.route", "/a")], vec![Some(2.0), Some(4.0)]),
            MetricGroup { labels: Vec::new(), others: true, values: vec![Some(1.0), None] },
        ],
    );
    let lines = lines_of(&[(MetricAgg::Rate, &grouped)]);
    assert_eq!(lines[0].label, "http.route=/a");
    assert_eq!(lines[1].key, "rate:others");
    assert_eq!(group_label(&grouped.groups[1]), "others");
    let legend = legend_rows(&lines, &["rate:others"]);
    assert_eq!(
        (legend[0].last, legend[0].min, legend[0].max, legend[0].mean),
        (Some(4.0), Some(2.0), Some(4.0), Some(3.0))
    );
    assert!(!legend[0].hidden && legend[1].hidden);
}

fn heatmap() -> Heatmap {
    Heatmap {
        bounds: vec![Some(0.01), Some(0.05), Some(0.1), None],
        // Four steps; the third has nothing.
        counts: vec![vec![4, 1, 0, 0], vec![0, 2, 2, 0], vec![0, 0, 0, 0], vec![1, 0, 0, 1]],
    }
}

#[test]
fn buckets_run_from_zero_to_the_open_last_one() {
    assert_eq!(
        buckets(&heatmap()),
        [
            Bucket { lower: 0.0, upper: 0.01 },
            Bucket { lower: 0.01, upper: 0.05 },
            Bucket { lower: 0.05, upper: 0.1 },
            Bucket { lower: 0.1, upper: f64::INFINITY },
        ]
    );
    let negative = Heatmap { bounds: vec![Some(-2.0), Some(0.0), None], counts: vec![] };
    assert_eq!(buckets(&negative)[0], Bucket { lower: -4.0, upper: -2.0 });
    let totals = bucket_totals(&heatmap(), "s");
    assert_eq!(
        totals,
        [
            ("≤ 10 ms".to_owned(), 5),
            ("≤ 50 ms".to_owned(), 3),
            ("≤ 100 ms".to_owned(), 2),
            ("> 100 ms".to_owned(), 1)
        ]
    );
}

#[test]
fn the_heatmap_draws_a_cell_per_non_empty_bucket_and_step_under_the_lines() {
    let lines = [Line {
        key: "p50:all".into(),
        label: "p50".into(),
        values: vec![Some(0.008), Some(0.05), None, Some(0.01)],
        color: 1,
    }];
    let exemplars = [Exemplar {
        time_ns: T0 + MIN + MIN / 2,
        value: 0.05,
        trace_id: Some("0af7651916cd43dd8448eb211c80319c".into()),
        span_id: None,
        attributes: Vec::new(),
    }];
    let heat = heatmap();
    let chart = Chart {
        since_ns: T0,
        until_ns: T0 + 4 * MIN,
        step_ns: MIN,
        unit: "s",
        per: Per::Value,
        lines: &lines,
        heatmap: Some(&heat),
        exemplars: &exemplars,
    };
    let (drawing, dots) = metric_chart(&chart, 800);
    assert!(!drawing.empty);
    // 2 + 2 + 0 + 2 cells; the open bucket is drawn up to the axis' top.
    assert_eq!(filled_rects(&drawing).len(), 6, "{:?}", filled_rects(&drawing));
    let texts = texts(&drawing);
    for label in ["10:00", "10:01", "10:04", "0 s", "50 ms", "150 ms"] {
        assert!(texts.contains(&label), "{label} missing from {texts:?}");
    }
    // The gap at the third step splits the line in two paths, one of them a single point.
    let green = crate::charts::plot::Paint::Rgb(0x5f, 0xd3, 0x8d, 1.0);
    let paths = drawing
        .primitives
        .iter()
        .filter(|p| matches!(p, Primitive::Path { paint, .. } if *paint == green))
        .count();
    assert_eq!(paths, 1);
    // The exemplar: at 10:01:30 (the middle of the second step, as the line's point there)
    // and at 50 ms, the line's value there.
    assert_eq!(dots.len(), 1);
    let dot = &dots[0];
    assert_eq!(dot.trace_id, "0af7651916cd43dd8448eb211c80319c");
    assert_eq!(dot.title, "exemplar 50 ms at 10:01:30 UTC");
    let second_point = drawing
        .primitives
        .iter()
        .filter_map(|p| match p {
            Primitive::Circle { center, .. } => Some(*center),
            _ => None,
        })
        .nth(1)
        .unwrap();
    assert!(
        (dot.left_pct * 8.0 - f64::from(second_point.0)).abs() < 1.0,
        "{dot:?} {second_point:?}"
    );
    assert!(
        (dot.top_pct * f64::from(HEIGHT) / 100.0 - f64::from(second_point.1)).abs() < 1.0,
        "{dot:?} {second_point:?}"
    );
}

#[test]
fn rates_are_per_second_and_exemplars_stay_off_them() {
    let lines = [Line {
        key: "rate:all".into(),
        label: "all".into(),
        values: vec![Some(0.5), Some(2.0)],
        color: 0,
    }];
    let exemplars = [Exemplar {
        time_ns: T0,
        value: 1.0,
        trace_id: Some("ab".into()),
        span_id: None,
        attributes: Vec::new(),
    }];
    let chart = Chart {
        since_ns: T0,
        until_ns: T0 + 2 * MIN,
        step_ns: MIN,
        unit: "{request}",
        per: Per::Second,
        lines: &lines,
        heatmap: None,
        exemplars: &exemplars,
    };
    let (drawing, dots) = metric_chart(&chart, 600);
    assert!(dots.is_empty());
    let texts = texts(&drawing);
    assert!(texts.contains(&"2 request/s") && texts.contains(&"0 request/s"), "{texts:?}");
    let empty = Chart { lines: &[], exemplars: &[], ..chart };
    let (drawing, _) = metric_chart(&empty, 600);
    assert!(drawing.empty);
}
