//! `Traces`: the trace search — a form whose filters live in the URL, a duration-over-time
//! scatter of the results, and the results list. Without JavaScript the form is a plain GET.

use dioxus::prelude::*;

use crate::charts::scatter::{points_of, DurationScatter};
use crate::components::{known_operation, OperationList, OtlpHint, StartTime, ZoneSwitch};
use crate::filters::{ServiceFilters, TraceFilters, RANGES};
use crate::hooks::{use_api, use_api_live, Loadable};
use crate::model::{
    Services, TraceList, TraceSummary, DEFAULT_TRACE_LIMIT, MAX_TRACE_LIMIT, SELF_SERVICES,
};
use crate::routes::Route;
use crate::views::trace_rows::{live_rows, row_status, TraceCell};
use crate::words::{counted, format_duration};

#[component]
pub(crate) fn Traces(filters: ReadSignal<TraceFilters>) -> Element {
    crate::uitrace::use_render_span();
    // `scatter=1`: every match's point for the scatter, not only the page's rows.
    let results = use_api_live::<TraceList>(move || {
        let path = filters.read().api_path();
        format!("{path}{}scatter=1", if path.contains('?') { '&' } else { '?' })
    });
    rsx! {
        section { class: "traces",
            document::Title { "otelscope — Traces" }
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
                Loadable::Ready(list) => {
                    let shown = list.traces.len();
                    let limit = filters.read().limit.parse::<usize>().unwrap_or(DEFAULT_TRACE_LIMIT);
                    let more = list.matched.map_or(shown >= limit, |m| m as usize > shown) && limit < MAX_TRACE_LIMIT;
                    let wider = TraceFilters { limit: (limit * 2).min(MAX_TRACE_LIMIT).to_string(), ..filters() };
                    rsx! {
                        DurationScatter { points: if list.points.is_empty() { points_of(&list.traces) } else { list.points.clone() } }
                        p { class: "result-count", role: "status",
                            "{count_text(shown, list.matched)}"
                            if more {
                                " · "
                                Link { class: "show-more", to: Route::Traces { filters: wider }, "show more" }
                            }
                        }
                        ResultsTable { list, search: filters.read().api_path() }
                    }
                }
            }
        }
    }
}

#[component]
fn SearchForm(filters: TraceFilters) -> Element {
    let services = use_api::<Services>(|| {
        ServiceFilters { include_self: "1".into(), ..Default::default() }.api_path()
    });
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
    let known = use_signal(Vec::<String>::new);
    // What the API would refuse stays in its field as typed, marked, next to the message.
    let invalid = draft.read().invalid_fields();
    let marked = move |name: &'static str| invalid.contains(&name).then_some("true");
    let mut set = move |name: &'static str, value: String| {
        if let Some(slot) = draft.write().field_mut(name) {
            *slot = value;
        }
    };
    let attr_lines: Vec<String> = {
        let lines: Vec<String> = draft.read().attr.split('\n').map(str::to_owned).collect();
        lines
    };
    let attr_count = attr_lines.len();
    let line_marked = |line: &str| {
        (!line.is_empty() && crate::model::params::attr_filter(line).is_none()).then_some("true")
    };
    let custom = draft.read().custom_range();
    let is_static = crate::env::use_render_mode().is_static();
    let since_value = draft.read().since.clone();
    rsx! {
        form {
            class: "search",
            action: "/traces",
            method: "get",
            onsubmit: move |event| {
                event.prevent_default();
                let mut filters = draft();
                // An operation of the service typed in another case is that operation.
                if let Some(name) = known_operation(&known.read(), &filters.name) {
                    filters.name.clone_from(name);
                }
                navigator.push(Route::Traces { filters });
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
                input { name: "name", list: "trace-operations", value: field("name"), placeholder: "GET /items", oninput: move |e| set("name", e.value()) }
                if !field("service").is_empty() {
                    OperationList { id: "trace-operations", service: field("service"), known }
                }
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
            // One field per attribute condition (a link may bring several: the cache page's
            // "find misses" names the miss and the layer); a trace matches all of them.
            for (i, line) in attr_lines.iter().enumerate() {
                label { key: "{i}", class: "attr-field", if i == 0 { "Attribute" } else { "and" }
                    input { name: "attr", value: "{line}", placeholder: "http.route=/items",
                        "aria-invalid": line_marked(line.as_str()), "aria-describedby": line_marked(line.as_str()).map(|_| "search-error"),
                        oninput: move |e| { let next = draft.read().with_attr_line(i, &e.value()); draft.set(next); },
                    }
                }
            }
            // Pages without scripts take more conditions from the URL only.
            if !is_static {
                button { r#type: "button", class: "add-attr", title: "Add an attribute condition", "aria-label": "Add an attribute condition",
                    onclick: move |_| { let next = draft.read().with_attr_line(attr_count, ""); draft.set(next); },
                    "+"
                }
            }
            label { "Time"
                select { name: "since", value: field("since"), onchange: move |e| { set("since", e.value()); set("until", String::new()); },
                    for (value, text) in RANGES {
                        option { value: "{value}", selected: !custom && field("since") == value, "{text}" }
                    }
                    // A range from a link (the cache page's, as times) is shown as what it is.
                    if custom {
                        option { value: "{since_value}", selected: true, "Custom range" }
                    }
                }
            }
            if !field("until").is_empty() {
                input { r#type: "hidden", name: "until", value: field("until") }
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

/// `20 of 60 traces`, `20 of more than 1,000 traces`, or `20 traces` when the count is unknown.
pub(crate) fn count_text(shown: usize, matched: Option<u64>) -> String {
    match matched {
        Some(m) if m as usize > MAX_TRACE_LIMIT => format!("{shown} of more than 1,000 traces"),
        Some(m) if m as usize > shown => format!("{shown} of {m} traces"),
        _ => counted(shown, "trace"),
    }
}

/// What a results table is ordered by, largest first; `Start` is the server's order (newest).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SortBy {
    Start,
    Duration,
    Spans,
    Errors,
}

/// `traces` in the order `by` (a stable sort: ties keep the newest first).
pub(crate) fn sorted(mut traces: Vec<TraceSummary>, by: SortBy) -> Vec<TraceSummary> {
    use std::cmp::Reverse;
    match by {
        SortBy::Start => {}
        SortBy::Duration => traces.sort_by_key(|t| Reverse(t.duration_ns)),
        SortBy::Spans => traces.sort_by_key(|t| Reverse(t.span_count)),
        SortBy::Errors => traces.sort_by_key(|t| Reverse(t.error_count)),
    }
    traces
}

/// A column header that sorts the table by `by` (plain text on pages without scripts).
fn sort_header(label: &'static str, by: SortBy, mut sort: Signal<SortBy>, live: bool) -> Element {
    let on = sort() == by;
    rsx! {
        th { class: "num", "aria-sort": if on { "descending" } else { "none" },
            if live {
                button { class: "sort", r#type: "button", title: "Sort by {label}, largest first", onclick: move |_| sort.set(by),
                    "{label}"
                    if on { " ▾" }
                }
            } else {
                "{label}"
            }
            if by == SortBy::Start {
                " "
                ZoneSwitch {}
            }
        }
    }
}

/// The results; `search` names the search (its API path) whose live answers `list` is, so the
/// rows already shown stay in place while new ones are put above (`trace_rows::live_rows`).
#[component]
pub(crate) fn ResultsTable(list: TraceList, #[props(default)] search: String) -> Element {
    let sort = use_signal(|| SortBy::Start);
    let live = !crate::env::use_render_mode().is_static();
    let mut shown = use_signal(|| (String::new(), Vec::<TraceSummary>::new(), 0usize));
    let fresh = list.traces.clone();
    use_effect(use_reactive!(|fresh, search| {
        let next = {
            let held = shown.peek();
            let rows = if held.0 == search { held.1.as_slice() } else { &[] };
            live_rows(rows, &fresh)
        };
        shown.set((search, next.0, next.1));
    }));
    // Before the first effect (and in pages drawn on the server) the answer as it is.
    let (rows, added) = {
        let held = shown.read();
        if held.1.is_empty() {
            (list.traces.clone(), 0)
        } else {
            (held.1.clone(), held.2)
        }
    };
    let traces = sorted(rows, sort());
    let added_text = format!("{} above, added while you read", counted(added, "new trace"));
    rsx! {
        if added > 0 {
            p { class: "new-rows", "{added_text}" }
        }
        div { class: "table-scroll", table { class: "results",
            thead {
                tr {
                    th { "Trace" }
                    {sort_header("Start", SortBy::Start, sort, live)}
                    {sort_header("Duration", SortBy::Duration, sort, live)}
                    {sort_header("Spans", SortBy::Spans, sort, live)}
                    {sort_header("Errors", SortBy::Errors, sort, live)}
                    th { "Status" }
                }
            }
            tbody {
                for t in traces {
                    tr { key: "{t.trace_id}", class: if t.error_count > 0 { "has-error" } else { "" },
                        td { TraceCell { t: t.clone() } }
                        td { class: "num", StartTime { ns: t.start_ns } }
                        td { class: "num", "{format_duration(t.duration_ns)}" }
                        td { class: "num", "{t.span_count}" }
                        td { class: "num", "{t.error_count}" }
                        td { class: "row-status row-status-{row_status(&t)}", "{row_status(&t)}" }
                    }
                }
            }
        } }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(id: &str, duration_ns: u64, span_count: u64, error_count: u64) -> TraceSummary {
        TraceSummary {
            trace_id: id.into(),
            root_service: "api".into(),
            root_name: "GET /".into(),
            start_ns: 0,
            duration_ns,
            span_count,
            error_count,
            ..TraceSummary::default()
        }
    }

    #[test]
    fn counts_say_how_many_of_how_many() {
        assert_eq!(count_text(20, Some(60)), "20 of 60 traces");
        assert_eq!(count_text(20, Some(1001)), "20 of more than 1,000 traces");
        assert_eq!(count_text(3, Some(3)), "3 traces");
        assert_eq!(count_text(1, None), "1 trace");
    }

    #[test]
    fn sorting_is_largest_first_and_stable() {
        let list = vec![summary("a", 5, 1, 0), summary("b", 9, 3, 1), summary("c", 9, 2, 1)];
        let ids =
            |by| sorted(list.clone(), by).iter().map(|t| t.trace_id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(SortBy::Start), ["a", "b", "c"]);
        assert_eq!(ids(SortBy::Duration), ["b", "c", "a"]);
        assert_eq!(ids(SortBy::Spans), ["b", "c", "a"]);
        assert_eq!(ids(SortBy::Errors), ["b", "c", "a"]);
    }
}
