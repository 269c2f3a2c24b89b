//! `GET /api/v1/traces` (search) and `GET /api/v1/traces/{trace_id}` (every span, with
//! recent answers cached).

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
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

/// Whole-trace answers as JSON, by trace id and `Store::trace_version`, so an answer is reused
/// only while no span was added to the trace. A trace page asks twice in a row (its SSR render,
/// then the app's fetch); for a 100,000-span trace each costs a few hundred ms. Concurrent
/// askers share one computation. Bounded by size (64 MiB) and kept 30 s.
#[derive(Clone)]
pub struct TraceCache(moka::future::Cache<(String, u64), Bytes>);

impl Default for TraceCache {
    fn default() -> TraceCache {
        let cache = moka::future::Cache::builder()
            .weigher(|_: &(String, u64), body: &Bytes| {
                u32::try_from(body.len()).unwrap_or(u32::MAX)
            })
            .max_capacity(64 << 20)
            .time_to_live(Duration::from_secs(30))
            .build();
        TraceCache(cache)
    }
}

async fn trace(State(state): State<AppState>, Path(trace_id): Path<String>) -> Response {
    let trace_id = trace_id.to_ascii_lowercase();
    if trace_id.len() != 32 || !trace_id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return ApiError::BadRequest("a trace id is 32 hex digits".into()).into_response();
    }
    let store = state.store.clone();
    let id = trace_id.clone();
    let version = match super::blocking(move || store.trace_version(&id)).await {
        Ok(Some(version)) => version,
        Ok(None) => {
            return ApiError::NotFound(format!("trace {trace_id} not found")).into_response()
        }
        Err(error) => return error.into_response(),
    };
    let key = (trace_id.clone(), version);
    let answer = state.trace_cache.0.try_get_with(key, load_trace(state.clone(), trace_id)).await;
    match answer {
        Ok(body) => ([(header::CONTENT_TYPE, "application/json")], body).into_response(),
        Err(error) => Arc::as_ref(&error).response(),
    }
}

async fn load_trace(state: AppState, trace_id: String) -> Result<Bytes, ApiError> {
    let id = trace_id.clone();
    let spans = super::blocking(move || state.store.trace(&id)).await?;
    if spans.is_empty() {
        return Err(ApiError::NotFound(format!("trace {trace_id} not found")));
    }
    let json = serde_json::to_vec(&Trace { trace_id, spans })
        .map_err(|e| ApiError::Store(crate::store::StoreError::Corrupt(e.to_string())))?;
    Ok(Bytes::from(json))
}
