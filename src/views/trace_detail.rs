//! `TraceDetail` and `TraceSpan`: one trace — summary line, then the waterfall with span
//! details; `TraceSpan` opens it on one span.

use std::cell::RefCell;
use std::rc::Rc;

use dioxus::prelude::*;
use serde::{Deserialize, Deserializer};

use crate::charts::map::drawn_with_the_trace;
use crate::charts::waterfall::logs::{SpanLogs, TraceLogs};
use crate::charts::waterfall::{SharedLogs, SharedSpans, Waterfall};
use crate::components::{CopyButton, StartTime, ZoneSwitch};
use crate::env::use_render_mode;
use crate::filters::FlameFilters;
use crate::hooks::{use_api_early, use_api_shared, use_ssr_prefetch, Loadable};
use crate::model::{trace_facts, Span, MAX_LOG_LIMIT};
use crate::routes::Route;
use crate::words::{counted, format_duration};
use crate::ApiFailure;

/// `/traces/{trace_id}`.
#[component]
pub(crate) fn TraceDetail(trace_id: ReadSignal<String>) -> Element {
    rsx! { TracePage { trace_id, span: None } }
}

/// `/traces/{trace_id}/spans/{span_id}`: the trace with that span selected and in view.
#[component]
pub(crate) fn TraceSpan(trace_id: ReadSignal<String>, span_id: ReadSignal<String>) -> Element {
    rsx! { TracePage { trace_id, span: Some(span_id()) } }
}

/// The API path of trace `trace_id`'s answer.
pub(crate) fn trace_path(trace_id: &str) -> String {
    format!("/api/v1/traces/{trace_id}")
}

/// `GET /api/v1/traces/{trace_id}` (`model::Trace`) as this page keeps it: the spans decoded
/// once, straight into the waterfall's shared list, so a re-render (the logs coming in) neither
/// decodes nor lays them out again. In the browser the page's loader fetches and decodes it
/// while this module loads (`views::lazy`).
#[derive(Deserialize)]
pub(crate) struct TraceAnswer {
    trace_id: String,
    #[serde(deserialize_with = "shared_spans")]
    spans: SharedSpans,
}

fn shared_spans<'de, D: Deserializer<'de>>(spans: D) -> Result<SharedSpans, D::Error> {
    Vec::<Span>::deserialize(spans).map(|spans| SharedSpans(Rc::new(spans)))
}

#[component]
fn TracePage(trace_id: ReadSignal<String>, span: ReadSignal<Option<String>>) -> Element {
    crate::uitrace::use_render_span();
    let trace = use_api_early::<TraceAnswer>(move || trace_path(&trace_id.read()));
    // A page without scripts draws the trace's map with the trace: asked for in the same pass.
    let mode = use_render_mode();
    use_ssr_prefetch(drawn_with_the_trace(mode, &trace_id.read()));
    // The trace's log records, for the span details and the rows' marks (none if this fails).
    let answer = use_api_shared::<TraceLogs>(move || {
        format!("/api/v1/logs?trace_id={}&limit={MAX_LOG_LIMIT}", trace_id.read())
    });
    // Indexed once per answer (the waterfall re-renders as it scrolls).
    let indexed = use_hook(|| Rc::new(RefCell::new(None::<(Rc<TraceLogs>, SharedLogs)>)));
    let logs = match answer {
        Loadable::Ready(answer) => {
            let mut indexed = indexed.borrow_mut();
            match &*indexed {
                Some((seen, logs)) if Rc::ptr_eq(seen, &answer) => Some(logs.clone()),
                _ => {
                    let logs = SharedLogs(Rc::new(SpanLogs::new(&answer)));
                    *indexed = Some((answer, logs.clone()));
                    Some(logs)
                }
            }
        }
        _ => None,
    };
    let back = rsx! { Link { class: "back", to: Route::Traces { filters: Default::default() }, "← All traces" } };
    match trace {
        Loadable::Loading => rsx! { {back} p { class: "loading", "Loading trace {trace_id}…" } },
        Loadable::Failed(error) if error.is_not_found() => rsx! {
            {back}
            section { class: "empty-page",
                h1 { "Trace not found" }
                p { class: "empty-state", "No spans of trace " code { "{trace_id}" } " are stored (yet, or any more)." }
            }
        },
        Loadable::Failed(ApiFailure::TooLargeForSsr { spans, max }) => rsx! {
            {back}
            section { class: "empty-page",
                h1 { "This trace is too large to draw here" }
                p { class: "empty-state",
                    "Trace " code { "{trace_id}" } " has {spans} spans, more than the {max} the server draws. "
                    Link { to: Route::TraceDetail { trace_id: trace_id() }, "Open it in the app" }
                    ", which draws it in your browser."
                }
            }
        },
        Loadable::Failed(error) => {
            rsx! { {back} p { class: "error-state", role: "alert", "Could not load the trace: {error}" } }
        }
        Loadable::Ready(trace) => {
            // The same summary the trace search lists (`model::trace_facts`).
            let facts = trace_facts(trace.spans.0.iter());
            let start = facts.map_or(0, |f| f.start_ns);
            let title =
                facts.map(|f| format!("{} {}", f.head.service, f.head.name)).unwrap_or_default();
            let mut services: Vec<&str> =
                trace.spans.0.iter().map(|s| s.service.as_str()).collect();
            services.sort_unstable();
            services.dedup();
            let summary = format!(
                "{} · {} · {} · {}",
                format_duration(facts.map_or(0, |f| f.duration_ns())),
                counted(trace.spans.0.len(), "span"),
                counted(services.len(), "service"),
                counted(facts.map_or(0, |f| f.error_count as usize), "error")
            );
            let span_count = trace.spans.0.len();
            let spans = trace.spans.clone();
            let window_title = format!("otelscope — {title}");
            rsx! {
                document::Title { "{window_title}" }
                {back}
                section { class: "trace-detail",
                    h1 { "{title}" }
                    p { class: "trace-meta", code { "{trace.trace_id}" } CopyButton { text: trace.trace_id.clone(), what: "trace id" } " · {summary} · started "
                        StartTime { ns: start }
                        " "
                        ZoneSwitch {}
                        " · "
                        Link { class: "flame-link", to: Route::FlameGraph { filters: FlameFilters { trace_id: trace.trace_id.clone(), ..Default::default() } }, "Flame graph of this trace" }
                    }
                    crate::charts::map::TraceMap { trace_id: trace.trace_id.clone(), spans: span_count }
                    Waterfall { spans, focus: span(), logs }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::TraceAnswer;
    use crate::model::fixture::span;
    use crate::model::Trace;

    #[test]
    fn the_pages_answer_reads_the_wire_trace_whole() {
        let trace = Trace {
            trace_id: format!("{:032x}", 7),
            spans: vec![
                span(7, 1, "GET /cart").service("shop").build(),
                span(7, 2, "SELECT").parent(1).service("db").build(),
            ],
        };
        let json = serde_json::to_string(&trace).expect("a trace encodes");
        let answer: TraceAnswer = serde_json::from_str(&json).expect("and decodes as the page's");
        assert_eq!((answer.trace_id, &*answer.spans.0), (trace.trace_id, &trace.spans));
    }
}
