//! The JSON query API under `/api/v1`. Each submodule owns its routes; errors leave through
//! the one [`ApiError`].

mod error;
mod flame;
mod flame_format;
mod health;
mod insights;
mod log_patterns;
mod logs;
mod metrics;
mod profiles;
mod services;
mod services_depth;
mod trace_body;
mod trace_cache;
mod traces;

pub use error::ApiError;
pub use profiles::PROFILE_ID_HEADER;
pub use trace_cache::TraceCache;

use axum::Router;

use crate::AppState;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .merge(health::routes())
        .merge(services::routes())
        .merge(services_depth::routes())
        .merge(traces::routes())
        .merge(logs::routes())
        .merge(metrics::routes())
        .merge(log_patterns::routes())
        .merge(insights::routes())
        .merge(flame::routes())
        .merge(profiles::routes())
        .fallback(|| async { ApiError::NotFound("no such API route".into()) })
}

/// Runs a store call off the async runtime (SQLite blocks); with self-telemetry, as a span
/// named `name` (`store.search_traces`) under the request's.
pub(crate) async fn blocking<T: Send + 'static>(
    name: &'static str,
    f: impl FnOnce() -> Result<T, crate::store::StoreError> + Send + 'static,
) -> Result<T, ApiError> {
    let span = crate::selftrace::SelfTelemetry::child_of_current(name);
    let result = match tokio::task::spawn_blocking(f).await {
        Ok(result) => result.map_err(ApiError::from),
        Err(_) => {
            Err(ApiError::Store(crate::store::StoreError::Unavailable("query task failed".into())))
        }
    };
    if let Some(cx) = span {
        use opentelemetry::trace::TraceContextExt as _;
        if let Err(error) = &result {
            cx.span().set_status(opentelemetry::trace::Status::error(error.to_string()));
        }
        cx.span().end();
    }
    result
}
