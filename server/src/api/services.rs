//! `GET /api/v1/services` (the services seen, with span counts) and `GET /api/v1/operations`
//! (one service's span names).

use axum::extract::{RawQuery, State};
use axum::routing::get;
use axum::{Json, Router};
use otelscope_app::filters::query_pairs;
use otelscope_app::model::{Operations, Services};

use super::ApiError;
use crate::AppState;

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/services", get(services)).route("/operations", get(operations))
}

async fn services(State(state): State<AppState>) -> Result<Json<Services>, ApiError> {
    let services = super::blocking(move || state.store.services()).await?;
    Ok(Json(Services { services }))
}

/// The most names `/operations` lists.
const MAX_OPERATIONS: usize = 1_000;

async fn operations(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Operations>, ApiError> {
    let mut service = None;
    for (key, value) in query_pairs(raw.as_deref().unwrap_or("")) {
        match key.as_str() {
            "service" => service = Some(value),
            other => return Err(ApiError::BadRequest(format!("unknown parameter {other:?}"))),
        }
    }
    let service = service
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::BadRequest("service is required".into()))?;
    let mut operations = super::blocking({
        let service = service.clone();
        move || state.store.operations(&service, MAX_OPERATIONS + 1)
    })
    .await?;
    let truncated = operations.len() > MAX_OPERATIONS;
    operations.truncate(MAX_OPERATIONS);
    Ok(Json(Operations { service, operations, truncated }))
}
