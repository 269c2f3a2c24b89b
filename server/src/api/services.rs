//! `GET /api/v1/services`: the services seen, with span counts.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use otelscope_app::model::Services;

use super::ApiError;
use crate::AppState;

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/services", get(services))
}

async fn services(State(state): State<AppState>) -> Result<Json<Services>, ApiError> {
    let services = super::blocking(move || state.store.services()).await?;
    Ok(Json(Services { services }))
}
