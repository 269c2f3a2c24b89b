//! `GET /api/v1/logs` (a page of records, newest first, with `matched` and cursors), its
//! `histogram`, `facets` and `{id}/context`. Parsing is `query::log_params`; the store answers
//! (`Store::log_page` and the others). `/api/v1/logs/patterns` lives in its own module.

use axum::extract::{Path, RawQuery, State};
use axum::routing::get;
use axum::{Json, Router};
use otelscope_app::model::{LogContext, LogFacets, LogHistogram, LogPage};

use super::ApiError;
use crate::ingest::now_ns;
use crate::query::log_params::{parse_log_context, parse_log_histogram_query, parse_log_query};
use crate::AppState;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/logs", get(page))
        .route("/logs/histogram", get(histogram))
        .route("/logs/facets", get(facets))
        .route("/logs/{id}/context", get(context))
}

async fn page(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Json<LogPage>, ApiError> {
    let raw = raw.as_deref().unwrap_or("");
    let query = parse_log_query(raw, now_ns())?;
    // `pattern=ID`: the records of one of `/api/v1/logs/patterns`' templates.
    if let Some(pattern) = super::log_patterns::pattern_param(raw) {
        return super::log_patterns::pattern_records(state, query, pattern).await;
    }
    Ok(Json(super::blocking("store.log_page", move || state.store.log_page(&query)).await?))
}

async fn histogram(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Json<LogHistogram>, ApiError> {
    let query = parse_log_histogram_query(raw.as_deref().unwrap_or(""), now_ns())?;
    let answer = super::blocking("store.log_histogram", move || state.store.log_histogram(&query));
    Ok(Json(answer.await?))
}

async fn facets(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Json<LogFacets>, ApiError> {
    let query = parse_log_query(raw.as_deref().unwrap_or(""), now_ns())?;
    Ok(Json(super::blocking("store.log_facets", move || state.store.log_facets(&query)).await?))
}

async fn context(
    State(state): State<AppState>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Json<LogContext>, ApiError> {
    let (before, after) = parse_log_context(raw.as_deref().unwrap_or(""))?;
    let answer =
        super::blocking("store.log_context", move || state.store.log_context(&id, before, after));
    answer.await?.map(Json).ok_or_else(|| ApiError::NotFound("no such log record".into()))
}
