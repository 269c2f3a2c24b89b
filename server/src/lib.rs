//! The otelscope server: query API, web app (the embedded WASM bundle), SSR pages and, for
//! `otelscope desktop`, the native window. `router` is a plain function so tests can drive it
//! with `oneshot` and no socket.

pub mod api;
pub mod cli;
#[cfg(feature = "desktop")]
pub mod desktop;
pub mod serve;
pub mod ssr;
pub mod store;
pub mod web;

use std::sync::Arc;

use axum::Router;

use crate::store::Store;

/// Everything a request handler may need. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
}

impl AppState {
    pub fn new(store: Arc<dyn Store>) -> AppState {
        AppState { store }
    }
}

/// The whole UI port: `/api/v1`, the web bundle and stylesheet, and SSR pages for every other
/// GET (404 for paths the app does not know).
pub fn router(state: AppState) -> Router {
    Router::new()
        .nest("/api/v1", api::router())
        .merge(web::router())
        .fallback(ssr::page)
        .with_state(state)
}

/// Only the JSON query API, under `/api/v1`. SSR calls it in-process.
pub fn api_router(state: AppState) -> Router {
    Router::new()
        .nest("/api/v1", api::router())
        .with_state(state)
}
