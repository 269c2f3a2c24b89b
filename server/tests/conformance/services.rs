//! Cases on services in depth (issue 25): the RED rollup rows, and the service map's edges by
//! Tempo's pairing rules, known answers written by hand: a call split over two batches in
//! either order, a producer and its consumer through a span link (with and without a queue
//! named), database and `user` nodes, errors on an edge, and a client nobody answered expiring
//! to the peer it names once a batch comes `PAIR_WAIT_NS` later.

use otelscope_app::model::fixture::span;
use otelscope_app::model::{EdgeKind, NodeKind, Span, SpanKind, SpanLink};
use otelscope_server::store::{Grain, Histogram, MapQuery, RedQuery, Store, PAIR_WAIT_NS};

use super::{store_spans, text, T};

const S: u64 = 1_000_000_000;

/// The map's edges over `[T, T + 60 s]`, summed over buckets: (source, target, kind, calls,
/// errors), sorted.
fn edges(store: &dyn Store) -> Vec<(String, String, EdgeKind, u64, u64)> {
    let rows = store
        .service_map(&MapQuery { since_ns: T, until_ns: T + 60 * S, grain: Grain::Buckets })
        .unwrap();
    let mut sum: std::collections::BTreeMap<(String, String, EdgeKind), (u64, u64)> =
        Default::default();
    for e in rows.edges {
        let entry = sum.entry((e.source, e.target, e.kind)).or_default();
        entry.0 += e.calls;
        entry.1 += e.errors;
    }
    sum.into_iter().map(|((s, t, k), (c, e))| (s, t, k, c, e)).collect()
}

fn edge(
    source: &str,
    target: &str,
    kind: EdgeKind,
    calls: u64,
    errors: u64,
) -> (String, String, EdgeKind, u64, u64) {
    (source.into(), target.into(), kind, calls, errors)
}

fn pending(store: &dyn Store) -> u64 {
    store
        .service_map(&MapQuery { since_ns: T, until_ns: T + 60 * S, grain: Grain::Buckets })
        .unwrap()
        .pending
}

fn client(
    trace: u32,
    id: u32,
    service: &str,
    start: u64,
) -> otelscope_app::model::fixture::SpanBuilder {
    span(trace, id, "call").service(service).kind(SpanKind::Client).ns(start, start + 5)
}

fn server(trace: u32, id: u32, parent: u32, service: &str, start: u64) -> Span {
    span(trace, id, "serve")
        .parent(parent)
        .service(service)
        .kind(SpanKind::Server)
        .ns(start + 1, start + 3)
        .build()
}

pub fn red_rows_per_service_operation_kind_and_bucket(store: &dyn Store) {
    let root = |id: u32, start: u64, end: u64| {
        span(1u32, id, "GET /").service("web").kind(SpanKind::Server).ns(start, end)
    };
    store_spans(
        store,
        T,
        vec![
            root(1, T, T + 4).build(),
            root(2, T + 1, T + 7).error("boom").build(),
            span(1u32, 3u32, "SELECT")
                .parent(1u32)
                .service("web")
                .kind(SpanKind::Client)
                .ns(T + 1, T + 3)
                .build(),
            span(2u32, 4u32, "consume")
                .service("worker")
                .kind(SpanKind::Consumer)
                .ns(T + 10 * S, T + 10 * S + 9)
                .build(),
        ],
    );
    // A later batch adds to the same row.
    store_spans(store, T + 1, vec![root(5, T + 2, T + 4).build()]);
    let mut rows = store
        .red(&RedQuery {
            service: Some("web".into()),
            since_ns: T,
            until_ns: T + 60 * S,
            grain: Grain::Buckets,
        })
        .unwrap();
    rows.sort_by(|a, b| (a.bucket_ns, &a.name).cmp(&(b.bucket_ns, &b.name)));
    let got: Vec<_> = rows
        .iter()
        .map(|r| {
            (
                r.service.as_str(),
                r.bucket_ns,
                r.name.as_str(),
                r.kind,
                r.requests,
                r.errors,
                r.duration_ns,
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("web", T, "GET /", SpanKind::Server, 3, 1, 4 + 6 + 2),
            ("web", T, "SELECT", SpanKind::Client, 1, 0, 2),
        ]
    );
    let mut h = Histogram::default();
    h.merge_encoded(&rows[0].latency);
    assert_eq!((h.count(), h.quantile(0.5), h.quantile(1.0)), (3, Some(4), Some(6)));
    // Every service, and a range that leaves a bucket out.
    let all = store
        .red(&RedQuery { service: None, since_ns: T, until_ns: T + 60 * S, grain: Grain::Buckets })
        .unwrap();
    assert_eq!(all.len(), 3);
    let late = store
        .red(&RedQuery {
            service: None,
            since_ns: T + 10 * S,
            until_ns: T + 60 * S,
            grain: Grain::Buckets,
        })
        .unwrap();
    let late: Vec<_> = late.iter().map(|r| (r.service.as_str(), r.kind, r.requests)).collect();
    assert_eq!(late, [("worker", SpanKind::Consumer, 1)]);
    assert!(store
        .red(&RedQuery {
            service: Some("nobody".into()),
            since_ns: 0,
            until_ns: T * 2,
            grain: Grain::Buckets
        })
        .unwrap()
        .is_empty());
}

pub fn a_call_pairs_across_batches_in_either_order(store: &dyn Store) {
    // Trace 1: the client's batch first, the server's second.
    store_spans(store, T, vec![client(1, 1, "web", T).build()]);
    assert_eq!((edges(store), pending(store)), (vec![], 1));
    store_spans(store, T + 1, vec![server(1, 2, 1, "api", T)]);
    assert_eq!(edges(store), [edge("service:web", "service:api", EdgeKind::Request, 1, 0)]);
    // Trace 2: the server first.
    store_spans(store, T + 2, vec![server(2, 2, 1, "api", T)]);
    assert_eq!(pending(store), 1);
    store_spans(store, T + 3, vec![client(2, 1, "web", T).build()]);
    // Trace 3: both in one batch.
    store_spans(store, T + 4, vec![server(3, 2, 1, "api", T), client(3, 1, "web", T).build()]);
    assert_eq!(edges(store), [edge("service:web", "service:api", EdgeKind::Request, 3, 0)]);
    assert_eq!(pending(store), 0);
    // The latency is the client's: 5 ns each.
    let rows = store
        .service_map(&MapQuery { since_ns: T, until_ns: T + 60 * S, grain: Grain::Buckets })
        .unwrap();
    let mut h = Histogram::default();
    rows.edges.iter().for_each(|e| h.merge_encoded(&e.latency));
    assert_eq!((h.count(), h.quantile(0.99)), (3, Some(5)));
}

pub fn producer_to_consumer_through_a_link(store: &dyn Store) {
    let producer = |trace: u32, queue: Option<&str>| {
        let mut s =
            span(trace, 1u32, "publish").service("orders").kind(SpanKind::Producer).ns(T, T + 2);
        if let Some(q) = queue {
            s = s
                .attr("messaging.destination.name", text(q))
                .attr("messaging.system", text("kafka"));
        }
        s.build()
    };
    let consumer = |trace: u32, linked: u32| {
        let mut s = span(trace, 9u32, "process")
            .service("billing")
            .kind(SpanKind::Consumer)
            .ns(T + 5, T + 8)
            .build();
        s.links.push(SpanLink {
            trace_id: format!("{linked:032x}"),
            span_id: format!("{:016x}", 1),
            attributes: Vec::new(),
        });
        s
    };
    // No queue named: one edge producer → consumer, the consumer (another trace) a batch later.
    store_spans(store, T, vec![producer(3, None)]);
    store_spans(store, T + 1, vec![consumer(4, 3)]);
    assert_eq!(
        edges(store),
        [edge("service:orders", "service:billing", EdgeKind::Messaging, 1, 0)]
    );
    // The producer names its queue, the consumer does not: through the queue, in any order.
    store_spans(store, T + 2, vec![consumer(6, 5)]);
    store_spans(store, T + 3, vec![producer(5, Some("orders-q"))]);
    assert_eq!(
        edges(store),
        [
            edge("messaging:orders-q", "service:billing", EdgeKind::Messaging, 1, 0),
            edge("service:orders", "messaging:orders-q", EdgeKind::Messaging, 1, 0),
            edge("service:orders", "service:billing", EdgeKind::Messaging, 1, 0),
        ]
    );
    let nodes = store
        .service_map(&MapQuery { since_ns: T, until_ns: T + 60 * S, grain: Grain::Buckets })
        .unwrap()
        .nodes;
    let queue = nodes.iter().find(|n| n.id == "messaging:orders-q").expect("the queue's node");
    assert_eq!(
        (queue.kind, queue.name.as_str(), queue.system.as_deref()),
        (NodeKind::Messaging, "orders-q", Some("kafka"))
    );
    // Every half found its other half.
    assert_eq!(pending(store), 0);
}

pub fn database_user_and_error_edges(store: &dyn Store) {
    store_spans(
        store,
        T,
        vec![
            // A server span without a parent: called by `user`; it failed.
            span(1u32, 1u32, "GET /")
                .service("web")
                .kind(SpanKind::Server)
                .ns(T, T + 9)
                .error("500")
                .build(),
            // A database named by its namespace, another by its address (which comes first).
            client(1, 2, "web", T)
                .attr("db.system.name", text("sqlite"))
                .attr("db.namespace", text("catalog"))
                .build(),
            client(1, 3, "web", T)
                .attr("db.system", text("redis"))
                .attr("server.address", text("cache-1"))
                .build(),
            // A failing client whose server succeeded: the call failed.
            client(1, 4, "web", T).error("timeout").build(),
            server(1, 5, 4, "api", T),
        ],
    );
    assert_eq!(
        edges(store),
        [
            edge("service:web", "database:cache-1", EdgeKind::Database, 1, 0),
            edge("service:web", "database:catalog", EdgeKind::Database, 1, 0),
            edge("service:web", "service:api", EdgeKind::Request, 1, 1),
            edge("user", "service:web", EdgeKind::Request, 1, 1),
        ]
    );
    let nodes = store
        .service_map(&MapQuery { since_ns: T, until_ns: T + 60 * S, grain: Grain::Buckets })
        .unwrap()
        .nodes;
    let systems: Vec<_> = nodes
        .iter()
        .filter(|n| n.kind == NodeKind::Database)
        .map(|n| (n.id.as_str(), n.system.as_deref()))
        .collect();
    assert_eq!(
        systems,
        [("database:cache-1", Some("redis")), ("database:catalog", Some("sqlite"))]
    );
    assert_eq!(pending(store), 0);
}

pub fn unanswered_calls_expire_to_the_peer_they_name(store: &dyn Store) {
    store_spans(
        store,
        T,
        vec![
            client(1, 1, "web", T).attr("peer.service", text("payments")).build(),
            // A client naming nothing, and a server whose caller never shows: they just go.
            client(1, 2, "web", T).build(),
            server(2, 2, 7, "api", T),
        ],
    );
    assert_eq!((edges(store), pending(store)), (vec![], 3));
    // Not yet: a batch within the wait.
    store_spans(
        store,
        T + PAIR_WAIT_NS - 1,
        vec![span(9u32, 1u32, "tick").service("cron").ns(T, T + 1).build()],
    );
    assert_eq!(pending(store), 3);
    store_spans(
        store,
        T + PAIR_WAIT_NS + 1,
        vec![span(9u32, 2u32, "tick").service("cron").ns(T, T + 1).build()],
    );
    assert_eq!(edges(store), [edge("service:web", "peer:payments", EdgeKind::Request, 1, 0)]);
    assert_eq!(pending(store), 0);
}
