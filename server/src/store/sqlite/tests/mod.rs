//! Store tests on real SQLite: in memory for logic, a temp file for durability and schema
//! versions.

mod logs;
mod metrics_groups;
mod metrics_legacy;
mod metrics_thin;
mod pending;
mod profiles;
mod retention;
mod retention_commit;

use otelscope_app::model::fixture::span;
use otelscope_app::model::{AttrValue, KeyValue, Span, SpanKind, StatusCode};
use rusqlite::params;

use super::super::request::{CacheQuery, MetricQuery, TraceQuery};
use super::*;
use crate::store::whole_trace;

/// Every trace, as a bare `GET /api/v1/traces` asks.
fn all_traces() -> TraceQuery {
    TraceQuery { limit: otelscope_app::model::DEFAULT_TRACE_LIMIT, ..TraceQuery::default() }
}

/// A batch received when its earliest span started (so tests read like a timeline).
fn batch(spans: Vec<Span>) -> WriteBatch {
    let received_ns = spans.iter().map(|s| s.start_ns).min().unwrap_or(0);
    WriteBatch { received_ns, spans, ..WriteBatch::default() }
}

/// Writes `batches`, which must all succeed.
fn write(store: &SqliteStore, batches: Vec<WriteBatch>) {
    for result in store.write(&batches).unwrap() {
        result.unwrap();
    }
}

fn ids(list: &[TraceSummary]) -> Vec<String> {
    list.iter().map(|t| t.trace_id[30..].to_owned()).collect()
}

#[test]
fn trace_summary_follows_the_root_even_when_it_arrives_last() {
    let store = SqliteStore::in_memory().unwrap();
    let mut child =
        span(1, 2, "db query").parent(1).kind(SpanKind::Server).service("api").ns(150, 180).build();
    child.status.code = StatusCode::Error;
    write(&store, vec![batch(vec![child])]);
    let first = store.search_traces(&all_traces()).unwrap();
    assert_eq!(first[0].root_name, "db query", "earliest span stands in for a missing root");

    write(
        &store,
        vec![batch(vec![span(1, 1, "GET /users")
            .kind(SpanKind::Server)
            .service("api")
            .ns(100, 200)
            .build()])],
    );
    let list = store.search_traces(&all_traces()).unwrap();
    assert_eq!(
        list,
        vec![TraceSummary {
            trace_id: format!("{:032x}", 1),
            root_service: "api".into(),
            root_name: "GET /users".into(),
            start_ns: 100,
            duration_ns: 100,
            span_count: 2,
            error_count: 1,
            ..TraceSummary::default()
        }]
    );
    let spans = whole_trace(&store, &format!("{:032x}", 1)).unwrap();
    assert_eq!(
        spans.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(),
        ["GET /users", "db query"]
    );
}

#[test]
fn search_filters() {
    let store = SqliteStore::in_memory().unwrap();
    let mut slow =
        span(1, 1, "slow").kind(SpanKind::Server).service("api").ns(1_000, 50_000_000).build();
    slow.attributes
        .push(KeyValue { key: "http.route".into(), value: AttrValue::String("/a".into()) });
    let mut failing =
        span(2, 2, "failing").kind(SpanKind::Server).service("api").ns(2_000, 3_000).build();
    failing.status.code = StatusCode::Error;
    failing.service = "worker".into();
    let mut counted =
        span(3, 3, "fast").kind(SpanKind::Server).service("api").ns(3_000, 4_000).build();
    counted.attributes.push(KeyValue { key: "retry.attempt".into(), value: AttrValue::Int(2) });
    write(&store, vec![batch(vec![slow, failing, counted])]);

    let find = |q: TraceQuery| ids(&store.search_traces(&q).unwrap());
    let all = all_traces;
    let text = |s: &str| Some(s.to_owned());
    let attr = |k: &str, v: &str| vec![(k.to_owned(), v.to_owned())];
    assert_eq!(find(all()), ["03", "02", "01"], "newest first");
    assert_eq!(find(TraceQuery { limit: 2, ..all() }), ["03", "02"]);
    assert_eq!(find(TraceQuery { service: text("worker"), ..all() }), ["02"]);
    assert_eq!(find(TraceQuery { service: text("api"), name: text("fast"), ..all() }), ["03"]);
    assert_eq!(find(TraceQuery { name: text("slow"), ..all() }), ["01"]);
    assert_eq!(find(TraceQuery { min_duration_ns: Some(10_000_000), ..all() }), ["01"]);
    assert_eq!(find(TraceQuery { max_duration_ns: Some(1_500), ..all() }), ["03", "02"]);
    assert_eq!(find(TraceQuery { error: Some(true), ..all() }), ["02"]);
    assert_eq!(find(TraceQuery { error: Some(false), ..all() }), ["03", "01"]);
    assert_eq!(find(TraceQuery { attrs: attr("http.route", "/a"), ..all() }), ["01"]);
    assert_eq!(find(TraceQuery { attrs: attr("retry.attempt", "2"), ..all() }), ["03"]);
    let none = Vec::<String>::new();
    assert_eq!(find(TraceQuery { attrs: attr("retry.attempt", "3"), ..all() }), none);
    assert_eq!(find(TraceQuery { since_ns: Some(2000), until_ns: Some(2500), ..all() }), ["02"]);
    // Counted as searched, the limit aside, up to a cap; unknown with attribute filters.
    let count = |q: TraceQuery, cap| store.count_traces(&q, cap).unwrap();
    assert_eq!(count(TraceQuery { limit: 1, ..all() }, 10), Some(3));
    assert_eq!(count(TraceQuery { error: Some(false), ..all() }, 10), Some(2));
    assert_eq!(count(all(), 2), Some(2), "capped");
    assert_eq!(count(TraceQuery { attrs: attr("http.route", "/a"), ..all() }, 10), None);
    let p = |ns| Some(ns);
    assert_eq!(
        store.services().unwrap(),
        vec![
            // api: 1 µs and 49.999 ms spans; worker: one failing 1 µs span. Percentiles are
            // bucket midpoints (within 1%).
            ServiceSummary {
                span_count: 2,
                p50_ns: p(1_004),
                p95_ns: p(50_069_504),
                p99_ns: p(50_069_504),
                ..ServiceSummary::new("api")
            },
            ServiceSummary {
                span_count: 1,
                error_count: 1,
                p50_ns: p(1_004),
                p95_ns: p(1_004),
                p99_ns: p(1_004),
                ..ServiceSummary::new("worker")
            }
        ]
    );
}

#[test]
fn service_errors_and_percentiles_add_up_across_exports_of_one_trace() {
    let store = SqliteStore::in_memory().unwrap();
    // 100 spans of one operation in one trace, 1..=100 ms, sent in two requests (so the
    // second upserts the same trace_ops row and merges histograms in SQL); 7 fail.
    let spans: Vec<Span> = (1..=100u8)
        .map(|i| {
            let mut s = span(9, i, "work")
                .parent(1)
                .kind(SpanKind::Server)
                .service("api")
                .ns(0, u64::from(i) * 1_000_000)
                .build();
            if i % 15 == 0 {
                s.status.code = StatusCode::Error;
            }
            s
        })
        .collect();
    write(&store, vec![batch(spans[..40].to_vec())]);
    write(&store, vec![batch(spans[40..].to_vec())]);
    let services = store.services().unwrap();
    assert_eq!(services.len(), 1);
    let api = &services[0];
    assert_eq!((api.span_count, api.error_count), (100, 6));
    for (got, want_ms) in [(api.p50_ns, 50.0), (api.p95_ns, 95.0), (api.p99_ns, 99.0)] {
        let got_ms = got.unwrap() as f64 / 1e6;
        assert!((got_ms - want_ms).abs() <= want_ms / 100.0, "within 1%: {got_ms} vs {want_ms}");
    }
}

#[test]
fn duplicate_spans_from_retried_exports_are_shown_once() {
    let store = SqliteStore::in_memory().unwrap();
    let s = span(1, 1, "root").kind(SpanKind::Server).service("api").ns(1, 2).build();
    write(&store, vec![batch(vec![s.clone()])]);
    write(&store, vec![batch(vec![s])]);
    assert_eq!(whole_trace(&store, &format!("{:032x}", 1)).unwrap().len(), 1);
}

#[test]
fn a_version_2_store_gains_service_latency_on_upgrade() {
    let dir = std::env::temp_dir().join(format!("otelscope-store-v2-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    {
        let mut conn = Connection::open(dir.join("otelscope.db")).unwrap();
        schema::migrate_to(&mut conn, "v2", 2).unwrap();
        conn.execute_batch(
            "INSERT INTO traces VALUES ('t1', 1, 2, 5, 0, 'api', 'old', 1);
             INSERT INTO trace_ops VALUES ('t1', 'api', 'old', 5);",
        )
        .unwrap();
    }
    let store = SqliteStore::open(&dir).unwrap();
    let before = store.services().unwrap();
    assert_eq!(before, vec![ServiceSummary { span_count: 5, ..ServiceSummary::new("api") }]);
    write(
        &store,
        vec![batch(vec![span(8, 1, "new")
            .kind(SpanKind::Server)
            .service("api")
            .ns(0, 1_000)
            .build()])],
    );
    let after = &store.services().unwrap()[0];
    assert_eq!((after.span_count, after.p50_ns), (6, Some(1_004)), "percentiles of what has them");
    drop(store);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn data_survives_reopening_and_newer_schemas_are_refused() {
    let dir = std::env::temp_dir().join(format!("otelscope-store-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    {
        let store = SqliteStore::open(&dir).unwrap();
        write(
            &store,
            vec![batch(vec![span(9, 1, "kept")
                .kind(SpanKind::Server)
                .service("api")
                .ns(1, 2)
                .build()])],
        );
    }
    let store = SqliteStore::open(&dir).unwrap();
    assert_eq!(store.total_spans(), 1);
    assert_eq!(whole_trace(&store, &format!("{:032x}", 9)).unwrap()[0].name, "kept");
    drop(store);

    let conn = Connection::open(dir.join("otelscope.db")).unwrap();
    conn.pragma_update(None, "user_version", schema::VERSION + 1).unwrap();
    drop(conn);
    let err = SqliteStore::open(&dir).err().expect("newer schema must be refused");
    assert!(matches!(err, StoreError::TooNew { .. }), "{err}");
    assert!(err.to_string().contains("written by a newer otelscope"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A fresh temp directory for one test.
fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("otelscope-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

const DAY_NS: u64 = 86_400 * 1_000_000_000;

/// A store directory at schema `version` holding trace 1 (one plain-JSON chunk, span "old"),
/// whose `traces` row has the given columns after its id.
fn store_at_version(name: &str, version: i64, trace_columns: &str) -> std::path::PathBuf {
    let dir = temp_dir(name);
    let mut conn = Connection::open(dir.join("otelscope.db")).unwrap();
    schema::migrate_to(&mut conn, name, version).unwrap();
    let chunk = serde_json::to_vec(&[span(1, 1, "old")
        .kind(SpanKind::Server)
        .service("api")
        .ns(1, 2)
        .build()])
    .unwrap();
    conn.execute(
        "INSERT INTO span_chunks (trace_id, span_count, spans) VALUES (?1, 1, ?2)",
        params![format!("{:032x}", 1), chunk],
    )
    .unwrap();
    conn.execute(
        &format!("INSERT INTO traces VALUES (?1, {trace_columns})"),
        [format!("{:032x}", 1)],
    )
    .unwrap();
    dir
}

#[test]
fn one_failing_batch_leaves_the_others_of_its_group_committed() {
    let store = SqliteStore::in_memory().unwrap();
    store
        .writer()
        .unwrap()
        .execute_batch(&format!(
            "CREATE TEMP TRIGGER refuse BEFORE INSERT ON span_chunks WHEN NEW.trace_id = '{:032x}'
             BEGIN SELECT RAISE(ABORT, 'refused by the test'); END;",
            2
        ))
        .unwrap();
    let results = store
        .write(&[
            batch(vec![span(1, 1, "first").kind(SpanKind::Server).service("api").ns(1, 2).build()]),
            batch(vec![
                span(2, 1, "refused").kind(SpanKind::Server).service("api").ns(1, 2).build(),
                span(2, 2, "child")
                    .parent(1)
                    .kind(SpanKind::Server)
                    .service("api")
                    .ns(1, 2)
                    .build(),
            ]),
            batch(vec![span(3, 1, "third").kind(SpanKind::Server).service("api").ns(1, 2).build()]),
        ])
        .unwrap();
    assert!(results[0].is_ok() && results[2].is_ok(), "{results:?}");
    assert!(results[1].is_err());
    assert_eq!(store.total_spans(), 2);
    let left = store.search_traces(&all_traces()).unwrap();
    assert_eq!(ids(&left), ["03", "01"]);
    assert_eq!(store.services().unwrap()[0].span_count, 2, "the refused batch left no counts");
}

#[test]
fn a_second_store_on_the_same_directory_is_refused() {
    let dir = temp_dir("lock");
    let first = SqliteStore::open(&dir).unwrap();
    let second = SqliteStore::open(&dir).err().expect("the directory is in use");
    assert!(matches!(second, StoreError::Locked { .. }), "{second}");
    assert!(second.to_string().contains(&format!("pid {}", std::process::id())), "{second}");
    drop(first);
    SqliteStore::open(&dir).expect("free again once the first is closed");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Issue 21: the data directory was 0755 and the database 0644, readable by any local user.
#[test]
fn the_data_directory_and_its_files_are_owner_only() {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = |path: &std::path::Path| {
        std::fs::metadata(path).map(|m| m.permissions().mode() & 0o777).unwrap_or_else(|e| {
            panic!("{}: {e}", path.display());
        })
    };
    // An existing directory left open by an older otelscope, and one created by the store.
    let dir = temp_dir("private");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let fresh = dir.join("new/store");
    for dir in [&dir, &fresh] {
        let store = SqliteStore::open(dir).unwrap();
        write(
            &store,
            vec![batch(vec![span(1, 1, "GET /")
                .kind(SpanKind::Server)
                .service("api")
                .ns(1, 2)
                .build()])],
        );
        assert_eq!(mode(dir), 0o700, "{}", dir.display());
        for file in ["otelscope.db", "otelscope.db-wal", "otelscope.db-shm", "otelscope.lock"] {
            assert_eq!(mode(&dir.join(file)), 0o600, "{file} in {}", dir.display());
        }
    }
    assert_eq!(mode(&dir.join("new")), 0o700);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn damaged_databases_are_refused_and_left_untouched() {
    let dir = temp_dir("damaged");
    {
        let store = SqliteStore::open(&dir).unwrap();
        let spans = (1..=200u8)
            .map(|i| {
                span(1, i, &"x".repeat(500))
                    .parent(1)
                    .kind(SpanKind::Server)
                    .service("api")
                    .ns(1, 2)
                    .build()
            })
            .collect();
        write(&store, vec![batch(spans)]);
    }
    let db = dir.join("otelscope.db");
    // Checkpointed on close: the whole store is in the main file now.
    let whole = std::fs::read(&db).unwrap();
    assert!(whole.len() > 8192, "{} bytes", whole.len());

    std::fs::write(&db, &whole[..whole.len() / 2]).unwrap();
    let truncated = SqliteStore::open(&dir).err().expect("truncated");
    assert!(truncated.to_string().contains("truncated"), "{truncated}");
    assert_eq!(std::fs::read(&db).unwrap().len(), whole.len() / 2, "left as it was");

    std::fs::write(&db, b"this is somebody's spreadsheet, not a database".repeat(100)).unwrap();
    let garbage = SqliteStore::open(&dir).err().expect("not a database");
    assert!(garbage.to_string().contains("not a SQLite database"), "{garbage}");
    assert!(std::fs::read(&db).unwrap().starts_with(b"this is somebody's"));

    let mut scrambled = whole.clone();
    for byte in &mut scrambled[4096..] {
        *byte = byte.wrapping_mul(31).wrapping_add(7);
    }
    std::fs::write(&db, &scrambled).unwrap();
    match SqliteStore::open(&dir) {
        Err(error) => assert!(matches!(error, StoreError::Open { .. }), "{error}"),
        // The damage may lie in pages opening does not read: then reading says so.
        Ok(store) => assert!(whole_trace(&store, &format!("{:032x}", 1)).is_err()),
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_version_3_store_keeps_its_data_and_counts_it_as_received_at_the_upgrade() {
    let dir = store_at_version("v3", 3, "1, 2, 1, 0, 'api', 'old', 1");
    let store = SqliteStore::open(&dir).unwrap();
    let now = crate::ingest::now_ns();
    let week = Retention { max_age_ns: 7 * DAY_NS, ..Retention::UNBOUNDED };
    assert_eq!(store.enforce_retention(week, now, 1_000).unwrap(), 0, "1970 spans stay a week");
    assert_eq!(whole_trace(&store, &format!("{:032x}", 1)).unwrap()[0].name, "old");
    assert_eq!(store.enforce_retention(week, now + 8 * DAY_NS, 1_000).unwrap(), 1);
    drop(store);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Issue 8: a metric's series were read without a bound. The answer keeps the newest `limit`
/// points (in time order) and says it was cut; the catalog likewise.
#[test]
fn metric_reads_are_bounded_newest_first_and_say_when_cut() {
    use otelscope_app::model::{MetricKind, MetricPoint, Temporality};
    let store = SqliteStore::in_memory().unwrap();
    let point = |name: &str, host: &str, time_ns: u64| MetricPoint {
        name: name.into(),
        description: String::new(),
        unit: String::new(),
        kind: MetricKind::Gauge,
        temporality: Temporality::Unspecified,
        monotonic: false,
        service: "s".into(),
        attributes: vec![KeyValue { key: "host".into(), value: AttrValue::String(host.into()) }],
        start_ns: 0,
        time_ns,
        value: Some(time_ns as f64),
        histogram: None,
        ..Default::default()
    };
    let mut metrics: Vec<MetricPoint> =
        (1..=30).map(|t| point("cpu", if t % 2 == 0 { "a" } else { "b" }, t)).collect();
    metrics.push(point("mem", "a", 1));
    write(&store, vec![WriteBatch { received_ns: 1, metrics, ..WriteBatch::default() }]);
    // The API's default limit is 10,000.
    let query = |name: Option<&str>, limit: usize| {
        let name = name.map(str::to_owned);
        store.metrics(&MetricQuery { name, limit, ..MetricQuery::default() }).unwrap()
    };

    let cut = query(Some("cpu"), 10);
    assert!(cut.truncated);
    let times: Vec<Vec<u64>> =
        cut.series.iter().map(|s| s.points.iter().map(|p| p.time_ns).collect()).collect();
    assert_eq!(times, [vec![22, 24, 26, 28, 30], vec![21, 23, 25, 27, 29]]);

    let whole = query(Some("cpu"), 30);
    assert!(!whole.truncated);
    assert_eq!(whole.series.iter().map(|s| s.points.len()).sum::<usize>(), 30);
    assert_eq!(query(Some("cpu"), 10_000).series.iter().map(|s| s.points.len()).sum::<usize>(), 30);

    let catalog = query(None, 1);
    assert!(catalog.truncated);
    assert_eq!(catalog.names.iter().map(|n| n.name.as_str()).collect::<Vec<_>>(), ["cpu"]);
    assert!(!query(None, 10_000).truncated);
    // The flag is left out of answers that were not cut, so older readers see no change.
    assert!(!serde_json::to_string(&query(None, 10_000)).unwrap().contains("truncated"));
}

#[test]
fn a_version_7_store_folds_the_traces_it_had_pending() {
    // Trace 1 was pending a flame fold (received at 5) when the store was at version 7, whose
    // flame_pending table the upgrade replaces by the fold pass's watermark.
    let dir = store_at_version("v7", 7, "1, 2, 1, 0, 'api', 'old', 1, 5, 10");
    let conn = Connection::open(dir.join("otelscope.db")).unwrap();
    conn.execute("INSERT INTO flame_pending VALUES (?1, 5)", [format!("{:032x}", 1)]).unwrap();
    drop(conn);
    let store = SqliteStore::open(&dir).unwrap();
    assert_eq!(store.fold_flames(u64::MAX).unwrap(), 1);
    assert_eq!(store.fold_flames(u64::MAX).unwrap(), 0);
    drop(store);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_version_4_store_keeps_its_data_and_starts_its_rollups_empty() {
    let dir = store_at_version("v4", 4, "1, 2, 1, 0, 'api', 'old', 1, 5, 10");
    let store = SqliteStore::open(&dir).unwrap();
    assert_eq!(whole_trace(&store, &format!("{:032x}", 1)).unwrap()[0].name, "old");
    let all = CacheQuery { until_ns: 100, step_ns: 10_000_000_000, ..CacheQuery::default() };
    assert!(store.cache(&all).unwrap().rows.is_empty());
    let mut hit = span(2, 1, "get").kind(SpanKind::Server).service("api").ns(1, 2).build();
    hit.attributes.push(KeyValue { key: "cache.hit".into(), value: AttrValue::Bool(true) });
    write(&store, vec![batch(vec![hit])]);
    assert_eq!(store.cache(&all).unwrap().rows[0].hits, 1);
    drop(store);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_partial_index_and_the_search_name_the_self_services_as_the_model_does() {
    // schema v9's `traces_start_others` and `search` spell the names out (an index condition
    // must be literal): keep them in step with the model.
    assert_eq!(otelscope_app::model::SELF_SERVICES, ["otelscope", "otelscope-ui"]);
    let store = SqliteStore::in_memory().unwrap();
    let plan: Vec<String> = store
        .read(|conn| {
            let mut stmt = conn.prepare(
                "EXPLAIN QUERY PLAN SELECT trace_id FROM traces t WHERE 1 = 1
                 AND root_service NOT IN ('otelscope', 'otelscope-ui') ORDER BY start_ns DESC LIMIT 20",
            )?;
            let rows = stmt.query_map([], |r| r.get::<_, String>(3))?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .unwrap();
    assert!(plan.iter().any(|step| step.contains("traces_start_others")), "{plan:?}");
}
