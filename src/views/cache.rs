//! `Cache`: hit rate over time per cache and layer (a plotters line chart), a totals table, and
//! links to traces of misses; the range and service live in the URL.

use dioxus::prelude::*;

use crate::charts::plot::line::{hit_rate_chart, series_of, WIDTH};
use crate::charts::plot::Plot;
use crate::charts::track_width;
use crate::components::{InsightPage, OtlpHint, RangeForm};
use crate::filters::{InsightFilters, TraceFilters};
use crate::hooks::{use_api, use_api_live, Loadable};
use crate::model::{CacheAnswer, CacheSource, CacheStats, Health};
use crate::routes::Route;
use crate::words::format_rate;

#[component]
pub(crate) fn Cache(filters: ReadSignal<InsightFilters>) -> Element {
    crate::uitrace::use_render_span();
    let answer = use_api_live::<CacheAnswer>(move || filters.read().api_path("/api/v1/cache"));
    let width = use_signal(|| f64::from(WIDTH));
    rsx! {
        section { class: "insights cache",
            document::Title { "otelscope — Cache hit rates" }
            h1 { "Cache hit rates" }
            RangeForm { filters: filters(), page: InsightPage::Cache }
            DemoL2Note {}
            match answer {
                Loadable::Loading => rsx! { p { class: "loading", "Loading cache statistics…" } },
                Loadable::Failed(error) => rsx! { p { class: "error-state", role: "alert", "Could not load cache statistics: {error}" } },
                Loadable::Ready(answer) if answer.caches.is_empty() => rsx! {
                    p { class: "empty-state",
                        "No cache lookups in this range. Spans with a boolean "
                        code { "cache.hit" }
                        " attribute (named by "
                        code { "cache.name" }
                        " and "
                        code { "cache.layer" }
                        ") and cache hit/miss counters fill this page. "
                        OtlpHint {}
                    }
                },
                Loadable::Ready(answer) => rsx! {
                    // Drawn at its box's width, so its labels keep their size.
                    div { class: "plot-box",
                        onresize: track_width(width),
                        Plot {
                            drawing: hit_rate_chart(answer.since_ns, answer.until_ns, &series_of(&answer), width() as u32),
                            label: "Cache hit rate over time, per cache and layer",
                            class: "hit-rate-chart",
                        }
                    }
                    div { class: "table-scroll", {cache_table(&answer.caches)} }
                },
            }
        }
    }
}

/// What the demo workload's L2 is, when it runs with an in-process stand-in for Redis.
#[component]
fn DemoL2Note() -> Element {
    let health = use_api::<Health>(|| "/api/v1/health".into());
    let Loadable::Ready(Health { demo: Some(demo), .. }) = health else { return rsx! {} };
    if demo.l2 != "in-process" {
        return rsx! {};
    }
    rsx! {
        p { class: "note", "data-l2": "in-process",
            strong { "Demo: L2 is in-process, not Redis. " }
            "{demo.l2_detail}"
        }
    }
}

/// The totals table: one row per cache and source.
fn cache_table(caches: &[CacheStats]) -> Element {
    rsx! {
        table { class: "results cache-table",
            thead {
                tr {
                    th { "Cache" }
                    th { "Layer" }
                    th { "Service" }
                    th { "Source" }
                    th { class: "num", "Hits" }
                    th { class: "num", "Misses" }
                    th { class: "num", "Hit rate" }
                    th { "Misses in traces" }
                }
            }
            tbody {
                for c in caches {
                    {cache_row(c)}
                }
            }
        }
    }
}

fn cache_row(c: &CacheStats) -> Element {
    let misses_search = Route::Traces {
        filters: TraceFilters {
            service: c.service.clone(),
            attr: "cache.hit=false".into(),
            ..Default::default()
        },
    };
    let exact_rate = c.hit_rate.map(|r| r.to_string()).unwrap_or_default();
    rsx! {
        tr { key: "{c.name}|{c.layer}|{c.service}|{c.source}", "data-cache": "{c.name}|{c.layer}|{c.service}|{c.source}",
            td { class: "cache-name", "data-field": "name", "{c.name}" }
            td { "data-field": "layer", "{c.layer}" }
            td { "data-field": "service", "{c.service}" }
            td { "data-field": "source", "{c.source}" }
            td { class: "num", "data-field": "hits", "{c.hits}" }
            td { class: "num", "data-field": "misses", "{c.misses}" }
            td { class: "num", "data-field": "hit_rate", "data-value": "{exact_rate}", title: "{exact_rate}", {format_rate(c.hit_rate)} }
            td { class: "examples",
                for id in c.miss_examples.iter() {
                    Link { class: "example", "data-kind": "miss", to: Route::TraceDetail { trace_id: id.clone() }, code { title: "{id}", {short_id(id)} } }
                    " "
                }
                if c.misses > 0 && c.source == CacheSource::Spans {
                    Link { class: "miss-search", to: misses_search, "find misses" }
                }
            }
        }
    }
}

/// The first 8 hex digits of a trace id, as links show it.
pub(crate) fn short_id(id: &str) -> String {
    id.chars().take(8).collect()
}
