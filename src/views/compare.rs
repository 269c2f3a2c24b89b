//! `WhatChanged`: on an operation's page, what sets some of its spans apart. The selection
//! (errors, slower than p95 or p99, or a window dragged on the latency chart) and the baseline
//! (the rest, or the previous period) are links; the answer is the server's sentences, the
//! attribute values ranked with both shares and counts, and the child operations whose self
//! time grew most.

use dioxus::prelude::*;

use crate::filters::ServicePageFilters;
use crate::hooks::{use_api, Loadable};
use crate::model::{format_estimate, AttributeDelta, ChildDelta, CompareAnswer};

/// A share (0..=1) as people read it: `92%`, `<1%`, `0%`.
pub(crate) fn share(value: f64) -> String {
    let pct = value * 100.0;
    if pct > 0.0 && pct < 1.0 {
        "<1%".into()
    } else {
        format!("{pct:.0}%")
    }
}

/// A signed duration: `+4.20 ms`, `−1.00 ms`.
pub(crate) fn growth(ns: i64) -> String {
    let text = format_estimate(ns.unsigned_abs());
    if ns < 0 {
        format!("−{text}")
    } else {
        format!("+{text}")
    }
}

#[component]
pub(crate) fn WhatChanged(name: String, filters: ServicePageFilters) -> Element {
    let path = filters.compare_path(&name);
    let answer = use_api::<CompareAnswer>({
        let path = path.clone();
        move || path.clone()
    });
    let selection =
        if filters.selection.is_empty() { "errors" } else { filters.selection.as_str() };
    let pct = if filters.pct.is_empty() { "95" } else { filters.pct.as_str() };
    let baseline = if filters.baseline.is_empty() { "rest" } else { filters.baseline.as_str() };
    let has_window = !filters.window_since.is_empty() && !filters.window_until.is_empty();
    let pick = |selection: &str, pct: &str| {
        ServicePageFilters { selection: selection.into(), pct: pct.into(), ..filters.clone() }
            .route(&name)
    };
    let choices = [
        ("errors", "", "Errors", selection == "errors"),
        ("slow", "95", "Slower than p95", selection == "slow" && pct == "95"),
        ("slow", "99", "Slower than p99", selection == "slow" && pct == "99"),
    ];
    rsx! {
        section { class: "what-changed", "aria-labelledby": "what-changed-title",
            h2 { id: "what-changed-title", "What changed" }
            nav { class: "compare-picker", "aria-label": "Which spans to explain",
                "Explain: "
                for (sel, p, text, on) in choices {
                    Link { class: if on { "range on" } else { "range" }, "aria-current": if on { "true" }, to: pick(sel, p), "{text}" }
                }
                if has_window {
                    Link { class: if selection == "window" { "range on" } else { "range" }, to: pick("window", ""), "The dragged window" }
                } else {
                    span { class: "muted", " (or drag across the latency chart)" }
                }
            }
            nav { class: "compare-picker", "aria-label": "What to compare them with",
                "Against: "
                for (value, text) in [("rest", "the rest"), ("previous", "the previous period")] {
                    Link {
                        class: if baseline == value { "range on" } else { "range" },
                        "aria-current": if baseline == value { "true" },
                        to: ServicePageFilters { baseline: value.into(), ..filters.clone() }.route(&name),
                        "{text}"
                    }
                }
            }
            match answer {
                Loadable::Loading => rsx! { p { class: "loading", "Comparing…" } },
                Loadable::Failed(error) => rsx! { p { class: "error-state", role: "alert", "Could not compare: {error}" } },
                Loadable::Ready(answer) => rsx! { CompareResult { answer } },
            }
        }
    }
}

#[component]
fn CompareResult(answer: CompareAnswer) -> Element {
    let counted = format!(
        "{} selected spans against {} in the baseline{}.",
        answer.selection_spans,
        answer.baseline_spans,
        if answer.sampled { " (a sample of the newest)" } else { "" }
    );
    rsx! {
        p { class: "compare-counts", "{counted}" }
        if answer.selection_spans == 0 {
            p { class: "empty-state", "No spans match this selection in the range." }
        } else {
            if !answer.sentences.is_empty() {
                ul { class: "compare-sentences",
                    for sentence in answer.sentences.iter() {
                        li { "{sentence}" }
                    }
                }
            }
            AttributeTable { rows: answer.attributes.clone() }
            ChildTable { rows: answer.children.clone() }
        }
    }
}

#[component]
fn AttributeTable(rows: Vec<AttributeDelta>) -> Element {
    if rows.is_empty() {
        return rsx! { p { class: "muted", "No attribute value is more or less common in the selection." } };
    }
    rsx! {
        table { class: "results compare-attributes",
            caption { "Attribute values by how much more often they are in the selection" }
            thead {
                tr {
                    th { "Attribute" }
                    th { class: "num", "Selection" }
                    th { class: "num", "Baseline" }
                    th { class: "num", "Difference" }
                }
            }
            tbody {
                for row in rows {
                    tr { key: "{row.resource}|{row.key}={row.value}", "data-attr": "{row.key}={row.value}",
                        td {
                            code { "{row.key}={row.value}" }
                            if row.resource { " " span { class: "badge", "resource" } }
                        }
                        td { class: "num", "{share(row.selection_share)} " span { class: "muted", "({row.selection_count})" } }
                        td { class: "num", "{share(row.baseline_share)} " span { class: "muted", "({row.baseline_count})" } }
                        td { class: "num",
                            span { class: "share-bar", style: "width: {((row.selection_share - row.baseline_share).abs() * 60.0).min(60.0):.0}px" }
                            {format!("{:+.0} pts", (row.selection_share - row.baseline_share) * 100.0)}
                        }
                    }
                }
            }
        }
    }
}

#[component]
fn ChildTable(rows: Vec<ChildDelta>) -> Element {
    if rows.is_empty() {
        return rsx! {};
    }
    rsx! {
        table { class: "results compare-children",
            caption { "Child operations by growth of their self time (per span)" }
            thead {
                tr {
                    th { "Operation" }
                    th { class: "num", "Selection" }
                    th { class: "num", "Baseline" }
                    th { class: "num", "Growth" }
                }
            }
            tbody {
                for row in rows {
                    tr { key: "{row.service}|{row.name}", "data-child": "{row.name}",
                        td { "{row.name} " span { class: "muted", "({row.service})" } }
                        td { class: "num", {format_estimate(row.selection_self_ns)} }
                        td { class: "num", {format_estimate(row.baseline_self_ns)} }
                        td { class: "num", {growth(row.growth_ns)} }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words() {
        assert_eq!(
            (share(0.92), share(0.004), share(0.0)),
            ("92%".into(), "<1%".into(), "0%".into())
        );
        assert_eq!((growth(4_200_000), growth(-1_000_000)), ("+4.20 ms".into(), "−1.00 ms".into()));
    }
}
