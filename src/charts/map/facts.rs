//! The map's numbers in words (a node's rate, error share and p95; an edge's calls, errors and
//! percentiles) and where an edge's link goes: pure, tested.

use crate::filters::TraceFilters;
use crate::model::{format_estimate, MapEdge, MapNode, NodeKind};
use crate::routes::Route;

fn ms(value: Option<f64>) -> String {
    value.map_or_else(|| "–".into(), |ms| format_estimate((ms * 1e6).round() as u64))
}

fn rate(rate: f64) -> String {
    if rate >= 10.0 {
        format!("{rate:.0}/s")
    } else if rate >= 0.01 || rate == 0.0 {
        format!("{rate:.2}/s")
    } else {
        "<0.01/s".into()
    }
}

fn pct(value: Option<f64>) -> String {
    match value {
        None => "–".into(),
        Some(p) if p > 0.0 && p < 0.1 => "<0.1%".into(),
        Some(p) => format!("{p:.1}%"),
    }
}

/// A node's numbers in one line: `2.31/s · 4.0% err · p95 12 ms` (a trace's map: the count).
pub(crate) fn node_stats(node: &MapNode, trace: bool) -> String {
    node_stats_lines(node, trace).join(" · ")
}

/// A node's lines under its name, short enough for its box (176 px at least): the rate and
/// error share, then the p95 (`["2.31/s · 4.0% err", "p95 12 ms"]`); a trace's map: the count.
pub(crate) fn node_stats_lines(node: &MapNode, trace: bool) -> Vec<String> {
    if node.kind == NodeKind::User {
        return if trace { Vec::new() } else { vec!["entry".into()] };
    }
    if trace {
        return vec![match node.errors {
            0 => format!("{} req", node.requests),
            e => format!("{} req · {e} err", node.requests),
        }];
    }
    vec![
        format!("{} · {} err", rate(node.rate), pct(node.error_pct)),
        format!("p95 {}", ms(node.p95_ms)),
    ]
}

/// What a node is, in words: `service`, `database`, `queue`, `user`, `peer`.
pub(crate) fn node_kind_words(kind: NodeKind) -> &'static str {
    match kind {
        NodeKind::Messaging => "queue",
        other => other.as_str(),
    }
}

/// Everything about a node, for its tooltip and accessible name.
pub(crate) fn node_facts(node: &MapNode, trace: bool) -> String {
    let mut out = node_kind_words(node.kind).to_owned();
    if let Some(system) = &node.system {
        out.push_str(&format!(" ({system})"));
    }
    out.push_str(&format!(", {} requests, {} errors", node.requests, node.errors));
    if !trace {
        out.push_str(&format!(
            ", {}, error rate {}, p95 {}",
            rate(node.rate),
            pct(node.error_pct),
            ms(node.p95_ms)
        ));
    }
    if let Some(k8s) = &node.k8s {
        let place: Vec<&str> =
            [k8s.namespace.as_deref(), k8s.deployment.as_deref()].into_iter().flatten().collect();
        if !place.is_empty() {
            out.push_str(&format!(", k8s {}", place.join("/")));
        }
        if !k8s.pods.is_empty() {
            out.push_str(&format!(", {} pods", k8s.pods.len()));
        }
    }
    out
}

/// Everything about an edge: `12 calls, 1 error, p50 3 ms, p95 9 ms, p99 12 ms`.
pub(crate) fn edge_facts(edge: &MapEdge) -> String {
    let errors = match edge.errors {
        1 => "1 error".to_owned(),
        n => format!("{n} errors"),
    };
    format!(
        "{} {}, {errors}, p50 {}, p95 {}, p99 {}",
        edge.calls,
        if edge.calls == 1 { "call" } else { "calls" },
        ms(edge.p50_ms),
        ms(edge.p95_ms),
        ms(edge.p99_ms)
    )
}

/// The traces with an edge's call: those of the callee when it is a service, else those of the
/// caller with the callee's attribute (the queue's destination, the database's system).
pub(crate) fn edge_traces(source: &MapNode, target: &MapNode) -> Route {
    let mut filters = TraceFilters::default();
    match target.kind {
        NodeKind::Service => filters.service = target.name.clone(),
        kind => {
            if source.kind == NodeKind::Service {
                filters.service = source.name.clone();
            }
            filters.attr = match (kind, &target.system) {
                (NodeKind::Messaging, _) => format!("messaging.destination.name={}", target.name),
                (NodeKind::Database, Some(system)) => format!("db.system={system}"),
                (NodeKind::Peer, _) => format!("peer.service={}", target.name),
                _ => String::new(),
            };
        }
    }
    Route::Traces { filters }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{K8sGroup, MapEdge};

    #[test]
    fn words() {
        let node = MapNode {
            id: "service:checkout".into(),
            name: "checkout".into(),
            requests: 120,
            errors: 6,
            rate: 2.0,
            error_pct: Some(5.0),
            p95_ms: Some(12.5),
            k8s: Some(K8sGroup {
                namespace: Some("shop".into()),
                deployment: Some("checkout".into()),
                pods: vec!["a".into(), "b".into()],
            }),
            ..MapNode::default()
        };
        assert_eq!(node_stats(&node, false), "2.00/s · 5.0% err · p95 12.5 ms");
        assert_eq!(node_stats(&node, true), "120 req · 6 err");
        assert_eq!(node_stats_lines(&node, false), ["2.00/s · 5.0% err", "p95 12.5 ms"]);
        let queue = MapNode {
            name: "receipts".into(),
            kind: NodeKind::Messaging,
            system: Some("in-process".into()),
            requests: 3,
            ..MapNode::default()
        };
        assert!(node_facts(&queue, true).starts_with("queue (in-process), 3 requests"));
        assert_eq!(
            node_facts(&node, false),
            "service, 120 requests, 6 errors, 2.00/s, error rate 5.0%, p95 12.5 ms, k8s shop/checkout, 2 pods"
        );
        let edge = MapEdge { calls: 1, errors: 1, p50_ms: Some(1.0), ..MapEdge::default() };
        assert_eq!(edge_facts(&edge), "1 call, 1 error, p50 1.00 ms, p95 –, p99 –");
        let db = MapNode {
            name: "orders".into(),
            kind: NodeKind::Database,
            system: Some("postgresql".into()),
            ..MapNode::default()
        };
        assert_eq!(
            edge_traces(&node, &db).to_string(),
            "/traces?service=checkout&attr=db.system%3Dpostgresql"
        );
        assert_eq!(edge_traces(&db, &node).to_string(), "/traces?service=checkout");
    }
}
