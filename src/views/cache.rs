//! `Cache`: hit rate over time per cache and layer (a plotters line chart), a totals table (one
//! row per cache and layer, spans and counters side by side, hit vs miss latency), and links to
//! traces of misses; the range and service live in the URL.

#[path = "cache_groups.rs"]
mod groups;

use dioxus::prelude::*;

use crate::charts::plot::line::{fit_to_data, hit_rate_chart_in, series_of, ChartTime, WIDTH};
use crate::charts::plot::Plot;
use crate::charts::track_width;
use crate::components::{InsightPage, OtlpHint, RangeForm, Zone, ZoneSwitch};
use crate::filters::{InsightFilters, TraceFilters};
use crate::hooks::{use_api, use_api_live, Loadable};
use crate::model::{format_estimate, CacheAnswer, CacheSource, CacheStats, Health, TraceList};
use crate::routes::Route;
use crate::words::format_rate;
use groups::{cache_groups, CacheGroup};

#[component]
pub(crate) fn Cache(filters: ReadSignal<InsightFilters>) -> Element {
    crate::uitrace::use_render_span();
    let answer = use_api_live::<CacheAnswer>(move || filters.read().api_path("/api/v1/cache"));
    let width = use_signal(|| f64::from(WIDTH));
    let zone = use_context::<Zone>();
    let chart_time = |answer: &CacheAnswer| {
        let offset = zone.offset_at(answer.until_ns as f64 / 1e6);
        ChartTime {
            offset_min: offset,
            zone: crate::words::zone_name(offset),
            fit_step_ns: Some(answer.step_ns),
        }
    };
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
                    CacheEmpty { filters: filters() }
                },
                Loadable::Ready(answer) => rsx! {
                    // Drawn at its box's width, so its labels keep their size.
                    div { class: "plot-box",
                        onresize: track_width(width),
                        Plot {
                            drawing: hit_rate_chart_in(answer.since_ns, answer.until_ns, &cache_groups(&answer).iter().map(|g| series_of(g.main())).collect::<Vec<_>>(), width() as u32, chart_time(&answer)),
                            label: "Cache hit rate over time, per cache and layer",
                            class: "hit-rate-chart",
                        }
                    }
                    p { class: "chart-zone",
                        "Times "
                        ZoneSwitch {}
                        if let Some((from, to)) = chart_window(&answer) {
                            span { class: "chart-fitted",
                                " · the chart is fitted to the {(to - from).div_ceil(60_000_000_000)} min of the range with data; the table's figures, lookups/s included, are over the whole range."
                            }
                        }
                    }
                    div { class: "table-scroll", {cache_table(&answer, &filters.read())} }
                },
            }
        }
    }
}

/// The cache systems whose client spans a service may already send (`db.system`, old and new
/// names), with the name the page shows.
const CACHE_SYSTEMS: [(&str, &str); 4] = [
    ("db.system=redis", "Redis"),
    ("db.system.name=redis", "Redis"),
    ("db.system=memcached", "Memcached"),
    ("db.system.name=memcached", "Memcached"),
];

/// The one line that marks a lookup's result on the current span, per SDK we test.
pub(crate) const CACHE_HIT_LINES: [(&str, &str); 3] = [
    ("Python", "trace.get_current_span().set_attribute(\"cache.hit\", hit)"),
    ("Node", "trace.getActiveSpan()?.setAttribute('cache.hit', hit);"),
    ("Rust", "get_active_span(|span| span.set_attribute(KeyValue::new(\"cache.hit\", hit)));"),
];

/// The page without lookups. When the range has Redis or Memcached client spans: which service
/// sends them, and the one line per SDK (and the Collector's redis receiver) that fills the
/// page, not how to point an SDK here (it already is); else what fills the page and where to
/// send it.
#[component]
fn CacheEmpty(filters: InsightFilters) -> Element {
    let since = filters.since_or_default().to_owned();
    // One search per system, every render (hooks keep their order).
    let searches: Vec<(Loadable<TraceList>, &str, &str)> = CACHE_SYSTEMS
        .iter()
        .map(|&(attr, system)| {
            let path = TraceFilters {
                attr: attr.into(),
                since: since.clone(),
                until: filters.until.clone(),
                service: filters.service.clone(),
                limit: "1".into(),
                ..Default::default()
            }
            .api_path();
            (use_api::<TraceList>(move || path.clone()), system, attr)
        })
        .collect();
    let found = searches.iter().find_map(|(answer, system, attr)| match answer {
        Loadable::Ready(list) => {
            list.traces.first().map(|t| (t.root_service.clone(), *system, *attr))
        }
        _ => None,
    });
    let searching = searches.iter().any(|(answer, ..)| matches!(answer, Loadable::Loading));
    if found.is_none() && searching {
        return rsx! { p { class: "empty-state", "No cache lookups in this range." } };
    }
    let Some((service, system, attr)) = found else {
        return rsx! {
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
        };
    };
    rsx! {
        div { class: "note cache-spans-seen", "data-system": "{system}",
            p {
                "Traces from "
                strong { "{service}" }
                " already have {system} client spans ("
                code { "{attr}" }
                ") but no "
                code { "cache.hit" }
                ". Add one line where the lookup's result is known and this page fills at once:"
            }
            dl {
                for (sdk, line) in CACHE_HIT_LINES {
                    dt { "{sdk}" }
                    dd { code { "{line}" } }
                }
                if system == "Redis" {
                    dt { "Collector" }
                    dd {
                        "the "
                        code { "redis" }
                        " receiver ("
                        code { "receivers: {{ redis: {{ endpoint: localhost:6379 }} }}" }
                        ") sends "
                        code { "redis.keyspace.hits" }
                        " / "
                        code { "redis.keyspace.misses" }
                        ", shown here as metrics."
                    }
                }
            }
        }
        p { class: "empty-state", "No cache lookups in this range." }
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

/// The totals table: one row per cache and layer, what spans and counters say side by side.
fn cache_table(answer: &CacheAnswer, filters: &InsightFilters) -> Element {
    let seconds = (answer.until_ns.saturating_sub(answer.since_ns) as f64 / 1e9).max(1.0);
    rsx! {
        table { class: "results cache-table",
            caption { class: "cache-caption",
                "A cache's lookup spans and its hit/miss counters share its row; – where a source says nothing of it. "
                "The chart draws one line per row: the spans' hit rate when both report."
            }
            thead {
                tr {
                    th { rowspan: "2", "Cache" }
                    th { rowspan: "2", "Layer" }
                    th { rowspan: "2", "Service" }
                    th { class: "group", colspan: "3", scope: "colgroup", title: "Lookup spans with a boolean cache.hit", "From spans" }
                    th { class: "group", colspan: "3", scope: "colgroup", title: "Hit and miss counters", "From metrics" }
                    th { class: "num", rowspan: "2", title: "Lookups (hits + misses) per second over the whole range (spans when there are, else metrics)", "Lookups/s" }
                    th { class: "group", colspan: "2", scope: "colgroup", title: "The mean duration of the lookup spans that hit and that missed", "Mean latency" }
                    th { rowspan: "2", "Misses in traces" }
                }
                tr {
                    for _ in 0..2 {
                        th { class: "num", "Hits" }
                        th { class: "num", "Misses" }
                        th { class: "num", "Hit rate" }
                    }
                    th { class: "num", "Hit" }
                    th { class: "num", "Miss" }
                }
            }
            tbody {
                for group in cache_groups(answer) {
                    {cache_row(&group, seconds, filters)}
                }
            }
        }
    }
}

/// The part of the range (Unix ns) the chart is fitted to, when its lines cover under half of
/// it (the chart's own rule, `fit_to_data`); `None` when it draws the whole range.
pub(crate) fn chart_window(answer: &CacheAnswer) -> Option<(u64, u64)> {
    let times: Vec<u64> = cache_groups(answer)
        .iter()
        .flat_map(|g| g.main().series.iter().filter(|p| p.hit_rate.is_some()).map(|p| p.time_ns))
        .collect();
    fit_to_data(answer.since_ns, answer.until_ns, &times, answer.step_ns)
}

/// Lookups per second over `seconds`: `12.3`, `0.05`.
pub(crate) fn lookups_per_second(lookups: u64, seconds: f64) -> String {
    let rate = lookups as f64 / seconds.max(1e-9);
    if rate >= 10.0 {
        format!("{rate:.0}")
    } else if rate >= 0.1 {
        format!("{rate:.1}")
    } else {
        format!("{rate:.3}")
    }
}

fn cache_row(group: &CacheGroup, seconds: f64, filters: &InsightFilters) -> Element {
    let main = group.main();
    // The search keeps the page's range and the row's layer (issue 26 point 6).
    let layer = if group.layer.is_empty() {
        String::new()
    } else {
        format!("\ncache.layer={}", group.layer)
    };
    let misses_search = Route::Traces {
        filters: TraceFilters {
            service: group.service.to_owned(),
            attr: format!("cache.hit=false{layer}"),
            since: filters.since_or_default().to_owned(),
            until: filters.until.clone(),
            ..Default::default()
        },
    };
    let per_second = lookups_per_second(main.hits + main.misses, seconds);
    let spans = group.spans;
    let latency = |ns: Option<u64>| ns.map(format_estimate).unwrap_or_else(|| "–".into());
    let (hit_ns, miss_ns) = (spans.and_then(|c| c.hit_mean_ns), spans.and_then(|c| c.miss_mean_ns));
    let examples = spans.map(|c| c.miss_examples.as_slice()).unwrap_or_default();
    let key = group.key();
    rsx! {
        tr { key: "{key}", "data-cache": "{key}", "data-sources": group.sources(),
            td { class: "cache-name", "data-field": "name", "{group.name}" }
            td { "data-field": "layer", "{group.layer}" }
            td { "data-field": "service", "{group.service}" }
            {source_cells(group.of(CacheSource::Spans), CacheSource::Spans)}
            {source_cells(group.of(CacheSource::Metrics), CacheSource::Metrics)}
            td { class: "num", "data-field": "lookups_per_s", "data-source": main.source.as_str(), "{per_second}" }
            td { class: "num", "data-field": "hit_mean_ns", "data-value": hit_ns.map(|n| n.to_string()).unwrap_or_default(), {latency(hit_ns)} }
            td { class: "num", "data-field": "miss_mean_ns", "data-value": miss_ns.map(|n| n.to_string()).unwrap_or_default(), {latency(miss_ns)} }
            td { class: "examples",
                for id in examples.iter() {
                    Link { class: "example", "data-kind": "miss", to: Route::TraceDetail { trace_id: id.clone() }, code { title: "{id}", {short_id(id)} } }
                    " "
                }
                if spans.is_some_and(|c| c.misses > 0) {
                    Link { class: "miss-search", to: misses_search, "find misses" }
                }
            }
        }
    }
}

/// A source's hits, misses and hit rate (the exact rate in `data-value`); dashes when this
/// cache has no entry from it.
fn source_cells(c: Option<&CacheStats>, source: CacheSource) -> Element {
    let source = source.as_str();
    let Some(c) = c else {
        let why = match source {
            "spans" => "No lookup spans (cache.hit) for this cache and layer",
            _ => "No hit/miss counters for this cache and layer",
        };
        return rsx! {
            for field in ["hits", "misses", "hit_rate"] {
                td { class: "num none", "data-field": field, "data-source": source, title: why, "–" }
            }
        };
    };
    let exact_rate = c.hit_rate.map(|r| r.to_string()).unwrap_or_default();
    rsx! {
        td { class: "num", "data-field": "hits", "data-source": source, "{c.hits}" }
        td { class: "num", "data-field": "misses", "data-source": source, "{c.misses}" }
        td { class: "num", "data-field": "hit_rate", "data-source": source, "data-value": "{exact_rate}", title: "{exact_rate}", {format_rate(c.hit_rate)} }
    }
}

/// The first 8 hex digits of a trace id, as links show it.
pub(crate) fn short_id(id: &str) -> String {
    id.chars().take(8).collect()
}

#[cfg(test)]
mod tests {
    use crate::model::{CacheAnswer, CachePoint, CacheStats};

    #[test]
    fn the_page_says_when_the_chart_is_fitted_to_part_of_the_range() {
        let s = 1_000_000_000u64;
        let point =
            |t: u64| CachePoint { time_ns: t * s, hits: 3, misses: 1, hit_rate: Some(0.75) };
        let answer = |points: Vec<CachePoint>| CacheAnswer {
            since_ns: 0,
            until_ns: 3_600 * s,
            step_ns: 60 * s,
            caches: vec![CacheStats { series: points, ..Default::default() }],
        };
        // The last two minutes of an hour: the chart covers those two minutes.
        let window = super::chart_window(&answer(vec![point(3_480), point(3_540)]));
        assert_eq!(window, Some((3_480 * s, 3_600 * s)));
        // Data over most of the hour, or none: the whole range.
        assert_eq!(super::chart_window(&answer(vec![point(0), point(3_540)])), None);
        assert_eq!(super::chart_window(&answer(Vec::new())), None);
    }

    #[test]
    fn lookups_per_second_keep_their_digits() {
        assert_eq!(super::lookups_per_second(3_600, 3_600.0), "1.0");
        assert_eq!(super::lookups_per_second(36_000, 60.0), "600");
        assert_eq!(super::lookups_per_second(6, 3_600.0), "0.002");
    }
}
