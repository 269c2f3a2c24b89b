//! `ServiceList`: every service seen, with its span count, linking to its traces.

use dioxus::prelude::*;

use crate::filters::TraceFilters;
use crate::hooks::{use_api_live, Loadable};
use crate::model::Services;
use crate::routes::Route;

#[component]
pub(crate) fn ServiceList() -> Element {
    let services = use_api_live::<Services>(|| "/api/v1/services".into());
    rsx! {
        section { class: "services",
            h1 { "Services" }
            match services {
                Loadable::Loading => rsx! { p { class: "loading", "Loading services…" } },
                Loadable::Failed(error) => rsx! { p { class: "error-state", role: "alert", "Could not load services: {error}" } },
                Loadable::Ready(list) if list.services.is_empty() => rsx! {
                    p { class: "empty-state", "No services yet: nothing has sent telemetry to this server." }
                },
                Loadable::Ready(list) => rsx! {
                    table { class: "results",
                        thead { tr { th { "Service" } th { "Spans" } } }
                        tbody {
                            for s in list.services {
                                tr { key: "{s.name}",
                                    td {
                                        Link {
                                            to: Route::Traces { filters: TraceFilters { service: s.name.clone(), ..Default::default() } },
                                            "{s.name}"
                                        }
                                    }
                                    td { class: "num", "{s.span_count}" }
                                }
                            }
                        }
                    }
                },
            }
        }
    }
}
