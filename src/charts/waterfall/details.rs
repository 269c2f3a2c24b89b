//! The waterfall's details panel: the selected span's name with its kind icon and what it is
//! (`model::span_summary`), its fields, its exception events with their stacks, attributes
//! (those that matter first, then the rest sorted; long values folded), its log records (each opening `/logs` on it
//! with its context; a root also lists the trace's records without a span), events, links,
//! a producer's linking spans (`linked.rs`) and resource.

use dioxus::prelude::*;

use super::logs::TraceLog;
use super::SharedLogs;
use crate::components::CopyButton;
use crate::filters::LogFilters;
use crate::model::{
    kind_icon, ordered_attributes, span_summary, value_text, KeyValue, SeverityBand, Span, SpanKind,
};
use crate::routes::Route;
use crate::words::format_duration;

/// Values longer than this (in characters) are folded: their start, and the rest on demand.
const FOLD_CHARS: usize = 160;

#[component]
pub(crate) fn SpanDetails(
    span: Span,
    self_ns: u64,
    trace_start_ns: u64,
    logs: Option<SharedLogs>,
) -> Element {
    let status = span.status.code.name();
    let (exceptions, events): (Vec<_>, Vec<_>) =
        span.events.iter().partition(|e| e.name == "exception");
    let summary = span_summary(&span);
    let (icon, kind_words) = kind_icon(span.kind);
    let (leading, rest) = ordered_attributes(&span.attributes);
    rsx! {
        aside { class: "span-details", "aria-label": "Span details",
            h2 { "{span.name}" }
            // Its kind, and what it is by its semantic conventions (its name, when they say
            // nothing more).
            p { class: "summary-line",
                span { class: "kind-icon", role: "img", "aria-label": "{kind_words}", title: "{kind_words}", "{icon}" }
                " "
                span { class: "summary-text", "{summary}" }
            }
            dl {
                dt { "Service" } dd { "{span.service}" }
                dt { "Kind" } dd { {span.kind.name()} }
                dt { "Starts at" } dd { class: "offset", "+{format_duration(span.start_ns.saturating_sub(trace_start_ns))}" }
                dt { "Duration" } dd { "{format_duration(span.duration_ns())} (self {format_duration(self_ns)})" }
                dt { "Status" } dd { class: "status-{status}", "{status} {span.status.message}" }
                dt { "Span id" } dd { code { "{span.span_id}" } CopyButton { text: span.span_id.clone(), what: "span id" } }
                if let Some(parent) = &span.parent_span_id { dt { "Parent" } dd { code { "{parent}" } } }
                if !span.scope.name.is_empty() { dt { "Scope" } dd { "{span.scope.name} {span.scope.version}" } }
            }
            for exception in exceptions {
                ExceptionBlock { event: exception.clone(), offset_ns: exception.time_ns.saturating_sub(trace_start_ns) }
            }
            AttributeTable { title: "Attributes", attributes: rest, leading }
            {span_logs(&span, logs.as_ref())}
            if !events.is_empty() {
                h3 { "Events" }
                ul { class: "events",
                    for event in events {
                        li {
                            span { class: "event-time", title: "From the trace's start, as “Starts at”", "+{format_duration(event.time_ns.saturating_sub(trace_start_ns))}" }
                            " "
                            strong { "{event.name}" }
                            AttributeTable { title: "", attributes: event.attributes.clone() }
                        }
                    }
                }
            }
            if !span.links.is_empty() {
                // Span links (a batch consumer's producers, a follow-up's cause), each opening
                // the linked span in its trace.
                h3 { "Links ({span.links.len()})" }
                ul { class: "links",
                    for link in span.links.iter() {
                        li {
                            Link { class: "span-link", to: Route::TraceSpan { trace_id: link.trace_id.clone(), span_id: link.span_id.clone() },
                                "span "
                                code { "{link.span_id}" }
                                if link.trace_id == span.trace_id {
                                    " in this trace"
                                } else {
                                    " in trace "
                                    code { "{link.trace_id}" }
                                }
                            }
                            if !link.attributes.is_empty() {
                                AttributeTable { title: "", attributes: link.attributes.clone() }
                            }
                        }
                    }
                }
            }
            if span.kind == SpanKind::Producer {
                // The consumers linking to this producer (`span_links` on the server).
                super::linked::LinkedFrom { trace_id: span.trace_id.clone(), span_id: span.span_id.clone() }
            }
            AttributeTable { title: "Resource", attributes: sorted(&span.resource) }
        }
    }
}

/// The span's log records, oldest first (a root's list ends with the trace's records that
/// name no span), each a link to it in `/logs` with the records around it.
fn span_logs(span: &Span, logs: Option<&SharedLogs>) -> Element {
    let Some(logs) = logs else { return rsx! {} };
    let records = logs.0.of_span(&span.span_id, span.parent_span_id.is_none());
    let all = LogFilters { trace_id: span.trace_id.clone(), ..LogFilters::default() };
    rsx! {
        h3 { "Logs" }
        if records.is_empty() {
            p { class: "span-logs-none", "No log records of this span." }
        } else {
            ul { class: "span-logs",
                for entry in records {
                    {log_item(entry, span)}
                }
            }
        }
        p { class: "span-logs-all",
            Link { class: "logs-link", to: Route::Logs { filters: all }, "All {logs.0.entries.len()} log records of this trace" }
            if logs.0.partial { " (the newest {logs.0.entries.len()} listed here)" }
        }
    }
}

fn log_item(entry: &TraceLog, span: &Span) -> Element {
    let record = entry;
    let band = SeverityBand::of(record.severity_number);
    let body = value_text(&record.body);
    let short: String = body.chars().take(FOLD_CHARS).collect();
    let more = if short.len() < body.len() { "…" } else { "" };
    let offset = if record.time_ns >= span.start_ns {
        format!("+{}", format_duration(record.time_ns - span.start_ns))
    } else {
        format!("−{}", format_duration(span.start_ns - record.time_ns))
    };
    let label = crate::charts::logs::severity_label(record.severity_number, &record.severity_text);
    let to = LogFilters::around(&span.trace_id, &entry.id);
    rsx! {
        li { key: "{entry.id}",
            span { class: "event-time", "{offset}" }
            " "
            span { class: "sev sev-{band.as_str()}", "{label}" }
            " "
            Link { class: "span-log", to: Route::Logs { filters: to }, title: "Open it in Logs, with the records around it", "{short}{more}" }
        }
    }
}

/// An `exception` event (OpenTelemetry's semantic conventions): type and message first, then
/// the stack trace line by line, then its other attributes.
#[component]
fn ExceptionBlock(event: crate::model::SpanEvent, offset_ns: u64) -> Element {
    let text = |key: &str| {
        event.attributes.iter().find(|kv| kv.key == key).map(|kv| value_text(&kv.value))
    };
    let kind = text("exception.type").unwrap_or_else(|| "Exception".into());
    let message = text("exception.message");
    let stack = text("exception.stacktrace");
    let rest: Vec<KeyValue> = event
        .attributes
        .iter()
        .filter(|kv| {
            !matches!(
                kv.key.as_str(),
                "exception.type" | "exception.message" | "exception.stacktrace"
            )
        })
        .cloned()
        .collect();
    rsx! {
        section { class: "exception", "aria-label": "Exception",
            h3 { "Exception " span { class: "event-time", title: "From the trace's start, as “Starts at”", "at +{format_duration(offset_ns)}" } }
            p { class: "exception-head",
                strong { class: "exception-type", "{kind}" }
                if let Some(message) = message { ": " span { class: "exception-message", "{message}" } }
            }
            if let Some(stack) = stack {
                pre { class: "stacktrace", "{stack}" }
            }
            AttributeTable { title: "", attributes: rest }
        }
    }
}

/// `attributes` sorted by key (equal keys keep their order).
fn sorted(attributes: &[KeyValue]) -> Vec<KeyValue> {
    let mut sorted = attributes.to_vec();
    sorted.sort_by(|a, b| a.key.cmp(&b.key));
    sorted
}

/// Attributes as a table: `leading` first (marked), then `attributes` in their order.
#[component]
fn AttributeTable(
    title: String,
    attributes: Vec<KeyValue>,
    #[props(default)] leading: Vec<KeyValue>,
) -> Element {
    if attributes.is_empty() && leading.is_empty() {
        return rsx! {};
    }
    rsx! {
        if !title.is_empty() { h3 { "{title}" } }
        table { class: "attributes",
            for kv in leading {
                tr { class: "lead", th { "{kv.key}" } td { {folded(value_text(&kv.value))} } }
            }
            for kv in attributes {
                tr { th { "{kv.key}" } td { {folded(value_text(&kv.value))} } }
            }
        }
    }
}

/// A value as text; a long one folded: its start, and the whole behind a `details` toggle
/// (which works without scripts).
fn folded(text: String) -> Element {
    let chars = text.chars().count();
    if chars <= FOLD_CHARS {
        return rsx! { "{text}" };
    }
    let head: String = text.chars().take(FOLD_CHARS).collect();
    rsx! {
        details { class: "long-value",
            summary { span { class: "preview", "{head}…" } " " span { class: "fold-note", "({chars} characters)" } }
            div { class: "full-value", "{text}" }
        }
    }
}

#[cfg(test)]
#[path = "details_tests.rs"]
mod details_tests;
