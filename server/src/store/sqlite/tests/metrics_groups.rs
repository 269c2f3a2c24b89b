//! A commit group's metric points go into one block per metric: stored merged at once when it
//! is large (nothing left for compaction to encode again), left for compaction when small.

use otelscope_app::model::{MetricKind, MetricPoint};

use super::*;

fn point(name: &str, series: u64, time_ns: u64) -> MetricPoint {
    MetricPoint {
        name: name.into(),
        kind: MetricKind::Gauge,
        service: "s".into(),
        attributes: vec![KeyValue {
            key: "host".into(),
            value: AttrValue::String(format!("h{series}")),
        }],
        time_ns,
        value: Some((series * 1_000 + time_ns) as f64),
        ..Default::default()
    }
}

/// (name, level, points, received_ns) of every block, by name.
fn blocks(store: &SqliteStore) -> Vec<(String, i64, i64, i64)> {
    let conn = store.writer().unwrap();
    let mut stmt = conn
        .prepare("SELECT name, level, points, received_ns FROM metric_blocks ORDER BY name, id")
        .unwrap();
    let rows = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    rows
}

#[test]
fn a_group_writes_one_block_per_metric_merged_when_large() {
    let store = SqliteStore::in_memory().unwrap();
    // 32 batches of one group, received at 100..=131 ns: 50 series of "cpu" (1,600 points in
    // all) and one point of "small" each.
    let batches: Vec<WriteBatch> = (0..32u64)
        .map(|b| {
            let mut metrics: Vec<MetricPoint> = (0..50).map(|s| point("cpu", s, 10 + b)).collect();
            metrics.push(point("small", 0, 10 + b));
            WriteBatch { received_ns: 100 + b, metrics, ..WriteBatch::default() }
        })
        .collect();
    write(&store, batches);
    assert_eq!(
        blocks(&store),
        vec![("cpu".to_owned(), 1, 1_600, 100), ("small".to_owned(), 0, 32, 100)],
        "one block per metric, carrying the group's earliest receipt"
    );
    let read = |name: &str| {
        store
            .metric_rows(&MetricRowsQuery {
                name: name.into(),
                until_ns: u64::MAX,
                max_series: 100,
                max_samples: 10_000,
                ..MetricRowsQuery::default()
            })
            .unwrap()
    };
    let cpu = read("cpu");
    assert_eq!(cpu.series.len(), 50);
    for (meta, samples) in &cpu.series {
        let s: u64 = meta.label("host").unwrap()[1..].parse().unwrap();
        let times: Vec<u64> = samples.iter().map(|p| p.time_ns).collect();
        assert_eq!(times, (10..42).collect::<Vec<u64>>());
        assert!(samples.iter().all(|p| p.value == (s * 1_000 + p.time_ns) as f64));
    }
    assert_eq!(read("small").series[0].1.len(), 32);

    // A second small group adds a level-0 block; past 32 of them, retention merges them.
    for t in 0..32u64 {
        let metrics = vec![point("small", 0, 100 + t)];
        write(&store, vec![WriteBatch { received_ns: 200 + t, metrics, ..WriteBatch::default() }]);
    }
    store.enforce_retention(Retention::UNBOUNDED, 1_000, 1_000).unwrap();
    let small: Vec<(i64, i64)> =
        blocks(&store).into_iter().filter(|b| b.0 == "small").map(|b| (b.1, b.2)).collect();
    assert_eq!(small, vec![(1, 64)], "the 33 small blocks were merged");
    assert_eq!(read("small").series[0].1.len(), 64);
}
