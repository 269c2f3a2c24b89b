//! Cases on traces: writing, versions, chunks, services, operations and their stats, search
//! with each filter of `TraceQuery`, and counting.

use otelscope_app::model::fixture::span;
use otelscope_app::model::{OperationStats, ServiceSummary, Span, TraceSummary};
use otelscope_server::store::{whole_trace, Store, TraceQuery, WriteBatch};

use super::{store_spans, text, tid, T};

/// Three traces of service `web` (one also in `db`) and one of otelscope's own:
/// 1: `GET /a` at T, 10 ns, with a 5 ns `db SELECT` (`db.system=postgres`);
/// 2: `GET /b` at T+100, 4 ns, an error (`http.route=/b`);
/// 3: `GET /a` at T+200, 15 ns;
/// 4: `otelscope GET /api/v1/services` at T+300, 1 ns.
fn shop(store: &dyn Store) {
    let web = |trace: u32, name: &str, start: u64, end: u64| {
        span(trace, trace * 10, name).service("web").ns(T + start, T + end)
    };
    store_spans(
        store,
        T,
        vec![
            web(1, "GET /a", 0, 10).build(),
            span(1u32, 11u32, "SELECT")
                .parent(10u32)
                .service("db")
                .ns(T + 2, T + 7)
                .attr("db.system", text("postgres"))
                .build(),
        ],
    );
    store_spans(
        store,
        T + 100,
        vec![web(2, "GET /b", 100, 104).error("boom").attr("http.route", text("/b")).build()],
    );
    store_spans(store, T + 200, vec![web(3, "GET /a", 200, 215).build()]);
    store_spans(
        store,
        T + 300,
        vec![span(4u32, 40u32, "GET /api/v1/services")
            .service("otelscope")
            .ns(T + 300, T + 301)
            .build()],
    );
}

fn summary(
    trace: u32,
    name: &str,
    start: u64,
    duration: u64,
    spans: u64,
    errors: u64,
) -> TraceSummary {
    TraceSummary {
        trace_id: tid(trace),
        root_service: if trace == 4 { "otelscope" } else { "web" }.into(),
        root_name: name.into(),
        start_ns: T + start,
        duration_ns: duration,
        span_count: spans,
        error_count: errors,
        ..TraceSummary::default()
    }
}

fn t1() -> TraceSummary {
    summary(1, "GET /a", 0, 10, 2, 0)
}
fn t2() -> TraceSummary {
    summary(2, "GET /b", 100, 4, 1, 1)
}
fn t3() -> TraceSummary {
    summary(3, "GET /a", 200, 15, 1, 0)
}
fn t4() -> TraceSummary {
    summary(4, "GET /api/v1/services", 300, 1, 1, 0)
}

fn all() -> TraceQuery {
    TraceQuery { limit: 20, ..TraceQuery::default() }
}

fn search(store: &dyn Store, query: TraceQuery) -> Vec<TraceSummary> {
    store.search_traces(&query).unwrap()
}

pub fn write_answers_each_batch_in_order(store: &dyn Store) {
    assert!(store.write(&[]).unwrap().is_empty());
    let batch = |trace: u32| {
        let mut b = WriteBatch {
            received_ns: T,
            spans: vec![span(trace, 1u32, "a").build()],
            ..WriteBatch::default()
        };
        b.prepare().unwrap();
        b
    };
    let results = store.write(&[batch(1), batch(2)]).unwrap();
    assert_eq!(results.len(), 2);
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    // Both are kept, once each.
    assert_eq!(store.trace_version(&tid(1)).unwrap(), Some(1));
    assert_eq!(store.trace_version(&tid(2)).unwrap(), Some(1));
}

pub fn trace_version_is_the_stored_span_count(store: &dyn Store) {
    assert_eq!(store.trace_version(&tid(1)).unwrap(), None);
    shop(store);
    assert_eq!(store.trace_version(&tid(1)).unwrap(), Some(2));
    assert_eq!(store.trace_version(&tid(2)).unwrap(), Some(1));
    // More of trace 1 arrives later: the version grows.
    store_spans(
        store,
        T + 400,
        vec![span(1u32, 12u32, "late").parent(10u32).service("web").ns(T + 8, T + 9).build()],
    );
    assert_eq!(store.trace_version(&tid(1)).unwrap(), Some(3));
    assert_eq!(store.trace_version(&tid(99)).unwrap(), None);
}

/// The names in one chunk, in stored order.
fn names(chunk: &otelscope_server::store::SpanChunk) -> Vec<String> {
    let mut names = Vec::new();
    assert!(chunk
        .for_each_span(&mut |s: Span| {
            names.push(s.name);
            true
        })
        .unwrap());
    names
}

pub fn trace_chunks_page_in_arrival_order(store: &dyn Store) {
    let part = |id: u32, name: &str, start: u64| {
        span(5u32, id, name).service("web").ns(T + start, T + start + 1).build()
    };
    store_spans(store, T, vec![part(2, "second", 20), part(1, "first", 10)]);
    store_spans(store, T + 1, vec![part(3, "third", 5)]);
    // A span sent again (an exporter's retry) is in both chunks.
    store_spans(store, T + 2, vec![part(1, "first", 10)]);
    let first = store.trace_chunk(&tid(5), i64::MIN).unwrap().expect("a first chunk");
    assert_eq!(names(&first), ["second", "first"]);
    let second = store.trace_chunk(&tid(5), first.id).unwrap().expect("a second chunk");
    assert!(second.id > first.id);
    assert_eq!(names(&second), ["third"]);
    let third = store.trace_chunk(&tid(5), second.id).unwrap().expect("a third chunk");
    assert_eq!(names(&third), ["first"]);
    assert!(store.trace_chunk(&tid(5), third.id).unwrap().is_none());
    assert!(store.trace_chunk(&tid(99), i64::MIN).unwrap().is_none());
    // Read whole: once each, by start time.
    let spans = whole_trace(store, &tid(5)).unwrap();
    let order: Vec<&str> = spans.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(order, ["third", "first", "second"]);
    assert!(whole_trace(store, &tid(99)).unwrap().is_empty());
}

pub fn services_are_sorted_with_counts_and_percentiles(store: &dyn Store) {
    assert!(store.services().unwrap().is_empty());
    shop(store);
    let service = |name: &str, spans: u64, errors: u64, p: [u64; 3]| ServiceSummary {
        span_count: spans,
        error_count: errors,
        p50_ns: Some(p[0]),
        p95_ns: Some(p[1]),
        p99_ns: Some(p[2]),
        ..ServiceSummary::new(name)
    };
    assert_eq!(
        store.services().unwrap(),
        vec![
            service("db", 1, 0, [5, 5, 5]),
            service("otelscope", 1, 0, [1, 1, 1]),
            // Durations 4, 10, 15.
            service("web", 3, 1, [10, 15, 15]),
        ]
    );
}

pub fn operations_are_distinct_sorted_and_limited(store: &dyn Store) {
    shop(store);
    assert_eq!(store.operations("web", 10).unwrap(), ["GET /a", "GET /b"]);
    assert_eq!(store.operations("web", 1).unwrap(), ["GET /a"]);
    assert_eq!(store.operations("db", 10).unwrap(), ["SELECT"]);
    assert!(store.operations("nobody", 10).unwrap().is_empty());
}

pub fn operation_stats_are_slowest_first_over_newest_rows(store: &dyn Store) {
    shop(store);
    let op = |name: &str, spans: u64, errors: u64, p: [u64; 3], slowest: u32| OperationStats {
        name: name.into(),
        span_count: spans,
        error_count: errors,
        p50_ns: Some(p[0]),
        p95_ns: Some(p[1]),
        max_ns: Some(p[2]),
        slowest_trace_id: Some(tid(slowest)),
    };
    assert_eq!(
        store.operation_stats("web", 0, 100).unwrap(),
        (vec![op("GET /a", 2, 0, [10, 15, 15], 3), op("GET /b", 1, 1, [4, 4, 4], 2)], false)
    );
    // Only traces started at or after `since`.
    assert_eq!(
        store.operation_stats("web", T + 100, 100).unwrap(),
        (vec![op("GET /a", 1, 0, [15, 15, 15], 3), op("GET /b", 1, 1, [4, 4, 4], 2)], false)
    );
    // One row read: the newest trace's, and the flag says there were more.
    assert_eq!(
        store.operation_stats("web", 0, 1).unwrap(),
        (vec![op("GET /a", 1, 0, [15, 15, 15], 3)], true)
    );
    assert_eq!(store.operation_stats("nobody", 0, 100).unwrap(), (vec![], false));
}

pub fn search_without_filters_is_newest_first_and_limited(store: &dyn Store) {
    assert!(search(store, all()).is_empty());
    shop(store);
    assert_eq!(search(store, all()), [t3(), t2(), t1()]);
    assert_eq!(search(store, TraceQuery { limit: 2, ..all() }), [t3(), t2()]);
}

pub fn search_by_service_and_name_matches_any_span(store: &dyn Store) {
    shop(store);
    assert_eq!(search(store, TraceQuery { service: Some("db".into()), ..all() }), [t1()]);
    assert_eq!(search(store, TraceQuery { name: Some("GET /a".into()), ..all() }), [t3(), t1()]);
    assert_eq!(search(store, TraceQuery { name: Some("SELECT".into()), ..all() }), [t1()]);
    let both = TraceQuery { service: Some("web".into()), name: Some("GET /b".into()), ..all() };
    assert_eq!(search(store, both), [t2()]);
    assert!(search(store, TraceQuery { service: Some("nobody".into()), ..all() }).is_empty());
}

pub fn search_by_duration_is_inclusive(store: &dyn Store) {
    shop(store);
    assert_eq!(search(store, TraceQuery { min_duration_ns: Some(10), ..all() }), [t3(), t1()]);
    assert_eq!(search(store, TraceQuery { max_duration_ns: Some(10), ..all() }), [t2(), t1()]);
    let band = TraceQuery { min_duration_ns: Some(5), max_duration_ns: Some(14), ..all() };
    assert_eq!(search(store, band), [t1()]);
}

pub fn search_by_error(store: &dyn Store) {
    shop(store);
    assert_eq!(search(store, TraceQuery { error: Some(true), ..all() }), [t2()]);
    assert_eq!(search(store, TraceQuery { error: Some(false), ..all() }), [t3(), t1()]);
}

pub fn search_by_attributes_compares_text(store: &dyn Store) {
    shop(store);
    let attrs = |pairs: &[(&str, &str)]| TraceQuery {
        attrs: pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        ..all()
    };
    assert_eq!(search(store, attrs(&[("db.system", "postgres")])), [t1()]);
    assert_eq!(search(store, attrs(&[("http.route", "/b")])), [t2()]);
    assert!(search(store, attrs(&[("db.system", "mysql")])).is_empty());
    // All pairs on one span.
    assert!(search(store, attrs(&[("db.system", "postgres"), ("http.route", "/b")])).is_empty());
}

/// The product contract's range: `since` inclusive, `until` exclusive (issue 26, point 8).
pub fn search_by_start_range_since_inclusive_until_exclusive(store: &dyn Store) {
    shop(store);
    assert_eq!(search(store, TraceQuery { since_ns: Some(T + 100), ..all() }), [t3(), t2()]);
    assert_eq!(search(store, TraceQuery { until_ns: Some(T + 100), ..all() }), [t1()]);
    assert_eq!(search(store, TraceQuery { until_ns: Some(T + 101), ..all() }), [t2(), t1()]);
    let empty = TraceQuery { since_ns: Some(T + 100), until_ns: Some(T + 100), ..all() };
    assert_eq!(search(store, empty), []);
    let one = TraceQuery { since_ns: Some(T + 100), until_ns: Some(T + 101), ..all() };
    assert_eq!(search(store, one), [t2()]);
}

pub fn own_services_only_when_asked_or_named(store: &dyn Store) {
    shop(store);
    assert_eq!(search(store, TraceQuery { include_self: true, ..all() }), [t4(), t3(), t2(), t1()]);
    assert_eq!(search(store, TraceQuery { service: Some("otelscope".into()), ..all() }), [t4()]);
}

pub fn count_is_capped_and_unknown_with_attributes(store: &dyn Store) {
    assert_eq!(store.count_traces(&all(), 100).unwrap(), Some(0));
    shop(store);
    assert_eq!(store.count_traces(&all(), 100).unwrap(), Some(3));
    // The limit aside; the cap bounds the count.
    assert_eq!(store.count_traces(&TraceQuery { limit: 1, ..all() }, 100).unwrap(), Some(3));
    assert_eq!(store.count_traces(&all(), 2).unwrap(), Some(2));
    assert_eq!(
        store.count_traces(&TraceQuery { include_self: true, ..all() }, 100).unwrap(),
        Some(4)
    );
    let db = TraceQuery { service: Some("db".into()), ..all() };
    assert_eq!(store.count_traces(&db, 100).unwrap(), Some(1));
    let errors = TraceQuery { error: Some(true), ..all() };
    assert_eq!(store.count_traces(&errors, 100).unwrap(), Some(1));
    let attrs = TraceQuery { attrs: vec![("db.system".into(), "postgres".into())], ..all() };
    assert_eq!(store.count_traces(&attrs, 100).unwrap(), None);
}

/// `health` names the backend and says it answers; a remote store also says where and which
/// server version, and never the credentials of its address.
pub fn health_names_the_store_and_answers(store: &dyn Store) {
    let health = store.health();
    assert_eq!(health.state, "ok");
    assert!(["sqlite", "clickhouse"].contains(&health.kind.as_str()), "{health:?}");
    if health.kind == "sqlite" {
        assert_eq!((health.location, health.server_version), (None, None));
    } else {
        let location = health.location.expect("a remote store says where it is");
        assert!(!location.contains('@'), "credentials in {location}");
        assert!(health.server_version.is_some_and(|v| !v.is_empty()));
    }
}
