//! `GET /api/v1/health`: the server answers and says its version.

use axum::routing::get;
use axum::{Json, Router};
use otelscope_app::model::Health;

use crate::AppState;

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/health", get(health))
}

async fn health() -> Json<Health> {
    Json(Health { status: "ok".into(), version: env!("CARGO_PKG_VERSION").into() })
}
