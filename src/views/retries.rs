//! `Retries`: per operation, calls, retried calls, resends, give-ups, circuit-open rejections and
//! backoff delays, the attempts histogram of one operation (plotters), and example traces.

use dioxus::prelude::*;

use crate::charts::plot::bars::attempts_chart;
use crate::charts::plot::Plot;
use crate::components::{InsightPage, OtlpHint, RangeForm};
use crate::filters::InsightFilters;
use crate::hooks::{use_api_live, Loadable};
use crate::model::{AttemptCount, RetriesAnswer, RetryExampleKind, RetryStats, SELF_SERVICES};
use crate::routes::Route;
use crate::views::cache::short_id;
use crate::words::format_duration;

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
                    let shown = shown_operation(&answer.operations, selected().as_deref());
                    rsx! {
                        div { class: "table-scroll", {retry_table(&answer.operations, &op_key(&answer.operations[shown]), selected)} }
                        {attempts_panel(&answer.operations[shown])}
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
                    {ns.map(format_duration).unwrap_or_else(|| "–".into())}
                }
            }
        }
    }
}

/// The attempts histogram of `op` and its example traces.
fn attempts_panel(op: &RetryStats) -> Element {
    let kinds = RetryExampleKind::ALL.map(|kind| {
        let title = match kind {
            RetryExampleKind::Retried => "Retried",
            RetryExampleKind::GaveUp => "Gave up",
            RetryExampleKind::CircuitOpen => "Circuit open",
        };
        (kind.as_str(), title, op.examples.of(kind).clone())
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
                            for id in ids {
                                Link { class: "example", to: Route::TraceDetail { trace_id: id.clone() }, code { title: "{id}", {short_id(&id)} } }
                                " "
                            }
                        }
                    }
                }
            }
        }
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
}
