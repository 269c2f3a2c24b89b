//! `ApiFailure`: why an API call gave no document, typed so views branch on the kind of failure
//! (not found, too large for SSR, unreachable) and never parse an error message back.

use std::fmt;

use crate::model::ApiErrorBody;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ApiFailure {
    /// No answer: the server is down or the network failed (the detail, when the platform
    /// gives one).
    Unreachable(String),
    /// A non-2xx answer, with the API's `{"error": ...}` text when the body carries one.
    Status { status: u16, message: Option<String> },
    /// A trace with more spans than the server draws (SSR only): the page links to the app.
    TooLargeForSsr { spans: u64, max: u64 },
    /// An answer that is not the expected document (not UTF-8, not that JSON).
    Unexpected(String),
}

impl ApiFailure {
    /// The failure of a non-2xx answer with `body`.
    pub fn from_status(status: u16, body: &str) -> ApiFailure {
        let message = serde_json::from_str::<ApiErrorBody>(body).ok().map(|api| api.error);
        ApiFailure::Status { status, message }
    }

    /// Whether the server answered 404 (e.g. a trace it does not hold).
    pub fn is_not_found(&self) -> bool {
        matches!(self, ApiFailure::Status { status: 404, .. })
    }
}

impl fmt::Display for ApiFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiFailure::Unreachable(detail) if detail.is_empty() => {
                f.write_str("server unreachable")
            }
            ApiFailure::Unreachable(detail) => write!(f, "server unreachable ({detail})"),
            ApiFailure::Status { status, message: Some(message) } => {
                write!(f, "HTTP {status}: {message}")
            }
            ApiFailure::Status { status, message: None } => write!(f, "HTTP {status}"),
            ApiFailure::TooLargeForSsr { spans, max } => {
                write!(
                    f,
                    "too large to draw on the server: {spans} spans, more than the {max} it draws"
                )
            }
            ApiFailure::Unexpected(what) => write!(f, "unexpected answer from the server: {what}"),
        }
    }
}

impl std::error::Error for ApiFailure {}

#[cfg(test)]
mod tests {
    use super::ApiFailure;

    #[test]
    fn statuses_keep_the_apis_message_and_read_as_people_expect() {
        let not_found = ApiFailure::from_status(404, r#"{"error":"no such trace"}"#);
        assert!(not_found.is_not_found());
        assert_eq!(not_found.to_string(), "HTTP 404: no such trace");
        let bare = ApiFailure::from_status(502, "<html>bad gateway</html>");
        assert_eq!(bare, ApiFailure::Status { status: 502, message: None });
        assert!(!bare.is_not_found());
        assert_eq!(bare.to_string(), "HTTP 502");
        assert_eq!(ApiFailure::Unreachable(String::new()).to_string(), "server unreachable");
        assert_eq!(
            ApiFailure::TooLargeForSsr { spans: 300_000, max: 200_000 }.to_string(),
            "too large to draw on the server: 300000 spans, more than the 200000 it draws"
        );
    }
}
