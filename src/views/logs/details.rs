//! One record's details: every field, attribute, resource attribute and its scope, links to
//! its span and trace, and "show context": the records of the same service around it.

use dioxus::prelude::*;

use super::list::{body_cell, trace_link};
use super::LogsLink;
use crate::charts::logs::severity_label;
use crate::components::StartTime;
use crate::filters::{LogFilters, CONTEXT_RECORDS};
use crate::hooks::{use_api, Loadable};
use crate::model::{value_text, KeyValue, LogContext, LogEntry, SeverityBand};

#[component]
pub(crate) fn RecordDetails(filters: LogFilters) -> Element {
    let path = filters.context_path().unwrap_or_default();
    rsx! { Details { path, filters } }
}

/// `path` is a signal, so another record (or its context) is asked for anew.
#[component]
fn Details(path: ReadSignal<String>, filters: LogFilters) -> Element {
    let context = use_api::<LogContext>(move || path.cloned());
    let close = filters.opened("", false);
    let with_context = !filters.context.is_empty();
    rsx! {
        aside { class: "log-details", "aria-label": "Record details",
            div { class: "log-details-head",
                h2 { "Record" }
                LogsLink { to: close, class: "close", title: "Close the details", "Close ×" }
            }
            match context {
                Loadable::Loading => rsx! { p { class: "loading", "Loading the record…" } },
                Loadable::Failed(error) if error.is_not_found() => rsx! {
                    p { class: "empty-state", "This record is not stored (any more)." }
                },
                Loadable::Failed(error) => rsx! { p { class: "error-state", role: "alert", "Could not load the record: {error}" } },
                Loadable::Ready(context) => rsx! {
                    {fields(&context.record)}
                    if with_context {
                        h3 { "Context: the records of {context.record.record.service} around it" }
                        {context_list(&context, &filters)}
                        LogsLink { to: filters.opened(&filters.open, false), class: "context-toggle", "Hide context" }
                    } else {
                        LogsLink { to: filters.opened(&filters.open, true), class: "context-toggle", title: "The {CONTEXT_RECORDS} records of the same service before and after it", "Show context" }
                    }
                },
            }
        }
    }
}

fn fields(entry: &LogEntry) -> Element {
    let record = &entry.record;
    let band = SeverityBand::of(record.severity_number);
    rsx! {
        dl {
            dt { "Time" } dd { StartTime { ns: record.time_ns } }
            if record.observed_time_ns != record.time_ns {
                dt { "Observed" } dd { StartTime { ns: record.observed_time_ns } }
            }
            dt { "Severity" } dd { span { class: "sev sev-{band.as_str()}", "{severity_label(record.severity_number, &record.severity_text)}" } " ({record.severity_number})" }
            dt { "Service" } dd { "{record.service}" }
            if !record.event_name.is_empty() { dt { "Event" } dd { "{record.event_name}" } }
            if let Some(trace_id) = record.trace_id.as_deref().filter(|t| !t.is_empty()) {
                dt { "Trace" } dd { code { "{trace_id}" } " " {trace_link(Some(trace_id), None)} }
            }
            if let Some(span_id) = record.span_id.as_deref().filter(|t| !t.is_empty()) {
                dt { "Span" } dd { code { "{span_id}" } " " {trace_link(record.trace_id.as_deref(), Some(span_id))} }
            }
            if !record.scope.name.is_empty() { dt { "Scope" } dd { "{record.scope.name} {record.scope.version}" } }
        }
        h3 { "Message" }
        div { class: "log-message", {body_cell(&value_text(&record.body))} }
        {attribute_table("Attributes", &record.attributes)}
        {attribute_table("Resource", &record.resource)}
    }
}

fn attribute_table(title: &str, attributes: &[KeyValue]) -> Element {
    if attributes.is_empty() {
        return rsx! {};
    }
    rsx! {
        h3 { "{title}" }
        table { class: "attributes",
            for kv in attributes {
                tr { th { "{kv.key}" } td { {body_cell(&value_text(&kv.value))} } }
            }
        }
    }
}

/// The records before and after, oldest first, the record itself marked; each opens its own.
fn context_list(context: &LogContext, filters: &LogFilters) -> Element {
    let rows = context
        .before
        .iter()
        .map(|e| (e, false))
        .chain(std::iter::once((&context.record, true)))
        .chain(context.after.iter().map(|e| (e, false)));
    rsx! {
        ol { class: "log-context",
            for (entry, anchor) in rows {
                li { key: "{entry.id}", class: if anchor { "anchor" } else { "" },
                    span { class: "sev sev-{SeverityBand::of(entry.record.severity_number).as_str()}",
                        "{severity_label(entry.record.severity_number, &entry.record.severity_text)}"
                    }
                    " "
                    if anchor {
                        span { class: "log-body", "{value_text(&entry.record.body)}" }
                    } else {
                        LogsLink { to: filters.opened(&entry.id, true), class: "log-body", "{value_text(&entry.record.body)}" }
                    }
                }
            }
        }
    }
}
