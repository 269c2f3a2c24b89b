//! The service map: `layout` places a graph of services as layered columns (a pure function with
//! golden tests), `order` reduces its crossings, `facts` words the numbers, and `MapChart` draws
//! it: edges as SVG paths, nodes and edge labels as links laid over them (so they are focusable,
//! work without scripts and render the same in all three renderers). Hover or focus shows a
//! node's or an edge's numbers. Nodes that carry a Kubernetes namespace are drawn inside a box
//! labelled with it (`groups.rs`); a queue (`messaging` node) is drawn as a pipe, its kind said
//! in its accessible name. A map wider than its box is fitted to it (`zoom.rs`); the buttons
//! zoom, and the box pans by scrolling.

mod facts;
mod groups;
pub(crate) mod layout;
mod order;
mod trace_map;
mod zoom;

use std::collections::HashMap;

use dioxus::prelude::*;

use crate::env::{use_render_mode, RenderMode};
use crate::filters::ServicePageFilters;
use crate::model::{MapEdge, MapNode, NodeKind, ServiceMap};
pub(crate) use facts::{
    edge_facts, edge_traces, node_facts, node_kind_words, node_stats, node_stats_lines,
};
pub(crate) use trace_map::{drawn_with_the_trace, TraceMap};

/// Names longer than this are cut with `…` in their box (the full name is in its title).
const NAME_CHARS: usize = 28;

/// A node's group on the map: its Kubernetes namespace.
pub(crate) fn node_group(node: &MapNode) -> Option<&str> {
    node.k8s.as_ref()?.namespace.as_deref().filter(|ns| !ns.is_empty())
}

/// The map's layout: node and edge indices resolved, then `layout::layout_grouped` (grouped by
/// namespace).
pub(crate) fn map_layout(map: &ServiceMap) -> (layout::MapLayout, Vec<(usize, usize)>) {
    let index: HashMap<&str, usize> =
        map.nodes.iter().enumerate().map(|(i, n)| (n.id.as_str(), i)).collect();
    let names: Vec<&str> = map.nodes.iter().map(|n| n.name.as_str()).collect();
    let groups: Vec<Option<&str>> = map.nodes.iter().map(node_group).collect();
    let edges: Vec<(usize, usize)> = map
        .edges
        .iter()
        .map(|e| {
            let missing = usize::MAX;
            (
                index.get(e.source.as_str()).copied().unwrap_or(missing),
                index.get(e.target.as_str()).copied().unwrap_or(missing),
            )
        })
        .collect();
    (layout::layout_grouped(&names, &groups, &edges), edges)
}

/// `name` cut to [`NAME_CHARS`] characters.
fn short(name: &str) -> String {
    if name.chars().count() <= NAME_CHARS {
        name.to_owned()
    } else {
        let mut cut: String = name.chars().take(NAME_CHARS - 1).collect();
        cut.push('…');
        cut
    }
}

/// Draws `map` (a service map or a trace's); `label` names it for assistive technology.
/// `max_height`: the box's height when the map is fitted (a trace's compact map); without it the
/// map is fitted to the box's width only.
#[component]
pub(crate) fn MapChart(map: ServiceMap, label: String, max_height: Option<f64>) -> Element {
    let (placed, ends) = map_layout(&map);
    let (w, h) = (placed.width, placed.height);
    let edges: Vec<(usize, &MapEdge, String)> = map
        .edges
        .iter()
        .enumerate()
        .map(|(i, e)| (i, e, format!("{}>{}>{}", e.source, e.target, e.kind.as_str())))
        .collect();
    let live = use_render_mode() == RenderMode::Live;
    let mut picked = use_signal(|| zoom::Zoom::Fit);
    let box_width = use_signal(|| 0.0);
    let scale = zoom::scale(picked(), box_width(), max_height, w, h);
    let percent = (scale * 100.0).round();
    let fitted = picked() == zoom::Zoom::Fit;
    let box_style = max_height.map(|m| format!("max-height: {m}px")).unwrap_or_default();
    rsx! {
        if live {
            div { class: "map-tools", role: "toolbar", "aria-label": "Zoom the map",
                button { r#type: "button", class: "map-fit", "aria-pressed": "{fitted}", title: "Show the whole map in its box",
                    onclick: move |_| picked.set(zoom::Zoom::Fit), "Fit"
                }
                button { r#type: "button", class: "map-zoom-out", "aria-label": "Zoom out", title: "Zoom out",
                    onclick: move |_| picked.set(zoom::Zoom::Scale(zoom::zoom_out(scale))), "−"
                }
                button { r#type: "button", class: "map-zoom-in", "aria-label": "Zoom in", title: "Zoom in",
                    onclick: move |_| picked.set(zoom::Zoom::Scale(zoom::zoom_in(scale))), "+"
                }
                button { r#type: "button", class: "map-actual", title: "Actual size",
                    onclick: move |_| picked.set(zoom::Zoom::Scale(1.0)), "100%"
                }
                span { class: "map-scale", "aria-live": "polite", "{percent}%" }
                if w * scale > box_width() + 1.0 && box_width() > 0.0 {
                    span { class: "muted map-pan-hint", " · wider than its box: scroll to pan" }
                }
            }
        }
        div { class: "map-scroll", style: "{box_style}",
            onresize: crate::charts::track_width(box_width),
            div {
                class: "service-map",
                role: "group",
                "aria-label": "{label}",
                "data-scale": "{scale}",
                style: "width: {w}px; height: {h}px; zoom: {scale}",
                svg {
                    class: "map-edges",
                    width: "{w}",
                    height: "{h}",
                    view_box: "0 0 {w} {h}",
                    "aria-hidden": "true",
                    defs {
                        marker { id: "map-arrow", view_box: "0 0 10 10", ref_x: "9", ref_y: "5", marker_width: "7", marker_height: "7", orient: "auto-start-reverse",
                            path { class: "map-arrow", d: "M0 0 L10 5 L0 10 z" }
                        }
                        marker { id: "map-arrow-error", view_box: "0 0 10 10", ref_x: "9", ref_y: "5", marker_width: "7", marker_height: "7", orient: "auto-start-reverse",
                            path { class: "map-arrow error", d: "M0 0 L10 5 L0 10 z" }
                        }
                    }
                    for (i, edge, key) in edges.iter().cloned() {
                        if !placed.edges[i].path.is_empty() {
                            path {
                                key: "{key}",
                                class: if edge.errors > 0 { "map-edge error" } else { "map-edge" },
                                "data-kind": edge.kind.as_str(),
                                d: "{placed.edges[i].path}",
                                "marker-end": if edge.errors > 0 { "url(#map-arrow-error)" } else { "url(#map-arrow)" },
                            }
                        }
                    }
                }
                for group in placed.groups.iter() {
                    div {
                        key: "{group.label}@{group.x},{group.y}",
                        class: "map-group",
                        "data-group": "{group.label}",
                        style: "left: {group.x}px; top: {group.y}px; width: {group.width}px; height: {group.height}px",
                        span { class: "map-group-label", title: "Kubernetes namespace {group.label}", "namespace {group.label}" }
                    }
                }
                for (i, edge, key) in edges.iter().cloned() {
                    if !placed.edges[i].path.is_empty() {
                        EdgeLabel {
                            key: "{key}",
                            edge: edge.clone(),
                            at: placed.edges[i].label,
                            source: map.nodes.get(ends[i].0).cloned().unwrap_or_default(),
                            target: map.nodes.get(ends[i].1).cloned().unwrap_or_default(),
                            trace: map.trace_id.is_some(),
                        }
                    }
                }
                for (node, at) in map.nodes.iter().zip(&placed.nodes) {
                    NodeBox { key: "{node.id}", node: node.clone(), x: at.x, y: at.y, width: at.width, height: at.height, trace: map.trace_id.is_some() }
                }
            }
        }
    }
}

#[component]
fn NodeBox(node: MapNode, x: f64, y: f64, width: f64, height: f64, trace: bool) -> Element {
    let style = format!("left: {x}px; top: {y}px; width: {width}px; height: {height}px");
    let facts = node_facts(&node, trace);
    let stats = node_stats(&node, trace);
    let lines = node_stats_lines(&node, trace);
    let kind = node.kind.as_str();
    let errors = if node.errors > 0 { " has-errors" } else { "" };
    let class = format!("map-node kind-{kind}{errors}");
    let name = short(&node.name);
    let body = rsx! {
        span { class: "map-name", "{name}" }
        for line in lines {
            span { class: "map-stats", "{line}" }
        }
        span { class: "map-tip", role: "tooltip", "{facts}" }
    };
    if node.kind == NodeKind::Service {
        rsx! {
            Link {
                class: "{class}",
                style: "{style}",
                to: ServicePageFilters::default().route(&node.name),
                // Named by what it shows (name and numbers: axe's label-content-name-mismatch);
                // the full name and the facts are its description.
                title: "{node.name}: {facts}",
                "data-node": "{node.id}",
                {body}
            }
        }
    } else {
        rsx! {
            div {
                class: "{class}",
                style: "{style}",
                tabindex: "0",
                title: "{node.name}",
                "aria-label": "{name} {stats}. {node.name}: {facts}",
                "data-node": "{node.id}",
                {body}
            }
        }
    }
}

#[component]
fn EdgeLabel(
    edge: MapEdge,
    at: (f64, f64),
    source: MapNode,
    target: MapNode,
    trace: bool,
) -> Element {
    let facts = edge_facts(&edge);
    let calls = if edge.errors > 0 {
        format!("{} calls · {} err", edge.calls, edge.errors)
    } else if edge.calls == 1 {
        "1 call".to_owned()
    } else {
        format!("{} calls", edge.calls)
    };
    let class = if edge.errors > 0 { "map-edge-label error" } else { "map-edge-label" };
    let _ = trace;
    rsx! {
        Link {
            class: "{class}",
            style: format!("left: {}px; top: {}px", at.0, at.1),
            to: edge_traces(&source, &target),
            // The visible text first (axe's label-content-name-mismatch), then the numbers.
            "aria-label": "{calls}: {source.name} to {target.name}, {facts}",
            "data-edge": format!("{}>{}", edge.source, edge.target),
            "{calls}"
            span { class: "map-tip", role: "tooltip", "{source.name} → {target.name}: {facts}" }
        }
    }
}

#[cfg(test)]
mod tests;
