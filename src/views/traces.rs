//! `Traces`: the trace search — a form whose filters live in the URL, a duration-over-time
//! scatter of the results, and the results list. Without JavaScript the form is a plain GET.

use dioxus::prelude::*;

use crate::charts::scatter::DurationScatter;
use crate::components::{OtlpHint, StartTime, ZoneSwitch};
use crate::filters::{ServiceFilters, TraceFilters, RANGES};
use crate::hooks::{use_api, use_api_live, Loadable};
use crate::model::{Services, TraceList, SELF_SERVICES};
use crate::routes::Route;
use crate::words::format_duration;

#[component]
pub(crate) fn Traces(filters: ReadSignal<TraceFilters>) -> Element {
    crate::uitrace::use_render_span();
    let results = use_api_live::<TraceList>(move || filters.read().api_path());
    rsx! {
        section { class: "traces",
            h1 { "Traces" }
            SearchForm { filters: filters() }
            match results {
                Loadable::Loading => rsx! { p { class: "loading", "Loading traces…" } },
                Loadable::Failed(error) => rsx! {
                    p { class: "error-state", id: "search-error", role: "alert", "Could not load traces: {error} " }
                    p { Link { class: "reset", to: Route::Traces { filters: TraceFilters::default() }, "Reset filters" } }
                },
                Loadable::Ready(list) if list.traces.is_empty() => rsx! {
                    p { class: "empty-state",
                        "No traces match. "
                        OtlpHint {}
                        " Or widen the search."
                    }
                },
                Loadable::Ready(list) => rsx! {
                    DurationScatter { traces: list.traces.clone() }
                    ResultsTable { list }
                },
            }
        }
    }
}

#[component]
fn SearchForm(filters: TraceFilters) -> Element {
    let services = use_api::<Services>(|| ServiceFilters { include_self: "1".into() }.api_path());
    let mut draft = use_signal(|| filters.clone());
    // A new URL (back button, link) resets the form to it.
    use_effect(use_reactive!(|filters| draft.set(filters)));
    let navigator = use_navigator();
    // otelscope's own services are offered only while the form includes them.
    let with_self = !draft.read().include_self.is_empty();
    let names: Vec<String> = match &services {
        Loadable::Ready(s) => s
            .services
            .iter()
            .filter(|s| with_self || !SELF_SERVICES.contains(&s.name.as_str()))
            .map(|s| s.name.clone())
            .collect(),
        _ => Vec::new(),
    };
    let field = move |name: &'static str| draft.read().field(name).to_owned();
    // What the API would refuse stays in its field as typed, marked, next to the message.
    let invalid = draft.read().invalid_fields();
    let marked = move |name: &'static str| invalid.contains(&name).then_some("true");
    let mut set = move |name: &'static str, value: String| {
        if let Some(slot) = draft.write().field_mut(name) {
            *slot = value;
        }
    };
    rsx! {
        form {
            class: "search",
            action: "/traces",
            method: "get",
            onsubmit: move |event| {
                event.prevent_default();
                navigator.push(Route::Traces { filters: draft() });
            },
            label { "Service"
                select { name: "service", value: field("service"), onchange: move |e| set("service", e.value()),
                    option { value: "", "any" }
                    for name in names {
                        option { value: "{name}", selected: name == field("service"), "{name}" }
                    }
                }
            }
            label { "Operation"
                input { name: "name", value: field("name"), placeholder: "GET /items", oninput: move |e| set("name", e.value()) }
            }
            label { "Min ms"
                input { name: "min_duration_ms", inputmode: "decimal", value: field("min_duration_ms"), "aria-invalid": marked("min_duration_ms"), "aria-describedby": marked("min_duration_ms").map(|_| "search-error"), oninput: move |e| set("min_duration_ms", e.value()) }
            }
            label { "Max ms"
                input { name: "max_duration_ms", inputmode: "decimal", value: field("max_duration_ms"), "aria-invalid": marked("max_duration_ms"), "aria-describedby": marked("max_duration_ms").map(|_| "search-error"), oninput: move |e| set("max_duration_ms", e.value()) }
            }
            label { "Status"
                select { name: "status", value: field("status"), onchange: move |e| set("status", e.value()),
                    option { value: "", selected: field("status").is_empty(), "any" }
                    option { value: "error", selected: field("status") == "error", "error" }
                    option { value: "ok", selected: field("status") == "ok", "no error" }
                }
            }
            label { "Attribute"
                input { name: "attr", value: field("attr"), placeholder: "http.route=/items", "aria-invalid": marked("attr"), "aria-describedby": marked("attr").map(|_| "search-error"), oninput: move |e| set("attr", e.value()) }
            }
            label { "Time"
                select { name: "since", value: field("since"), onchange: move |e| set("since", e.value()),
                    for (value, text) in RANGES {
                        option { value: "{value}", selected: field("since") == value, "{text}" }
                    }
                }
            }
            label { "Limit"
                input { name: "limit", class: "limit", inputmode: "numeric", placeholder: "20", value: field("limit"), "aria-invalid": marked("limit"), "aria-describedby": marked("limit").map(|_| "search-error"), oninput: move |e| set("limit", e.value()) }
            }
            label { class: "check", title: "Also list the traces of otelscope's own UI and server",
                input {
                    r#type: "checkbox",
                    name: "include_self",
                    value: "1",
                    checked: with_self,
                    onchange: move |e| set("include_self", if e.checked() { "1".into() } else { String::new() }),
                }
                "otelscope's own"
            }
            button { r#type: "submit", "Search" }
        }
    }
}

#[component]
pub(crate) fn ResultsTable(list: TraceList) -> Element {
    rsx! {
        table { class: "results",
            thead {
                tr { th { "Trace" } th { class: "num", "Start " ZoneSwitch {} } th { class: "num", "Duration" } th { class: "num", "Spans" } th { class: "num", "Errors" } }
            }
            tbody {
                for t in list.traces {
                    tr { key: "{t.trace_id}", class: if t.error_count > 0 { "has-error" } else { "" },
                        td {
                            Link { class: "trace-link", to: Route::TraceDetail { trace_id: t.trace_id.clone() },
                                span { class: "svc", "{t.root_service}" }
                                " "
                                span { class: "op", "{t.root_name}" }
                            }
                        }
                        td { class: "num", StartTime { ns: t.start_ns } }
                        td { class: "num", "{format_duration(t.duration_ns)}" }
                        td { class: "num", "{t.span_count}" }
                        td { class: "num", "{t.error_count}" }
                    }
                }
            }
        }
    }
}
