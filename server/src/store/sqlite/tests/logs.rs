//! Logs on real SQLite: the `logs` rows of a store older than v11 move into chunks on open,
//! with their receipt; a v12 store's records are counted into v13's rollup; a v19 store's
//! records lose their id columns and are indexed again (v20); and the bundled SQLite has FTS5.

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

/// The schema version before logs' v20 layout (the lead renumbers at merge).
const BEFORE_V20: i64 = 19;

#[test]
fn a_version_19_stores_records_are_indexed_again_with_their_trace_and_span() {
    use crate::store::logs::{attr_token, prepare};
    let dir = temp_dir("logs-v19");
    let trace = |n: u64| format!("{:032x}", n % 3 + 1);
    let span = |n: u64| format!("{:016x}", n + 1);
    let records: Vec<LogRecord> = (0..300u64)
        .map(|n| LogRecord {
            trace_id: Some(trace(n)),
            span_id: Some(span(n)),
            ..record(n, &format!("record {n} of {}", if n % 2 == 0 { "even" } else { "odd" }))
        })
        .collect();
    {
        // Written as v11 to v19 wrote them: trace and span ids in the row (as bytes), the
        // full-text document without id tokens, in a table with per-row sizes.
        let mut conn = Connection::open(dir.join("otelscope.db")).unwrap();
        schema::migrate_to(&mut conn, "v19", BEFORE_V20).unwrap();
        let bytes = |hex: &str| -> Vec<u8> {
            (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
                .collect()
        };
        let mut next = 1i64;
        for (c, chunk) in prepare(&records).unwrap().chunks.iter().enumerate() {
            let received = if c == 0 { DAY_NS } else { 2 * DAY_NS };
            conn.execute(
                "INSERT INTO log_chunks (id, records, received_ns, data) VALUES (?1, ?2, ?3, ?4)",
                params![next, chunk.rows.len() as i64, received as i64, chunk.data],
            )
            .unwrap();
            for row in &chunk.rows {
                let n = (next - 1) as u64;
                conn.execute("INSERT OR IGNORE INTO log_services (id, name) VALUES (1, 'web')", [])
                    .unwrap();
                conn.execute("INSERT OR IGNORE INTO log_keysets (id, keys) VALUES (1, 'k')", [])
                    .unwrap();
                conn.execute(
                    "INSERT INTO log_records (time_ns, id, service, severity, keyset, trace_id, span_id)
                     VALUES (?1, ?2, 1, 13, 1, ?3, ?4)",
                    params![row.time_ns, next, bytes(&trace(n)), bytes(&span(n))],
                )
                .unwrap();
                let old_text = format!("{}\n{}\n{}\n", row.body, row.attrs, attr_token("k", "1"));
                conn.execute(
                    "INSERT INTO log_text (rowid, text) VALUES (?1, ?2)",
                    params![next, old_text],
                )
                .unwrap();
                next += 1;
            }
        }
        conn.execute_batch(
            "INSERT INTO log_counts (cell, service, severity, count, first_id, last_id)
             SELECT time_ns / 10000000000, service, severity, COUNT(*), MIN(id), MAX(id)
             FROM log_records GROUP BY 1, 2, 3",
        )
        .unwrap();
    }
    let store = SqliteStore::open(&dir).unwrap();
    let writer = store.writer().unwrap();
    let scalar = |sql: &str| -> i64 { writer.query_row(sql, [], |r| r.get(0)).unwrap() };
    assert_eq!(
        scalar(
            "SELECT COUNT(*) FROM sqlite_master WHERE name IN ('log_reindex', 'log_records_trace')"
        ),
        0,
        "the marker goes once every chunk is indexed, the id index with v20"
    );
    let columns = scalar("SELECT COUNT(*) FROM pragma_table_info('log_records')");
    drop(writer);
    assert_eq!(columns, 5, "the rows keep time, id, service, severity and key set");
    let matched = |q: LogQuery| store.log_page(&LogQuery { limit: 3, ..q }).unwrap();
    let by_trace = matched(LogQuery { trace_id: Some(trace(1)), ..LogQuery::default() });
    assert_eq!(by_trace.matched, 100);
    assert_eq!(by_trace.logs[0].record, records[298]);
    let by_span = matched(LogQuery {
        trace_id: Some(trace(4)),
        span_id: Some(span(4)),
        ..LogQuery::default()
    });
    assert_eq!(by_span.logs.iter().map(|e| &e.record).collect::<Vec<_>>(), [&records[4]]);
    let text = |words: &str| LogQuery {
        text: otelscope_app::model::params::text_terms(words),
        ..LogQuery::default()
    };
    assert_eq!(matched(text("\"record 7 of\"")).logs[0].record, records[7]);
    assert_eq!(matched(text("record -odd")).matched, 150);
    assert_eq!(
        matched(LogQuery { attrs: vec![("k".into(), "1".into())], ..LogQuery::default() }).matched,
        300
    );
    // Retention by receipt drops the first chunk, and its entries leave the full-text index.
    let day_and_a_half = Retention { max_age_ns: DAY_NS + DAY_NS / 2, ..Retention::UNBOUNDED };
    store.enforce_retention(day_and_a_half, 3 * DAY_NS, 1_000).unwrap();
    assert_eq!(matched(text("record")).matched, 172);
    let indexed: i64 = store
        .writer()
        .unwrap()
        .query_row("SELECT COUNT(*) FROM log_text WHERE log_text MATCH 'record'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(indexed, 172, "the dropped records' words are deleted from the index");
    assert_eq!(matched(LogQuery { trace_id: Some(trace(1)), ..LogQuery::default() }).matched, 57);
    drop(store);
    // Opening again indexes nothing twice.
    let store = SqliteStore::open(&dir).unwrap();
    assert_eq!(
        store
            .log_page(&LogQuery { trace_id: Some(trace(1)), limit: 1, ..LogQuery::default() })
            .unwrap()
            .matched,
        57
    );
    drop(store);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_bundled_sqlite_deletes_from_a_contentless_index_given_the_text() {
    let conn = Connection::open_in_memory().unwrap();
    conn.execute_batch(
        "CREATE VIRTUAL TABLE t USING fts5 (a, content = '', columnsize = 0);
         INSERT INTO t (rowid, a) VALUES (1, 'hello world'), (2, 'hello there');
         INSERT INTO t (t, rowid, a) VALUES ('delete', 1, 'hello world');",
    )
    .unwrap();
    let hits = |q: &str| -> Vec<i64> {
        conn.prepare("SELECT rowid FROM t WHERE t MATCH ?1")
            .unwrap()
            .query_map([q], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    assert_eq!(hits("\"hello\""), [2]);
    assert_eq!(hits("world"), Vec::<i64>::new());
    assert_eq!(hits("\"hello there\""), [2]);
}
