//! `RangeForm`: the time range and service of the cache and retries pages, kept in the URL;
//! without JavaScript it is a plain GET form.

use dioxus::prelude::*;

use crate::filters::{InsightFilters, INSIGHT_RANGES};
use crate::hooks::{use_api, Loadable};
use crate::model::Services;
use crate::routes::Route;

/// Which page the form belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum InsightPage {
    Cache,
    Retries,
}

impl InsightPage {
    /// The page's route with `filters`.
    pub(crate) fn route(self, filters: InsightFilters) -> Route {
        match self {
            InsightPage::Cache => Route::Cache { filters },
            InsightPage::Retries => Route::Retries { filters },
        }
    }

    fn path(self) -> &'static str {
        match self {
            InsightPage::Cache => "/cache",
            InsightPage::Retries => "/retries",
        }
    }
}

#[component]
pub(crate) fn RangeForm(filters: InsightFilters, page: InsightPage) -> Element {
    let services = use_api::<Services>(|| "/api/v1/services".into());
    let navigator = use_navigator();
    let names: Vec<String> = match &services {
        Loadable::Ready(s) => s.services.iter().map(|s| s.name.clone()).collect(),
        _ => Vec::new(),
    };
    let since = filters.since_or_default().to_owned();
    let custom =
        !filters.until.is_empty() || INSIGHT_RANGES.iter().all(|(value, _)| *value != since);
    // A choice applies at once; the button is for pages without scripts.
    let go = {
        let filters = filters.clone();
        move |field: &'static str, value: String| {
            let mut next = filters.clone();
            match field {
                // A preset counts back from now: a pinned end would contradict it.
                "since" => (next.since, next.until) = (value, String::new()),
                _ => next.service = value,
            }
            navigator.push(page.route(next));
        }
    };
    let go_since = go.clone();
    let go_service = go;
    rsx! {
        form { class: "search range-form", action: page.path(), method: "get",
            onsubmit: move |event| event.prevent_default(),
            label { "Time"
                select { name: "since", onchange: move |e| go_since("since", e.value()),
                    for (value, text) in INSIGHT_RANGES {
                        option { value: "{value}", selected: since == value, "{text}" }
                    }
                    // A range from a link (`since`/`until` as times) is shown as what it is.
                    if custom {
                        option { value: "{since}", selected: true, "Custom range" }
                    }
                }
            }
            label { "Service"
                select { name: "service", onchange: move |e| go_service("service", e.value()),
                    option { value: "", selected: filters.service.is_empty(), "any" }
                    for name in names {
                        option { value: "{name}", selected: name == filters.service, "{name}" }
                    }
                }
            }
            if !filters.until.is_empty() {
                input { r#type: "hidden", name: "until", value: "{filters.until}" }
            }
            if !filters.all.is_empty() {
                input { r#type: "hidden", name: "all", value: "{filters.all}" }
            }
            noscript { button { r#type: "submit", "Show" } }
        }
    }
}
