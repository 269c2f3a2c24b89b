//! The service map's answers, pure: `/api/v1/map` from the edge rows and every service's RED
//! rows of the range, and one trace's own map from its spans (`query::services` reads the
//! parameters and keeps the RED sums both use).

use std::collections::{BTreeMap, BTreeSet};

use otelscope_app::model::{
    EdgeKind, K8sGroup, MapEdge, MapNode, NodeKind, ServiceMap, Span, SELF_SERVICES,
};

use super::services::*;
use crate::store::{node_id, MapRows, RedRow, ROLLUP_BUCKET_NS};

/// `/api/v1/map`'s answer from the edge rows and every service's RED rows of the range.
pub fn map_answer(found: MapRows, red: &[RedRow], p: &MapParams) -> ServiceMap {
    let range = &p.range;
    let seconds = range.seconds();
    let hidden = |id: &str| {
        !p.include_self
            && SELF_SERVICES
                .iter()
                .any(|s| id == node_id(NodeKind::Service, s) && p.service.as_deref() != Some(s))
    };
    // Edges, summed over the range.
    let mut edges: BTreeMap<(String, String, EdgeKind), Acc> = BTreeMap::new();
    for row in found.edges {
        if hidden(&row.source) || hidden(&row.target) {
            continue;
        }
        let acc = edges.entry((row.source, row.target, row.kind)).or_default();
        acc.requests += row.calls;
        acc.errors += row.errors;
        acc.latency.merge_encoded(&row.latency);
    }
    if let Some(service) = &p.service {
        let me = node_id(NodeKind::Service, service);
        edges.retain(|(s, t, _), _| *s == me || *t == me);
    }
    // Nodes: every service with spans, every node an edge names.
    let mut nodes: BTreeMap<String, MapNode> = BTreeMap::new();
    let mut by_service: BTreeMap<&str, Vec<&RedRow>> = BTreeMap::new();
    for row in red {
        by_service.entry(&row.service).or_default().push(row);
    }
    for (service, rows) in by_service {
        let id = node_id(NodeKind::Service, service);
        if hidden(&id) {
            continue;
        }
        let kinds = kinds_counted(&rows, &KindFilter::Entry);
        let mut acc = Acc::default();
        rows.into_iter().filter(|r| kinds.contains(&r.kind)).for_each(|r| acc.add(r));
        nodes.insert(id.clone(), node(id, NodeKind::Service, service, &acc, seconds));
    }
    let mut incoming: BTreeMap<&str, Acc> = BTreeMap::new();
    let mut outgoing: BTreeMap<&str, u64> = BTreeMap::new();
    for ((source, target, _), acc) in &edges {
        let into = incoming.entry(target).or_default();
        into.requests += acc.requests;
        into.errors += acc.errors;
        into.latency.add(&acc.latency);
        *outgoing.entry(source).or_default() += acc.requests;
    }
    let meta: BTreeMap<&str, &crate::store::NodeRow> =
        found.nodes.iter().map(|n| (n.id.as_str(), n)).collect();
    for id in edges.keys().flat_map(|(s, t, _)| [s, t]) {
        if nodes.contains_key(id) {
            continue;
        }
        let (kind, name) = match meta.get(id.as_str()) {
            Some(m) => (m.kind, m.name.clone()),
            None => match id.split_once(':') {
                Some((kind, name)) => (kind.parse().unwrap_or_default(), name.to_owned()),
                None => (NodeKind::User, id.clone()),
            },
        };
        let acc = match kind {
            // `user` calls, it is not called: its numbers are its calls.
            NodeKind::User => {
                let mut acc = Acc::default();
                for ((source, _, _), e) in &edges {
                    if source == id {
                        acc.requests += e.requests;
                        acc.errors += e.errors;
                        acc.latency.add(&e.latency);
                    }
                }
                acc
            }
            _ => incoming.remove(id.as_str()).unwrap_or_default(),
        };
        nodes.insert(id.clone(), node(id.clone(), kind, &name, &acc, seconds));
    }
    for (id, node) in nodes.iter_mut() {
        if let Some(m) = meta.get(id.as_str()) {
            node.system = m.system.clone();
            if m.namespace.is_some() || m.deployment.is_some() {
                node.k8s = Some(K8sGroup {
                    namespace: m.namespace.clone(),
                    deployment: m.deployment.clone(),
                    pods: Vec::new(),
                });
            }
        }
    }
    if let Some(service) = &p.service {
        let me = node_id(NodeKind::Service, service);
        let near: BTreeSet<&String> = edges.keys().flat_map(|(s, t, _)| [s, t]).collect();
        let keep: BTreeSet<String> =
            nodes.keys().filter(|id| **id == me || near.contains(id)).cloned().collect();
        nodes.retain(|id, _| keep.contains(id));
    }
    let mut truncated = false;
    if nodes.len() > MAX_MAP_NODES {
        let mut busiest: Vec<(&String, u64)> = nodes
            .iter()
            .map(|(id, n)| (id, n.requests + outgoing.get(id.as_str()).copied().unwrap_or(0)))
            .collect();
        busiest.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        let keep: BTreeSet<String> =
            busiest.into_iter().take(MAX_MAP_NODES).map(|(id, _)| id.clone()).collect();
        nodes.retain(|id, _| keep.contains(id));
        truncated = true;
    }
    let edges = edges
        .into_iter()
        .filter(|((s, t, _), _)| nodes.contains_key(s) && nodes.contains_key(t))
        .map(|((source, target, kind), acc)| {
            let [p50, p95, p99] = acc.latency.percentiles();
            MapEdge {
                source,
                target,
                kind,
                calls: acc.requests,
                errors: acc.errors,
                p50_ms: ms(p50),
                p95_ms: ms(p95),
                p99_ms: ms(p99),
            }
        })
        .collect();
    ServiceMap {
        since_ns: range.start(),
        until_ns: range.until_ns,
        trace_id: None,
        service: p.service.clone(),
        nodes: nodes.into_values().collect(),
        edges,
        pending: found.pending,
        truncated,
    }
}

fn node(id: String, kind: NodeKind, name: &str, acc: &Acc, seconds: f64) -> MapNode {
    MapNode {
        id,
        name: name.to_owned(),
        kind,
        system: None,
        requests: acc.requests,
        errors: acc.errors,
        rate: acc.requests as f64 / seconds,
        error_pct: pct(acc.errors, acc.requests),
        p95_ms: ms(acc.latency.percentiles()[1]),
        k8s: None,
    }
}

/// One trace's map: its spans paired whole (`store::trace_edges`), every service it crossed
/// with its entry spans' numbers; rates are 0.
pub fn trace_map(trace_id: &str, spans: &[Span]) -> ServiceMap {
    let deltas = crate::store::trace_edges(spans);
    let mut edges = Vec::new();
    for (key, delta) in &deltas.edges {
        edges.push(crate::store::EdgeRow {
            bucket_ns: 0,
            source: key.source.clone(),
            target: key.target.clone(),
            kind: key.kind,
            calls: delta.calls.max(0) as u64,
            errors: delta.errors.max(0) as u64,
            latency: delta.latency.encode(),
        });
    }
    let nodes = deltas
        .nodes
        .iter()
        .map(|(id, m)| crate::store::NodeRow {
            id: id.clone(),
            kind: m.kind,
            name: m.name.clone(),
            system: m.system.clone(),
            namespace: m.namespace.clone(),
            deployment: m.deployment.clone(),
        })
        .collect();
    let red: Vec<RedRow> = crate::store::red_deltas(spans)
        .into_iter()
        .map(|(k, d)| RedRow {
            service: k.service,
            bucket_ns: 0,
            name: k.name,
            kind: crate::store::service_rows::span_kind(k.kind),
            requests: d.requests.max(0) as u64,
            errors: d.errors.max(0) as u64,
            duration_ns: d.duration_ns.max(0) as u64,
            latency: d.latency.encode(),
        })
        .collect();
    let start = spans.iter().map(|s| s.start_ns).min().unwrap_or(0);
    let end = spans.iter().map(|s| s.end_ns).max().unwrap_or(start);
    let p = MapParams {
        range: Range { since_ns: 0, until_ns: 0, step_ns: ROLLUP_BUCKET_NS },
        service: None,
        trace_id: Some(trace_id.to_owned()),
        include_self: true,
    };
    let mut map = map_answer(MapRows { edges, nodes, pending: 0 }, &red, &p);
    for node in &mut map.nodes {
        node.rate = 0.0;
    }
    map.since_ns = start;
    map.until_ns = end;
    map.trace_id = Some(trace_id.to_owned());
    map
}
