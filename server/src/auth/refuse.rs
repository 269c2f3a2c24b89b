//! How a refused request is answered, in the format its path speaks: the JSON API's error
//! (`ApiError`) for `/api/`, OTLP's own status for `/v1/` (as the receivers answer), and the
//! sign-in page (or plain text) for everything else. `auth` decides; nothing here does.

use std::time::Duration;

use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Response};

use crate::api::ApiError;

/// 429 with `Retry-After` in whole seconds (rounded up).
pub(super) fn too_many_guesses(path: &str, wait: Duration) -> Response {
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    let message = format!("too many wrong API keys; try again in {seconds} s");
    if path.starts_with("/api/") || path.starts_with("/v1/") {
        ApiError::TooManyRequests { message, retry_after_secs: seconds }.into_response()
    } else if path == "/login" {
        let retry = [(header::RETRY_AFTER, HeaderValue::from(seconds))];
        (StatusCode::TOO_MANY_REQUESTS, retry, page("/", Some(&message))).into_response()
    } else {
        let retry = [(header::RETRY_AFTER, HeaderValue::from(seconds))];
        (StatusCode::TOO_MANY_REQUESTS, retry, message).into_response()
    }
}

/// The 401 for `request`: JSON for the API, OTLP's own for `/v1/`, else the sign-in page,
/// which comes back to this page afterwards.
pub(super) fn unauthenticated(request: &Request) -> Response {
    let path = request.uri().path();
    if path.starts_with("/api/") {
        let message = "authentication required: send the API key as a bearer token";
        ApiError::Unauthorized(message.into()).into_response()
    } else if path.starts_with("/v1/") {
        otlp_unauthenticated(request.headers())
    } else {
        let back = path_and_query(request.uri());
        (StatusCode::UNAUTHORIZED, page(&back, None)).into_response()
    }
}

fn path_and_query(uri: &Uri) -> String {
    uri.path_and_query().map_or("/", |pq| pq.as_str()).to_owned()
}

/// OTLP's 401 (a `Status` in the request's encoding), as the OTLP/HTTP receivers answer.
pub(super) fn otlp_unauthenticated(headers: &HeaderMap) -> Response {
    crate::ingest::http::unauthenticated(headers)
}

/// The sign-in page, which comes back to `next` (made safe) afterwards.
pub(super) fn page(next: &str, message: Option<&str>) -> Html<String> {
    let next = crate::ssr::escape_attribute(safe_next(next));
    let message = match message {
        Some(text) => format!(
            "<p class=\"error-state\" role=\"alert\">{}</p>",
            crate::ssr::escape_attribute(text)
        ),
        None => String::new(),
    };
    Html(format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<title>otelscope — sign in</title><link rel=\"stylesheet\" href=\"/assets/main.css\"></head>\
<body><main class=\"page\"><section class=\"empty-page\">\
<h1>This otelscope needs its API key</h1>\
<p class=\"empty-state\">Enter the key the server was started with (<code>--api-key</code>).</p>\
{message}<form method=\"post\" action=\"/login\">\
<input type=\"hidden\" name=\"next\" value=\"{next}\">\
<label>API key <input type=\"password\" name=\"key\" autocomplete=\"current-password\" required autofocus></label> \
<button>Sign in</button></form></section></main></body></html>\n"
    ))
}

/// Where a redirect after signing in may go: a path on this server. Anything else (`//host`,
/// `/\host`, `https://host`, control characters or spaces, which browsers drop or rewrite)
/// becomes `/`.
pub(super) fn safe_next(next: &str) -> &str {
    let same_origin_path = next.starts_with('/')
        && !next.starts_with("//")
        && next.bytes().all(|b| b.is_ascii_graphic() && b != b'\\');
    let sign_in_route =
        ["/login", "/logout"].iter().any(|route| next.split(['?', '#']).next() == Some(*route));
    if same_origin_path && !sign_in_route {
        next
    } else {
        "/"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirects_stay_on_this_origin() {
        for ok in ["/", "/traces?service=api&x=%2F%2F", "/traces/abc/spans/def", "/ssr/"] {
            assert_eq!(safe_next(ok), ok);
        }
        for bad in [
            "//evil.example/",
            "/\\evil.example",
            "\\/evil.example",
            "/\t/evil.example",
            "/ /evil.example",
            "https://evil.example/",
            "javascript:alert(1)",
            "evil.example",
            "",
            "/login",
            "/login?next=//evil.example",
            "/logout",
            "/caf\u{e9}",
        ] {
            assert_eq!(safe_next(bad), "/", "{bad:?}");
        }
    }
}
