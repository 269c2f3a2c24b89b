//! `GET /api/v1/cache` and `GET /api/v1/retries`: cache hit rates and retry behaviour, read from
//! the rollups the writer keeps (no span chunk is decoded).

use axum::extract::{RawQuery, State};
use axum::routing::get;
use axum::{Json, Router};
use otelscope_app::model::{CacheAnswer, RetriesAnswer};

use super::ApiError;
use crate::ingest::now_ns;
use crate::query::params::{parse_cache_query, parse_retry_query};
use crate::query::{cache, retries};
use crate::AppState;

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/cache", get(cache_answer)).route("/retries", get(retries_answer))
}

async fn cache_answer(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Json<CacheAnswer>, ApiError> {
    let query =
        parse_cache_query(raw.as_deref().unwrap_or(""), now_ns()).map_err(ApiError::BadRequest)?;
    let rows = super::blocking({
        let query = query.clone();
        move || state.store.cache(&query)
    })
    .await?;
    Ok(Json(cache::answer(rows, &query)))
}

async fn retries_answer(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Json<RetriesAnswer>, ApiError> {
    let query =
        parse_retry_query(raw.as_deref().unwrap_or(""), now_ns()).map_err(ApiError::BadRequest)?;
    let rows = super::blocking({
        let query = query.clone();
        move || state.store.retries(&query)
    })
    .await?;
    Ok(Json(retries::answer(rows, &query)))
}
