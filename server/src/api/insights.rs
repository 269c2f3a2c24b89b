//! `GET /api/v1/cache` and `GET /api/v1/retries`: cache hit rates and retry behaviour, read from
//! the rollups the writer keeps (no span chunk is decoded).

use axum::extract::{RawQuery, State};
use axum::routing::get;
use axum::{Json, Router};
use otelscope_app::model::{CacheAnswer, RetriesAnswer};

use super::ApiError;
use crate::ingest::now_ns;
use crate::store::{parse_cache_query, parse_retry_query};
use crate::AppState;

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/cache", get(cache)).route("/retries", get(retries))
}

async fn cache(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Json<CacheAnswer>, ApiError> {
    let query =
        parse_cache_query(raw.as_deref().unwrap_or(""), now_ns()).map_err(ApiError::BadRequest)?;
    Ok(Json(super::blocking(move || state.store.cache(&query)).await?))
}

async fn retries(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Json<RetriesAnswer>, ApiError> {
    let query =
        parse_retry_query(raw.as_deref().unwrap_or(""), now_ns()).map_err(ApiError::BadRequest)?;
    Ok(Json(super::blocking(move || state.store.retries(&query)).await?))
}
