//! Known answers of the series rules, through `answer` (the store's rows made by hand).

use otelscope_app::model::{
    AttrValue, Exemplar, ExpBuckets, HistogramValue, KeyValue, MetricAgg, MetricInfo, MetricKind,
    QuantileValue, Temporality,
};

use super::*;
use crate::store::{MetricRows, Sample, SeriesMeta};

const S: u64 = 1_000_000_000;

fn meta(
    id: i64,
    kind: MetricKind,
    temporality: Temporality,
    monotonic: bool,
    host: &str,
) -> SeriesMeta {
    SeriesMeta {
        id,
        name: "m".into(),
        kind,
        unit: "1".into(),
        temporality,
        monotonic,
        description: String::new(),
        service: "svc".into(),
        resource: vec![],
        scope: None,
        attributes: vec![KeyValue { key: "host".into(), value: AttrValue::String(host.into()) }],
    }
}

fn info(kind: MetricKind, monotonic: bool) -> MetricInfo {
    MetricInfo {
        name: "m".into(),
        kind,
        unit: "1".into(),
        description: String::new(),
        temporality: Temporality::Cumulative,
        monotonic,
        series: 1,
        points: 0,
        services: vec![],
        last_seen_ns: 0,
    }
}

fn req(since_s: u64, until_s: u64, step_s: u64, group_by: &[&str]) -> SeriesRequest {
    SeriesRequest {
        name: "m".into(),
        service: None,
        attrs: vec![],
        group_by: group_by.iter().map(|s| s.to_string()).collect(),
        since_ns: since_s * S,
        until_ns: until_s * S,
        step_ns: step_s * S,
        agg: None,
        limit: 10,
        include_self: false,
    }
}

fn at(start_s: u64, time_s: u64, value: f64) -> Sample {
    Sample { start_ns: start_s * S, time_ns: time_s * S, value, ..Sample::default() }
}

fn values(a: &MetricSeriesAnswer) -> Vec<Vec<Option<f64>>> {
    a.groups.iter().map(|g| g.values.clone()).collect()
}

#[test]
fn a_counter_with_a_reset_charts_a_steady_rate() {
    // +10 every 10 s; the process restarts between 30 and 40 s (start time 35, value 2).
    let points = vec![
        at(0, 10, 10.0),
        at(0, 20, 20.0),
        at(0, 30, 30.0),
        at(35, 40, 2.0),
        at(35, 50, 12.0),
        at(35, 60, 22.0),
    ];
    let rows = MetricRows {
        series: vec![(meta(1, MetricKind::Sum, Temporality::Cumulative, true, "a"), points)],
        ..MetricRows::default()
    };
    let a = answer(rows, info(MetricKind::Sum, true), &req(0, 60, 20, &[]), MetricAgg::Rate);
    // Steps [0,20) [20,40) [40,60): increases end at 20 and 30 (step 1: 20/20 s = 1/s), the
    // run restarting at 40 has no rate, 50 ends in step 2: 10 / 10 s. The point at 60 is
    // past the range.
    assert_eq!(values(&a), vec![vec![None, Some(1.0), Some(1.0)]]);
}

#[test]
fn delta_and_cumulative_give_the_same_rate() {
    let cumulative = vec![
        at(100, 100, 0.0),
        at(100, 110, 5.0),
        at(100, 120, 25.0),
        at(100, 130, 30.0),
        at(100, 140, 70.0),
    ];
    let delta = vec![at(100, 110, 5.0), at(110, 120, 20.0), at(120, 130, 5.0), at(130, 140, 40.0)];
    let run = |points, t| {
        let rows = MetricRows {
            series: vec![(meta(1, MetricKind::Sum, t, true, "a"), points)],
            ..MetricRows::default()
        };
        values(&answer(rows, info(MetricKind::Sum, true), &req(101, 141, 20, &[]), MetricAgg::Rate))
    };
    let c = run(cumulative, Temporality::Cumulative);
    assert_eq!(c, run(delta, Temporality::Delta));
    // [101,121): 5 + 20 over 20 s; [121,141): 5 + 40 over 20 s.
    assert_eq!(c, vec![vec![Some(1.25), Some(2.25)]]);
}

#[test]
fn gauges_give_last_avg_min_max_and_groups_sum_their_series() {
    let a_points = vec![at(0, 1, 4.0), at(0, 5, 2.0), at(0, 11, 7.0)];
    let b_points = vec![at(0, 2, 10.0), at(0, 12, 1.0)];
    let rows = || MetricRows {
        series: vec![
            (meta(1, MetricKind::Gauge, Temporality::Unspecified, false, "a"), a_points.clone()),
            (meta(2, MetricKind::Gauge, Temporality::Unspecified, false, "b"), b_points.clone()),
        ],
        ..MetricRows::default()
    };
    let r = req(0, 20, 10, &[]);
    let get = |agg| values(&answer(rows(), info(MetricKind::Gauge, false), &r, agg));
    assert_eq!(get(MetricAgg::Value), vec![vec![Some(12.0), Some(8.0)]]);
    assert_eq!(get(MetricAgg::Avg), vec![vec![Some(16.0 / 3.0), Some(4.0)]]);
    assert_eq!(get(MetricAgg::Min), vec![vec![Some(2.0), Some(1.0)]]);
    assert_eq!(get(MetricAgg::Max), vec![vec![Some(10.0), Some(7.0)]]);
    // Grouped by host, largest first (b: 10 + 1 over a: 2 + 7), "others" past the limit.
    let mut by_host = req(0, 20, 10, &["host"]);
    by_host.limit = 1;
    let a = answer(rows(), info(MetricKind::Gauge, false), &by_host, MetricAgg::Value);
    assert_eq!(a.groups.len(), 2);
    assert_eq!(a.groups[0].labels[0].value, AttrValue::String("b".into()));
    assert_eq!(a.groups[0].values, vec![Some(10.0), Some(1.0)]);
    assert!(a.groups[1].others);
    assert_eq!(a.groups[1].values, vec![Some(2.0), Some(7.0)]);
}

fn hist(start_s: u64, time_s: u64, counts: &[u64], sum: f64) -> Sample {
    let h = HistogramValue {
        count: counts.iter().sum(),
        sum: Some(sum),
        bounds: vec![10.0, 20.0, 50.0],
        bucket_counts: counts.to_vec(),
        ..HistogramValue::default()
    };
    Sample { histogram: Some(Box::new(h)), exemplars: vec![], ..at(start_s, time_s, 0.0) }
}

#[test]
fn histogram_percentiles_count_sum_and_heatmap_from_cumulative_points() {
    let mut second = hist(0, 10, &[10, 30, 10, 0], 900.0);
    second.exemplars = vec![Exemplar {
        time_ns: 9 * S,
        value: 42.0,
        trace_id: Some("ab".repeat(16)),
        span_id: Some("cd".repeat(8)),
        attributes: vec![],
    }];
    let points = vec![hist(0, 0, &[0, 0, 0, 0], 0.0), second];
    let rows = || MetricRows {
        series: vec![(
            meta(1, MetricKind::Histogram, Temporality::Cumulative, false, "a"),
            points.clone(),
        )],
        ..MetricRows::default()
    };
    let r = req(0, 20, 20, &[]);
    let get = |agg| values(&answer(rows(), info(MetricKind::Histogram, false), &r, agg))[0][0];
    // Hand-computed as in dist's test: p50 15, p90 35, p99 48.5.
    assert_eq!(get(MetricAgg::P50), Some(15.0));
    assert_eq!(get(MetricAgg::P90), Some(35.0));
    assert!((get(MetricAgg::P99).unwrap() - 48.5).abs() < 1e-9);
    // 50 observations over the 10 s the delta covers; sum 900; avg 18.
    assert_eq!(get(MetricAgg::Count), Some(5.0));
    assert_eq!(get(MetricAgg::Sum), Some(900.0));
    assert_eq!(get(MetricAgg::Avg), Some(18.0));
    let a = answer(rows(), info(MetricKind::Histogram, false), &r, MetricAgg::P50);
    let heat = a.heatmap.unwrap();
    assert_eq!(heat.bounds, vec![Some(10.0), Some(20.0), Some(50.0), None]);
    assert_eq!(heat.counts, vec![vec![10, 30, 10, 0]]);
    assert_eq!(a.exemplars.len(), 1);
    assert_eq!(a.exemplars[0].trace_id.as_deref(), Some("ab".repeat(16).as_str()));
}

#[test]
fn exponential_series_at_scales_0_3_and_minus_2_merge_into_one_percentile() {
    let exp = |scale, offset, positive: &[u64], zero| {
        let h = HistogramValue {
            count: positive.iter().sum::<u64>() + zero,
            exponential: Some(ExpBuckets {
                scale,
                zero_count: zero,
                positive_offset: offset,
                positive: positive.to_vec(),
                ..ExpBuckets::default()
            }),
            ..HistogramValue::default()
        };
        Sample { histogram: Some(Box::new(h)), ..at(0, 5, 0.0) }
    };
    let rows = MetricRows {
        series: vec![
            (
                meta(1, MetricKind::ExponentialHistogram, Temporality::Delta, false, "a"),
                vec![exp(0, 0, &[1, 2], 1)],
            ),
            (
                meta(2, MetricKind::ExponentialHistogram, Temporality::Delta, false, "b"),
                vec![exp(3, 8, &[4, 0, 0, 0, 0, 0, 0, 0, 1], 0)],
            ),
            (
                meta(3, MetricKind::ExponentialHistogram, Temporality::Delta, false, "c"),
                vec![exp(-2, 0, &[5, 2], 0)],
            ),
        ],
        ..MetricRows::default()
    };
    let a = answer(
        rows,
        info(MetricKind::ExponentialHistogram, false),
        &req(0, 10, 10, &[]),
        MetricAgg::P50,
    );
    let p50 = a.groups[0].values[0].unwrap();
    assert!((p50 - (1.0 + 15.0 * 7.0 / 13.0)).abs() < 1e-9, "{p50}");
    let heat = a.heatmap.unwrap();
    // Zero bucket, (1, 16], (16, 256] at scale -2.
    assert_eq!(heat.bounds, vec![Some(0.0), Some(16.0), Some(256.0)]);
    assert_eq!(heat.counts, vec![vec![1, 13, 2]]);
}

#[test]
fn a_summary_gives_its_quantiles_as_sent_and_count_and_sum() {
    let summary = |time_s, count, sum, p50, p99| {
        let h = HistogramValue {
            count,
            sum: Some(sum),
            quantiles: vec![
                QuantileValue { quantile: 0.5, value: p50 },
                QuantileValue { quantile: 0.99, value: p99 },
            ],
            ..HistogramValue::default()
        };
        Sample { histogram: Some(Box::new(h)), ..at(0, time_s, sum) }
    };
    let rows = || MetricRows {
        series: vec![(
            meta(1, MetricKind::Summary, Temporality::Cumulative, false, "a"),
            vec![summary(0, 0, 0.0, 1.0, 2.0), summary(10, 20, 50.0, 3.0, 9.0)],
        )],
        ..MetricRows::default()
    };
    let r = req(0, 20, 20, &[]);
    let a = answer(rows(), info(MetricKind::Summary, false), &r, MetricAgg::Quantiles);
    assert_eq!(a.groups.len(), 2);
    assert_eq!(a.groups[0].labels[0].value, AttrValue::String("0.5".into()));
    assert_eq!(a.groups[0].values, vec![Some(3.0)]);
    assert_eq!(a.groups[1].values, vec![Some(9.0)]);
    let get = |agg| values(&answer(rows(), info(MetricKind::Summary, false), &r, agg))[0][0];
    assert_eq!(get(MetricAgg::Count), Some(2.0));
    assert_eq!(get(MetricAgg::Sum), Some(50.0));
    assert_eq!(get(MetricAgg::Avg), Some(2.5));
}
