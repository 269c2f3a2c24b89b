//! `GET /api/v1/traces` (search) and `GET /api/v1/traces/{trace_id}` (every span).

use axum::extract::{Path, RawQuery, State};
use axum::routing::get;
use axum::{Json, Router};
use otelscope_app::model::{Trace, TraceList};

use super::ApiError;
use crate::store::parse_trace_query;
use crate::AppState;

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/traces", get(search)).route("/traces/{trace_id}", get(trace))
}

async fn search(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Json<TraceList>, ApiError> {
    let query = parse_trace_query(raw.as_deref().unwrap_or(""), crate::ingest::now_ns())
        .map_err(ApiError::BadRequest)?;
    let traces = super::blocking(move || state.store.search_traces(&query)).await?;
    Ok(Json(TraceList { traces }))
}

async fn trace(
    State(state): State<AppState>,
    Path(trace_id): Path<String>,
) -> Result<Json<Trace>, ApiError> {
    let trace_id = trace_id.to_ascii_lowercase();
    if trace_id.len() != 32 || !trace_id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ApiError::BadRequest("a trace id is 32 hex digits".into()));
    }
    let id = trace_id.clone();
    let spans = super::blocking(move || state.store.trace(&id)).await?;
    if spans.is_empty() {
        return Err(ApiError::NotFound(format!("trace {trace_id} not found")));
    }
    Ok(Json(Trace { trace_id, spans }))
}
