//! Cases on span links indexed by the span they point at (issue 25): a producer lists the
//! consumers linking to it, earliest first, across traces and batches, within the limit, and
//! loses them with the linking trace (a separate case: a store that drops whole days keeps them).

use otelscope_app::model::fixture::span;
use otelscope_app::model::{LinkingSpan, Span, SpanKind, SpanLink};
use otelscope_server::store::{Retention, Store};

use super::{store_spans, tid, T};

/// Consumer span 9 of `trace`, starting at `start`, linking to each of `to` (trace, span).
fn consumer(trace: u32, start: u64, to: &[(String, String)]) -> Span {
    let mut s = span(trace, 9u32, "process")
        .service("billing")
        .kind(SpanKind::Consumer)
        .ns(start, start + 3)
        .build();
    s.links = to
        .iter()
        .map(|(t, id)| SpanLink { trace_id: t.clone(), span_id: id.clone(), attributes: vec![] })
        .collect();
    s
}

fn linking(trace: u32, start: u64) -> LinkingSpan {
    LinkingSpan {
        trace_id: tid(trace),
        span_id: format!("{:016x}", 9),
        service: "billing".into(),
        name: "process".into(),
        start_ns: start,
    }
}

/// Consumers in traces 4 (received first, before its producer) and 5 (linking to both
/// producers, its ids written in upper case) of producer spans 1 and 2 of trace 3; returns the
/// two producers.
fn linked(store: &dyn Store) -> ((String, String), (String, String)) {
    let producer = (tid(3), format!("{:016x}", 1));
    let other = (tid(3), format!("{:016x}", 2));
    store_spans(store, T, vec![consumer(4, T + 8, std::slice::from_ref(&producer))]);
    store_spans(
        store,
        T + 1_000,
        vec![span(3u32, 1u32, "publish")
            .service("orders")
            .kind(SpanKind::Producer)
            .ns(T, T + 2)
            .build()],
    );
    store_spans(store, T + 1_001, vec![consumer(5, T + 5, &[upper(&producer), other.clone()])]);
    (producer, other)
}

fn upper((t, s): &(String, String)) -> (String, String) {
    (t.to_ascii_uppercase(), s.to_ascii_uppercase())
}

fn listed(store: &dyn Store, id: &(String, String), limit: usize) -> Vec<LinkingSpan> {
    store.linking_spans(&id.0, &id.1, limit).unwrap()
}

pub fn producers_list_the_spans_linking_to_them(store: &dyn Store) {
    let (producer, other) = linked(store);
    assert_eq!(listed(store, &producer, 10), [linking(5, T + 5), linking(4, T + 8)]);
    assert_eq!(listed(store, &other, 10), [linking(5, T + 5)]);
    assert_eq!(listed(store, &producer, 1), [linking(5, T + 5)], "the limit holds");
    assert_eq!(listed(store, &upper(&producer), 10).len(), 2, "ids in upper case are the same ids");
    assert!(listed(store, &(tid(3), format!("{:016x}", 7)), 10).is_empty(), "an unknown span");
    assert!(listed(store, &(tid(99), format!("{:016x}", 1)), 10).is_empty(), "an unknown trace");
}

pub fn a_link_goes_with_its_linking_trace(store: &dyn Store) {
    let (producer, _) = linked(store);
    // Trace 4 was received 1,200 ns before: it goes, and its link with it.
    let week = Retention { max_age_ns: 500, ..Retention::UNBOUNDED };
    assert_eq!(store.enforce_retention(week, T + 1_200, 1_000).unwrap(), 1);
    assert_eq!(listed(store, &producer, 10), [linking(5, T + 5)]);
}
