//! Store tests on real SQLite: in memory for logic, a temp file for durability and schema
//! versions.

use otelscope_app::model::{KeyValue, SpanKind, StatusCode};

use super::*;
use crate::store::parse_trace_query;

fn span(trace: u8, id: u8, parent: Option<u8>, name: &str, start: u64, end: u64) -> Span {
    Span {
        parent_span_id: parent.map(|p| format!("{p:016x}")),
        kind: SpanKind::Server,
        service: "api".into(),
        start_ns: start,
        end_ns: end,
        ..Span::new(format!("{trace:032x}"), format!("{id:016x}"), name)
    }
}

fn batch(spans: Vec<Span>) -> WriteBatch {
    WriteBatch { spans, ..WriteBatch::default() }
}

fn ids(list: &[TraceSummary]) -> Vec<String> {
    list.iter().map(|t| t.trace_id[30..].to_owned()).collect()
}

#[test]
fn trace_summary_follows_the_root_even_when_it_arrives_last() {
    let store = SqliteStore::in_memory().unwrap();
    let mut child = span(1, 2, Some(1), "db query", 150, 180);
    child.status.code = StatusCode::Error;
    store.write(&[batch(vec![child])]).unwrap();
    let first = store.search_traces(&parse_trace_query("", 0).unwrap()).unwrap();
    assert_eq!(first[0].root_name, "db query", "earliest span stands in for a missing root");

    store.write(&[batch(vec![span(1, 1, None, "GET /users", 100, 200)])]).unwrap();
    let list = store.search_traces(&parse_trace_query("", 0).unwrap()).unwrap();
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
        }]
    );
    let spans = store.trace(&format!("{:032x}", 1)).unwrap();
    assert_eq!(
        spans.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(),
        ["GET /users", "db query"]
    );
}

#[test]
fn search_filters() {
    let store = SqliteStore::in_memory().unwrap();
    let mut slow = span(1, 1, None, "slow", 1_000, 50_000_000);
    slow.attributes
        .push(KeyValue { key: "http.route".into(), value: AttrValue::String("/a".into()) });
    let mut failing = span(2, 2, None, "failing", 2_000, 3_000);
    failing.status.code = StatusCode::Error;
    failing.service = "worker".into();
    let mut counted = span(3, 3, None, "fast", 3_000, 4_000);
    counted.attributes.push(KeyValue { key: "retry.attempt".into(), value: AttrValue::Int(2) });
    store.write(&[batch(vec![slow, failing, counted])]).unwrap();

    let find = |q: &str| ids(&store.search_traces(&parse_trace_query(q, 0).unwrap()).unwrap());
    assert_eq!(find(""), ["03", "02", "01"], "newest first");
    assert_eq!(find("limit=2"), ["03", "02"]);
    assert_eq!(find("service=worker"), ["02"]);
    assert_eq!(find("service=api&name=fast"), ["03"]);
    assert_eq!(find("name=slow"), ["01"]);
    assert_eq!(find("min_duration_ms=10"), ["01"]);
    assert_eq!(find("max_duration_ms=0.0015"), ["03", "02"]);
    assert_eq!(find("status=error"), ["02"]);
    assert_eq!(find("status=ok"), ["03", "01"]);
    assert_eq!(find("attr=http.route%3D/a"), ["01"]);
    assert_eq!(find("attr=retry.attempt%3D2"), ["03"]);
    assert_eq!(find("attr=retry.attempt%3D3"), Vec::<String>::new());
    assert_eq!(find("since=2000&until=2500"), ["02"]);
    let p = |ns| Some(ns);
    assert_eq!(
        store.services().unwrap(),
        vec![
            // api: 1 µs and 49.999 ms spans; worker: one failing 1 µs span. Percentiles are
            // bucket midpoints (within 6.25%).
            ServiceSummary {
                span_count: 2,
                p50_ns: p(992),
                p95_ns: p(48_234_496),
                p99_ns: p(48_234_496),
                ..ServiceSummary::new("api")
            },
            ServiceSummary {
                span_count: 1,
                error_count: 1,
                p50_ns: p(992),
                p95_ns: p(992),
                p99_ns: p(992),
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
            let mut s = span(9, i, Some(1), "work", 0, u64::from(i) * 1_000_000);
            if i % 15 == 0 {
                s.status.code = StatusCode::Error;
            }
            s
        })
        .collect();
    store.write(&[batch(spans[..40].to_vec())]).unwrap();
    store.write(&[batch(spans[40..].to_vec())]).unwrap();
    let services = store.services().unwrap();
    assert_eq!(services.len(), 1);
    let api = &services[0];
    assert_eq!((api.span_count, api.error_count), (100, 6));
    for (got, want_ms) in [(api.p50_ns, 50.0), (api.p95_ns, 95.0), (api.p99_ns, 99.0)] {
        let got_ms = got.unwrap() as f64 / 1e6;
        assert!((got_ms - want_ms).abs() <= want_ms / 16.0, "{got_ms} vs {want_ms}");
    }
}

#[test]
fn service_stats_follow_retention() {
    let store = SqliteStore::in_memory().unwrap();
    // An old trace of slow, failing spans (and the only spans of "batch"), then a new one of
    // fast spans.
    let mut old: Vec<Span> = (1..=10u8)
        .map(|i| {
            let mut s = span(1, i, Some(1), "slow", 1_000, 1_000 + 100_000_000);
            s.status.code = StatusCode::Error;
            s
        })
        .collect();
    old[9].service = "batch".into();
    store.write(&[batch(old)]).unwrap();
    let new: Vec<Span> = (1..=10u8).map(|i| span(2, i, Some(1), "fast", 5_000, 6_000)).collect();
    store.write(&[batch(new)]).unwrap();
    let before = store.services().unwrap();
    assert_eq!(before.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(), ["api", "batch"]);
    assert_eq!((before[0].span_count, before[0].error_count), (19, 9));
    assert!(before[0].p99_ns.unwrap() > 90_000_000);

    let keep_ten = Retention { max_spans: 10, max_age_ns: u64::MAX };
    assert_eq!(store.enforce_retention(keep_ten, 10_000, 1_000).unwrap(), 10);
    let after = store.services().unwrap();
    assert_eq!(
        after,
        vec![ServiceSummary {
            span_count: 10,
            p50_ns: Some(992),
            p95_ns: Some(992),
            p99_ns: Some(992),
            ..ServiceSummary::new("api")
        }],
        "the old trace's spans, errors and durations are gone, and so is \"batch\""
    );
}

#[test]
fn duplicate_spans_from_retried_exports_are_shown_once() {
    let store = SqliteStore::in_memory().unwrap();
    let s = span(1, 1, None, "root", 1, 2);
    store.write(&[batch(vec![s.clone()])]).unwrap();
    store.write(&[batch(vec![s])]).unwrap();
    assert_eq!(store.trace(&format!("{:032x}", 1)).unwrap().len(), 1);
}

#[test]
fn retention_drops_oldest_whole_traces_first() {
    let store = SqliteStore::in_memory().unwrap();
    for t in 1..=5u8 {
        let start = u64::from(t) * 1_000;
        store
            .write(&[batch(vec![
                span(t, 1, None, "root", start, start + 10),
                span(t, 2, Some(1), "child", start, start + 5),
            ])])
            .unwrap();
    }
    assert_eq!(store.total_spans(), 10);
    let by_count = Retention { max_spans: 6, max_age_ns: u64::MAX };
    assert_eq!(store.enforce_retention(by_count, 10_000, 1_000).unwrap(), 4);
    assert_eq!(store.total_spans(), 6);
    assert_eq!(
        ids(&store.search_traces(&parse_trace_query("", 0).unwrap()).unwrap()),
        ["05", "04", "03"]
    );
    assert!(store.trace(&format!("{:032x}", 1)).unwrap().is_empty());

    let by_age = Retention { max_spans: u64::MAX, max_age_ns: 1_500 };
    assert_eq!(
        store.enforce_retention(by_age, 5_500, 1_000).unwrap(),
        2,
        "the trace starting before 4000 goes"
    );
    assert_eq!(
        ids(&store.search_traces(&parse_trace_query("", 0).unwrap()).unwrap()),
        ["05", "04"]
    );
    assert_eq!(store.services().unwrap()[0].span_count, 4);
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
    store.write(&[batch(vec![span(8, 1, None, "new", 0, 1_000)])]).unwrap();
    let after = &store.services().unwrap()[0];
    assert_eq!((after.span_count, after.p50_ns), (6, Some(992)), "percentiles of what has them");
    drop(store);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn data_survives_reopening_and_newer_schemas_are_refused() {
    let dir = std::env::temp_dir().join(format!("otelscope-store-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    {
        let store = SqliteStore::open(&dir).unwrap();
        store.write(&[batch(vec![span(9, 1, None, "kept", 1, 2)])]).unwrap();
    }
    let store = SqliteStore::open(&dir).unwrap();
    assert_eq!(store.total_spans(), 1);
    assert_eq!(store.trace(&format!("{:032x}", 9)).unwrap()[0].name, "kept");
    drop(store);

    let conn = Connection::open(dir.join("otelscope.db")).unwrap();
    conn.pragma_update(None, "user_version", schema::VERSION + 1).unwrap();
    drop(conn);
    let err = SqliteStore::open(&dir).err().expect("newer schema must be refused");
    assert!(matches!(err, StoreError::TooNew { .. }), "{err}");
    assert!(err.to_string().contains("written by a newer otelscope"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}
