//! `GET /api/v1/logs/patterns?…the filters of /api/v1/logs…`: the newest matching records
//! (at most `MAX_PATTERN_SAMPLE`, `Store::log_sample`) clustered into templates
//! (`query::log_patterns`, `crate::patterns`); and `pattern=ID` on `/api/v1/logs` (`logs.rs`
//! hands such a request here): the page of that pattern's records in the same sample.

use axum::extract::{RawQuery, State};
use axum::routing::get;
use axum::{Json, Router};
use otelscope_app::model::{LogPage, LogPatterns};

use super::ApiError;
use crate::ingest::now_ns;
use crate::query::log_params::parse_log_query;
use crate::query::log_patterns::{pattern_page, patterns_answer, MAX_PATTERN_SAMPLE};
use crate::query::params::params;
use crate::store::LogQuery;
use crate::AppState;

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/logs/patterns", get(patterns))
}

async fn patterns(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Json<LogPatterns>, ApiError> {
    let query = parse_log_query(raw.as_deref().unwrap_or(""), now_ns())?;
    let (since, until) = (query.since_ns, query.until_ns);
    // Reading and clustering in one blocking task: both are CPU work, bounded by the sample.
    let answer = super::blocking("store.log_patterns", move || {
        let sample = state.store.log_sample(&query, MAX_PATTERN_SAMPLE)?;
        Ok(patterns_answer(&sample, since, until))
    });
    Ok(Json(answer.await?))
}

/// The `pattern` parameter of a query string, when it has one.
pub(crate) fn pattern_param(raw: &str) -> Option<String> {
    params(raw).find(|(key, _)| key == "pattern").map(|(_, value)| value)
}

/// `/api/v1/logs?pattern=ID&…`: the page of pattern `id`'s records among the newest matches of
/// `query`'s filters, paged by `query`'s limit and cursor.
pub(crate) async fn pattern_records(
    state: AppState,
    query: LogQuery,
    id: String,
) -> Result<Json<LogPage>, ApiError> {
    let answer = super::blocking("store.log_pattern_page", move || {
        let sample = state.store.log_sample(&query, MAX_PATTERN_SAMPLE)?;
        Ok(pattern_page(&sample, &id, query.limit, query.cursor))
    });
    Ok(Json(answer.await?))
}
