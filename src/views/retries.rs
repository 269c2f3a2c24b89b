//! `Retries`: resends, give-ups and circuit-open refusals per step over the range (a plotters
//! stacked bar chart, so outages show), per operation calls, retried calls, resends, give-ups,
//! circuit-open refusals and backoff delays with a legend saying what each column counts, the
//! attempts histogram of one operation, and example traces with time, duration and outcome.
//! Operations that never retried in the range are hidden unless the URL says `all=1`.

use dioxus::prelude::*;

use crate::charts::plot::bars::attempts_chart;
use crate::charts::plot::retry_steps::{retry_steps_chart, step_text, steps_of, WIDTH};
use crate::charts::plot::Plot;
use crate::charts::track_width;
use crate::components::{InsightPage, OtlpHint, RangeForm, StartTime, Zone};
use crate::filters::InsightFilters;
use crate::hooks::{use_api_live, Loadable};
use crate::model::{
    format_estimate, AttemptCount, RetriesAnswer, RetryExampleCall, RetryExampleKind, RetryStats,
    SELF_SERVICES,
};
use crate::routes::Route;
use crate::views::cache::short_id;
use crate::words::{format_duration, zone_name};

#[component]
pub(crate) fn Retries(filters: ReadSignal<InsightFilters>) -> Element {
    crate::uitrace::use_render_span();
    let answer = use_api_live::<RetriesAnswer>(move || filters.read().api_path("/api/v1/retries"))
        .map(|answer| without_self(answer, &filters.read().service));
    // The operation whose histogram shows: a clicked row, else the first that retried.
    let selected = use_signal(|| None::<String>);
    rsx! {
        section { class: "insights retries",
            document::Title { "otelscope — Retries" }
            h1 { "Retries" }
            RangeForm { filters: filters(), page: InsightPage::Retries }
            match answer {
                Loadable::Loading => rsx! { p { class: "loading", "Loading retry statistics…" } },
                Loadable::Failed(error) => rsx! { p { class: "error-state", role: "alert", "Could not load retry statistics: {error}" } },
                Loadable::Ready(answer) if answer.operations.is_empty() => rsx! {
                    p { class: "empty-state",
                        "No retried operations in this range. Spans with "
                        code { "retry.attempt" }
                        ", "
                        code { "retry" }
                        " events, "
                        code { "retry.outcome" }
                        " or HTTP client spans with "
                        code { "http.request.resend_count" }
                        " fill this page. "
                        OtlpHint {}
                    }
                },
                Loadable::Ready(answer) => {
                    let show_all = filters.read().all == "1";
                    let hidden = answer.operations.len() - with_retries(&answer.operations, false).len();
                    let ops = with_retries(&answer.operations, show_all);
                    let shown = shown_operation(&ops, selected().as_deref());
                    rsx! {
                        RetryChart { answer: answer.clone(), ops: ops.clone() }
                        {hidden_toggle(&filters.read(), hidden, show_all)}
                        if ops.is_empty() {
                            p { class: "empty-state", "data-empty": "no-retries",
                                "No operation retried, gave up or met an open circuit in this range."
                            }
                        } else {
                            div { class: "table-scroll", {retry_table(&ops, &op_key(&ops[shown]), selected)} }
                            {retry_legend()}
                            {attempts_panel(&ops[shown])}
                        }
                    }
                },
            }
        }
    }
}

/// The answer without otelscope's own operations (its UI's API calls are HTTP client spans),
/// unless the service filter names one of them, as the other pages leave them out.
fn without_self(mut answer: RetriesAnswer, service: &str) -> RetriesAnswer {
    if !SELF_SERVICES.contains(&service) {
        answer.operations.retain(|op| !SELF_SERVICES.contains(&op.service.as_str()));
    }
    answer
}

/// Whether `op` shows any retry behaviour: a resend, a give-up, a circuit-open refusal or a
/// backoff delay.
pub(crate) fn retried(op: &RetryStats) -> bool {
    op.retried_calls + op.resends + op.give_ups + op.circuit_open + op.delays > 0
}

/// The operations the table lists: all of them with `all`, else those that retried.
pub(crate) fn with_retries(ops: &[RetryStats], all: bool) -> Vec<RetryStats> {
    ops.iter().filter(|op| all || retried(op)).cloned().collect()
}

/// The link that shows (or hides again) the operations that never retried, kept in the URL.
fn hidden_toggle(filters: &InsightFilters, hidden: usize, show_all: bool) -> Element {
    if hidden == 0 {
        return rsx! {};
    }
    let all = if show_all { String::new() } else { "1".to_owned() };
    let to = Route::Retries { filters: InsightFilters { all, ..filters.clone() } };
    let (text, state) = if show_all {
        (format!("Hide the {hidden} operations that never retried"), "shown")
    } else if hidden == 1 {
        ("1 operation that never retried is hidden: show it".to_owned(), "hidden")
    } else {
        (format!("{hidden} operations that never retried are hidden: show them"), "hidden")
    };
    rsx! {
        p { class: "note no-retry-toggle", "data-hidden": "{hidden}", "data-state": state,
            Link { class: "toggle-all", to, "{text}" }
        }
    }
}

/// The chart of resends, give-ups and circuit-open refusals per step over the operations
/// listed, in the zone the switch chose, drawn at its box's width.
#[component]
fn RetryChart(answer: RetriesAnswer, ops: Vec<RetryStats>) -> Element {
    let width = use_signal(|| f64::from(WIDTH));
    let zone = use_context::<Zone>();
    let offset = zone.offset_at(answer.until_ns as f64 / 1e6);
    let steps = steps_of(ops.iter().map(|op| op.series.as_slice()));
    let step = step_text(answer.step_ns / 1_000_000_000);
    let drawing = retry_steps_chart(
        answer.since_ns,
        answer.until_ns,
        answer.step_ns,
        &steps,
        width() as u32,
        offset,
        &zone_name(offset),
    );
    rsx! {
        div { class: "plot-box retry-steps-box", onresize: track_width(width),
            h2 { "Retries over time (per {step})" }
            Plot {
                drawing,
                label: "Resends, give-ups and circuit-open refusals per {step} over the range",
                class: "retry-steps-chart",
            }
        }
    }
}

/// What each column counts, resends against delays and circuit-open refusals in particular.
fn retry_legend() -> Element {
    let entries = [
        ("Calls", "Logical calls: a span with retry.outcome or retry events, or a first attempt span (retry.attempt 0, an HTTP client span without http.request.resend_count)."),
        ("Retried", "Calls that made more than one attempt."),
        ("Resends", "Attempts after the first, summed over calls: a call with 3 attempts adds 2."),
        ("Gave up", "Calls that ended with retry.outcome = exhausted."),
        ("Circuit open", "Calls an open circuit breaker refused (retry.outcome = circuit_open). Still a call, but with only the attempts it really made: 0 when refused before any, so it adds no resend and shows under 0 attempts."),
        ("Attempts", "Calls by number of attempts (attempts×calls)."),
        ("Delays", "Backoff waits recorded as retry events with retry.delay_ms. Not the same as resends: a resend without a recorded wait (an HTTP client's resend) adds none, and a wait before a try the open circuit refused adds one without a resend."),
        ("p50 · p95 · p99", "Percentiles of those backoff delays (within 1%)."),
    ];
    rsx! {
        details { class: "retry-legend", open: true,
            summary { "What the columns count" }
            dl {
                for (term, text) in entries {
                    dt { "{term}" }
                    dd { "{text}" }
                }
            }
        }
    }
}

/// `service|name`, the key of an operation in the page (and its test hook).
fn op_key(op: &RetryStats) -> String {
    format!("{}|{}", op.service, op.name)
}

/// The operation whose histogram shows: `selected` if present, else the first that retried,
/// else the first.
pub(crate) fn shown_operation(ops: &[RetryStats], selected: Option<&str>) -> usize {
    selected
        .and_then(|key| ops.iter().position(|op| op_key(op) == key))
        .or_else(|| ops.iter().position(|op| op.retried_calls > 0))
        .unwrap_or(0)
}

/// `1×40 · 2×7`: calls by attempts, as the table's compact histogram.
pub(crate) fn attempts_text(attempts: &[AttemptCount]) -> String {
    let mut parts: Vec<String> = attempts
        .iter()
        .filter(|a| a.calls > 0)
        .map(|a| format!("{}×{}", a.attempts, a.calls))
        .collect();
    if parts.is_empty() {
        parts.push("–".into());
    }
    parts.join(" · ")
}

/// The per-operation table; clicking a row shows its histogram.
fn retry_table(
    operations: &[RetryStats],
    shown: &str,
    selected: Signal<Option<String>>,
) -> Element {
    rsx! {
        table { class: "results retry-table",
            thead {
                tr {
                    th { "Service" }
                    th { "Operation" }
                    th { class: "num", "Calls" }
                    th { class: "num", "Retried" }
                    th { class: "num", "Resends" }
                    th { class: "num", "Gave up" }
                    th { class: "num", "Circuit open" }
                    th { class: "num", title: "Calls by number of attempts", "Attempts" }
                    th { class: "num", title: "Backoff delays seen (retry events)", "Delays" }
                    th { class: "num", "p50" }
                    th { class: "num", "p95" }
                    th { class: "num", "p99" }
                }
            }
            tbody {
                for op in operations {
                    {retry_row(op, op_key(op) == shown, selected)}
                }
            }
        }
    }
}

fn retry_row(op: &RetryStats, shown: bool, mut selected: Signal<Option<String>>) -> Element {
    let key = op_key(op);
    let counts = [
        ("calls", op.calls),
        ("retried_calls", op.retried_calls),
        ("resends", op.resends),
        ("give_ups", op.give_ups),
        ("circuit_open", op.circuit_open),
    ];
    let delays = [
        ("delay_p50_ns", op.delay_p50_ns),
        ("delay_p95_ns", op.delay_p95_ns),
        ("delay_p99_ns", op.delay_p99_ns),
    ];
    rsx! {
        tr {
            key: "{key}",
            "data-op": "{key}",
            class: if shown { "shown" },
            onclick: move |_| selected.set(Some(key.clone())),
            td { "data-field": "service", "{op.service}" }
            td { class: "op", "data-field": "name",
                button { r#type: "button", class: "link-button", title: "Show its attempts histogram", "{op.name}" }
            }
            for (field, n) in counts {
                td { class: "num", "data-field": field, "{n}" }
            }
            td { class: "num", "data-field": "attempts", {attempts_text(&op.attempts)} }
            td { class: "num", "data-field": "delays", "{op.delays}" }
            for (field, ns) in delays {
                td { class: "num", "data-field": field, "data-value": ns.map(|n| n.to_string()).unwrap_or_default(),
                    {ns.map(format_estimate).unwrap_or_else(|| "–".into())}
                }
            }
        }
    }
}

/// The examples of `kind` with their time, duration and outcome: `example_calls`, else (from a
/// server before them) the bare trace ids.
pub(crate) fn examples_of(op: &RetryStats, kind: RetryExampleKind) -> Vec<RetryExampleCall> {
    let calls: Vec<RetryExampleCall> =
        op.example_calls.iter().filter(|e| e.kind == kind).cloned().collect();
    if !calls.is_empty() {
        return calls;
    }
    op.examples
        .of(kind)
        .iter()
        .map(|id| RetryExampleCall {
            kind,
            trace_id: id.clone(),
            start_ns: 0,
            duration_ns: None,
            outcome: String::new(),
        })
        .collect()
}

/// The attempts histogram of `op` and its example traces.
fn attempts_panel(op: &RetryStats) -> Element {
    let kinds = RetryExampleKind::ALL.map(|kind| {
        let title = match kind {
            RetryExampleKind::Retried => "Retried",
            RetryExampleKind::GaveUp => "Gave up",
            RetryExampleKind::CircuitOpen => "Circuit open",
        };
        (kind.as_str(), title, examples_of(op, kind))
    });
    rsx! {
        div { class: "attempts-panel", "data-op": "{op.service}|{op.name}",
            div { class: "attempts-chart-box",
                h2 {
                    "Attempts per call: "
                    span { class: "svc", "{op.service}" }
                    " "
                    span { class: "op", "{op.name}" }
                }
                Plot {
                    drawing: attempts_chart(&op.attempts),
                    label: "Calls by number of attempts",
                    class: "attempts-chart",
                }
            }
            div { class: "examples-box",
                h2 { "Example traces" }
                dl { class: "examples",
                    for (kind, title, ids) in kinds {
                        dt { "{title}" }
                        dd { "data-kind": kind,
                            if ids.is_empty() {
                                span { class: "muted", "none" }
                            }
                            ul { class: "example-calls",
                                for e in ids {
                                    li { class: "example-call", key: "{e.trace_id}", "data-trace": "{e.trace_id}",
                                        Link { class: "example", to: Route::TraceDetail { trace_id: e.trace_id.clone() }, code { title: "{e.trace_id}", {short_id(&e.trace_id)} } }
                                        if e.start_ns > 0 {
                                            " "
                                            StartTime { ns: e.start_ns }
                                        }
                                        if let Some(d) = e.duration_ns {
                                            span { class: "duration", "data-value": "{d}", " · took {format_duration(d)}" }
                                        }
                                        if !e.outcome.is_empty() {
                                            " · "
                                            span { class: "outcome outcome-{e.outcome}", "data-outcome": "{e.outcome}", {outcome_text(&e.outcome)} }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// An example's outcome as people read it.
pub(crate) fn outcome_text(outcome: &str) -> String {
    match outcome {
        "success" => "succeeded".into(),
        "exhausted" => "gave up".into(),
        "circuit_open" => "refused: circuit open".into(),
        "error" => "failed".into(),
        "ok" => "ok".into(),
        other => other.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(service: &str, name: &str, retried: u64) -> RetryStats {
        RetryStats {
            service: service.into(),
            name: name.into(),
            retried_calls: retried,
            ..Default::default()
        }
    }

    #[test]
    fn the_histogram_shows_the_chosen_op_else_the_first_that_retried() {
        let ops = [op("a", "x", 0), op("a", "y", 3), op("b", "z", 1)];
        assert_eq!(shown_operation(&ops, None), 1);
        assert_eq!(shown_operation(&ops, Some("b|z")), 2);
        assert_eq!(shown_operation(&ops, Some("gone|op")), 1);
        assert_eq!(shown_operation(&[op("a", "x", 0)], None), 0);
    }

    #[test]
    fn attempts_read_as_counts_by_attempt_number() {
        let attempts = [
            AttemptCount { attempts: 1, calls: 40 },
            AttemptCount { attempts: 2, calls: 0 },
            AttemptCount { attempts: 3, calls: 7 },
        ];
        assert_eq!(attempts_text(&attempts), "1×40 · 3×7");
        assert_eq!(attempts_text(&[]), "–");
    }

    #[test]
    fn operations_that_never_retried_are_hidden_unless_all() {
        let quiet = RetryStats { calls: 40, ..op("web", "GET", 0) };
        let refused = RetryStats { circuit_open: 1, ..op("shop", "pay", 0) };
        let ops = [quiet, op("a", "y", 3), refused];
        let names = |ops: Vec<RetryStats>| ops.into_iter().map(|o| o.name).collect::<Vec<_>>();
        assert_eq!(names(with_retries(&ops, false)), ["y", "pay"]);
        assert_eq!(names(with_retries(&ops, true)), ["GET", "y", "pay"]);
    }

    #[test]
    fn examples_carry_time_duration_and_outcome_else_the_bare_ids() {
        let mut stats = op("a", "x", 1);
        stats.examples.retried = vec!["ab".repeat(16)];
        let bare = examples_of(&stats, RetryExampleKind::Retried);
        assert_eq!((bare.len(), bare[0].duration_ns, bare[0].outcome.as_str()), (1, None, ""));
        stats.example_calls = vec![RetryExampleCall {
            kind: RetryExampleKind::Retried,
            trace_id: "ab".repeat(16),
            start_ns: 5,
            duration_ns: Some(7),
            outcome: "exhausted".into(),
        }];
        let full = examples_of(&stats, RetryExampleKind::Retried);
        assert_eq!((full[0].start_ns, full[0].duration_ns), (5, Some(7)));
        assert!(examples_of(&stats, RetryExampleKind::GaveUp).is_empty());
        assert_eq!(outcome_text("exhausted"), "gave up");
        assert_eq!(outcome_text("<b>x</b>"), "<b>x</b>");
    }
}
