//! `Metrics`: the metric catalogue: every metric name received, searchable and filtered by
//! service, with its type, unit, series count, services and when it was last seen; each links
//! to its page. Without JavaScript the search is a plain GET form.

use dioxus::prelude::*;

use crate::charts::metric::units::unit_name;
use crate::components::OtlpHint;
use crate::filters::{MetricFilters, MetricPageFilters, RawQuery};
use crate::hooks::{use_api_live, Loadable};
use crate::model::{MetricCatalog, MetricInfo, MetricKind, Temporality};
use crate::platform;
use crate::words::format_ago;

#[component]
pub(crate) fn Metrics(filters: ReadSignal<RawQuery>) -> Element {
    crate::uitrace::use_render_span();
    let filters = use_memo(move || MetricFilters::from(filters.read().0.as_str()));
    let catalog = use_api_live::<MetricCatalog>(move || filters.read().api_path());
    // The service choices: every service of the unfiltered catalogue.
    let all = use_api_live::<MetricCatalog>(|| "/api/v1/metrics".into());
    let mut services: Vec<String> = match &all {
        Loadable::Ready(c) => c.metrics.iter().flat_map(|m| m.services.iter().cloned()).collect(),
        _ => Vec::new(),
    };
    services.sort();
    services.dedup();
    let now_ns = (platform::now_ms() * 1e6) as u64;
    let navigator = use_navigator();
    let current = filters();
    let search = current.clone();
    let pick = current.clone();
    rsx! {
        section { class: "metrics",
            document::Title { "otelscope — Metrics" }
            h1 { "Metrics" }
            form { class: "search metric-search", action: "/metrics", method: "get",
                onsubmit: move |event| event.prevent_default(),
                label { "Search"
                    input { r#type: "search", name: "q", value: "{current.q}", placeholder: "name or description",
                        oninput: move |e| { navigator.replace(MetricFilters { q: e.value(), ..search.clone() }.route()); },
                    }
                }
                label { "Service"
                    select { name: "service",
                        onchange: move |e| { navigator.push(MetricFilters { service: e.value(), ..pick.clone() }.route()); },
                        option { value: "", selected: current.service.is_empty(), "any" }
                        for name in services {
                            option { value: "{name}", selected: name == current.service, "{name}" }
                        }
                    }
                }
                noscript { button { r#type: "submit", "Search" } }
            }
            match catalog {
                Loadable::Loading => rsx! { p { class: "loading", "Loading metrics…" } },
                Loadable::Failed(error) => rsx! { p { class: "error-state", role: "alert", "Could not load metrics: {error}" } },
                Loadable::Ready(c) if c.metrics.is_empty() => rsx! {
                    p { class: "empty-state",
                        if current.q.is_empty() && current.service.is_empty() {
                            "No metrics yet. "
                            OtlpHint {}
                        } else {
                            "No metric matches this search."
                        }
                    }
                },
                Loadable::Ready(c) => rsx! {
                    div { class: "table-scroll",
                        table { class: "results metric-catalog",
                            thead {
                                tr {
                                    th { "Metric" }
                                    th { "Type" }
                                    th { "Unit" }
                                    th { class: "num", "Series" }
                                    th { "Services" }
                                    th { "Last seen" }
                                }
                            }
                            tbody {
                                for m in c.metrics.iter() {
                                    {catalog_row(m, &current.service, now_ns)}
                                }
                            }
                        }
                    }
                    if c.truncated {
                        p { class: "note", "More metrics match than are listed: narrow the search." }
                    }
                },
            }
        }
    }
}

fn catalog_row(m: &MetricInfo, service: &str, now_ns: u64) -> Element {
    let page = MetricPageFilters { service: service.to_owned(), ..Default::default() };
    let (badge, kind) = kind_badge(m);
    rsx! {
        tr { key: "{m.name}|{m.kind:?}|{m.unit}", "data-metric": "{m.name}",
            td {
                Link { class: "metric-name", to: page.route(&m.name), "{m.name}" }
                if !m.description.is_empty() {
                    div { class: "metric-description", "{m.description}" }
                }
            }
            td { span { class: "badge metric-kind {kind}", "data-kind": "{kind}", "{badge}" } }
            td { "data-field": "unit", title: unit_name(&m.unit),
                if !m.unit.is_empty() { code { "{m.unit}" } }
            }
            td { class: "num", "data-field": "series", "{m.series}" }
            td { class: "services", "{m.services.join(\", \")}" }
            td { "data-field": "last_seen", {format_ago(m.last_seen_ns, now_ns)} }
        }
    }
}

/// The type badge's text and its class: `counter`, `up-down counter`, `gauge`, `histogram`,
/// `exp. histogram`, `summary`, with the temporality of sums and histograms.
pub(crate) fn kind_badge(m: &MetricInfo) -> (String, &'static str) {
    let temporality = match m.temporality {
        Temporality::Delta => " · delta",
        Temporality::Cumulative => " · cumulative",
        Temporality::Unspecified => "",
    };
    match m.kind {
        MetricKind::Sum if m.monotonic => (format!("counter{temporality}"), "counter"),
        MetricKind::Sum => (format!("up-down counter{temporality}"), "updown"),
        MetricKind::Gauge => ("gauge".into(), "gauge"),
        MetricKind::Histogram => (format!("histogram{temporality}"), "histogram"),
        MetricKind::ExponentialHistogram => {
            (format!("exp. histogram{temporality}"), "exphistogram")
        }
        MetricKind::Summary => ("summary".into(), "summary"),
    }
}
