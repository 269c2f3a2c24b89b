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
    use_live_provider();
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
                LiveControl {}
                StatusLine {}
                // Worked by assets/theme.js, and shown only where that runs; its words are CSS's.
                button { class: "theme-toggle", r#type: "button", "data-theme-toggle": "true", title: "Switch between the light and the dark theme" }
            }
            main { class: "page", Outlet::<Route> {} }
        }
    }
}
