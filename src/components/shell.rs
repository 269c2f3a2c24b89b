//! `Shell`: the layout around every page — header with navigation, live control, status line.

use dioxus::prelude::*;

use crate::components::{LiveControl, StatusLine};
use crate::env::Env;
use crate::hooks::use_live_provider;
use crate::routes::Route;

/// The root element of every renderer's output; `data-platform` tells tests who drew it.
#[component]
pub(crate) fn Shell() -> Element {
    let env = use_context::<Env>();
    let current = use_route::<Route>();
    let live = use_live_provider();
    crate::components::use_zone_provider();
    // A native window's router starts at `/`: go to the page it was opened for, once.
    use_hook(|| {
        if let Some(path) = env.start_path.as_deref() {
            if let Ok(route) = path.parse::<Route>() {
                navigator().replace(route);
            }
        }
    });
    rsx! {
        div { id: "app", "data-platform": env.platform.name(), "data-ui-tracing": if crate::uitrace::is_on() { "on" } else { "off" },
            header { class: "topbar",
                Link { class: "brand", to: Route::Home {}, "otelscope" }
                nav {
                    for (route, label) in Route::nav() {
                        Link {
                            class: if route.section() == current.section() { "nav-link active" } else { "nav-link" },
                            to: route.clone(),
                            "{label}"
                        }
                    }
                }
                TraceLookup {}
                LiveControl {}
                StatusLine {}
                // Worked by assets/theme.js, and shown only where that runs; its words are CSS's.
                button { class: "theme-toggle", r#type: "button", "data-theme-toggle": "true", title: "Switch between the light and the dark theme" }
            }
            if (live.reconnecting)() {
                div { class: "reconnecting", role: "status",
                    "The server does not answer: showing the last data it sent, reconnecting every few seconds."
                }
            }
            main { class: "page", Outlet::<Route> {} }
        }
    }
}

/// Opens a trace whose id is pasted in (32 hex digits, any case, surrounding space ignored);
/// anything else is marked invalid. Not on pages without scripts.
#[component]
fn TraceLookup() -> Element {
    let mut typed = use_signal(String::new);
    let mut refused = use_signal(|| false);
    if crate::env::use_render_mode().is_static() {
        return rsx! {};
    }
    rsx! {
        form { class: "trace-lookup", role: "search",
            onsubmit: move |e| {
                e.prevent_default();
                let id = typed.read().trim().to_ascii_lowercase();
                if crate::model::is_trace_id(&id) {
                    refused.set(false);
                    typed.set(String::new());
                    navigator().push(Route::TraceDetail { trace_id: id });
                } else {
                    refused.set(true);
                }
            },
            input { r#type: "search", name: "trace_id", placeholder: "Open trace id…", "aria-label": "Open a trace by its id",
                title: if refused() { "A trace id is 32 hex digits" } else { "Paste a trace id and press Enter" },
                "aria-invalid": if refused() { "true" } else { "false" },
                value: "{typed}",
                oninput: move |e| {
                    typed.set(e.value());
                    refused.set(false);
                },
            }
        }
    }
}
