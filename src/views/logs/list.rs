//! The records as a table (time, severity, service, body folded when long, trace and span
//! link), the count above it, the page links below, and the live tail's bar: pause, and while
//! paused how many new records wait, without touching the list being read.

use dioxus::prelude::*;

use super::LogsLink;
use crate::charts::logs::{fold_body, severity_label, Fold};
use crate::components::Zone;
use crate::env::use_render_mode;
use crate::filters::LogFilters;
use crate::hooks::{use_api, Live, Loadable};
use crate::model::{value_text, LogEntry, LogPage, SeverityBand, MAX_LOG_MATCHED};
use crate::platform;
use crate::routes::Route;
use crate::words::format_start;

/// `100 of 2,345 records`, `100 of at least 10,000 records`, `3 records`.
pub(crate) fn count_text(shown: usize, matched: u64, capped: bool) -> String {
    let noun = |n: u64| if n == 1 { "record" } else { "records" };
    if capped {
        format!("{shown} of at least {} records", thousands(matched.max(MAX_LOG_MATCHED)))
    } else if matched as usize > shown {
        format!("{shown} of {} {}", thousands(matched), noun(matched))
    } else {
        format!("{shown} {}", noun(shown as u64))
    }
}

/// `12345` → `12,345`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The live tail's controls (pages that run scripts, on the newest page): Pause or Resume
/// and, while paused, how many records arrived after the newest one listed (`newest_ns`).
/// Resuming shows them at once.
#[component]
pub(crate) fn TailBar(filters: LogFilters, newest_ns: Option<u64>) -> Element {
    let mode = use_render_mode();
    let Some(mut live) = try_use_context::<Live>() else { return rsx! {} };
    if mode.on_server() || !filters.cursor.is_empty() {
        return rsx! {};
    }
    let paused = (live.paused)();
    let path = filters.newer_path(newest_ns.map_or(0, |ns| ns + 1));
    rsx! {
        div { class: "log-tail", role: "group", "aria-label": "Live tail",
            button { class: "tail-toggle", r#type: "button",
                "aria-pressed": if paused { "true" } else { "false" },
                onclick: move |_| if paused { resume(live) } else { live.paused.set(true) },
                if paused { "Resume" } else { "Pause" }
            }
            if paused {
                NewCount { path: path.clone(), on_show: move |_| resume(live) }
            }
            if paused {
                span { class: "tail-state paused", "paused: the list stays as it is" }
            } else {
                span { class: "tail-state", "live: new records appear at the top" }
            }
        }
    }
}

/// Live again, and refreshed now.
fn resume(mut live: Live) {
    live.paused.set(false);
    *live.tick.write() += 1;
}

/// "N new": how many records `path` (`LogFilters::newer_path`) matches, asked again on every
/// tick of the clock (which runs while paused); nothing while there are none.
/// `path` is a signal, so a new selection is asked anew.
#[component]
fn NewCount(path: ReadSignal<String>, on_show: EventHandler<()>) -> Element {
    let live = use_context::<Live>();
    let newer = use_api::<LogPage>(move || {
        let _every_tick = (live.clock)();
        path()
    });
    let count = match newer {
        Loadable::Ready(page) if page.matched > 0 => page.matched,
        _ => return rsx! {},
    };
    let more = if count >= MAX_LOG_MATCHED { "+" } else { "" };
    rsx! {
        button { class: "new-records", r#type: "button", title: "Resume the live tail to show them",
            onclick: move |_| on_show.call(()),
            "{count}{more} new"
        }
    }
}

/// The page's records, newest first.
pub(crate) fn log_table(page: &LogPage, filters: &LogFilters) -> Element {
    let utc = consume_context::<Zone>();
    let now = (platform::now_ms() * 1e6) as u64;
    let offset = page.logs.first().map_or(0, |e| utc.offset_at(e.record.time_ns as f64 / 1e6));
    rsx! {
        table { class: "log-list", "aria-label": "Log records",
            thead {
                tr {
                    th { "Time" }
                    th { "Severity" }
                    th { "Service" }
                    th { "Message" }
                    th { "Trace" }
                }
            }
            tbody {
                for entry in page.logs.iter() {
                    {log_row(entry, filters, now, offset)}
                }
            }
        }
    }
}

fn log_row(entry: &LogEntry, filters: &LogFilters, now: u64, offset: i32) -> Element {
    let record = &entry.record;
    let band = SeverityBand::of(record.severity_number);
    let opened = filters.open == entry.id;
    let open = filters.opened(if opened { "" } else { &entry.id }, false);
    let body = value_text(&record.body);
    rsx! {
        tr { key: "{entry.id}", class: if opened { "log-row open row-{band.as_str()}" } else { "log-row row-{band.as_str()}" }, "data-id": "{entry.id}",
            td { class: "log-time",
                LogsLink { to: open, title: if opened { "Close the details" } else { "Show every field of this record" },
                    "{format_start(record.time_ns, now, offset)}"
                }
            }
            td { span { class: "sev sev-{band.as_str()}", title: "severity number {record.severity_number}", "{severity_label(record.severity_number, &record.severity_text)}" } }
            td { class: "svc", "{record.service}" }
            td { class: "log-body", {body_cell(&body)} }
            td { class: "log-trace", {trace_link(record.trace_id.as_deref(), record.span_id.as_deref())} }
        }
    }
}

/// A body as text, folded when long (a `details` toggle, which needs no script).
pub(crate) fn body_cell(body: &str) -> Element {
    match fold_body(body) {
        Fold::Whole => rsx! { "{body}" },
        Fold::Folded { head, chars } => rsx! {
            details { class: "long-value",
                summary { span { class: "preview", "{head}…" } " " span { class: "fold-note", "({chars} characters)" } }
                div { class: "full-value", "{body}" }
            }
        },
    }
}

/// The record's span in its trace's waterfall, or its trace.
pub(crate) fn trace_link(trace_id: Option<&str>, span_id: Option<&str>) -> Element {
    let Some(trace_id) = trace_id.filter(|t| !t.is_empty()) else { return rsx! {} };
    let short = &trace_id[..trace_id.len().min(8)];
    match span_id.filter(|s| !s.is_empty()) {
        Some(span_id) => rsx! {
            Link { class: "span-link", title: "Open span {span_id} of trace {trace_id}",
                to: Route::TraceSpan { trace_id: trace_id.to_owned(), span_id: span_id.to_owned() },
                "{short}…/span"
            }
        },
        None => rsx! {
            Link { class: "trace-link", title: "Open trace {trace_id}", to: Route::TraceDetail { trace_id: trace_id.to_owned() }, "{short}…" }
        },
    }
}

/// Links to the newer and older pages, and back to the newest.
pub(crate) fn pager(page: &LogPage, filters: &LogFilters) -> Element {
    if page.newer.is_none() && page.older.is_none() && filters.cursor.is_empty() {
        return rsx! {};
    }
    rsx! {
        nav { class: "log-pager", "aria-label": "Pages of records",
            if !filters.cursor.is_empty() {
                LogsLink { to: filters.at_cursor(""), class: "newest", "⇤ Newest" }
            }
            if let Some(newer) = &page.newer {
                LogsLink { to: filters.at_cursor(newer), class: "newer", "← Newer" }
            }
            if let Some(older) = &page.older {
                LogsLink { to: filters.at_cursor(older), class: "older", "Older →" }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_say_how_many_of_how_many() {
        assert_eq!(count_text(100, 2345, false), "100 of 2,345 records");
        assert_eq!(count_text(100, 10_000, true), "100 of at least 10,000 records");
        assert_eq!(count_text(3, 3, false), "3 records");
        assert_eq!(count_text(1, 1, false), "1 record");
        assert_eq!(thousands(1_000_000), "1,000,000");
    }
}
