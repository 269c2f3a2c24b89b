//! A retention pass commits once: its compaction's deletes and inserts and its rollup trims
//! share one transaction, so a pass costs one WAL sync however much it merges (each statement
//! committing alone held the writer for a sync per merged block).

use otelscope_app::model::{MetricKind, MetricPoint};

use super::*;

#[test]
fn a_retention_pass_that_compacts_writes_each_page_once() {
    let dir = temp_dir("retention-commit");
    let store = SqliteStore::open(&dir).unwrap();
    let point = |time_ns: u64| MetricPoint {
        name: "cpu".into(),
        kind: MetricKind::Gauge,
        service: "s".into(),
        time_ns,
        value: Some(time_ns as f64),
        ..Default::default()
    };
    // One block per batch: 64 fresh blocks of "cpu", past the count that makes them due.
    let blocks = 64u64;
    for t in 1..=blocks {
        let metrics = vec![point(t)];
        write(&store, vec![WriteBatch { received_ns: t, metrics, ..WriteBatch::default() }]);
    }
    let count = |level: i64| -> i64 {
        store
            .writer()
            .unwrap()
            .query_row("SELECT COUNT(*) FROM metric_blocks WHERE level = ?1", [level], |r| r.get(0))
            .unwrap()
    };
    assert_eq!(count(0), blocks as i64);
    let page: u64 = {
        let conn = store.writer().unwrap();
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())).unwrap();
        conn.query_row("PRAGMA page_size", [], |r| r.get::<_, i64>(0)).unwrap() as u64
    };
    let wal = dir.join("otelscope.db-wal");
    assert_eq!(std::fs::metadata(&wal).unwrap().len(), 0);

    store.enforce_retention(Retention::UNBOUNDED, blocks + 1, 1_000).unwrap();

    assert_eq!((count(0), count(1)), (0, 1), "the fresh blocks were merged into one");
    // The WAL holds a frame (page + 24-byte header) per page written, after a 32-byte header:
    // one commit writes the few pages it touched once; a commit per statement wrote them again
    // for every block deleted.
    let frames = std::fs::metadata(&wal).unwrap().len().saturating_sub(32) / (page + 24);
    assert!(frames < blocks / 4, "{frames} WAL frames for one pass over {blocks} blocks");
    let read = store
        .metrics(&MetricQuery { name: Some("cpu".into()), limit: 1_000, ..MetricQuery::default() })
        .unwrap();
    assert_eq!(read.series.iter().map(|s| s.points.len()).sum::<usize>(), blocks as usize);
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
}
