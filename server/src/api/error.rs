//! `ApiError`: the one way an API handler fails — a status and `{"error": "..."}`; 5xx are
//! logged and never carry internals.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use otelscope_app::model::ApiErrorBody;

use crate::query::error::ParamError;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    BadRequest(String),
    /// 401: no valid API key or session (see `auth`).
    #[error("{0}")]
    Unauthorized(String),
    /// 429 + `Retry-After` in whole seconds: too many wrong API keys from this client lately.
    #[error("{message}")]
    TooManyRequests { message: String, retry_after_secs: u64 },
    /// 408: the request's body did not arrive in time.
    #[error("{0}")]
    Timeout(String),
    /// 409: the resource is busy with another request (one CPU profile at a time).
    #[error("{0}")]
    Conflict(String),
    /// 413: the request, or what it asks for, is larger than the server handles.
    #[error("{0}")]
    TooLarge(String),
    /// 503 with a message for the caller (nothing internal in it).
    #[error("{0}")]
    Unavailable(String),
    /// 503 + `Retry-After`: busy now (other requests hold the memory or the permit); retry.
    #[error("{0}")]
    Busy(String),
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
            ApiError::Unauthorized(m) => (StatusCode::UNAUTHORIZED, m.clone()),
            ApiError::TooManyRequests { message, retry_after_secs } => {
                let body = Json(ApiErrorBody { error: message.clone() });
                let retry = [(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs))];
                return (StatusCode::TOO_MANY_REQUESTS, retry, body).into_response();
            }
            ApiError::Timeout(m) => (StatusCode::REQUEST_TIMEOUT, m.clone()),
            ApiError::Conflict(m) => (StatusCode::CONFLICT, m.clone()),
            ApiError::TooLarge(m) => (StatusCode::PAYLOAD_TOO_LARGE, m.clone()),
            ApiError::Busy(m) => {
                let body = Json(ApiErrorBody { error: m.clone() });
                let retry = [(header::RETRY_AFTER, "1")];
                return (StatusCode::SERVICE_UNAVAILABLE, retry, body).into_response();
            }
            ApiError::Unavailable(m) => {
                tracing::warn!(message = %m, "Answered 503.");
                (StatusCode::SERVICE_UNAVAILABLE, m.clone())
            }
            ApiError::Store(error) => {
                tracing::error!(%error, "Store failed while answering a query.");
                (StatusCode::SERVICE_UNAVAILABLE, "the store is unavailable".to_owned())
            }
        };
        (status, Json(ApiErrorBody { error: message })).into_response()
    }
}

/// A query string the parsers refused: 400 with the parser's message.
impl From<ParamError> for ApiError {
    fn from(error: ParamError) -> ApiError {
        ApiError::BadRequest(error.to_string())
    }
}
