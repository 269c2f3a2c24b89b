//! Cases for the trace list (issue 26, point 9): search over event attributes
//! (`exception.type=ValueError` finds the trace whose span recorded it), and `trace_rows`:
//! spans per service, the root span once it arrived, and a trace still waiting for its root
//! marked as such instead of presenting a child as its root.

use otelscope_app::model::fixture::span;
use otelscope_app::model::{KeyValue, SpanEvent};
use otelscope_server::store::{Store, TraceQuery};

use super::{store_spans, text, tid, T};

fn exception(kind: &str) -> SpanEvent {
    SpanEvent {
        time_ns: T + 3,
        name: "exception".into(),
        attributes: vec![
            KeyValue { key: "exception.type".into(), value: text(kind) },
            KeyValue { key: "exception.message".into(), value: text("bad input") },
        ],
    }
}

/// Trace 1: `web` root, a `db` child that recorded a `ValueError`; trace 2: a `KeyError` on
/// its root; trace 3: only a child of `worker` so far (its root, span 30, has not arrived).
fn traces(store: &dyn Store) {
    let mut failing_child =
        span(1u32, 11u32, "SELECT").parent(10u32).service("db").ns(T + 2, T + 7).build();
    failing_child.events = vec![exception("ValueError")];
    let mut failing_root =
        span(2u32, 20u32, "GET /b").service("web").ns(T + 100, T + 104).error("boom").build();
    failing_root.events = vec![exception("KeyError")];
    store_spans(
        store,
        T,
        vec![
            span(1u32, 10u32, "GET /a").service("web").ns(T, T + 10).build(),
            failing_child,
            span(1u32, 12u32, "SELECT").parent(10u32).service("db").ns(T + 7, T + 8).build(),
            failing_root,
            span(3u32, 31u32, "consume")
                .parent(30u32)
                .service("worker")
                .ns(T + 201, T + 205)
                .build(),
        ],
    );
}

fn all() -> TraceQuery {
    TraceQuery { limit: 20, ..TraceQuery::default() }
}

fn ids(store: &dyn Store, attrs: &[(&str, &str)]) -> Vec<String> {
    let attrs = attrs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    store
        .search_traces(&TraceQuery { attrs, ..all() })
        .unwrap()
        .into_iter()
        .map(|t| t.trace_id)
        .collect()
}

pub fn search_by_event_attributes(store: &dyn Store) {
    traces(store);
    assert_eq!(ids(store, &[("exception.type", "ValueError")]), [tid(1)]);
    assert_eq!(ids(store, &[("exception.type", "KeyError")]), [tid(2)]);
    assert_eq!(ids(store, &[("exception.message", "bad input")]), [tid(2), tid(1)]);
    // Every pair must hold, on the span or its events.
    assert_eq!(
        ids(store, &[("exception.type", "ValueError"), ("exception.message", "bad input")]),
        [tid(1)]
    );
    assert!(ids(store, &[("exception.type", "TypeError")]).is_empty());
}

pub fn rows_say_services_and_root_or_that_it_is_missing(store: &dyn Store) {
    traces(store);
    let found = store.search_traces(&all()).unwrap();
    let missing: Vec<(String, bool)> =
        found.iter().map(|t| (t.trace_id.clone(), t.root_missing)).collect();
    assert_eq!(missing, [(tid(3), true), (tid(2), false), (tid(1), false)]);

    let rows = store.trace_rows(&[tid(1), tid(9), tid(3), tid(2)]).unwrap();
    let seen: Vec<&str> = rows.iter().map(|r| r.trace_id.as_str()).collect();
    assert_eq!(seen, [tid(1), tid(3), tid(2)], "in the order asked, unknown ids left out");
    assert_eq!(rows[0].services, [("db".to_owned(), 2), ("web".to_owned(), 1)]);
    let root = rows[0].root.as_ref().expect("trace 1's root");
    assert_eq!(
        (root.span_id.as_str(), root.name.as_str()),
        (format!("{:016x}", 10).as_str(), "GET /a")
    );
    assert_eq!(rows[1].services, [("worker".to_owned(), 1)]);
    assert_eq!(rows[1].root, None, "a child is never presented as the root");
    let root = rows[2].root.as_ref().expect("trace 2's root");
    assert_eq!((root.status.message.as_str(), root.events.len()), ("boom", 1));
}
