//! `GET /api/v1/logs` (the metrics routes are in `metrics.rs`).

use axum::extract::{RawQuery, State};
use axum::routing::get;
use axum::{Json, Router};
use otelscope_app::model::LogList;

use super::ApiError;
use crate::ingest::now_ns;
use crate::query::params::parse_log_query;
use crate::AppState;

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/logs", get(logs))
}

async fn logs(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Json<LogList>, ApiError> {
    let query = parse_log_query(raw.as_deref().unwrap_or(""), now_ns())?;
    let logs = super::blocking("store.logs", move || state.store.logs(&query)).await?;
    Ok(Json(LogList { logs }))
}
