//! `FlameGraph`: the flame graph of one trace (`/flamegraph?trace_id=..`, linked from a trace's
//! page) or of one operation over a range (`?service=..&name=..&since=..`, picked in the form or
//! linked from the services table), optionally against a base (`base=previous`,
//! `base_trace_id=..`); zoom, search and view live in the URL too.

use std::rc::Rc;

use dioxus::prelude::*;

use crate::charts::flame::{page_href, ChartLink, FlamePanel, SharedGraph};
use crate::components::{OperationList, OtlpHint};
use crate::filters::{ChartParams, FlameFilters, INSIGHT_RANGES};
use crate::hooks::{use_api, use_api_shared, Loadable};
use crate::model::{FlameGraph as Graph, FlameKind, MatchedBy, Services};
use crate::routes::Route;
use crate::ApiFailure;

#[component]
pub(crate) fn FlameGraph(filters: ReadSignal<FlameFilters>) -> Element {
    crate::uitrace::use_render_span();
    let current = filters();
    rsx! {
        section { class: "flame-page",
            document::Title { "otelscope — Flame graphs" }
            h1 { "Flame graphs" }
            // Keyed by the URL's service, so a new one (a link) starts the form afresh.
            FlameForm { key: "{current.service}", filters: current.clone() }
            if current.has_selection() {
                FlameAnswer { filters }
            } else {
                p { class: "empty-state",
                    "Pick a service (and an operation, or none for the service's root spans) and a time range, or open "
                    "“Flame graph of this trace” on a trace's page. Frames are span names (with the service where it changes), "
                    "widths their self time summed over the traces."
                }
            }
        }
    }
}

/// The answer for the URL's selection, and what to say when there is none.
#[component]
fn FlameAnswer(filters: ReadSignal<FlameFilters>) -> Element {
    let current = filters();
    let page = current.clone();
    let link = ChartLink(Rc::new(move |chart| {
        Route::FlameGraph { filters: page.with_chart(chart) }.to_string()
    }));
    // Only the selection names the API call: zooming or searching does not refetch.
    let api = current.api_path("");
    let not_found = if current.trace_id.is_empty() {
        String::new()
    } else {
        format!(
            "Trace not found: no spans of trace {} are stored (yet, or any more).",
            current.trace_id
        )
    };
    rsx! { GraphAnswer { api, not_found, params: current.chart(), link } }
}

/// One flame graph answer with its downloads, or what went wrong. `api` is the API path up to
/// the format's value (`/api/v1/flamegraph?trace_id=..&format=`); `not_found` what a 404 means.
#[component]
pub(crate) fn GraphAnswer(
    api: ReadSignal<String>,
    not_found: String,
    params: ChartParams,
    link: ChartLink,
) -> Element {
    let answer = use_api_shared::<Graph>(move || format!("{}json", api.read()));
    match answer {
        Loadable::Loading => rsx! { p { class: "loading", "Loading the flame graph…" } },
        Loadable::Failed(error) if error.is_not_found() && !not_found.is_empty() => rsx! {
            p { class: "empty-state", role: "alert", "data-state": "not-found", "{not_found}" }
        },
        Loadable::Failed(ApiFailure::Status { status: 400, message }) => rsx! {
            p { class: "error-state", role: "alert", "data-state": "bad-filter",
                "The server did not take this selection: {message.as_deref().unwrap_or_default()}"
            }
        },
        // A profile past the server's bound is not drawn (here or by the server): its folded
        // stacks can still be downloaded.
        Loadable::Failed(ApiFailure::Status { status: 413, message }) => rsx! {
            p { class: "error-state", role: "alert", "data-state": "too-large",
                "Too large to draw: {message.as_deref().unwrap_or_default()} "
                a { class: "fl-download", href: "{api}folded", download: "profile.folded", "Download the folded stacks" }
            }
        },
        Loadable::Failed(error) => rsx! {
            p { class: "error-state", role: "alert", "data-state": "failed", "Could not load the flame graph: {error}" }
        },
        Loadable::Ready(graph) if graph.root.total <= 0.0 && graph.root.children.is_empty() => {
            rsx! {
                p { class: "empty-state", "data-state": "empty",
                    if graph.kind == FlameKind::Profile {
                        "{graph.title} holds no samples (an idle process is rarely on the CPU)."
                    } else {
                        "No spans with self time for {graph.title} in this range. "
                        OtlpHint {}
                    }
                }
            }
        }
        Loadable::Ready(graph) => {
            let matched = match graph.matched_by {
                Some(MatchedBy::Root) => " · only traces whose root it is",
                Some(MatchedBy::Any) => " · every span of it, wherever it sits",
                None => "",
            };
            let traces = match graph.traces {
                _ if graph.kind == FlameKind::Profile => String::new(),
                1 => "1 trace · ".to_owned(),
                n => format!("{n} traces · "),
            };
            let file = if graph.kind == FlameKind::Profile { "profile" } else { "flamegraph" };
            rsx! {
                h2 { class: "fl-title", "{graph.title}" }
                p { class: "fl-meta",
                    "{traces}values in {graph.unit}{matched} · "
                    a { class: "fl-download", href: "{api}svg", download: "{file}.svg", "download SVG" }
                    " · "
                    a { class: "fl-download", href: "{api}folded", download: "{file}.folded", "download folded" }
                }
                FlamePanel { graph: SharedGraph(graph), params, link }
            }
        }
    }
}

/// The selection form: service, operation, range, how spans match, and the base. A plain GET
/// form without scripts; the app reads it on submit.
#[component]
fn FlameForm(filters: FlameFilters) -> Element {
    let services = use_api::<Services>(|| "/api/v1/services".into());
    let names: Vec<String> = match &services {
        Loadable::Ready(s) => s.services.iter().map(|s| s.name.clone()).collect(),
        _ => Vec::new(),
    };
    let mut picked = use_signal(|| filters.service.clone());
    let navigator = use_navigator();
    let since = filters.since.clone();
    let custom = !since.is_empty() && INSIGHT_RANGES.iter().all(|(value, _)| *value != since);
    let by_trace = !filters.trace_id.is_empty();
    rsx! {
        form { class: "search flame-form", action: page_href("/flamegraph"), method: "get",
            onsubmit: move |e| {
                e.prevent_default();
                let mut next = FlameFilters::default();
                for (key, value) in e.values() {
                    if let (Some(slot), FormValue::Text(text)) = (next.field_mut(&key), value) {
                        *slot = text;
                    }
                }
                navigator.push(Route::FlameGraph { filters: next });
            },
            if by_trace {
                input { r#type: "hidden", name: "trace_id", value: "{filters.trace_id}" }
                span { class: "fl-picked", "Trace " code { "{filters.trace_id}" } " · "
                    Link { to: Route::FlameGraph { filters: FlameFilters::default() }, "pick an operation instead" }
                }
            } else {
                label { "Service"
                    // The choice is held here (and drawn from here), so redrawing the form for
                    // the operation list keeps it.
                    select { name: "service", onchange: move |e| picked.set(e.value()),
                        option { value: "", selected: picked().is_empty(), "pick one" }
                        // The URL's service, even before (or without) the list.
                        if !filters.service.is_empty() && !names.contains(&filters.service) {
                            option { value: "{filters.service}", selected: picked() == filters.service, "{filters.service}" }
                        }
                        for name in names {
                            option { value: "{name}", selected: picked() == name, "{name}" }
                        }
                    }
                }
                label { "Operation"
                    input { name: "name", list: "fl-operations", value: "{filters.name}", placeholder: "root spans" }
                    if !picked().is_empty() {
                        OperationList { id: "fl-operations", service: picked() }
                    }
                }
                label { "Time"
                    select { name: "since",
                        for (value, text) in INSIGHT_RANGES {
                            option { value: "{value}", selected: since == value || (since.is_empty() && value == "1h"), "{text}" }
                        }
                        if custom {
                            option { value: "{since}", selected: true, "Custom range" }
                        }
                    }
                }
                if !filters.until.is_empty() {
                    input { r#type: "hidden", name: "until", value: "{filters.until}" }
                }
                label { "Spans"
                    select { name: "match",
                        option { value: "", selected: filters.r#match != "root", "anywhere in a trace" }
                        option { value: "root", selected: filters.r#match == "root", "only as the root" }
                    }
                }
                label { "Compare with"
                    select { name: "base",
                        option { value: "", selected: filters.base.is_empty(), "nothing" }
                        option { value: "previous", selected: filters.base == "previous", "the previous period" }
                    }
                }
            }
            label { if by_trace { "Compare with trace" } else { "or trace" }
                input { name: "base_trace_id", value: "{filters.base_trace_id}", placeholder: "trace id", size: "34" }
            }
            button { r#type: "submit", "Show" }
        }
    }
}
