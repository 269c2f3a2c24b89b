//! `TraceMap`: a trace's own map above its waterfall: the services (and databases, queues) it
//! crossed, with call counts, compact (fitted to a low box) and folded on demand. In the live
//! app it is asked for once the trace is drawn, so the waterfall's first paint never waits on
//! it; a trace over `EAGER_MAP_SPANS` spans opens folded and loads it only when unfolded. A
//! static page (`/ssr`) draws it at once, asked with the trace; a preview shows its heading only.

use dioxus::prelude::*;

use super::MapChart;
use crate::env::{use_render_mode, RenderMode};
use crate::hooks::{use_api, Loadable};
use crate::model::ServiceMap;

/// Traces with more spans than this open with their map folded: the server reads the whole
/// trace again to answer it, which a large trace's first paint should not share the CPU with.
pub(crate) const EAGER_MAP_SPANS: usize = 2_000;
/// The compact map's box height (px); the map is fitted into it.
const COMPACT_HEIGHT: f64 = 240.0;

/// The API path of trace `trace_id`'s map.
fn map_path(trace_id: &str) -> String {
    format!("/api/v1/map?trace_id={trace_id}")
}

/// The map's API path when a page in `mode` draws it with the trace (a page without scripts),
/// for the trace page to ask in the same render pass as the trace (`hooks::use_ssr_prefetch`).
pub(crate) fn drawn_with_the_trace(mode: RenderMode, trace_id: &str) -> Option<String> {
    (mode == RenderMode::Static).then(|| map_path(trace_id))
}

#[component]
pub(crate) fn TraceMap(trace_id: String, spans: usize) -> Element {
    let mode = use_render_mode();
    let mut open = use_signal(move || match mode {
        RenderMode::Static => true,
        RenderMode::Live => spans <= EAGER_MAP_SPANS,
        RenderMode::Preview => false,
    });
    let expanded = open();
    rsx! {
        section { class: "trace-map", "aria-label": "Services this trace crossed",
            div { class: "trace-map-head",
                h2 { "Services this trace crossed" }
                if mode == RenderMode::Live {
                    button {
                        class: "trace-map-toggle",
                        r#type: "button",
                        "aria-expanded": "{expanded}",
                        onclick: move |_| open.toggle(),
                        if expanded { "Hide the map" } else { "Show the map" }
                    }
                }
            }
            if expanded {
                TraceMapDrawn { trace_id }
            }
        }
    }
}

#[component]
fn TraceMapDrawn(trace_id: String) -> Element {
    let path = map_path(&trace_id);
    let map = use_api::<ServiceMap>(move || path.clone());
    match map {
        Loadable::Loading => rsx! { p { class: "loading", "Loading the trace's map…" } },
        Loadable::Failed(error) => {
            rsx! { p { class: "error-state", role: "alert", "Could not load the trace's map: {error}" } }
        }
        Loadable::Ready(map) if map.nodes.is_empty() => {
            rsx! { p { class: "empty-state", "This trace made no calls between services." } }
        }
        Loadable::Ready(map) => rsx! {
            MapChart {
                map: map.clone(),
                label: "Services this trace crossed: {map.nodes.len()} nodes, {map.edges.len()} edges",
                max_height: COMPACT_HEIGHT,
            }
        },
    }
}
