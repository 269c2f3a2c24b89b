//! A store from before schema v12 (metric points as JSON rows in `metric_points`) opens with
//! its points moved into series and blocks, read back exactly as the same points written now.

use otelscope_app::model::{
    AttrValue, Exemplar, HistogramValue, MetricKind, MetricPoint, Temporality,
};

use super::super::super::metrics::{MetricCatalogQuery, MetricRowsQuery, SeriesMeta};
use super::*;

const S: u64 = 1_000_000_000;

/// Point `n` of a counter of route `route` (reset after point 2,000 of `/b`) or of a
/// histogram with an exemplar now and then.
fn point(n: u64, route: &str, histogram: bool) -> MetricPoint {
    let attributes =
        vec![KeyValue { key: "http.route".into(), value: AttrValue::String(route.into()) }];
    let base = MetricPoint {
        service: "api".into(),
        resource: vec![KeyValue {
            key: "service.name".into(),
            value: AttrValue::String("api".into()),
        }],
        temporality: Temporality::Cumulative,
        attributes,
        time_ns: 1_700_000_000 * S + n * 10 * S,
        ..MetricPoint::default()
    };
    if histogram {
        return MetricPoint {
            name: "http.server.request.duration".into(),
            unit: "s".into(),
            kind: MetricKind::Histogram,
            start_ns: 1_700_000_000 * S,
            histogram: Some(HistogramValue {
                count: 3 * n,
                sum: Some(0.25 * n as f64),
                bounds: vec![0.1, 1.0],
                bucket_counts: vec![n, 2 * n, 0],
                ..HistogramValue::default()
            }),
            exemplars: n
                .is_multiple_of(100)
                .then(|| Exemplar {
                    time_ns: base.time_ns - S,
                    value: 0.05,
                    trace_id: Some(format!("{n:032x}")),
                    span_id: Some(format!("{n:016x}")),
                    attributes: Vec::new(),
                })
                .into_iter()
                .collect(),
            ..base
        };
    }
    let reset = route == "/b" && n >= 2_000;
    MetricPoint {
        name: "http.requests".into(),
        description: "requests served".into(),
        unit: "{request}".into(),
        kind: MetricKind::Sum,
        monotonic: true,
        start_ns: if reset {
            base.time_ns.min(1_700_000_000 * S + 20_000 * S)
        } else {
            1_700_000_000 * S
        },
        value: Some(if reset { (n - 2_000) as f64 } else { 5.0 * n as f64 }),
        ..base
    }
}

fn all_points() -> Vec<MetricPoint> {
    let mut points = Vec::new();
    for n in 0..2_500 {
        points.push(point(n, "/a", false));
        points.push(point(n, "/b", false));
        points.push(point(n, "/a", true));
    }
    points
}

fn read(store: &SqliteStore, name: &str) -> MetricRows {
    store
        .metric_rows(&MetricRowsQuery {
            name: name.into(),
            until_ns: u64::MAX,
            max_series: 100,
            max_samples: 100_000,
            ..MetricRowsQuery::default()
        })
        .unwrap()
}

#[test]
fn a_version_11_stores_metric_points_move_into_series_that_read_as_if_written_now() {
    let dir = temp_dir("metrics-v11");
    let points = all_points();
    {
        let mut conn = Connection::open(dir.join("otelscope.db")).unwrap();
        schema::migrate_to(&mut conn, "v11", 11).unwrap();
        let tx = conn.transaction().unwrap();
        let mut insert = tx
            .prepare(
                "INSERT INTO metric_points (name, service, time_ns, point, received_ns)
                 VALUES (?1, 'api', ?2, ?3, ?4)",
            )
            .unwrap();
        // 7,500 rows: two transactions of the move; one row is damaged.
        for (i, p) in points.iter().enumerate() {
            let blob = serde_json::to_vec(p).unwrap();
            insert
                .execute(params![p.name, p.time_ns as i64, blob, DAY_NS as i64 + i as i64])
                .unwrap();
        }
        insert.execute(params!["http.requests", 0, b"{not json", 0]).unwrap();
        drop(insert);
        tx.commit().unwrap();
    }
    let converted = SqliteStore::open(&dir).unwrap();
    let left: i64 = converted
        .writer()
        .unwrap()
        .query_row("SELECT COUNT(*) FROM metric_points", [], |r| r.get(0))
        .unwrap();
    assert_eq!(left, 0, "the rows are moved");

    let fresh = SqliteStore::in_memory().unwrap();
    write(
        &fresh,
        vec![WriteBatch { received_ns: DAY_NS, metrics: points.clone(), ..WriteBatch::default() }],
    );
    for name in ["http.requests", "http.server.request.duration"] {
        let (old, new) = (read(&converted, name), read(&fresh, name));
        assert!(!old.truncated);
        let strip = |rows: MetricRows| -> Vec<_> {
            rows.series.into_iter().map(|(m, s)| (SeriesMeta { id: 0, ..m }, s)).collect()
        };
        let (old, new) = (strip(old), strip(new));
        assert_eq!(old.len(), if name == "http.requests" { 2 } else { 1 });
        assert_eq!(old.iter().map(|s| s.1.len()).sum::<usize>(), old.len() * 2_500);
        assert_eq!(old, new, "{name}: series and samples as if written now");
    }
    // The samples are the points sent: the reset of `/b` is kept, exemplars too.
    let counters = read(&converted, "http.requests");
    let b = counters.series.iter().find(|(m, _)| m.label("http.route").as_deref() == Some("/b"));
    let b = &b.unwrap().1;
    assert_eq!((b[1_999].value, b[2_000].value, b[2_001].value), (9_995.0, 0.0, 1.0));
    let durations = read(&converted, "http.server.request.duration");
    let d = &durations.series[0].1;
    assert_eq!(d[300].histogram.as_ref().unwrap().bucket_counts, vec![300, 600, 0]);
    assert_eq!(d[300].exemplars[0].trace_id.as_deref(), Some(format!("{:032x}", 300).as_str()));
    let catalog = converted
        .metric_catalog(&MetricCatalogQuery { limit: 10, ..MetricCatalogQuery::default() })
        .unwrap();
    let names: Vec<(&str, u64, u64)> =
        catalog.metrics.iter().map(|m| (m.name.as_str(), m.series, m.points)).collect();
    assert_eq!(
        names,
        vec![("http.requests", 2, 5_000), ("http.server.request.duration", 1, 2_500)]
    );
    drop(converted);
    let _ = std::fs::remove_dir_all(&dir);
}
