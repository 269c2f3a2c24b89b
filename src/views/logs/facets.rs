//! The facet sidebar: the services, severities and attribute keys of the selected records with
//! their counts. A click filters by the value; alt-click (or the "−" beside it) leaves a
//! service's records out (`not_service`).

use dioxus::prelude::*;

use super::LogsLink;
use crate::env::use_render_mode;
use crate::filters::LogFilters;
use crate::hooks::Loadable;
use crate::model::{FacetValue, LogFacets, SeverityBand};
use crate::routes::Route;

#[component]
pub(crate) fn FacetSidebar(facets: Loadable<LogFacets>, filters: LogFilters) -> Element {
    let Loadable::Ready(mut facets) = facets else {
        return rsx! { aside { class: "log-facets", "aria-label": "Facets" } };
    };
    // Severities in their own order, the most severe first.
    facets.severities.sort_by_key(|f| std::cmp::Reverse(f.value.parse::<SeverityBand>().ok()));
    rsx! {
        aside { class: "log-facets", "aria-label": "Facets",
            datalist { id: "log-services",
                for f in facets.services.iter() { option { value: "{f.value}" } }
            }
            h2 { "Service" }
            ul { class: "facet-list",
                for f in facets.services.iter() {
                    FacetItem { value: f.clone(), include: filters.with_service(&f.value), exclude: Some(filters.without_service(&f.value)) }
                }
            }
            h2 { "Severity" }
            ul { class: "facet-list",
                for f in facets.severities.iter() {
                    FacetItem { value: f.clone(), include: filters.with_severity(&f.value), exclude: None, prefix: "≥ " }
                }
            }
            if !facets.attribute_keys.is_empty() {
                h2 { "Attribute keys" }
                ul { class: "facet-list keys",
                    for f in facets.attribute_keys.iter() {
                        li { span { class: "facet-value", title: "Records with attribute {f.value}", "{f.value}" } span { class: "facet-count", "{f.count}" } }
                    }
                }
            }
            if facets.sampled {
                p { class: "facet-note", "Counted over the newest {facets.scanned} records." }
            }
        }
    }
}

/// One value: a link that filters by it (alt-click excludes it), its count, and where there is
/// an exclusion, a "−" link for it.
#[component]
fn FacetItem(
    value: FacetValue,
    include: LogFilters,
    exclude: Option<LogFilters>,
    prefix: Option<&'static str>,
) -> Element {
    let mode = use_render_mode();
    let navigator = use_navigator();
    let prefix = prefix.unwrap_or("");
    let text = format!("{prefix}{}", value.value);
    let link = if mode.is_live() {
        let (to_include, to_exclude) = (include.clone(), exclude.clone());
        rsx! {
            a { class: "facet-value", href: "/logs?{include}",
                title: if exclude.is_some() { "Click to show only these; Alt+click to leave them out" } else { "Click to show these" },
                onclick: move |e: MouseEvent| {
                    e.prevent_default();
                    let to = match (&to_exclude, e.modifiers().alt()) {
                        (Some(out), true) => out.clone(),
                        _ => to_include.clone(),
                    };
                    navigator.push(Route::Logs { filters: to });
                },
                "{text}"
            }
        }
    } else {
        rsx! { LogsLink { to: include, class: "facet-value", "{text}" } }
    };
    rsx! {
        li {
            {link}
            span { class: "facet-count", "{value.count}" }
            if let Some(out) = exclude {
                LogsLink { to: out, class: "facet-exclude", title: "Leave out the records of {value.value}", "−" }
            }
        }
    }
}
