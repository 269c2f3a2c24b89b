//! `FlamePanel`: one flame graph answer with its controls — search (share of the matches),
//! flame/icicle (the icicle by default for deep graphs), reset zoom, the sandwich of one function,
//! the table of functions by self and total (`functions.rs`), the diff legend — all kept in the
//! page's URL, so they work as links and GET forms without scripts too.

use std::rc::Rc;

use dioxus::prelude::*;

use super::analysis::{diff_colour, sandwich, search, share_text};
use super::chart::{page_href, ChartLink, FlameChart, FrameAction, SharedFlat};
use super::functions::{deep, FunctionTable};
use super::layout::Flat;
use crate::filters::{query_pairs, ChartParams};
use crate::model::FlameGraph;

/// An answer, compared by identity.
#[derive(Clone)]
pub struct SharedGraph(pub Rc<FlameGraph>);

impl PartialEq for SharedGraph {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

#[component]
pub fn FlamePanel(graph: SharedGraph, params: ChartParams, link: ChartLink) -> Element {
    let flat = use_memo(use_reactive!(|graph| SharedFlat(Rc::new(Flat::new(&graph.0.root)))));
    let flat = flat();
    let graph = graph.0;
    let diff = graph.base.is_some();
    let sandwich_of =
        (params.view == "sandwich" && !params.frame.is_empty()).then(|| params.frame.clone());
    let halves = use_memo(use_reactive!(|flat, sandwich_of| {
        sandwich_of.map(|name| {
            let (callers, callees) = sandwich(&flat.0, &name);
            (SharedFlat(Rc::new(Flat::new(&callers))), SharedFlat(Rc::new(Flat::new(&callees))))
        })
    }));
    // Deep graphs open as the icicle, root at the top, so it is not below the fold.
    let icicle = params.view == "icicle" || (params.view.is_empty() && deep(&flat.0));
    let share =
        (!params.search.trim().is_empty()).then(|| share_text(search(&flat.0, &params.search).1));
    let url = |change: &dyn Fn(&mut ChartParams)| {
        let mut next = params.clone();
        change(&mut next);
        (link.0)(next)
    };
    // The search form's target and the page's other parameters, for the form without scripts.
    let search_url = url(&|p| p.search.clear());
    let (action, query) = search_url.split_once('?').unwrap_or((&search_url, ""));
    let hidden: Vec<(String, String)> = query_pairs(query).filter(|(k, _)| k != "search").collect();
    let navigator = use_navigator();
    let live_search = {
        let params = params.clone();
        let link = link.clone();
        move |value: String| {
            navigator.replace((link.0)(ChartParams { search: value, ..params.clone() }));
        }
    };
    // On a deep graph the flame view must be asked for by name (no view means the icicle).
    let flame_url =
        if deep(&flat.0) { url(&|p| p.view = "flame".into()) } else { url(&|p| p.view.clear()) };
    let icicle_url = url(&|p| p.view = "icicle".into());
    let reset_url = (!params.zoom.is_empty()).then(|| url(&|p| p.zoom.clear()));
    // The charts drawn: the whole graph, or the sandwich's callers (root at the bottom, callers
    // growing up) and callees (growing down).
    let charts = match halves() {
        Some((callers, callees)) => vec![
            (callers, ChartParams::default(), FrameAction::Sandwich, false, false, "callers"),
            (callees, ChartParams::default(), FrameAction::Sandwich, true, false, "callees"),
        ],
        None => vec![(flat.clone(), params.clone(), FrameAction::Zoom, icicle, diff, "main")],
    };
    rsx! {
        div { class: "flame-panel",
            div { class: "fl-toolbar",
                form { class: "fl-search", method: "get", action: page_href(action),
                    onsubmit: move |e| e.prevent_default(),
                    for (key, value) in hidden {
                        input { r#type: "hidden", name: "{key}", value: "{value}" }
                    }
                    input { r#type: "search", name: "search", placeholder: "Search frames", value: "{params.search}",
                        oninput: move |e| live_search(e.value()) }
                    noscript { button { r#type: "submit", "Search" } }
                }
                if let Some(share) = share {
                    span { class: "fl-share", "{share}" }
                }
                span { class: "fl-views",
                    GoLink { url: flame_url, class: if !icicle && sandwich_of.is_none() { "active" } else { "" }, "Flame" }
                    GoLink { url: icicle_url, class: if icicle { "active" } else { "" }, "Icicle" }
                }
                if let Some(reset) = reset_url {
                    GoLink { url: reset, class: "fl-reset", "Reset zoom" }
                }
            }
            if diff {
                DiffLegend { base: graph.base.as_ref().map(|b| format!("{} ({} traces)", b.title, b.traces)).unwrap_or_default(), selection: format!("{} traces", graph.traces) }
            }
            if graph.truncated {
                p { class: "note", "Too many distinct stacks: the smallest were merged into [other] frames." }
            }
            if sandwich_of.is_some() {
                h2 { class: "fl-sandwich-title", "Sandwich of " code { "{params.frame}" } ": callers above, callees below " }
                GoLink { url: url(&|p| { p.view.clear(); p.frame.clear(); }), class: "fl-back", "Back to the whole graph" }
            }
            for (flat, params, action, icicle, diff, role) in charts {
                FlameChart { key: "{role}", flat, unit: graph.unit.clone(), params, link: link.clone(), action, icicle, diff, role }
            }
            if sandwich_of.is_none() {
                SandwichPick { flat: flat.clone(), params: params.clone(), link: link.clone() }
                FunctionTable { flat: flat.clone(), unit: graph.unit.clone(), params: params.clone(), link: link.clone() }
            }
        }
    }
}

/// A link within the app that the live renderers follow without reloading.
#[component]
pub(super) fn GoLink(url: String, class: String, children: Element) -> Element {
    let navigator = use_navigator();
    let href = page_href(&url);
    rsx! {
        a { class: "{class}", href: "{href}",
            onclick: move |e| {
                e.prevent_default();
                navigator.push(url.clone());
            },
            {children}
        }
    }
}

/// Links to the sandwich of the zoomed frame and of the search's first match.
#[component]
fn SandwichPick(flat: SharedFlat, params: ChartParams, link: ChartLink) -> Element {
    let zoomed = flat.0.find(&params.zoom);
    let name = flat.0.nodes.get(zoomed).map(|n| n.name.clone()).unwrap_or_default();
    if zoomed == 0 {
        return rsx! {
            p { class: "fl-hint muted", "Click a frame to zoom in; zoomed, it offers its sandwich view (callers and callees of that function)." }
        };
    }
    let url =
        (link.0)(ChartParams { view: "sandwich".into(), frame: name.clone(), ..params.clone() });
    rsx! {
        p { class: "fl-hint",
            GoLink { url, class: "fl-sandwich-link", "Sandwich view of " code { "{name}" } }
        }
    }
}

/// What the diff colours mean, with swatches from faster to slower.
#[component]
fn DiffLegend(base: String, selection: String) -> Element {
    rsx! {
        div { class: "fl-legend", role: "note",
            span { "Compared with {base}; widths are this selection ({selection}), values per trace. " }
            for (change, text) in [(-1.0, "faster (−100%)"), (-0.5, "−50%"), (0.0, "unchanged"), (0.5, "+50%"), (1.0, "slower (+100% or new)")] {
                span { class: "fl-swatch",
                    svg { width: "12", height: "12", view_box: "0 0 12 12", rect { width: "12", height: "12", fill: "{diff_colour(change)}" } }
                    " {text} "
                }
            }
        }
    }
}
