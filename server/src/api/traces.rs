//! `GET /api/v1/traces` (search: each row with its spans per service and its root line, and with
//! `scatter=1` every match's point), `GET /api/v1/traces/{trace_id}` (every span, streamed;
//! recent small answers cached) and `GET /api/v1/traces/{trace_id}/spans/{span_id}/linked`
//! (the spans whose links point at that span: a producer's consumers).

use axum::extract::{Path, RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use otelscope_app::model::{LinkedFrom, TraceList, MAX_LINKING_SPANS, TRACE_ROW_DETAILS};

use super::trace_body::{self, TraceBodyError};
use super::ApiError;
use crate::query::params::{parse_trace_query, MAX_LIMIT};
use crate::query::trace_list;
use crate::store::TraceQuery;
use crate::AppState;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/traces", get(search))
        .route("/traces/{trace_id}", get(trace))
        .route("/traces/{trace_id}/spans/{span_id}/linked", get(linked))
}

/// The spans linking to one span, earliest first, at most `MAX_LINKING_SPANS` (`more` says
/// when there are others). An unknown span is linked from nothing.
async fn linked(
    State(state): State<AppState>,
    Path((trace_id, span_id)): Path<(String, String)>,
) -> Result<Json<LinkedFrom>, ApiError> {
    let trace_id = trace_id.to_ascii_lowercase();
    let span_id = span_id.to_ascii_lowercase();
    if !otelscope_app::model::is_trace_id(&trace_id) {
        return Err(ApiError::BadRequest("a trace id is 32 hex digits".into()));
    }
    if span_id.len() != 16 || !span_id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ApiError::BadRequest("a span id is 16 hex digits".into()));
    }
    let mut spans = super::blocking("store.linking_spans", move || {
        state.store.linking_spans(&trace_id, &span_id, MAX_LINKING_SPANS + 1)
    })
    .await?;
    let more = spans.len() > MAX_LINKING_SPANS;
    spans.truncate(MAX_LINKING_SPANS);
    Ok(Json(LinkedFrom { spans, more }))
}

async fn search(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Json<TraceList>, ApiError> {
    let query = parse_trace_query(raw.as_deref().unwrap_or(""), crate::ingest::now_ns())?;
    let scatter = trace_list::wants_scatter(raw.as_deref().unwrap_or(""))?;
    // The count goes one past the largest page, so the page can say "more than 1,000".
    let (traces, matched, points) = super::blocking("store.search_traces", move || {
        let mut traces = state.store.search_traces(&query)?;
        let ids: Vec<String> =
            traces.iter().take(TRACE_ROW_DETAILS).map(|t| t.trace_id.clone()).collect();
        trace_list::fill(&mut traces, state.store.trace_rows(&ids)?);
        // The scatter: every match up to the most a page holds, whatever this page's limit.
        let points = if !scatter {
            Vec::new()
        } else if traces.len() < query.limit || query.limit >= MAX_LIMIT {
            trace_list::points(&traces)
        } else {
            let every = TraceQuery { limit: MAX_LIMIT, ..query.clone() };
            trace_list::points(&state.store.search_traces(&every)?)
        };
        // A short page without attribute filters is all there is; attribute filters stop
        // after a bounded scan, so they leave the count unknown.
        let matched = if !query.attrs.is_empty() {
            None
        } else if traces.len() < query.limit {
            Some(traces.len() as u64)
        } else {
            state.store.count_traces(&query, MAX_LIMIT + 1)?
        };
        Ok::<_, crate::store::StoreError>((traces, matched, points))
    })
    .await?;
    Ok(Json(TraceList { traces, matched, points }))
}

/// Spans in stored order (the app's waterfall orders its rows itself), each once, streamed
/// (see `trace_body`).
async fn trace(State(state): State<AppState>, Path(trace_id): Path<String>) -> Response {
    let trace_id = trace_id.to_ascii_lowercase();
    if !otelscope_app::model::is_trace_id(&trace_id) {
        return ApiError::BadRequest("a trace id is 32 hex digits".into()).into_response();
    }
    let store = state.store.clone();
    let id = trace_id.clone();
    let version =
        match super::blocking("store.trace_version", move || store.trace_version(&id)).await {
            Ok(Some(version)) => version,
            Ok(None) => {
                return ApiError::NotFound(format!("trace {trace_id} not found")).into_response()
            }
            Err(error) => return error.into_response(),
        };
    let key = (trace_id.clone(), version);
    let json = [(header::CONTENT_TYPE, "application/json")];
    if let Some(body) = state.trace_cache.get(&key).await {
        return (json, body).into_response();
    }
    match trace_body::start(state.store.clone(), state.trace_cache.clone(), trace_id, version).await
    {
        Ok(body) => (json, body).into_response(),
        Err(TraceBodyError::NotFound(id)) => {
            ApiError::NotFound(format!("trace {id} not found")).into_response()
        }
        Err(TraceBodyError::Store(error)) => ApiError::Store(error).into_response(),
    }
}
