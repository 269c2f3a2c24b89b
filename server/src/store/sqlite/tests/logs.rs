//! Logs on real SQLite: the `logs` rows of a store older than v11 move into chunks on open,
//! with their receipt; a v12 store's records are counted into v13's rollup; and the bundled
//! SQLite has FTS5.

use otelscope_app::model::{AttrValue, LogRecord};

use super::super::super::request::LogQuery;
use super::super::super::Retention;
use super::*;

fn record(at: u64, body: &str) -> LogRecord {
    LogRecord {
        time_ns: at,
        observed_time_ns: at,
        severity_number: 13,
        severity_text: "WARN".into(),
        body: AttrValue::String(body.into()),
        attributes: vec![KeyValue { key: "k".into(), value: AttrValue::Int(1) }],
        trace_id: Some(format!("{:032x}", 7)),
        span_id: None,
        event_name: String::new(),
        service: "web".into(),
        resource: Vec::new(),
        scope: Default::default(),
    }
}

#[test]
fn a_version_10_stores_logs_move_into_chunks_with_their_receipt() {
    let dir = temp_dir("logs-v10");
    {
        let mut conn = Connection::open(dir.join("otelscope.db")).unwrap();
        schema::migrate_to(&mut conn, "v10", 10).unwrap();
        let mut insert = conn
            .prepare(
                "INSERT INTO logs (time_ns, service, trace_id, severity, record, received_ns)
                 VALUES (?1, 'web', ?2, 13, ?3, ?4)",
            )
            .unwrap();
        // 1,500 records: two transactions of the move. The first 1,000 were received long
        // ago, the rest a day later; one row is damaged.
        for n in 0..1_500u64 {
            let received = if n < 1_000 { DAY_NS } else { 2 * DAY_NS };
            let blob = serde_json::to_vec(&record(n, &format!("record {n}"))).unwrap();
            insert
                .execute(params![n as i64, format!("{:032x}", 7), blob, received as i64])
                .unwrap();
        }
        insert.execute(params![2_000, Option::<String>::None, b"{not json", 0]).unwrap();
    }
    let store = SqliteStore::open(&dir).unwrap();
    let gone: bool = store
        .writer()
        .unwrap()
        .query_row("SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE name = 'logs')", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert!(!gone, "the old table is dropped once moved");
    let all = LogQuery { limit: 2, ..LogQuery::default() };
    let page = store.log_page(&all).unwrap();
    assert_eq!(page.matched, 1_500, "the damaged row is dropped");
    assert_eq!(page.logs[0].record, record(1_499, "record 1499"));
    let by_text =
        LogQuery { text: otelscope_app::model::params::text_terms("\"record 7\""), ..all };
    assert_eq!(store.log_page(&by_text).unwrap().logs[0].record, record(7, "record 7"));
    let by_trace = LogQuery { trace_id: Some(format!("{:032x}", 7)), ..LogQuery::default() };
    assert_eq!(store.log_page(&by_trace).unwrap().matched, 1_500);
    // Retention still counts from the receipts they had.
    let two_days = Retention { max_age_ns: DAY_NS + DAY_NS / 2, ..Retention::UNBOUNDED };
    store.enforce_retention(two_days, 3 * DAY_NS, 1_000).unwrap();
    assert_eq!(store.log_page(&LogQuery { limit: 1, ..LogQuery::default() }).unwrap().matched, 500);
    drop(store);
    // Opening again finds nothing to move.
    let store = SqliteStore::open(&dir).unwrap();
    assert_eq!(store.log_page(&LogQuery { limit: 1, ..LogQuery::default() }).unwrap().matched, 500);
    drop(store);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_version_12_stores_records_are_counted_into_the_rollup_on_open() {
    use super::super::super::request::LogHistogramQuery;
    use otelscope_app::model::{BandCount, SeverityBand};
    let dir = temp_dir("logs-v12");
    const S: u64 = 1_000_000_000;
    {
        let mut conn = Connection::open(dir.join("otelscope.db")).unwrap();
        schema::migrate_to(&mut conn, "v12", 12).unwrap();
        // 90 records, one a second from 1,000 s, written as v11 and v12 write them.
        let records: Vec<LogRecord> =
            (0..90u64).map(|n| record(1_000 * S + n * S, &format!("record {n}"))).collect();
        let prepared = crate::store::logs::prepare(&records).unwrap();
        let mut counts = super::super::log_counts::Counts::default();
        super::super::logs::insert_records(&conn, DAY_NS as i64, &prepared, &mut counts).unwrap();
    }
    let store = SqliteStore::open(&dir).unwrap();
    let query = LogHistogramQuery {
        logs: LogQuery::default(),
        since_ns: 1_000 * S,
        until_ns: 1_090 * S,
        step_ns: 30 * S,
    };
    let counts: Vec<Vec<BandCount>> =
        store.log_histogram(&query).unwrap().buckets.into_iter().map(|b| b.counts).collect();
    let warn = vec![BandCount { band: SeverityBand::Warn, count: 30 }];
    assert_eq!(counts, [warn.clone(), warn.clone(), warn]);
    let rows: i64 = store
        .writer()
        .unwrap()
        .query_row("SELECT SUM(count) FROM log_counts", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows, 90);
    // A word bounded by time is found through the rollup's id bounds.
    let word = LogQuery {
        text: otelscope_app::model::params::text_terms("\"record 45\""),
        since_ns: Some(1_040 * S),
        until_ns: Some(1_050 * S),
        limit: 5,
        ..LogQuery::default()
    };
    assert_eq!(store.log_page(&word).unwrap().matched, 1);
    drop(store);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_bundled_sqlite_has_fts5_with_contentless_delete() {
    let conn = Connection::open_in_memory().unwrap();
    conn.execute_batch(
        "CREATE VIRTUAL TABLE t USING fts5 (a, content = '', contentless_delete = 1);
         INSERT INTO t (rowid, a) VALUES (1, 'hello world'), (2, 'hello there');
         DELETE FROM t WHERE rowid = 1;",
    )
    .unwrap();
    let hits: Vec<i64> = conn
        .prepare("SELECT rowid FROM t WHERE t MATCH '\"hello\"'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(hits, [2]);
}
