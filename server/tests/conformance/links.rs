//! Cases on span links indexed by the span they point at (issue 25): a producer lists the
//! consumers linking to it, earliest first, across traces and batches, within the limit, and
//! loses them with the linking trace.

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

pub fn producers_list_the_spans_linking_to_them(store: &dyn Store) {
    let producer = (tid(3), format!("{:016x}", 1));
    let other = (tid(3), format!("{:016x}", 2));
    // Trace 4 is received first (and so dropped first), before its producer; trace 5 links to
    // both producers, its ids written in upper case.
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
    let upper = |(t, s): &(String, String)| (t.to_ascii_uppercase(), s.to_ascii_uppercase());
    store_spans(store, T + 1_001, vec![consumer(5, T + 5, &[upper(&producer), other.clone()])]);

    let listed = |id: &(String, String), limit| store.linking_spans(&id.0, &id.1, limit).unwrap();
    assert_eq!(listed(&producer, 10), [linking(5, T + 5), linking(4, T + 8)]);
    assert_eq!(listed(&other, 10), [linking(5, T + 5)]);
    assert_eq!(listed(&producer, 1), [linking(5, T + 5)], "the limit holds");
    assert_eq!(listed(&upper(&producer), 10).len(), 2, "ids in upper case are the same ids");
    assert!(listed(&(tid(3), format!("{:016x}", 7)), 10).is_empty(), "an unknown span");
    assert!(listed(&(tid(99), format!("{:016x}", 1)), 10).is_empty(), "an unknown trace");

    // Trace 4 was received 1,200 ns before: it goes, and its link with it.
    let week = Retention { max_age_ns: 500, ..Retention::UNBOUNDED };
    assert_eq!(store.enforce_retention(week, T + 1_200, 1_000).unwrap(), 1);
    assert_eq!(listed(&producer, 10), [linking(5, T + 5)]);
}
