//! `GET /api/v1/metrics` (the catalogue; with `name=` the raw series of one metric, as before)
//! and `GET /api/v1/metrics/{name}/series` (one chart's lines, `query::metrics`).
//!
//! Bounds of a series request: the range in at most 1,000 steps (the step widens), at most 50
//! lines plus "others", at most 5,000 series and 300,000 points read (newest first; the answer
//! then says so in `notes`), one exemplar per step. Percentiles interpolate linearly inside
//! the bucket holding the rank (see `query::metrics::dist`).

use std::collections::BTreeSet;

use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use otelscope_app::model::{MetricInfo, MetricSeriesAnswer, SELF_SERVICES};

use super::ApiError;
use crate::ingest::now_ns;
use crate::query::metrics::params::{parse_catalog, parse_series, MetricParamError};
use crate::query::metrics::{aggs_for, answer, default_agg};
use crate::query::params::parse_metric_query;
use crate::store::metrics::{kind_text, MAX_SAMPLES_READ, MAX_SERIES_READ};
use crate::store::{MetricCatalogQuery, MetricRows, MetricRowsQuery};
use crate::AppState;

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/metrics", get(metrics)).route("/metrics/{name}/series", get(series))
}

impl From<MetricParamError> for ApiError {
    fn from(error: MetricParamError) -> ApiError {
        ApiError::BadRequest(error.to_string())
    }
}

/// Without `name=`: the catalogue (`MetricCatalog`); with it, the raw series (`MetricsAnswer`).
async fn metrics(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let raw = raw.unwrap_or_default();
    let legacy = parse_metric_query(&raw, now_ns())?;
    if legacy.name.is_some() {
        let answer = super::blocking("store.metrics", move || state.store.metrics(&legacy)).await?;
        return Ok(Json(answer).into_response());
    }
    let query = parse_catalog(&raw)?;
    let catalog =
        super::blocking("store.metric_catalog", move || state.store.metric_catalog(&query)).await?;
    Ok(Json(catalog).into_response())
}

async fn series(
    State(state): State<AppState>,
    Path(name): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Json<MetricSeriesAnswer>, ApiError> {
    let req = parse_series(&name, raw.as_deref().unwrap_or(""), now_ns())?;
    let rows_query = MetricRowsQuery {
        name: name.clone(),
        kind: None,
        unit: None,
        service: req.service.clone(),
        attrs: req.attrs.clone(),
        // One step before the range, so the first step's counters have a point to count from.
        since_ns: req.since_ns.saturating_sub(req.step_ns),
        until_ns: req.until_ns,
        max_series: MAX_SERIES_READ,
        max_samples: MAX_SAMPLES_READ,
        // The chart's steps: a cumulative histogram's points between them are not decoded whole.
        chart_steps: Some((req.since_ns, req.step_ns)),
    };
    let store = state.store.clone();
    // otelscope's own series only when asked or named, as on every route.
    let own_too = req.include_self || req.service.is_some();
    let (rows, known) = super::blocking("store.metric_rows", move || {
        let mut rows = store.metric_rows(&rows_query)?;
        if !own_too {
            rows.series.retain(|(meta, _)| !SELF_SERVICES.contains(&meta.service.as_str()));
        }
        let known = if rows.series.is_empty() {
            // Filters may match nothing of a metric that exists: say what it is anyway.
            let catalog = store.metric_catalog(&MetricCatalogQuery {
                q: Some(rows_query.name.clone()),
                service: rows_query.service.clone(),
                include_self: true,
                limit: 10_000,
            })?;
            catalog.metrics.into_iter().find(|m| m.name == rows_query.name)
        } else {
            None
        };
        Ok((rows, known))
    })
    .await?;
    let info = match known {
        Some(info) => info,
        None if rows.series.is_empty() => {
            return Err(ApiError::NotFound(format!("no metric named {name:?} is stored")))
        }
        None => info_of(&rows),
    };
    let agg = req.agg.unwrap_or_else(|| default_agg(info.kind, info.monotonic));
    let allowed = aggs_for(info.kind, info.monotonic);
    if !allowed.contains(&agg) {
        let names: Vec<&str> = allowed.iter().map(|a| a.as_str()).collect();
        return Err(ApiError::BadRequest(format!(
            "agg {} does not apply to {} {:?}; use one of {}",
            agg.as_str(),
            kind_text(info.kind),
            name,
            names.join(", ")
        )));
    }
    // Summing and merging over thousands of series is CPU work: off the async runtime.
    let built = tokio::task::spawn_blocking(move || answer(rows, info, &req, agg))
        .await
        .map_err(|_| ApiError::Unavailable("the metric answer could not be built".into()))?;
    Ok(Json(built))
}

/// The metric as the series read describe it.
fn info_of(rows: &MetricRows) -> MetricInfo {
    let first = &rows.series[0].0;
    let services: BTreeSet<&str> = rows.series.iter().map(|(m, _)| m.service.as_str()).collect();
    MetricInfo {
        name: first.name.clone(),
        kind: first.kind,
        unit: first.unit.clone(),
        description: rows
            .series
            .iter()
            .map(|(m, _)| m.description.as_str())
            .find(|d| !d.is_empty())
            .unwrap_or_default()
            .to_owned(),
        temporality: first.temporality,
        monotonic: first.monotonic,
        series: rows.series.len() as u64,
        points: rows.series.iter().map(|(_, s)| s.len() as u64).sum(),
        services: services.into_iter().map(str::to_owned).collect(),
        last_seen_ns: rows
            .series
            .iter()
            .filter_map(|(_, s)| s.last().map(|p| p.time_ns))
            .max()
            .unwrap_or(0),
    }
}
