//! `GET /api/v1/metrics` (the logs routes are `logs.rs`).

use axum::extract::{RawQuery, State};
use axum::routing::get;
use axum::{Json, Router};
use otelscope_app::model::MetricsAnswer;

use super::ApiError;
use crate::ingest::now_ns;
use crate::query::params::parse_metric_query;
use crate::AppState;

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/metrics", get(metrics))
}

async fn metrics(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Json<MetricsAnswer>, ApiError> {
    let query = parse_metric_query(raw.as_deref().unwrap_or(""), now_ns())?;
    Ok(Json(super::blocking("store.metrics", move || state.store.metrics(&query)).await?))
}
