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
    assert_eq!(
        store.services().unwrap(),
        vec![
            ServiceSummary { name: "api".into(), span_count: 2 },
            ServiceSummary { name: "worker".into(), span_count: 1 }
        ]
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
