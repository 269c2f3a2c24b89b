//! Known answers of the RED and map answers from rollup rows (no database): series per step,
//! Impact worked out by hand, and the map's nodes and edges.

use otelscope_app::model::{EdgeKind, NodeKind, SpanKind};

use super::*;
use crate::query::service_map::{map_answer, trace_map};
use crate::store::{EdgeRow, MapRows, NodeRow};

/// A start that is a whole number of 30 s and 60 s steps (steps are aligned to the epoch).
const T0: u64 = 1_020_000_000_000;
const S: u64 = 1_000_000_000;
const MS: u64 = 1_000_000;

fn hist(n: u64, ns: u64) -> Vec<u8> {
    let mut h = Histogram::default();
    (0..n).for_each(|_| h.record(ns));
    h.encode()
}

fn row(
    service: &str,
    at: u64,
    name: &str,
    kind: SpanKind,
    n: u64,
    errors: u64,
    each_ns: u64,
) -> RedRow {
    RedRow {
        service: service.into(),
        bucket_ns: at,
        name: name.into(),
        kind,
        requests: n,
        errors,
        duration_ns: n * each_ns,
        latency: hist(n, each_ns),
    }
}

/// Over one minute: `GET /` (server) 60 + 30 calls of 100 ms, `SELECT` (client) 120 of 10 ms.
/// Impact = mean seconds × calls per minute: `GET /` 0.1 × 90 = 9, `SELECT` 0.01 × 120 = 1.2.
#[test]
fn red_series_and_impact() {
    let rows = vec![
        row("web", T0, "GET /", SpanKind::Server, 60, 6, 100 * MS),
        row("web", T0 + 30 * S, "GET /", SpanKind::Server, 30, 0, 100 * MS),
        row("web", T0, "SELECT", SpanKind::Client, 120, 0, 10 * MS),
        row("api", T0, "GET /", SpanKind::Server, 7, 0, MS),
    ];
    let p = parse_red("web", &format!("since={T0}&until={}&step=30s", T0 + 60 * S), T0).unwrap();
    let a = red_answer(&rows, &p);
    assert_eq!(a.kinds, [SpanKind::Server]);
    assert_eq!((a.series.since_ns, a.series.step_ns), (T0, 30 * S));
    assert_eq!(
        (a.series.requests.as_slice(), a.series.errors.as_slice()),
        (&[60, 30][..], &[6, 0][..])
    );
    assert_eq!(a.series.rate(0), 2.0);
    assert_eq!((a.totals.requests, a.totals.errors, a.totals.rate), (90, 6, 1.5));
    let p95 = a.series.p95_ns[0].unwrap();
    assert!(p95.abs_diff(100 * MS) <= 100 * MS / 100, "within 1%: {p95}");
    let ops: Vec<_> = a
        .operations
        .iter()
        .map(|o| (o.name.as_str(), o.kind, o.requests, o.per_min, o.avg_ns))
        .collect();
    assert_eq!(
        ops,
        [
            ("GET /", SpanKind::Server, 90, 90.0, Some(100 * MS)),
            ("SELECT", SpanKind::Client, 120, 120.0, Some(10 * MS))
        ]
    );
    assert!((a.operations[0].impact - 9.0).abs() < 1e-9);
    assert!((a.operations[1].impact - 1.2).abs() < 1e-9);
    assert_eq!(a.operations[0].impact_share, 1.0);
    assert!((a.operations[1].impact_share - 1.2 / 9.0).abs() < 1e-9);
    // One operation, every kind; another kind.
    let p = parse_red(
        "web",
        &format!("since={T0}&until={}&step=30s&operation=SELECT&kind=all", T0 + 60 * S),
        T0,
    )
    .unwrap();
    assert_eq!(red_answer(&rows, &p).totals.requests, 120);
    let p = parse_red("web", &format!("since={T0}&until={}&kind=client", T0 + 60 * S), T0).unwrap();
    assert_eq!(red_answer(&rows, &p).kinds, [SpanKind::Client]);
    assert!(parse_red("web", "kind=sideways", T0).is_err());
    assert!(parse_red("web", "colour=red", T0).is_err());
    // Sparklines: every service's entry spans.
    let asked = parse_services(&format!("since={T0}&until={}&step=30s", T0 + 60 * S), T0).unwrap();
    assert!(asked.sparklines && !asked.include_self);
    let lines = sparklines(&rows, &asked.range);
    let got: Vec<_> =
        lines.iter().map(|l| (l.service.as_str(), l.series.requests.clone())).collect();
    assert_eq!(got, [("api", vec![7, 0]), ("web", vec![60, 30])]);
    // A plain ask counts the last hour, without sparklines.
    let plain = parse_services("include_self=1", T0 + 7_200 * S).unwrap();
    assert_eq!((plain.range.since_ns, plain.range.until_ns), (T0 + 3_600 * S, T0 + 7_200 * S));
    assert!(plain.include_self && !plain.sparklines);
}

fn edge_row(
    at: u64,
    source: &str,
    target: &str,
    kind: EdgeKind,
    calls: u64,
    errors: u64,
) -> EdgeRow {
    EdgeRow {
        bucket_ns: at,
        source: source.into(),
        target: target.into(),
        kind,
        calls,
        errors,
        latency: hist(calls, 5 * MS),
    }
}

#[test]
fn the_map_from_edge_rows() {
    let found = MapRows {
        edges: vec![
            edge_row(T0, "user", "service:web", EdgeKind::Request, 10, 1),
            edge_row(T0, "service:web", "database:catalog", EdgeKind::Database, 20, 0),
            edge_row(T0, "service:web", "service:api", EdgeKind::Request, 2, 2),
            edge_row(T0 + 10 * S, "service:web", "service:api", EdgeKind::Request, 3, 0),
            edge_row(T0, "service:otelscope", "database:otel", EdgeKind::Database, 4, 0),
        ],
        nodes: vec![
            NodeRow {
                id: "database:catalog".into(),
                kind: NodeKind::Database,
                name: "catalog".into(),
                system: Some("sqlite".into()),
                ..NodeRow::default()
            },
            NodeRow {
                id: "service:web".into(),
                kind: NodeKind::Service,
                name: "web".into(),
                namespace: Some("shop".into()),
                ..NodeRow::default()
            },
        ],
        pending: 4,
    };
    let red = vec![
        row("web", T0, "GET /", SpanKind::Server, 10, 1, MS),
        row("web", T0, "call", SpanKind::Client, 25, 0, MS),
        row("api", T0, "GET /", SpanKind::Server, 5, 2, MS),
        row("otelscope", T0, "GET /api", SpanKind::Server, 3, 0, MS),
    ];
    let p = parse_map(&format!("since={T0}&until={}", T0 + 100 * S), T0).unwrap();
    let map = map_answer(found.clone(), &red, &p);
    let nodes: Vec<_> =
        map.nodes.iter().map(|n| (n.id.as_str(), n.kind, n.requests, n.errors)).collect();
    assert_eq!(
        nodes,
        [
            ("database:catalog", NodeKind::Database, 20, 0),
            ("service:api", NodeKind::Service, 5, 2),
            ("service:web", NodeKind::Service, 10, 1),
            ("user", NodeKind::User, 10, 1),
        ]
    );
    assert_eq!(map.nodes[0].system.as_deref(), Some("sqlite"));
    assert_eq!(map.nodes[2].k8s.as_ref().and_then(|k| k.namespace.as_deref()), Some("shop"));
    assert_eq!(map.nodes[2].rate, 0.1);
    let edges: Vec<_> = map
        .edges
        .iter()
        .map(|e| (e.source.as_str(), e.target.as_str(), e.calls, e.errors))
        .collect();
    assert_eq!(
        edges,
        [
            ("service:web", "database:catalog", 20, 0),
            ("service:web", "service:api", 5, 2),
            ("user", "service:web", 10, 1),
        ]
    );
    let p95 = map.edges[0].p95_ms.unwrap();
    assert!((p95 - 5.0).abs() <= 5.0 / 100.0, "within 1%: {p95}");
    assert_eq!(map.pending, 4);
    // Centred on one service: it and its neighbours.
    let p = parse_map(&format!("since={T0}&until={}&service=api", T0 + 100 * S), T0).unwrap();
    let map = map_answer(found.clone(), &red, &p);
    let ids: Vec<_> = map.nodes.iter().map(|n| n.id.as_str()).collect();
    assert_eq!(ids, ["service:api", "service:web"]);
    assert_eq!(map.edges.len(), 1);
    // otelscope's own only when asked.
    let p = parse_map(&format!("since={T0}&until={}&include_self=1", T0 + 100 * S), T0).unwrap();
    assert!(map_answer(found, &red, &p).nodes.iter().any(|n| n.id == "service:otelscope"));
    assert!(parse_map("trace_id=xyz", T0).is_err());
}

/// A trace's own map: pairs made whole, halves left expired (a client naming a peer).
#[test]
fn a_traces_map() {
    use otelscope_app::model::fixture::span;
    use otelscope_app::model::AttrValue;
    let spans = vec![
        span(1u32, 1u32, "GET /").service("web").kind(SpanKind::Server).ns(0, 100).build(),
        span(1u32, 2u32, "call")
            .parent(1u32)
            .service("web")
            .kind(SpanKind::Client)
            .ns(10, 50)
            .build(),
        span(1u32, 3u32, "serve")
            .parent(2u32)
            .service("api")
            .kind(SpanKind::Server)
            .ns(12, 48)
            .build(),
        span(1u32, 4u32, "pay")
            .parent(1u32)
            .service("web")
            .kind(SpanKind::Client)
            .attr("peer.service", AttrValue::String("payments".into()))
            .ns(60, 90)
            .build(),
    ];
    let map = trace_map(&"1".repeat(32), &spans);
    let edges: Vec<_> =
        map.edges.iter().map(|e| (e.source.as_str(), e.target.as_str(), e.calls)).collect();
    assert_eq!(
        edges,
        [
            ("service:web", "peer:payments", 1),
            ("service:web", "service:api", 1),
            ("user", "service:web", 1)
        ]
    );
    let ids: Vec<_> = map.nodes.iter().map(|n| n.id.as_str()).collect();
    assert_eq!(ids, ["peer:payments", "service:api", "service:web", "user"]);
    assert_eq!((map.since_ns, map.until_ns), (0, 100));
}
