//! A retention pass with nothing over its bounds keeps every rollup row of the traces it keeps,
//! also rows written by a part of a trace received before the trace's last part (issue 25: the
//! services fixture lost its first call that way, `web-front → checkout` 5 of 6).

use otelscope_app::model::fixture::span;
use otelscope_app::model::{EdgeKind, SpanKind};
use otelscope_server::store::{Grain, MapQuery, RedQuery, Retention, Store};

use super::{store_spans, T};

const S: u64 = 1_000_000_000;

pub fn retention_keeps_the_rollups_of_early_parts_of_kept_traces(store: &dyn Store) {
    // Trace 1 in the order a simple exporter sends it: the server span, its client, the root.
    let root = span(1, 1, "GET /checkout").service("web").kind(SpanKind::Server).ns(T, T + 50);
    let call = span(1, 2, "POST /pay").parent(1).service("web").kind(SpanKind::Client);
    let serve = span(1, 3, "POST /pay").parent(2).service("pay").kind(SpanKind::Server);
    store_spans(store, T, vec![serve.ns(T + 2, T + 8).build()]);
    store_spans(store, T + 1, vec![call.ns(T + 1, T + 9).build()]);
    store_spans(store, T + 2, vec![root.build()]);
    // A pass at the same time, nothing over any bound (the age bound is an hour).
    let retention = Retention { max_age_ns: 3_600 * S, ..Retention::UNBOUNDED };
    assert_eq!(store.enforce_retention(retention, T + 3, 1_000).unwrap(), 0);
    let map = store
        .service_map(&MapQuery { since_ns: T, until_ns: T + 60 * S, grain: Grain::Buckets })
        .unwrap();
    let mut edges: Vec<(String, String, EdgeKind, u64)> =
        map.edges.into_iter().map(|e| (e.source, e.target, e.kind, e.calls)).collect();
    edges.sort();
    assert_eq!(
        edges,
        [
            ("service:web".into(), "service:pay".into(), EdgeKind::Request, 1),
            ("user".into(), "service:web".into(), EdgeKind::Request, 1),
        ]
    );
    let red = store.red(&RedQuery {
        service: Some("pay".into()),
        since_ns: T,
        until_ns: T * 2,
        grain: Grain::Buckets,
    });
    assert_eq!(red.unwrap().iter().map(|r| r.requests).sum::<u64>(), 1, "pay's server span");
    // Past the age bound, the trace and its rollup rows go.
    let later = T + 3_700 * S;
    store.enforce_retention(retention, later, 1_000).unwrap();
    let map = store
        .service_map(&MapQuery { since_ns: T, until_ns: T + 60 * S, grain: Grain::Buckets })
        .unwrap();
    assert!(map.edges.is_empty(), "{:?}", map.edges);
    let red = store
        .red(&RedQuery { service: None, since_ns: 0, until_ns: later, grain: Grain::Buckets })
        .unwrap();
    assert!(red.is_empty(), "{red:?}");
}
