//! The Patterns tab: the selected records clustered into templates (`/api/v1/logs/patterns`),
//! largest first, each with its count, share, severity mix and a sparkline; a template's click
//! lists its records (`pattern=ID`). A table on every renderer.

use dioxus::prelude::*;

use super::LogsLink;
use crate::charts::logs::{severity_mix, sparkline_points};
use crate::filters::LogFilters;
use crate::hooks::{use_api_live, Loadable};
use crate::model::LogPatterns;

#[component]
pub(crate) fn PatternsTab(filters: ReadSignal<LogFilters>) -> Element {
    let path = use_memo(move || filters.read().aggregate_path("patterns"));
    let answer = use_api_live::<LogPatterns>(move || path.cloned());
    let f = filters();
    match answer {
        Loadable::Loading => rsx! { p { class: "loading", "Finding patterns…" } },
        Loadable::Failed(error) => {
            rsx! { p { class: "error-state", role: "alert", "Could not find patterns: {error}" } }
        }
        Loadable::Ready(answer) if answer.patterns.is_empty() => rsx! {
            p { class: "empty-state", "No log records match, so no patterns." }
        },
        Loadable::Ready(answer) => rsx! {
            p { class: "result-count", role: "status",
                "{answer.patterns.len()} patterns in {answer.total} records"
                if answer.sampled {
                    " (clustered over the newest {answer.scanned}; counts scaled)"
                }
            }
            table { class: "results log-patterns",
                thead {
                    tr {
                        th { "Pattern" }
                        th { class: "num", "Count" }
                        th { class: "num", "Share" }
                        th { "Severity" }
                        th { "Over time" }
                    }
                }
                tbody {
                    for p in answer.patterns.iter() {
                        tr { key: "{p.id}",
                            td { class: "template",
                                LogsLink { to: f.of_pattern(&p.id), title: "Show the records of this pattern", code { "{p.template}" } }
                            }
                            td { class: "num", "{p.count}" }
                            td { class: "num", "{p.share * 100.0:.1}%" }
                            td {
                                span { class: "sev-mix", title: "{mix_title(&p.severities)}",
                                    for (band, percent) in severity_mix(&p.severities) {
                                        span { class: "sev-fill sev-{band.as_str()}", style: "width: {percent:.1}%" }
                                    }
                                }
                            }
                            td {
                                svg { class: "sparkline", view_box: "0 0 100 20", preserve_aspect_ratio: "none", "aria-hidden": "true",
                                    polyline { points: sparkline_points(&p.sparkline, 100.0, 20.0) }
                                }
                            }
                        }
                    }
                }
            }
        },
    }
}

/// `error 3 · info 40`.
fn mix_title(counts: &[crate::model::BandCount]) -> String {
    counts
        .iter()
        .map(|c| format!("{} {}", c.band.as_str(), c.count))
        .collect::<Vec<_>>()
        .join(" · ")
}
