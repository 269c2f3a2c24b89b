//! `GET /api/v1/services` (the services seen, with span counts) and `GET /api/v1/operations`
//! (one service's span names).

use axum::extract::{RawQuery, State};
use axum::routing::get;
use axum::{Json, Router};
use otelscope_app::filters::query_pairs;
use otelscope_app::model::{Operations, Services, SELF_SERVICES};

use super::ApiError;
use crate::AppState;

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/services", get(services)).route("/operations", get(operations))
}

/// The services seen; otelscope's own (`SELF_SERVICES`) only with `include_self=1`.
async fn services(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Services>, ApiError> {
    let mut include_self = false;
    for (key, value) in query_pairs(raw.as_deref().unwrap_or("")) {
        if key == "include_self" {
            include_self =
                crate::query::params::flag(&key, &value).map_err(ApiError::BadRequest)?;
        }
    }
    let mut services = super::blocking("store.services", move || state.store.services()).await?;
    if !include_self {
        services.retain(|s| !SELF_SERVICES.contains(&s.name.as_str()));
    }
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
    let mut operations = super::blocking("store.operations", {
        let service = service.clone();
        move || state.store.operations(&service, MAX_OPERATIONS + 1)
    })
    .await?;
    let truncated = operations.len() > MAX_OPERATIONS;
    operations.truncate(MAX_OPERATIONS);
    Ok(Json(Operations { service, operations, truncated }))
}
