//! `ServiceMap`: the map of services derived from spans (`/map?since=&until=&service=`): the
//! range as links, the drawn map (`charts::map::MapChart`) and every edge as a table row (the
//! same numbers, readable without hovering, and what screen readers and tests read).

use dioxus::prelude::*;

use crate::charts::map::{edge_facts, edge_traces, node_group, node_kind_words, MapChart};
use crate::filters::{MapFilters, RawQuery, ServiceFilters, ServicePageFilters, SERVICE_RANGES};
use crate::hooks::{use_api_live, Loadable};
use crate::model::{MapNode, ServiceMap as Map};
use crate::routes::Route;

#[component]
pub(crate) fn ServiceMap(filters: ReadSignal<RawQuery>) -> Element {
    crate::uitrace::use_render_span();
    let filters = use_memo(move || MapFilters::from(filters.read().0.as_str()));
    let map = use_api_live::<Map>(move || filters.read().api_path());
    let current = filters();
    let since = if current.since.is_empty() { "1h".to_owned() } else { current.since.clone() };
    rsx! {
        section { class: "service-map-page",
            document::Title { "otelscope — service map" }
            p { class: "crumbs", Link { to: Route::ServiceList { filters: ServiceFilters::default() }, "Services" } " /" }
            h1 { "Service map" }
            nav { class: "range-picker", "aria-label": "Time range",
                for (value, text) in SERVICE_RANGES {
                    Link {
                        class: if since == value && current.until.is_empty() { "range on" } else { "range" },
                        to: MapFilters { since: value.into(), until: String::new(), ..current.clone() }.route(),
                        "{text}"
                    }
                }
                if !current.service.is_empty() {
                    " · centred on "
                    strong { "{current.service}" }
                    " "
                    Link { class: "range", to: MapFilters { service: String::new(), ..current.clone() }.route(), "show all" }
                }
            }
            match map {
                Loadable::Loading => rsx! { p { class: "loading", "Loading the map…" } },
                Loadable::Failed(error) => rsx! { p { class: "error-state", role: "alert", "Could not load the map: {error}" } },
                Loadable::Ready(map) if map.nodes.is_empty() => rsx! {
                    p { class: "empty-state", "No calls between services in this range." }
                },
                Loadable::Ready(map) => rsx! {
                    p { class: "map-legend",
                        "{map.nodes.len()} nodes, {map.edges.len()} edges. Boxes are services (click one for its page), "
                        "databases (rounded, double border), queues (a pipe: thick ends, dashed) and callers (dotted); "
                        if map.nodes.iter().any(|n| node_group(n).is_some()) { "dashed boxes around nodes are Kubernetes namespaces; " }
                        "each edge is labelled with its calls (click for those traces), "
                        span { class: "map-legend-error", "red edges had errors" }
                        ". Hover or focus for the numbers."
                        if map.pending > 0 { " {map.pending} calls still wait for their other half." }
                        if map.truncated { " Cut to the busiest nodes." }
                    }
                    MapChart { map: map.clone(), label: "Service map: {map.nodes.len()} nodes, {map.edges.len()} edges" }
                    EdgeTable { map }
                },
            }
        }
    }
}

/// Every edge as a row: caller, callee, calls, errors, percentiles.
#[component]
pub(crate) fn EdgeTable(map: Map) -> Element {
    let node = |id: &str| {
        map.nodes.iter().find(|n| n.id == id).cloned().unwrap_or_else(|| MapNode {
            id: id.into(),
            name: id.into(),
            ..MapNode::default()
        })
    };
    let rows: Vec<(MapNode, MapNode, crate::model::MapEdge, String, String)> = map
        .edges
        .iter()
        .map(|e| {
            let key = format!("{}>{}>{}", e.source, e.target, e.kind.as_str());
            let latency = edge_facts(e).split(", ").skip(2).collect::<Vec<_>>().join(" · ");
            (node(&e.source), node(&e.target), e.clone(), key, latency)
        })
        .collect();
    rsx! {
        table { class: "results map-edge-table",
            caption { "Calls between nodes" }
            thead {
                tr {
                    th { "From" }
                    th { "To" }
                    th { "Kind" }
                    th { class: "num", "Calls" }
                    th { class: "num", "Errors" }
                    th { "Latency" }
                }
            }
            tbody {
                for (source, target, edge, key, latency) in rows {
                    tr { key: "{key}", "data-edge": format!("{}>{}", edge.source, edge.target), class: if edge.errors > 0 { "has-errors" },
                        td { NodeName { node: source.clone() } }
                        td { NodeName { node: target.clone() } }
                        td { {edge.kind.as_str().to_owned()} }
                        td { class: "num", Link { to: edge_traces(&source, &target), "{edge.calls}" } }
                        td { class: "num errors", "{edge.errors}" }
                        td { class: "edge-latency", "{latency}" }
                    }
                }
            }
        }
    }
}

/// A node's name, a link to its page when it is a service.
#[component]
fn NodeName(node: MapNode) -> Element {
    if node.kind == crate::model::NodeKind::Service {
        rsx! { Link { to: ServicePageFilters::default().route(&node.name), "{node.name}" } }
    } else {
        let kind = node_kind_words(node.kind);
        rsx! { span { class: "virtual-node", "{node.name} " span { class: "badge", "{kind}" } } }
    }
}
