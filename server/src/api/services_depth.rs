//! Services in depth (issue 25): `GET /api/v1/services/{name}/red` (RED series and the
//! operations table with Impact), `GET /api/v1/map` (the service map, or with `trace_id=` one
//! trace's), `GET /api/v1/services/{name}/compare` ("what changed"). The first two answer from
//! the rollups the writer keeps; a trace's map and the comparison read a bounded number of
//! traces. Parameters and answers are made in `query::services` and `query::compare`.

use axum::extract::{Path, RawQuery, State};
use axum::routing::get;
use axum::{Json, Router};
use otelscope_app::model::{CompareAnswer, RedAnswer, ServiceMap};

use super::ApiError;
use crate::ingest::now_ns;
use crate::query::{compare, service_map, services};
use crate::store::{whole_trace, Grain, MapQuery, RedQuery, MAX_FOLD_SPANS};
use crate::AppState;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/services/{name}/red", get(red))
        .route("/services/{name}/compare", get(compare_answer))
        .route("/map", get(map))
}

async fn red(
    State(state): State<AppState>,
    Path(name): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Json<RedAnswer>, ApiError> {
    let p = services::parse_red(&name, raw.as_deref().unwrap_or(""), now_ns())?;
    let q = p.store_query();
    let rows = super::blocking("store.red", move || state.store.red(&q)).await?;
    Ok(Json(services::red_answer(&rows, &p)))
}

async fn map(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Json<ServiceMap>, ApiError> {
    let p = services::parse_map(raw.as_deref().unwrap_or(""), now_ns())?;
    if let Some(trace_id) = p.trace_id.clone() {
        let store = state.store.clone();
        let spans =
            super::blocking("store.trace_map", move || match store.trace_version(&trace_id)? {
                Some(n) if n > MAX_FOLD_SPANS => Ok(Err(n)),
                Some(_) => Ok(Ok(Some(whole_trace(&*store, &trace_id)?))),
                None => Ok(Ok(None)),
            })
            .await?;
        let id = p.trace_id.as_deref().unwrap_or_default();
        return match spans {
            Ok(Some(spans)) => Ok(Json(service_map::trace_map(id, &spans))),
            Ok(None) => Err(ApiError::NotFound(format!("no trace {id}"))),
            Err(n) => Err(ApiError::BadRequest(format!(
                "trace {id} has {n} spans; a trace's map is drawn up to {MAX_FOLD_SPANS}"
            ))),
        };
    }
    // The map sums edges and RED rows over the whole range.
    let (since_ns, until_ns) = (p.range.since_ns, p.range.until_ns);
    let range = MapQuery { since_ns, until_ns, grain: Grain::Whole };
    let red = RedQuery { service: None, since_ns, until_ns, grain: Grain::Whole };
    let (rows, red) = super::blocking("store.service_map", move || {
        let rows = state.store.service_map(&range)?;
        let red = state.store.red(&red)?;
        Ok((rows, red))
    })
    .await?;
    Ok(Json(service_map::map_answer(rows, &red, &p)))
}

async fn compare_answer(
    State(state): State<AppState>,
    Path(name): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Json<CompareAnswer>, ApiError> {
    let p = compare::parse_compare(&name, raw.as_deref().unwrap_or(""), now_ns())?;
    let answer =
        super::blocking("store.compare", move || compare::compare(&*state.store, &p)).await?;
    Ok(Json(answer))
}
