//! Cases on metric series: the catalogue (`metric_catalog`), a metric's series with their
//! samples (`metric_rows`), distributions and exemplars kept whole, a type or unit change
//! refused, retention, and blocks merged without changing an answer.

use otelscope_app::model::{
    Exemplar, ExpBuckets, HistogramValue, KeyValue, MetricKind, MetricPoint, QuantileValue, Scope,
    Temporality,
};
use otelscope_server::store::{
    MetricCatalogQuery, MetricRowsQuery, Retention, Sample, Store, WriteBatch,
};

use super::{store_batch, text, T};

const S: u64 = 1_000_000_000;

fn kv(key: &str, value: &str) -> KeyValue {
    KeyValue { key: key.into(), value: text(value) }
}

fn gauge(name: &str, service: &str, host: &str, at_s: u64, value: f64) -> MetricPoint {
    MetricPoint {
        name: name.into(),
        unit: "By".into(),
        kind: MetricKind::Gauge,
        service: service.into(),
        attributes: vec![kv("host", host)],
        resource: vec![kv("service.name", service)],
        time_ns: T + at_s * S,
        value: Some(value),
        ..MetricPoint::default()
    }
}

fn write(store: &dyn Store, received_ns: u64, metrics: Vec<MetricPoint>) {
    store_batch(store, WriteBatch { received_ns, metrics, ..WriteBatch::default() });
}

fn rows_query(name: &str) -> MetricRowsQuery {
    MetricRowsQuery {
        name: name.into(),
        since_ns: 0,
        until_ns: u64::MAX,
        max_series: 100,
        max_samples: 100_000,
        ..MetricRowsQuery::default()
    }
}

/// Per series (by its `host`): the (second, value) of each sample.
fn by_host(store: &dyn Store, q: &MetricRowsQuery) -> Vec<(String, Vec<(u64, f64)>)> {
    let rows = store.metric_rows(q).unwrap();
    let mut out: Vec<(String, Vec<(u64, f64)>)> = rows
        .series
        .iter()
        .map(|(meta, samples)| {
            (
                meta.label("host").unwrap_or_default(),
                samples.iter().map(|s| ((s.time_ns - T) / S, s.value)).collect(),
            )
        })
        .collect();
    out.sort_by(|a, b| (&a.0, a.1.first().map(|p| p.0)).cmp(&(&b.0, b.1.first().map(|p| p.0))));
    out
}

pub fn metric_series_are_kept_by_identity_with_their_samples_in_time_order(store: &dyn Store) {
    assert!(store.metric_rows(&rows_query("mem")).unwrap().series.is_empty());
    // Out of time order within the batch and across batches.
    write(store, T, vec![gauge("mem", "web", "a", 3, 30.0), gauge("mem", "web", "a", 1, 10.0)]);
    write(store, T + 1, vec![gauge("mem", "web", "b", 2, 5.0), gauge("mem", "web", "a", 2, 20.0)]);
    let mut scoped = gauge("mem", "web", "a", 4, 1.0);
    scoped.scope = Some(Scope { name: "other-lib".into(), version: String::new() });
    write(store, T + 2, vec![scoped, gauge("mem", "db", "c", 1, 7.0)]);
    let all = rows_query("mem");
    assert_eq!(
        by_host(store, &all),
        [
            ("a".to_owned(), vec![(1, 10.0), (2, 20.0), (3, 30.0)]),
            // Another scope is another series.
            ("a".to_owned(), vec![(4, 1.0)]),
            ("b".to_owned(), vec![(2, 5.0)]),
            ("c".to_owned(), vec![(1, 7.0)]),
        ]
    );
    let rows = store.metric_rows(&all).unwrap();
    let (meta, _) = rows.series.iter().find(|(m, _)| m.service == "db").unwrap();
    assert_eq!(
        (meta.kind, meta.unit.as_str(), meta.name.as_str()),
        (MetricKind::Gauge, "By", "mem")
    );
    assert_eq!(meta.resource, vec![kv("service.name", "db")]);
    assert!(!rows.truncated);
    // Filters: service, attributes (point or resource), the range (`until` exclusive).
    let web = MetricRowsQuery { service: Some("web".into()), ..all.clone() };
    assert_eq!(by_host(store, &web).len(), 3);
    let b = MetricRowsQuery { attrs: vec![("host".into(), "b".into())], ..all.clone() };
    assert_eq!(by_host(store, &b), [("b".to_owned(), vec![(2, 5.0)])]);
    let res = MetricRowsQuery { attrs: vec![("service.name".into(), "db".into())], ..all.clone() };
    assert_eq!(by_host(store, &res), [("c".to_owned(), vec![(1, 7.0)])]);
    let range = MetricRowsQuery { since_ns: T + 2 * S, until_ns: T + 3 * S, ..web.clone() };
    assert_eq!(
        by_host(store, &range),
        [
            // The other scope's series has no sample in the range.
            ("a".to_owned(), vec![]),
            // Not the sample at `until` (issue 26 point 8: it once was read).
            ("a".to_owned(), vec![(2, 20.0)]),
            ("b".to_owned(), vec![(2, 5.0)])
        ]
    );
    // Bounds: series, then samples (the newest blocks are read first).
    let one = store.metric_rows(&MetricRowsQuery { max_series: 1, ..all.clone() }).unwrap();
    assert_eq!((one.series.len(), one.truncated), (1, true));
    assert!(store.metric_rows(&rows_query("nothing")).unwrap().series.is_empty());
}

pub fn metric_catalog_lists_each_name_type_and_unit(store: &dyn Store) {
    assert!(store
        .metric_catalog(&MetricCatalogQuery { limit: 10, ..Default::default() })
        .unwrap()
        .metrics
        .is_empty());
    let mut sum = gauge("http.server.requests", "web", "a", 5, 3.0);
    sum.kind = MetricKind::Sum;
    sum.unit = "{request}".into();
    sum.monotonic = true;
    sum.temporality = Temporality::Cumulative;
    sum.description = "Requests served".into();
    let mut sum_db = sum.clone();
    sum_db.service = "db".into();
    sum_db.time_ns = T + 9 * S;
    write(
        store,
        T,
        vec![
            gauge("mem", "web", "a", 1, 1.0),
            gauge("mem", "web", "b", 2, 1.0),
            sum,
            sum_db,
            gauge("otelscope.queue", "otelscope", "x", 1, 1.0),
        ],
    );
    let all = MetricCatalogQuery { limit: 10, ..Default::default() };
    let catalog = store.metric_catalog(&all).unwrap();
    type Shown = (String, MetricKind, String, u64, u64, Vec<String>, u64);
    let shown: Vec<Shown> = catalog
        .metrics
        .iter()
        .map(|m| {
            let mut services = m.services.clone();
            services.sort();
            (
                m.name.clone(),
                m.kind,
                m.unit.clone(),
                m.series,
                m.points,
                services,
                (m.last_seen_ns - T) / S,
            )
        })
        .collect();
    assert_eq!(
        shown,
        [
            (
                "http.server.requests".to_owned(),
                MetricKind::Sum,
                "{request}".to_owned(),
                2,
                2,
                vec!["db".to_owned(), "web".to_owned()],
                9
            ),
            ("mem".to_owned(), MetricKind::Gauge, "By".to_owned(), 2, 2, vec!["web".to_owned()], 2),
        ]
    );
    let http = &catalog.metrics[0];
    assert_eq!(
        (http.description.as_str(), http.temporality, http.monotonic),
        ("Requests served", Temporality::Cumulative, true)
    );
    assert!(!catalog.truncated);
    let names = |q: MetricCatalogQuery| -> Vec<String> {
        store.metric_catalog(&q).unwrap().metrics.into_iter().map(|m| m.name).collect()
    };
    assert_eq!(
        names(MetricCatalogQuery { q: Some("SERVER".into()), ..all.clone() }),
        ["http.server.requests"]
    );
    assert_eq!(
        names(MetricCatalogQuery { service: Some("db".into()), ..all.clone() }),
        ["http.server.requests"]
    );
    assert_eq!(
        names(MetricCatalogQuery { include_self: true, ..all.clone() }),
        ["http.server.requests", "mem", "otelscope.queue"]
    );
    assert_eq!(
        names(MetricCatalogQuery { service: Some("otelscope".into()), ..all.clone() }),
        ["otelscope.queue"]
    );
    let one = store.metric_catalog(&MetricCatalogQuery { limit: 1, ..all }).unwrap();
    assert_eq!((one.metrics.len(), one.truncated), (1, true));
}

pub fn a_metric_that_changes_type_or_unit_is_refused(store: &dyn Store) {
    write(store, T, vec![gauge("mem", "web", "a", 1, 1.0)]);
    let mut as_sum = gauge("mem", "web", "a", 2, 2.0);
    as_sum.kind = MetricKind::Sum;
    let mut in_kib = gauge("mem", "web", "b", 3, 3.0);
    in_kib.unit = "KiBy".into();
    let elsewhere = {
        let mut p = gauge("mem", "db", "c", 4, 4.0);
        p.kind = MetricKind::Sum;
        p
    };
    let mut batch = WriteBatch {
        received_ns: T + 1,
        metrics: vec![as_sum, gauge("mem", "web", "a", 5, 5.0), in_kib, elsewhere],
        ..WriteBatch::default()
    };
    batch.prepare().unwrap();
    let refusals = batch.refusals.clone();
    for result in store.write(&[batch]).unwrap() {
        result.unwrap();
    }
    let (refused, why) = refusals.take();
    assert_eq!(refused, 2);
    let why = why.unwrap();
    assert!(why.contains("\"mem\"") && why.contains("gauge") && why.contains("sum"), "{why}");
    // The web gauge kept its points; another service may use the name as a sum.
    let web = MetricRowsQuery { service: Some("web".into()), ..rows_query("mem") };
    assert_eq!(by_host(store, &web), [("a".to_owned(), vec![(1, 1.0), (5, 5.0)])]);
    let db = MetricRowsQuery { service: Some("db".into()), ..rows_query("mem") };
    let rows = store.metric_rows(&db).unwrap();
    assert_eq!(rows.series[0].0.kind, MetricKind::Sum);
}

pub fn distributions_and_exemplars_are_kept_whole(store: &dyn Store) {
    let exemplar = Exemplar {
        time_ns: T + S / 2,
        value: 0.25,
        trace_id: Some("ab".repeat(16)),
        span_id: Some("cd".repeat(8)),
        attributes: vec![kv("user", "u1")],
    };
    let histogram = MetricPoint {
        name: "http.server.request.duration".into(),
        unit: "s".into(),
        kind: MetricKind::Histogram,
        temporality: Temporality::Cumulative,
        service: "web".into(),
        start_ns: T,
        time_ns: T + S,
        histogram: Some(HistogramValue {
            count: 3,
            sum: Some(0.75),
            bounds: vec![0.1, 0.5],
            bucket_counts: vec![1, 1, 1],
            min: Some(0.05),
            max: Some(0.9),
            ..HistogramValue::default()
        }),
        exemplars: vec![exemplar.clone()],
        ..MetricPoint::default()
    };
    let exponential = MetricPoint {
        name: "latency.exp".into(),
        kind: MetricKind::ExponentialHistogram,
        temporality: Temporality::Delta,
        service: "web".into(),
        start_ns: T,
        time_ns: T + S,
        histogram: Some(HistogramValue {
            count: 6,
            exponential: Some(ExpBuckets {
                scale: 3,
                zero_count: 1,
                zero_threshold: 0.0,
                positive_offset: -4,
                positive: vec![1, 0, 2],
                negative_offset: 2,
                negative: vec![2],
            }),
            ..HistogramValue::default()
        }),
        ..MetricPoint::default()
    };
    let summary = MetricPoint {
        name: "rpc.summary".into(),
        kind: MetricKind::Summary,
        service: "web".into(),
        time_ns: T + S,
        value: Some(12.5),
        histogram: Some(HistogramValue {
            count: 4,
            sum: Some(12.5),
            quantiles: vec![
                QuantileValue { quantile: 0.5, value: 2.0 },
                QuantileValue { quantile: 1.0, value: 7.5 },
            ],
            ..HistogramValue::default()
        }),
        ..MetricPoint::default()
    };
    write(store, T, vec![histogram.clone(), exponential.clone(), summary.clone()]);
    for point in [histogram, exponential, summary] {
        let rows = store.metric_rows(&rows_query(&point.name)).unwrap();
        assert_eq!(rows.series.len(), 1, "{}", point.name);
        let sample: &Sample = &rows.series[0].1[0];
        assert_eq!(sample.histogram.as_deref(), point.histogram.as_ref(), "{}", point.name);
        assert_eq!(sample.exemplars, point.exemplars, "{}", point.name);
        assert_eq!((sample.start_ns, sample.time_ns), (point.start_ns, point.time_ns));
        // The raw answer gives the point back as it came.
        let raw = store
            .metrics(&otelscope_server::store::MetricQuery {
                name: Some(point.name.clone()),
                limit: 10,
                ..Default::default()
            })
            .unwrap();
        assert_eq!(raw.series[0].points, std::slice::from_ref(&point));
    }
}

pub fn metric_points_go_by_receipt_and_count(store: &dyn Store) {
    let min = 60 * S;
    write(store, T, vec![gauge("old", "web", "a", 1, 1.0)]);
    write(
        store,
        T + 10 * min,
        vec![gauge("new", "web", "a", 2, 2.0), gauge("new", "web", "b", 2, 2.0)],
    );
    // Age counts from receipt: the sender's time (T + 1 s) does not matter.
    let keep_5_min = Retention { max_age_ns: 5 * min, ..Retention::UNBOUNDED };
    store.enforce_retention(keep_5_min, T + 12 * min, 1_000).unwrap();
    assert!(store.metric_rows(&rows_query("old")).unwrap().series.is_empty());
    let names = |store: &dyn Store| -> Vec<String> {
        let q = MetricCatalogQuery { limit: 10, ..Default::default() };
        store.metric_catalog(&q).unwrap().metrics.into_iter().map(|m| m.name).collect()
    };
    assert_eq!(names(store), ["new"]);
    assert_eq!(by_host(store, &rows_query("new")).len(), 2);
    // By count: the oldest received blocks go first until at most `max_spans` points are left.
    write(store, T + 11 * min, vec![gauge("newer", "web", "a", 3, 3.0)]);
    let keep_1 = Retention { max_spans: 1, ..Retention::UNBOUNDED };
    store.enforce_retention(keep_1, T + 12 * min, 1_000).unwrap();
    assert!(store
        .metric_rows(&rows_query("new"))
        .unwrap()
        .series
        .iter()
        .all(|(_, s)| s.is_empty()));
    assert_eq!(by_host(store, &rows_query("newer")), [("a".to_owned(), vec![(3, 3.0)])]);
}

pub fn merged_blocks_answer_as_the_batches_did(store: &dyn Store) {
    let query = rows_query("cpu");
    for i in 0..40u64 {
        let host = if i % 2 == 0 { "a" } else { "b" };
        write(store, T + i, vec![gauge("cpu", "web", host, i, i as f64 * 0.5)]);
    }
    let before = by_host(store, &query);
    assert_eq!(before.len(), 2);
    assert_eq!(before[0].1.len(), 20);
    // A retention pass merges the metric's blocks (40 ≥ the 32 that trigger it).
    store.enforce_retention(Retention::UNBOUNDED, T + 100, 1_000).unwrap();
    assert_eq!(by_host(store, &query), before);
    let catalog =
        store.metric_catalog(&MetricCatalogQuery { limit: 10, ..Default::default() }).unwrap();
    assert_eq!(catalog.metrics[0].points, 40);
    // Writing goes on after the merge.
    write(store, T + 50, vec![gauge("cpu", "web", "a", 50, 1.0)]);
    assert_eq!(by_host(store, &query)[0].1.len(), 21);
}

/// The bug this names: compaction gave a merged block the newest receipt of the blocks it
/// merged, so a series whose only points came in the oldest of them (not marked since) looked
/// older than the block holding them, and retention dropped the series with its points still
/// due to be kept.
pub fn a_series_merged_with_newer_points_stays_until_its_points_go(store: &dyn Store) {
    let min = 60 * S;
    // Receipts from `at`, which leaves room for one an hour earlier.
    let at = T + 120 * min;
    // Something received an hour before the rest, so that the pass below drops a block.
    write(store, at - 60 * min, vec![gauge("old", "web", "a", 0, 0.0)]);
    // Host a's one point comes first; host b's come in 32 more batches, 10 minutes apart.
    write(store, at, vec![gauge("cpu", "web", "a", 0, 1.0)]);
    for i in 1..=32u64 {
        write(store, at + i * 10 * min, vec![gauge("cpu", "web", "b", i, i as f64)]);
    }
    // Keep what came in from `at` on: the pass merges cpu's 33 blocks, then drops `old`.
    let keep = Retention { max_age_ns: 400 * min, ..Retention::UNBOUNDED };
    store.enforce_retention(keep, at + 400 * min, 1_000).unwrap();
    assert!(store.metric_rows(&rows_query("old")).unwrap().series.is_empty());
    let cpu = by_host(store, &rows_query("cpu"));
    assert_eq!(cpu.len(), 2, "{cpu:?}");
    assert_eq!(cpu[0], ("a".to_owned(), vec![(0, 1.0)]));
    assert_eq!(cpu[1].1.len(), 32);
    // Once host a's receipt is past the age bound, its point goes, and its series with it;
    // so do the points merged with it (received within the hour after it), and no others.
    store.enforce_retention(keep, at + 400 * min + S, 1_000).unwrap();
    let cpu = by_host(store, &rows_query("cpu"));
    let seconds: Vec<u64> = cpu.iter().flat_map(|h| h.1.iter().map(|p| p.0)).collect();
    assert_eq!(cpu.iter().map(|h| h.0.as_str()).collect::<Vec<_>>(), ["b"]);
    assert_eq!(seconds, (7..=32).collect::<Vec<u64>>());
    let q = MetricCatalogQuery { limit: 10, ..Default::default() };
    assert_eq!(store.metric_catalog(&q).unwrap().metrics[0].series, 1);
}
