//! `ApiError`: the one way an API handler fails — a status and `{"error": "..."}`; 5xx are
//! logged and never carry internals.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use otelscope_app::model::ApiErrorBody;

use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    BadRequest(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.response()
    }
}

impl ApiError {
    /// The answer for this error, from a shared one (e.g. a cache's `Arc<ApiError>`).
    pub(crate) fn response(&self) -> Response {
        let (status, message) = match self {
            ApiError::NotFound(m) => (StatusCode::NOT_FOUND, m.clone()),
            ApiError::BadRequest(m) => (StatusCode::BAD_REQUEST, m.clone()),
            ApiError::Store(error) => {
                tracing::error!(%error, "Store failed while answering a query.");
                (StatusCode::SERVICE_UNAVAILABLE, "the store is unavailable".to_owned())
            }
        };
        (status, Json(ApiErrorBody { error: message })).into_response()
    }
}
