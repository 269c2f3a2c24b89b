//! The logs page's filter bar: service, minimum severity, text, attribute and time range, as
//! a form whose values live in the URL (a GET form on pages without scripts). The trace, span
//! and pattern a link selected show as chips that clear them.

use dioxus::prelude::*;

use super::LogsLink;
use crate::env::use_render_mode;
use crate::filters::{LogFilters, RANGES};
use crate::model::SeverityBand;
use crate::routes::Route;

#[component]
pub(crate) fn LogForm(filters: LogFilters) -> Element {
    let mut draft = use_signal(|| filters.clone());
    // A new URL (back button, a click on a facet or a bar) resets the form to it.
    use_effect(use_reactive!(|filters| draft.set(filters)));
    let navigator = use_navigator();
    let is_static = use_render_mode().is_static();
    let field = move |name: &'static str| draft.read().field(name).to_owned();
    let invalid = draft.read().invalid_fields();
    let marked = move |name: &'static str| invalid.contains(&name).then_some("true");
    let mut set = move |name: &'static str, value: String| {
        if let Some(slot) = draft.write().field_mut(name) {
            *slot = value;
        }
    };
    let since = field("since");
    let custom_range = !RANGES.iter().any(|(value, _)| *value == since);
    // Kept by the GET form as they are: the selection a link made and the tab.
    let hidden: Vec<(&'static str, String)> =
        ["not_service", "until", "trace_id", "span_id", "pattern", "tab"]
            .into_iter()
            .map(|key| (key, filters.field(key).to_owned()))
            .filter(|(key, value)| !value.is_empty() && (*key != "until" || custom_range))
            .collect();
    let chips: Vec<(&'static str, String, LogFilters)> = [
        (
            "not service",
            filters.not_service.clone(),
            LogFilters { not_service: String::new(), ..filters.clone() },
        ),
        (
            "trace",
            filters.trace_id.clone(),
            LogFilters { trace_id: String::new(), span_id: String::new(), ..filters.clone() },
        ),
        ("span", filters.span_id.clone(), LogFilters { span_id: String::new(), ..filters.clone() }),
        (
            "pattern",
            filters.pattern.clone(),
            LogFilters { pattern: String::new(), ..filters.clone() },
        ),
    ]
    .into_iter()
    .filter(|(_, value, _)| !value.is_empty())
    .map(|(what, value, cleared)| {
        (what, value, LogFilters { cursor: String::new(), open: String::new(), ..cleared })
    })
    .collect();
    rsx! {
        form {
            class: "search log-search",
            action: if is_static { "/ssr/logs" } else { "/logs" },
            method: "get",
            onsubmit: move |event| {
                event.prevent_default();
                let filters = LogFilters { cursor: String::new(), open: String::new(), context: String::new(), ..draft() };
                navigator.push(Route::Logs { filters });
            },
            label { "Service"
                input { name: "service", value: field("service"), placeholder: "any", list: "log-services", oninput: move |e| set("service", e.value()) }
            }
            label { "Severity at least"
                select { name: "severity", value: field("severity"), "aria-invalid": marked("severity"), onchange: move |e| set("severity", e.value()),
                    option { value: "", selected: field("severity").is_empty(), "any" }
                    for band in SeverityBand::ALL.into_iter().skip(1) {
                        option { value: band.as_str(), selected: field("severity").eq_ignore_ascii_case(band.as_str()), {band.as_str()} }
                    }
                    if marked("severity").is_some() || field("severity").parse::<i32>().is_ok() {
                        option { value: field("severity"), selected: true, "{field(\"severity\")}" }
                    }
                }
            }
            label { class: "grow", "Text"
                input { r#type: "search", name: "q", value: field("q"), placeholder: "words, \"a phrase\", -excluded", oninput: move |e| set("q", e.value()) }
            }
            label { "Attribute"
                input { name: "attr", value: field("attr"), placeholder: "http.route=/items", "aria-invalid": marked("attr"), "aria-describedby": marked("attr").map(|_| "logs-error"), oninput: move |e| set("attr", e.value()) }
            }
            label { "Time"
                select { name: "since", value: field("since"), onchange: move |e| { set("since", e.value()); set("until", String::new()); },
                    if custom_range {
                        option { value: "{since}", selected: true, "Zoomed range" }
                    }
                    for (value, text) in RANGES {
                        option { value: "{value}", selected: since == value, "{text}" }
                    }
                }
            }
            for (key, value) in hidden {
                input { r#type: "hidden", name: key, value }
            }
            button { r#type: "submit", "Search" }
            if !chips.is_empty() {
                span { class: "chips",
                    for (what, value, cleared) in chips {
                        span { class: "chip", "{what} " code { "{value}" } " "
                            LogsLink { to: cleared, class: "chip-clear", title: "Clear this filter", "×" }
                        }
                    }
                }
            }
        }
    }
}
