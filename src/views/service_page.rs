//! `ServicePage`: one service over a range (`/services/NAME`), or one of its operations
//! (`?operation=&kind=`): the range picker, the three RED charts (rate, error %, p50/p95/p99;
//! drag across one to zoom, or on an operation's latency chart to pick the window "what
//! changed" explains), the totals, the operations table with Impact (sortable by its header
//! links), and on an operation's page the "what changed" panel (`views::compare`).

use dioxus::prelude::*;

use crate::charts::plot::Plot;
use crate::charts::red::{red_chart, red_window, time_at, RedChart};
use crate::charts::track_width;
use crate::filters::{
    FlameFilters, MapFilters, RawQuery, ServiceFilters, ServicePageFilters, TraceFilters,
    SERVICE_RANGES,
};
use crate::hooks::{use_api_live, Loadable};
use crate::model::{format_estimate, OperationRed, RedAnswer, RedTotals};
use crate::routes::Route;
use crate::views::compare::WhatChanged;

#[component]
pub(crate) fn ServicePage(name: ReadSignal<String>, filters: ReadSignal<RawQuery>) -> Element {
    crate::uitrace::use_render_span();
    let filters = use_memo(move || ServicePageFilters::from(filters.read().0.as_str()));
    let red = use_api_live::<RedAnswer>(move || filters.read().red_path(&name.read()));
    let current = filters();
    let service = name();
    let operation = current.operation.clone();
    let title =
        if operation.is_empty() { service.clone() } else { format!("{operation} · {service}") };
    rsx! {
        section { class: "service-page",
            document::Title { "otelscope — {title}" }
            p { class: "crumbs",
                Link { to: Route::ServiceList { filters: ServiceFilters::default() }, "Services" }
                " / "
                if !operation.is_empty() {
                    Link { to: ServicePageFilters { operation: String::new(), kind: String::new(), ..current.clone() }.route(&service), "{service}" }
                    " /"
                }
            }
            h1 { class: "service-title",
                if operation.is_empty() { "{service}" } else { "{operation}" }
            }
            p { class: "service-links",
                Link { to: Route::Traces { filters: TraceFilters { service: service.clone(), name: operation.clone(), ..Default::default() } }, "Traces" }
                " · "
                Link { to: Route::FlameGraph { filters: FlameFilters { service: service.clone(), name: operation.clone(), since: current.since_or_default().into(), until: current.until.clone(), ..Default::default() } }, "Flame graph" }
                " · "
                Link { to: MapFilters { service: service.clone(), since: current.since.clone(), until: current.until.clone() }.route(), "Map around it" }
            }
            RangePicker { name: service.clone(), filters: current.clone() }
            match red {
                Loadable::Loading => rsx! { p { class: "loading", "Loading the service…" } },
                Loadable::Failed(error) => rsx! { p { class: "error-state", role: "alert", "Could not load this service: {error}" } },
                Loadable::Ready(red) => rsx! {
                    Totals { totals: red.totals.clone(), kinds: red.kinds.iter().map(|k| k.name()).collect::<Vec<_>>().join(", ") }
                    div { class: "red-charts",
                        for chart in RedChart::ALL {
                            RedChartBox { key: "{chart.key()}", name: service.clone(), filters: current.clone(), red: red.clone(), chart }
                        }
                    }
                    if !operation.is_empty() {
                        WhatChanged { name: service.clone(), filters: current.clone() }
                    }
                    OperationsTable { name: service.clone(), filters: current.clone(), operations: red.operations.clone(), truncated: red.truncated }
                },
            }
        }
    }
}

/// The range presets as links (they work without scripts), and the zoomed range when a drag
/// set one.
#[component]
fn RangePicker(name: String, filters: ServicePageFilters) -> Element {
    let since = filters.since_or_default().to_owned();
    let zoomed = !filters.until.is_empty() || SERVICE_RANGES.iter().all(|(v, _)| *v != since);
    rsx! {
        nav { class: "range-picker", "aria-label": "Time range",
            for (value, text) in SERVICE_RANGES {
                Link {
                    class: if !zoomed && since == value { "range on" } else { "range" },
                    "aria-current": if !zoomed && since == value { "true" },
                    to: ServicePageFilters { since: value.into(), until: String::new(), window_since: String::new(), window_until: String::new(), ..filters.clone() }.route(&name),
                    "{text}"
                }
            }
            if zoomed {
                span { class: "range on", "Zoomed range" }
                Link { class: "range", to: ServicePageFilters { since: String::new(), until: String::new(), ..filters.clone() }.route(&name), "Reset zoom" }
            }
        }
    }
}

#[component]
fn Totals(totals: RedTotals, kinds: String) -> Element {
    let p = |v: Option<u64>| v.map(format_estimate).unwrap_or_else(|| "–".into());
    let error_pct = totals.error_pct.map(|e| format!("{e:.1}%")).unwrap_or_else(|| "–".into());
    rsx! {
        p { class: "red-totals",
            span { "data-total": "requests", "{totals.requests} requests" }
            " · {totals.rate:.2}/s · "
            span { "data-total": "errors", "{totals.errors} errors ({error_pct})" }
            " · p50 {p(totals.p50_ns)} · p95 {p(totals.p95_ns)} · p99 {p(totals.p99_ns)}"
            if !kinds.is_empty() { span { class: "muted", " ({kinds} spans)" } }
        }
    }
}

/// One chart, drawn at its box's width; a drag across it zooms to the dragged range (on an
/// operation's latency chart: picks the window "what changed" explains).
#[component]
fn RedChartBox(
    name: String,
    filters: ServicePageFilters,
    red: RedAnswer,
    chart: RedChart,
) -> Element {
    let width = use_signal(|| 1200.0);
    let mut drag = use_signal(|| None::<(f64, f64)>);
    let navigator = use_navigator();
    let drawing = red_chart(&red.series, red.since_ns, red.until_ns, chart, width() as u32);
    let picks_window = chart == RedChart::Latency && !filters.operation.is_empty();
    // The charts draw the part of the range with data (the range picker still says the range).
    let (since_ns, until_ns, fitted) = red_window(&red.series, red.since_ns, red.until_ns);
    let finish = move |_| {
        let Some((a, b)) = drag.take() else { return };
        let (a, b) = (a.min(b), a.max(b));
        if b - a < 0.01 {
            return;
        }
        let w = *width.peek();
        let (from, to) = (time_at(a, w, since_ns, until_ns), time_at(b, w, since_ns, until_ns));
        if to <= from {
            return;
        }
        let mut next = filters.clone();
        if picks_window {
            next.selection = "window".into();
            next.window_since = from.to_string();
            next.window_until = to.to_string();
        } else {
            next.since = from.to_string();
            next.until = to.to_string();
        }
        navigator.push(next.route(&name));
    };
    let band = drag().map(|(a, b)| (a.min(b) * 100.0, (a - b).abs() * 100.0));
    let hint = if picks_window { "drag to pick a window to explain" } else { "drag to zoom" };
    let fit = if fitted {
        let minutes = (until_ns - since_ns).div_ceil(60_000_000_000);
        format!("fitted to the {minutes} min with data; ")
    } else {
        String::new()
    };
    rsx! {
        figure { class: "red-chart", "data-chart": "{chart.key()}", "data-fitted": if fitted { "true" },
            figcaption { "{chart.title()} " span { class: "muted", "({fit}{hint})" } }
            div { class: "plot-box", onresize: track_width(width),
                Plot { drawing, label: "{chart.title()}", class: "red-svg" }
                div {
                    class: "drag-layer",
                    onmousedown: move |e| {
                        let w = *width.peek();
                        let x = e.element_coordinates().x / w;
                        drag.set(Some((x, x)));
                    },
                    onmousemove: move |e| {
                        let start = (*drag.peek()).map(|(a, _)| a);
                        if let Some(a) = start {
                            let x = e.element_coordinates().x / *width.peek();
                            drag.set(Some((a, x.clamp(0.0, 1.0))));
                        }
                    },
                    onmouseup: finish,
                    onmouseleave: move |_| drag.set(None),
                    if let Some((left, w)) = band {
                        div { class: "drag-band", style: "left: {left:.2}%; width: {w:.2}%" }
                    }
                }
            }
        }
    }
}

/// The table's sort keys, in header order.
const SORTS: [(&str, &str); 6] = [
    ("name", "Operation"),
    ("requests", "Requests"),
    ("errors", "Error %"),
    ("avg", "Avg"),
    ("p95", "p95"),
    ("impact", "Impact"),
];

/// `operations` in the order `sort` names: names A to Z, numbers largest first, ties by name.
pub(crate) fn sort_operations(operations: &mut [OperationRed], sort: &str) {
    let key = |o: &OperationRed| -> f64 {
        match sort {
            "requests" => o.requests as f64,
            "errors" => o.error_pct.unwrap_or(0.0),
            "avg" => o.avg_ns.unwrap_or(0) as f64,
            "p95" => o.p95_ns.unwrap_or(0) as f64,
            _ => o.impact,
        }
    };
    if sort == "name" {
        operations.sort_by(|a, b| a.name.cmp(&b.name).then(a.kind.name().cmp(b.kind.name())));
    } else {
        operations.sort_by(|a, b| key(b).total_cmp(&key(a)).then(a.name.cmp(&b.name)));
    }
}

#[component]
fn OperationsTable(
    name: String,
    filters: ServicePageFilters,
    operations: Vec<OperationRed>,
    truncated: bool,
) -> Element {
    let sort = if filters.sort.is_empty() { "impact".to_owned() } else { filters.sort.clone() };
    let mut rows = operations;
    sort_operations(&mut rows, &sort);
    let p = |v: Option<u64>| v.map(format_estimate).unwrap_or_else(|| "–".into());
    rsx! {
        h2 { "Operations" }
        if rows.is_empty() {
            p { class: "empty-state", "No spans of this service in this range." }
        } else {
            table { class: "results operations-table",
                thead {
                    tr {
                        for (key, text) in SORTS {
                            th { class: if key != "name" { "num" }, "aria-sort": if sort == key { if key == "name" { "ascending" } else { "descending" } },
                                Link { class: if sort == key { "sort on" } else { "sort" }, to: ServicePageFilters { sort: key.into(), ..filters.clone() }.route(&name), "{text}" }
                            }
                        }
                        th { "Kind" }
                        th { class: "num", "per min" }
                        th { class: "num", "p99" }
                        th { "See" }
                    }
                }
                tbody {
                    for (op, key) in rows.into_iter().map(|o| { let k = format!("{}|{}", o.name, o.kind.name()); (o, k) }) {
                        tr {
                            key: "{key}",
                            "data-op": "{op.name}",
                            class: if op.name == filters.operation { "current" } else if op.errors > 0 { "has-errors" },
                            td {
                                Link { class: "op-link", to: ServicePageFilters { operation: op.name.clone(), kind: op.kind.name().into(), selection: String::new(), window_since: String::new(), window_until: String::new(), ..filters.clone() }.route(&name), "{op.name}" }
                            }
                            td { class: "num", "{op.requests}" }
                            td { class: "num errors", {op.error_pct.map(|e| format!("{e:.1}%")).unwrap_or_else(|| "–".into())} }
                            td { class: "num", {p(op.avg_ns)} }
                            td { class: "num", {p(op.p95_ns)} }
                            td { class: "num impact",
                                span { class: "impact-bar", style: "width: {(op.impact_share * 100.0).clamp(0.0, 100.0):.1}%" }
                                span { class: "impact-value", title: "mean duration × requests per minute: seconds of work per minute", "{op.impact:.3}" }
                            }
                            td { {op.kind.name()} }
                            td { class: "num", "{op.per_min:.1}" }
                            td { class: "num", {p(op.p99_ns)} }
                            td { class: "op-see",
                                Link { to: Route::Traces { filters: TraceFilters { service: name.clone(), name: op.name.clone(), ..Default::default() } }, "traces" }
                                " · "
                                Link { to: Route::FlameGraph { filters: FlameFilters { service: name.clone(), name: op.name.clone(), since: filters.since_or_default().into(), until: filters.until.clone(), ..Default::default() } }, "flame graph" }
                            }
                        }
                    }
                }
            }
            if truncated {
                p { class: "muted", "Only the operations with the most Impact are listed." }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorting_operations() {
        let op = |name: &str, requests, impact, p95| OperationRed {
            name: name.into(),
            requests,
            impact,
            p95_ns: Some(p95),
            ..OperationRed::default()
        };
        let mut ops = vec![
            op("b", 10, 1.0, 5),
            op("a", 30, 0.5, 9),
            op("c", 20, 2.0, 1),
            op("d", 30, 0.1, 9),
        ];
        let names =
            |ops: &[OperationRed]| ops.iter().map(|o| o.name.clone()).collect::<Vec<_>>().join("");
        sort_operations(&mut ops, "");
        assert_eq!(names(&ops), "cbad");
        sort_operations(&mut ops, "requests");
        assert_eq!(names(&ops), "adcb", "ties by name");
        sort_operations(&mut ops, "name");
        assert_eq!(names(&ops), "abcd");
        sort_operations(&mut ops, "p95");
        assert_eq!(names(&ops), "adbc");
    }
}
