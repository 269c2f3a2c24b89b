//! `SelfView` ("otelscope itself"): the dashboard's own spans — p50/p95 per view and per API route, the slowest, and the recent traces of its UI and server.

use dioxus::prelude::*;

use crate::filters::TraceFilters;
use crate::hooks::{use_api, use_api_live, Loadable};
use crate::model::{
    format_estimate, Health, OperationStats, OperationStatsList, TraceList, SELF_SERVICES,
};
use crate::routes::Route;
use crate::views::traces::ResultsTable;

/// How many recent traces each list shows.
const RECENT: usize = 10;

#[component]
pub(crate) fn SelfView() -> Element {
    crate::uitrace::use_render_span();
    let health = use_api::<Health>(|| "/api/v1/health".into());
    let [server, ui] = SELF_SERVICES;
    rsx! {
        section { class: "self",
            document::Title { "otelscope — itself" }
            h1 { "otelscope itself" }
            p { class: "lede",
                "The dashboard's own spans. "
                strong { "{ui}" }
                ": each navigation, the renders of its view while it loads, and every API call, from the browser, the desktop window and server-rendered pages. "
                strong { "{server}" }
                ": each request to the UI port and the store queries it makes, joined to the UI's call by its traceparent. Other pages hide both unless asked."
            }
            if let Loadable::Ready(health) = &health {
                if !health.self_telemetry {
                    p { class: "empty-state", role: "status",
                        "Self-telemetry is off: this server runs with --self-telemetry off, so it records no spans of its own and the UI sends none."
                    }
                }
            }
            div { class: "self-grid",
                OperationTable { service: ui, title: "Views and API calls (UI), last hour" }
                OperationTable { service: server, title: "API routes and store queries (server), last hour" }
                RecentTraces { service: ui, title: "Recent UI traces" }
                RecentTraces { service: server, title: "Recent server traces" }
            }
        }
    }
}

/// p50/p95/max per span name of one of otelscope's services, slowest first, each linking to
/// the trace of its slowest span.
#[component]
fn OperationTable(service: &'static str, title: &'static str) -> Element {
    let stats = use_api_live::<OperationStatsList>(move || {
        format!("/api/v1/operations/stats?service={service}")
    });
    rsx! {
        div { class: "self-panel", "data-service": service,
            h2 { "{title}" }
            match stats {
                Loadable::Loading => rsx! { p { class: "loading", "Loading…" } },
                Loadable::Failed(error) => rsx! { p { class: "error-state", role: "alert", "Could not load the timings: {error}" } },
                Loadable::Ready(list) if list.operations.is_empty() => rsx! {
                    p { class: "empty-state", "No spans of {service} in the last hour." }
                },
                Loadable::Ready(list) => rsx! {
                    table { class: "results self-ops",
                        thead {
                            tr {
                                th { "Operation" }
                                th { class: "num", "Count" }
                                th { class: "num", "Errors" }
                                th { class: "num", "p50" }
                                th { class: "num", "p95" }
                                th { class: "num", "Slowest" }
                            }
                        }
                        tbody {
                            for op in list.operations {
                                OperationRow { key: "{op.name}", op }
                            }
                        }
                    }
                    if list.truncated {
                        p { class: "note", "From the newest spans only: there were more in the hour than one answer reads." }
                    }
                },
            }
        }
    }
}

#[component]
fn OperationRow(op: OperationStats) -> Element {
    let time = |ns: Option<u64>| ns.map(format_estimate).unwrap_or_else(|| "–".into());
    rsx! {
        tr { class: if op.error_count > 0 { "has-errors" },
            td { class: "op", "{op.name}" }
            td { class: "num", "{op.span_count}" }
            td { class: "num", "{op.error_count}" }
            td { class: "num", {time(op.p50_ns)} }
            td { class: "num", {time(op.p95_ns)} }
            td { class: "num",
                match op.slowest_trace_id {
                    Some(trace_id) => rsx! {
                        Link { class: "slowest-link", to: Route::TraceDetail { trace_id }, {time(op.max_ns)} }
                    },
                    None => rsx! { {time(op.max_ns)} },
                }
            }
        }
    }
}

/// The newest traces that involve one of otelscope's services.
#[component]
fn RecentTraces(service: &'static str, title: &'static str) -> Element {
    let filters = TraceFilters {
        service: service.into(),
        limit: RECENT.to_string(),
        ..TraceFilters::default()
    };
    let path = filters.api_path();
    let traces = use_api_live::<TraceList>(move || path.clone());
    rsx! {
        div { class: "self-panel", "data-recent": service,
            h2 {
                "{title} "
                Link { class: "more", to: Route::Traces { filters }, "all →" }
            }
            match traces {
                Loadable::Loading => rsx! { p { class: "loading", "Loading…" } },
                Loadable::Failed(error) => rsx! { p { class: "error-state", role: "alert", "Could not load traces: {error}" } },
                Loadable::Ready(list) if list.traces.is_empty() => rsx! {
                    p { class: "empty-state", "No traces of {service} yet." }
                },
                Loadable::Ready(list) => rsx! { ResultsTable { list } },
            }
        }
    }
}
