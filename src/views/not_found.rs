//! `NotFound`: the page for any path the app does not know (the server also answers 404).

use dioxus::prelude::*;

use crate::routes::Route;

#[component]
pub(crate) fn NotFound(segments: Vec<String>) -> Element {
    crate::uitrace::use_render_span();
    let path = format!("/{}", segments.join("/"));
    rsx! {
        section { class: "empty-page not-found",
            h1 { "Page not found" }
            p { "Nothing lives at " code { "{path}" } "." }
            Link { to: Route::Traces { filters: Default::default() }, "Go to traces" }
        }
    }
}
