//! `Logs`: the log search. A filter bar kept in the URL, the count histogram (a bar's click
//! zooms to its range), facets with counts (click to filter, alt-click to exclude), the records
//! newest first with a live tail that never moves what is being read, a record's details and
//! context, and the Patterns tab. Without scripts (`/ssr/logs`) the bar is a GET form, the
//! list pages by cursor links and patterns are a table. Layouts are `charts::logs`.

mod details;
mod facets;
mod form;
mod histogram;
mod list;
mod patterns;

use dioxus::prelude::*;

use crate::env::{use_render_mode, RenderMode};
use crate::filters::LogFilters;
use crate::hooks::{use_api_live, Loadable};
use crate::model::{LogFacets, LogHistogram, LogPage};
use crate::routes::Route;

#[component]
pub(crate) fn Logs(filters: ReadSignal<LogFilters>) -> Element {
    crate::uitrace::use_render_span();
    // Memos: opening a record or switching tabs changes the URL but not these, so the
    // documents are not fetched again.
    let page_path = use_memo(move || filters.read().api_path());
    let histogram_path = use_memo(move || filters.read().aggregate_path("histogram"));
    let facets_path = use_memo(move || filters.read().aggregate_path("facets"));
    let on_patterns = filters.read().tab == "patterns";
    let histogram = use_api_live::<LogHistogram>(move || histogram_path.cloned());
    let facets = use_api_live::<LogFacets>(move || facets_path.cloned());
    let f = filters();
    rsx! {
        section { class: "logs",
            document::Title { "otelscope — Logs" }
            h1 { "Logs" }
            form::LogForm { filters: f.clone() }
            nav { class: "log-tabs", "aria-label": "Logs views",
                LogsLink { to: f.on_tab(""), class: if on_patterns { "tab" } else { "tab active" }, "Records" }
                LogsLink { to: f.on_tab("patterns"), class: if on_patterns { "tab active" } else { "tab" }, "Patterns" }
            }
            div { class: "logs-body",
                facets::FacetSidebar { facets, filters: f.clone() }
                div { class: "logs-main",
                    histogram::HistogramChart { histogram, filters: f.clone() }
                    if on_patterns {
                        patterns::PatternsTab { filters: f.clone() }
                    } else {
                        Records { filters, page_path }
                    }
                }
                if !f.open.is_empty() {
                    details::RecordDetails { filters: f.clone() }
                }
            }
        }
    }
}

/// The records tab: the live tail's bar, the count, the list and the page links.
#[component]
fn Records(filters: ReadSignal<LogFilters>, page_path: Memo<String>) -> Element {
    let page = use_api_live::<LogPage>(move || page_path.cloned());
    let f = filters();
    match page {
        Loadable::Loading => rsx! { p { class: "loading", "Loading logs…" } },
        Loadable::Failed(error) => rsx! {
            p { class: "error-state", id: "logs-error", role: "alert", "Could not load logs: {error} " }
            p { LogsLink { to: LogFilters::default(), class: "reset", "Reset filters" } }
        },
        Loadable::Ready(page) if page.logs.is_empty() => rsx! {
            list::TailBar { filters: f.clone(), newest_ns: None }
            p { class: "empty-state", "No log records match. "
                crate::components::OtlpHint {}
                " Or widen the search."
            }
        },
        Loadable::Ready(page) => rsx! {
            list::TailBar { filters: f.clone(), newest_ns: page.logs.first().map(|e| e.record.time_ns) }
            p { class: "result-count", role: "status", "{list::count_text(page.logs.len(), page.matched, page.matched_capped)}" }
            {list::log_table(&page, &f)}
            {list::pager(&page, &f)}
        },
    }
}

/// A link to the logs page with `to`'s filters: the app's router link, or on a page without
/// scripts a plain link that stays without scripts (`/ssr/logs?…`).
#[component]
pub(crate) fn LogsLink(
    to: LogFilters,
    class: Option<String>,
    title: Option<String>,
    children: Element,
) -> Element {
    if use_render_mode() == RenderMode::Static {
        let href = ssr_href(&to);
        return rsx! { a { class, title, href, {children} } };
    }
    rsx! { Link { class, title, to: Route::Logs { filters: to }, {children} } }
}

/// `/ssr/logs?…` for `filters`.
pub(crate) fn ssr_href(filters: &LogFilters) -> String {
    let query = filters.to_string();
    if query.is_empty() {
        "/ssr/logs".to_owned()
    } else {
        format!("/ssr/logs?{query}")
    }
}
