//! The JSON query API under `/api/v1`. Each submodule owns its routes; errors leave through
//! the one [`ApiError`].

mod error;
mod health;
mod services;

pub use error::ApiError;

use axum::Router;

use crate::AppState;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .merge(health::routes())
        .merge(services::routes())
        .fallback(|| async { ApiError::NotFound("no such API route".into()) })
}
