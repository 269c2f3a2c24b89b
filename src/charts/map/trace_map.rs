//! `TraceMap`: a trace's own map under its waterfall: the services (and databases, queues) it
//! crossed, with call counts. In the live app it loads when opened, so the waterfall's first
//! paint does not wait for it; a static page (`/ssr`) draws it at once.

use dioxus::prelude::*;

use super::MapChart;
use crate::env::{use_render_mode, RenderMode};
use crate::hooks::{use_api, Loadable};
use crate::model::ServiceMap;

#[component]
pub(crate) fn TraceMap(trace_id: String) -> Element {
    let mode = use_render_mode();
    let mut open = use_signal(|| mode == RenderMode::Static);
    rsx! {
        section { class: "trace-map", "aria-label": "Services this trace crossed",
            if open() {
                h2 { "Services this trace crossed" }
                TraceMapDrawn { trace_id }
            } else if mode == RenderMode::Live {
                button { class: "trace-map-open", r#type: "button", onclick: move |_| open.set(true),
                    "Show the services this trace crossed"
                }
            }
        }
    }
}

#[component]
fn TraceMapDrawn(trace_id: String) -> Element {
    let path = format!("/api/v1/map?trace_id={trace_id}");
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
            MapChart { map: map.clone(), label: "Services this trace crossed: {map.nodes.len()} nodes, {map.edges.len()} edges" }
        },
    }
}
