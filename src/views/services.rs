//! `ServiceList`: every service seen, with span and error counts and latency percentiles over
//! the range (the last hour unless picked, as for every aggregate), linking to its traces (and
//! to its failing ones); above the table, per service, sparklines of its request rate, error %
//! and p95 over the same range, linking to the service's page, and a link to the service map.

use dioxus::prelude::*;

use crate::charts::red::{spark_values, spark_window, sparkline, steps_in};
use crate::components::OtlpHint;
use crate::filters::{
    FlameFilters, MapFilters, ServiceFilters, ServicePageFilters, TraceFilters, SERVICE_RANGES,
};
use crate::hooks::{use_api_live, Loadable};
use crate::model::{format_estimate, ServiceSparkline, Services};
use crate::routes::Route;

#[component]
pub(crate) fn ServiceList(filters: ReadSignal<ServiceFilters>) -> Element {
    crate::uitrace::use_render_span();
    // The table over the range, and each service's rate, error % and p95 over it.
    let services = use_api_live::<Services>(move || filters.read().page_path());
    let current = filters.read().clone();
    let include_self = !current.include_self.is_empty();
    let toggled = ServiceFilters {
        include_self: if include_self { "" } else { "1" }.into(),
        ..current.clone()
    };
    let range_words = range_words(&current);
    rsx! {
        section { class: "services",
            document::Title { "otelscope — Services" }
            h1 { "Services" }
            ServiceRanges { filters: current.clone() }
            p { class: "range-note muted", "Cards and table: {range_words}. The cards count requests (server and consumer spans, or every span of a service that has none); the table counts every span." }
            p { class: "self-toggle",
                Link { class: "map-link", to: MapFilters::default().route(), "Service map" }
                " · "
                Link { to: Route::ServiceList { filters: toggled },
                    if include_self { "Hide otelscope's own services" } else { "Show otelscope's own services" }
                }
            }
            match services {
                Loadable::Loading => rsx! { p { class: "loading", "Loading services…" } },
                Loadable::Failed(error) => rsx! { p { class: "error-state", role: "alert", "Could not load services: {error}" } },
                Loadable::Ready(list) if list.services.is_empty() => rsx! {
                    p { class: "empty-state",
                        "No services yet: nothing has sent telemetry to this server. "
                        OtlpHint {}
                    }
                },
                Loadable::Ready(list) => rsx! {
                    if !list.sparklines.is_empty() {
                        ul { class: "service-cards", "aria-label": "Each service over the last hour",
                            for spark in list.sparklines.iter() {
                                ServiceCard { key: "{spark.service}", spark: spark.clone(), window: spark_window(list.sparklines.iter().map(|s| &s.series)) }
                            }
                        }
                        if let Some((from, to)) = spark_window(list.sparklines.iter().map(|s| &s.series)) {
                            p { class: "muted spark-fitted", "Sparklines are fitted to the {(to - from).div_ceil(60_000_000_000)} min of the range with data; the figures are over the whole range." }
                        }
                    }
                    div { class: "table-scroll", table { class: "results",
                        thead {
                            tr {
                                th { "Service" }
                                th { class: "num", title: "Spans that started in the range", "Spans" }
                                th { class: "num", "Errors" }
                                th { class: "num", "Error rate" }
                                th { class: "num", title: "Span duration percentiles", "p50" }
                                th { class: "num", "p95" }
                                th { class: "num", "p99" }
                                th { "Flame graph" }
                            }
                        }
                        tbody {
                            for s in list.services {
                                tr { key: "{s.name}", class: if s.error_count > 0 { "has-errors" },
                                    td {
                                        Link {
                                            to: Route::Traces { filters: TraceFilters { service: s.name.clone(), include_self: filters.read().include_self.clone(), ..Default::default() } },
                                            "{s.name}"
                                        }
                                    }
                                    td { class: "num", "{s.span_count}" }
                                    td { class: "num errors",
                                        if s.error_count > 0 {
                                            Link {
                                                to: Route::Traces { filters: TraceFilters { service: s.name.clone(), status: "error".into(), ..Default::default() } },
                                                "{s.error_count}"
                                            }
                                        } else {
                                            "0"
                                        }
                                    }
                                    td { class: "num", {error_rate(s.error_count, s.span_count)} }
                                    for p in [s.p50_ns, s.p95_ns, s.p99_ns] {
                                        td { class: "num", {p.map(format_estimate).unwrap_or_else(|| "–".into())} }
                                    }
                                    td {
                                        Link { class: "flame-link", to: Route::FlameGraph { filters: FlameFilters { service: s.name.clone(), since: current.since.clone(), until: current.until.clone(), ..Default::default() } }, "over the range" }
                                    }
                                }
                            }
                        }
                    } }
                },
            }
        }
    }
}

/// The range in words: a preset's name, else "the picked range".
fn range_words(filters: &ServiceFilters) -> String {
    let since = if filters.since.is_empty() { "1h" } else { filters.since.as_str() };
    match SERVICE_RANGES.iter().find(|(v, _)| *v == since) {
        Some((_, text)) if filters.until.is_empty() => text.to_lowercase(),
        _ => "the picked range".to_owned(),
    }
}

/// The range presets as links (they work without scripts); a range from a link that is not a
/// preset is shown as what it is.
#[component]
fn ServiceRanges(filters: ServiceFilters) -> Element {
    let since = if filters.since.is_empty() { "1h".to_owned() } else { filters.since.clone() };
    let custom = !filters.until.is_empty() || SERVICE_RANGES.iter().all(|(v, _)| *v != since);
    rsx! {
        nav { class: "range-picker", "aria-label": "Time range",
            for (value, text) in SERVICE_RANGES {
                Link {
                    class: if !custom && since == value { "range on" } else { "range" },
                    "aria-current": if !custom && since == value { "true" },
                    to: Route::ServiceList { filters: ServiceFilters { since: value.into(), until: String::new(), ..filters.clone() } },
                    "{text}"
                }
            }
            if custom {
                span { class: "range on", "aria-current": "true", "Picked range" }
            }
        }
    }
}

/// Sparkline box size (CSS px).
const SPARK_W: f64 = 120.0;
const SPARK_H: f64 = 28.0;

/// One service's card: its name (a link to its page) and three sparklines (over `window`,
/// when the cards are fitted to their data) with their figures over the range.
#[component]
fn ServiceCard(spark: ServiceSparkline, window: Option<(u64, u64)>) -> Element {
    let s = &spark.series;
    let shown = window.map(|(from, to)| steps_in(s, from, to));
    let [rate, errors, p95] = spark_values(shown.as_ref().unwrap_or(s));
    let total: u64 = s.requests.iter().sum();
    let errs: u64 = s.errors.iter().sum();
    let span_s = (s.step_ns as f64 * s.len() as f64 / 1e9).max(1.0);
    let worst_p95 = s.p95_ns.iter().flatten().max().copied();
    let figures = [
        (
            "rate",
            format!("{:.2}/s", total as f64 / span_s),
            sparkline(&rate, SPARK_W, SPARK_H, None),
        ),
        (
            "errors",
            error_rate(errs, total) + " errors",
            sparkline(
                &errors,
                SPARK_W,
                SPARK_H,
                Some(errors.iter().flatten().copied().fold(5.0, f64::max)),
            ),
        ),
        (
            "p95",
            format!("p95 ≤ {}", worst_p95.map(format_estimate).unwrap_or_else(|| "–".into())),
            sparkline(&p95, SPARK_W, SPARK_H, None),
        ),
    ];
    rsx! {
        li { class: "service-card", "data-service": "{spark.service}",
            Link { class: "service-card-name", to: ServicePageFilters::default().route(&spark.service), "{spark.service}" }
            for (key, figure, points) in figures {
                div { class: "spark spark-{key}",
                    svg { class: "sparkline", width: "{SPARK_W}", height: "{SPARK_H}", view_box: "0 0 {SPARK_W} {SPARK_H}", role: "img", "aria-label": "{spark.service} {key} over the range: {figure}",
                        polyline { points: "{points}" }
                    }
                    span { class: "spark-figure", "{figure}" }
                }
            }
        }
    }
}

/// Errors as a share of spans, as the table shows it.
fn error_rate(errors: u64, spans: u64) -> String {
    if spans == 0 {
        return "–".into();
    }
    let rate = errors as f64 * 100.0 / spans as f64;
    if errors > 0 && rate < 0.1 {
        "<0.1%".into()
    } else {
        format!("{rate:.1}%")
    }
}

#[cfg(test)]
mod tests {
    use super::{error_rate, range_words};
    use crate::filters::ServiceFilters;

    #[test]
    fn error_rates() {
        assert_eq!(error_rate(0, 0), "–");
        assert_eq!(error_rate(0, 10), "0.0%");
        assert_eq!(error_rate(1, 3), "33.3%");
        assert_eq!(error_rate(1, 10_000), "<0.1%");
    }

    #[test]
    fn the_range_in_words() {
        let words = |q: &str| range_words(&ServiceFilters::from(q));
        assert_eq!(words(""), "last hour");
        assert_eq!(words("since=6h"), "last 6 hours");
        assert_eq!(words("since=1000&until=2000"), "the picked range");
    }
}
