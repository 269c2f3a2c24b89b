//! `GET /api/v1/cache` and `GET /api/v1/retries`: cache hit rates and retry behaviour, read from
//! the rollups the writer keeps (no span chunk is decoded). otelscope's own services are left
//! out unless `include_self=1` or `service=` names one, as on every route.

use axum::extract::{RawQuery, State};
use axum::routing::get;
use axum::{Json, Router};
use otelscope_app::model::{CacheAnswer, RetriesAnswer, SELF_SERVICES};

use super::ApiError;
use crate::ingest::now_ns;
use crate::query::error::ParamError;
use crate::query::params::{parse_cache_query, parse_retry_query, self_wanted};
use crate::query::{cache, retries};
use crate::AppState;

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/cache", get(cache_answer)).route("/retries", get(retries_answer))
}

/// Parses the query, reads the store's rows on a blocking thread, and aggregates them: the
/// path both insight routes take.
async fn answer<Q: Clone + Send + 'static, Rows: Send + 'static, A>(
    raw: Option<String>,
    parse: fn(&str, u64) -> Result<Q, ParamError>,
    read: impl FnOnce(&Q) -> Result<Rows, crate::store::StoreError> + Send + 'static,
    aggregate: fn(Rows, &Q) -> A,
    drop_self: fn(&mut A),
) -> Result<Json<A>, ApiError> {
    let query = parse(raw.as_deref().unwrap_or(""), now_ns())?;
    let with_self = self_wanted(raw.as_deref().unwrap_or(""))?;
    let rows = super::blocking("store.rollup", {
        let query = query.clone();
        move || read(&query)
    })
    .await?;
    let mut answer = aggregate(rows, &query);
    if !with_self {
        drop_self(&mut answer);
    }
    Ok(Json(answer))
}

async fn cache_answer(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Json<CacheAnswer>, ApiError> {
    let drop_self: fn(&mut CacheAnswer) =
        |a| a.caches.retain(|c| !SELF_SERVICES.contains(&c.service.as_str()));
    answer(raw, parse_cache_query, move |q| state.store.cache(q), cache::answer, drop_self).await
}

async fn retries_answer(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Json<RetriesAnswer>, ApiError> {
    let drop_self: fn(&mut RetriesAnswer) =
        |a| a.operations.retain(|o| !SELF_SERVICES.contains(&o.service.as_str()));
    answer(raw, parse_retry_query, move |q| state.store.retries(q), retries::answer, drop_self)
        .await
}
