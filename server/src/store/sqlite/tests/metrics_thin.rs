//! A chart's read of a cumulative histogram (`MetricRowsQuery::chart_steps`) decodes whole only
//! the points its steps need, and charts exactly as the whole read does: through resets, a
//! bucket going down, bounds that change, missing sums, exemplars and points that came late.

use otelscope_app::model::{
    Exemplar, HistogramValue, MetricInfo, MetricKind, MetricPoint, Temporality,
};

use super::*;
use crate::query::metrics::{aggs_for, answer, SeriesRequest};
use crate::store::MetricRows;

const S: u64 = 1_000_000_000;

/// Point `i` of host `h`: every 7 s from 1,000 s, counts growing unevenly, sums that are not
/// whole binary fractions; with a reset at 50, a missing sum at 80, a bucket going down at
/// 120 (same start), other bounds from 150 on, and an exemplar every 13th point.
fn point(h: u64, i: u64) -> MetricPoint {
    let start_s = if i >= 50 { 340 } else { 1 };
    let base = if i >= 50 { i - 50 } else { i };
    let mut counts: Vec<u64> = (0..4).map(|b| base * (b + h + 1) + base * base / (5 + b)).collect();
    if i == 120 {
        counts[1] = 0;
    }
    let bounds = if i >= 150 { vec![0.01, 0.1, 1.0] } else { vec![0.005, 0.05, 0.5] };
    let sum = (i != 80).then(|| base as f64 * 0.1 * (h + 1) as f64 + 0.3);
    MetricPoint {
        name: "lat".into(),
        unit: "s".into(),
        kind: MetricKind::Histogram,
        temporality: Temporality::Cumulative,
        service: "api".into(),
        attributes: vec![KeyValue {
            key: "host".into(),
            value: AttrValue::String(format!("h{h}")),
        }],
        start_ns: start_s * S,
        time_ns: (1_000 + 7 * i) * S,
        histogram: Some(HistogramValue {
            count: counts.iter().sum(),
            sum,
            bounds,
            bucket_counts: counts,
            ..HistogramValue::default()
        }),
        exemplars: if i.is_multiple_of(13) {
            vec![Exemplar {
                time_ns: (1_000 + 7 * i) * S - 1,
                value: 0.02 * i as f64,
                trace_id: Some(format!("{i:032x}")),
                span_id: None,
                attributes: vec![],
            }]
        } else {
            Vec::new()
        },
        ..MetricPoint::default()
    }
}

fn info() -> MetricInfo {
    MetricInfo {
        name: "lat".into(),
        kind: MetricKind::Histogram,
        unit: "s".into(),
        description: String::new(),
        temporality: Temporality::Cumulative,
        monotonic: false,
        series: 2,
        points: 0,
        services: vec!["api".into()],
        last_seen_ns: 0,
    }
}

/// The whole read and the thinned read of `req`, as the series API reads them.
fn reads(store: &SqliteStore, req: &SeriesRequest) -> (MetricRows, MetricRows) {
    let q = MetricRowsQuery {
        name: "lat".into(),
        since_ns: req.since_ns.saturating_sub(req.step_ns),
        until_ns: req.until_ns,
        max_series: 100,
        max_samples: 100_000,
        ..MetricRowsQuery::default()
    };
    let whole = store.metric_rows(&q).unwrap();
    let thin = MetricRowsQuery { chart_steps: Some((req.since_ns, req.step_ns)), ..q };
    (whole, store.metric_rows(&thin).unwrap())
}

fn histograms(rows: &MetricRows) -> usize {
    rows.series.iter().flat_map(|(_, s)| s).filter(|s| s.histogram.is_some()).count()
}

/// Every aggregation of `req` over both reads, as JSON.
fn charts(store: &SqliteStore, req: &SeriesRequest) -> (Vec<String>, Vec<String>, usize, usize) {
    let (whole, thin) = reads(store, req);
    let (all, kept) = (histograms(&whole), histograms(&thin));
    let json = |rows: &MetricRows| -> Vec<String> {
        aggs_for(MetricKind::Histogram, false)
            .iter()
            .map(|agg| serde_json::to_string(&answer(rows.clone(), info(), req, *agg)).unwrap())
            .collect()
    };
    (json(&whole), json(&thin), all, kept)
}

fn request(since_s: f64, until_s: u64, step_s: u64) -> SeriesRequest {
    SeriesRequest {
        name: "lat".into(),
        service: None,
        attrs: vec![],
        group_by: vec![],
        since_ns: (since_s * S as f64) as u64,
        until_ns: until_s * S,
        step_ns: step_s * S,
        agg: None,
        limit: 10,
        include_self: false,
    }
}

#[test]
fn a_thinned_histogram_read_charts_as_the_whole_read() {
    let store = SqliteStore::in_memory().unwrap();
    // Batches of 25 points of each host (a run each), 200 points a host.
    for c in 0..8u64 {
        let metrics =
            (0..2).flat_map(|h| (c * 25..c * 25 + 25).map(move |i| point(h, i))).collect();
        write(&store, vec![WriteBatch { received_ns: 10 + c, metrics, ..WriteBatch::default() }]);
    }
    for req in [
        request(1_003.5, 2_400, 30),
        request(990.0, 2_500, 60),
        request(1_200.25, 2_100, 45),
        request(1_000.0, 1_100, 14),
    ] {
        let (whole, thin, all, kept) = charts(&store, &req);
        assert_eq!(whole, thin, "since {} step {}", req.since_ns, req.step_ns);
        assert!(kept < all, "{kept} of {all} histograms decoded whole");
    }
    // Steps of 60 s hold 8 or 9 points of a host: a thinned read keeps about one a step, the
    // first and the last, and those around the 4 odd points (about 23 + 2 + 12 of 200).
    let (_, _, all, kept) = charts(&store, &request(990.0, 2_500, 60));
    assert_eq!(all, 400);
    assert!(kept * 3 < all, "{kept} of {all}");
}

#[test]
fn a_late_point_is_thinned_in_time_order_with_the_rest() {
    let store = SqliteStore::in_memory().unwrap();
    let all: Vec<MetricPoint> = (0..40).map(|i| point(0, i)).collect();
    // Point 20 comes after the others: its run overlaps the first one in time.
    let (late, rest): (Vec<MetricPoint>, Vec<MetricPoint>) =
        all.into_iter().partition(|p| p.time_ns == (1_000 + 7 * 20) * S);
    write(&store, vec![WriteBatch { received_ns: 10, metrics: rest, ..WriteBatch::default() }]);
    write(&store, vec![WriteBatch { received_ns: 20, metrics: late, ..WriteBatch::default() }]);
    let req = request(1_000.0, 1_300, 60);
    let (whole, thin) = reads(&store, &req);
    assert_eq!(histograms(&whole), 40);
    let times = |rows: &MetricRows| -> Vec<u64> {
        rows.series[0].1.iter().map(|s| s.time_ns / S).collect()
    };
    assert_eq!(times(&thin), times(&whole), "in time order");
    assert!(histograms(&thin) < 20, "{} of 40", histograms(&thin));
    let (a, b, _, _) = charts(&store, &req);
    assert_eq!(a, b);
}
