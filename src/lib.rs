//! The otelscope dashboard UI: one set of Dioxus components drawn in the browser (WASM), in a
//! desktop window and as server-rendered HTML. Everything platform-specific lives in `platform`.

mod api_failure;
pub mod charts;
mod components;
mod env;
pub mod filters;
mod hooks;
pub mod model;
pub mod platform;
mod routes;
mod uitrace;
mod views;
mod words;

pub use api_failure::ApiFailure;
pub use env::{ApiOutcome, Env, PlatformKind, RenderMode, SsrData};
pub use routes::Route;

use dioxus::prelude::*;

/// The stylesheet, shared by every renderer: the server serves it at `/assets/main.css` and the
/// desktop window inlines it into its head.
pub const STYLESHEET: &str = include_str!("../assets/main.css");

/// The header's light/dark switch (a plain script, no WASM): the server serves it at
/// `/assets/theme.js` to pages that run scripts, and the desktop window inlines it.
pub const THEME_SCRIPT: &str = include_str!("../assets/theme.js");

/// The root component: the router over every view. Which renderer draws it is told by the
/// [`Env`] context its launcher provides.
#[allow(non_snake_case)]
pub fn App() -> Element {
    uitrace::use_ui_tracing();
    rsx! {
        Router::<Route> {}
    }
}
