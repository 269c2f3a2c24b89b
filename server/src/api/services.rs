//! `GET /api/v1/services` (the services seen, with span counts), `GET /api/v1/operations`
//! (one service's span names) and `GET /api/v1/operations/stats` (their recent latencies).
//! `/services` counts over a range, the last hour by default (the range rule), from the RED
//! rollup; with `since`/`until`/`step` or `sparklines=1` it adds each service's sparklines.

use axum::extract::{RawQuery, State};
use axum::routing::get;
use axum::{Json, Router};
use otelscope_app::filters::query_pairs;
use otelscope_app::model::{OperationStatsList, Operations, Services, SELF_SERVICES};

use super::ApiError;
use crate::store::StoreError;
use crate::AppState;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/services", get(services))
        .route("/operations", get(operations))
        .route("/operations/stats", get(operation_stats))
}

/// The services seen, each counted over the range (the last hour unless asked otherwise, as for
/// every aggregate), with the range in the answer; otelscope's own (`SELF_SERVICES`) only with
/// `include_self=1`.
async fn services(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Services>, ApiError> {
    let p = crate::query::services::parse_services(
        raw.as_deref().unwrap_or(""),
        crate::ingest::now_ns(),
    )?;
    // Sparklines sum the rows into steps, the table over the range.
    let red = p.range.store_query(None);
    let (mut services, rows) = super::blocking("store.services", move || {
        let services = state.store.services()?;
        Ok((services, state.store.red(&red)))
    })
    .await?;
    if !p.include_self {
        services.retain(|s| !SELF_SERVICES.contains(&s.name.as_str()));
    }
    let rows = match rows {
        Ok(rows) => rows,
        // A store without the RED rollup (the ClickHouse store, so far) answers a plain ask
        // with its catalogue, counted over everything stored, and says so: no `range`.
        Err(StoreError::Unavailable(why)) if !p.sparklines => {
            tracing::debug!(%why, "Services counted over everything stored.");
            return Ok(Json(Services { services, sparklines: Vec::new(), range: None }));
        }
        Err(error) => return Err(error.into()),
    };
    crate::query::services::table_over(&mut services, &rows, &p.range);
    let sparklines = if p.sparklines {
        crate::query::services::sparklines(&rows, &p.range)
            .into_iter()
            .filter(|s| services.iter().any(|listed| listed.name == s.service))
            .collect()
    } else {
        Vec::new()
    };
    Ok(Json(Services { services, sparklines, range: Some((p.range.since_ns, p.range.until_ns)) }))
}

/// The most names `/operations` lists.
const MAX_OPERATIONS: usize = 1_000;

async fn operations(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Operations>, ApiError> {
    let service = service_param(raw.as_deref())?;
    let mut operations = super::blocking("store.operations", {
        let service = service.clone();
        move || state.store.operations(&service, MAX_OPERATIONS + 1)
    })
    .await?;
    let truncated = operations.len() > MAX_OPERATIONS;
    operations.truncate(MAX_OPERATIONS);
    Ok(Json(Operations { service, operations, truncated }))
}

/// The one parameter of the operations routes: `service`, required.
fn service_param(raw: Option<&str>) -> Result<String, ApiError> {
    let mut service = None;
    for (key, value) in query_pairs(raw.unwrap_or("")) {
        match key.as_str() {
            "service" => service = Some(value),
            other => return Err(ApiError::BadRequest(format!("unknown parameter {other:?}"))),
        }
    }
    service
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::BadRequest("service is required".into()))
}

/// The window `/operations/stats` covers: the last hour.
const STATS_WINDOW_NS: u64 = 3_600 * 1_000_000_000;

/// The most `trace_ops` rows one stats answer reads (each is one trace's spans of one name):
/// a bound on its time, whatever the store holds.
const STATS_MAX_ROWS: usize = 50_000;

/// Each span name of one service with counts and p50/p95/max over the last hour's traces,
/// slowest first: the `/self` page's timings per view and per API route.
async fn operation_stats(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Json<OperationStatsList>, ApiError> {
    let service = service_param(raw.as_deref())?;
    let since_ns = crate::ingest::now_ns().saturating_sub(STATS_WINDOW_NS);
    let (operations, truncated) = super::blocking("store.operation_stats", {
        let service = service.clone();
        move || state.store.operation_stats(&service, since_ns, STATS_MAX_ROWS)
    })
    .await?;
    Ok(Json(OperationStatsList { service, since_ns, operations, truncated }))
}
