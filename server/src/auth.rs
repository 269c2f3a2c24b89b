//! `--api-key`: OTLP senders present it in `x-otlp-api-key`; people present it once as
//! `?token=KEY` (the printed URL), which sets a cookie, or as `Authorization: Bearer KEY`.
//! Without a key configured every request passes.

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use otelscope_app::model::ApiErrorBody;

/// The header OTLP senders put the key in.
pub const OTLP_HEADER: &str = "x-otlp-api-key";
const COOKIE: &str = "otelscope_token";

/// The configured key, shared by the middlewares; `None` means no authentication.
#[derive(Clone, Debug, Default)]
pub struct ApiKey(pub Option<std::sync::Arc<str>>);

impl ApiKey {
    pub fn new(key: Option<String>) -> ApiKey {
        ApiKey(key.filter(|k| !k.is_empty()).map(Into::into))
    }

    pub(crate) fn accepts(&self, candidate: Option<&str>) -> bool {
        match (&self.0, candidate) {
            (None, _) => true,
            (Some(key), Some(candidate)) => constant_time_eq(key.as_bytes(), candidate.as_bytes()),
            (Some(_), None) => false,
        }
    }

    /// For gRPC: whether the request metadata carries the key.
    pub fn accepts_metadata(&self, metadata: &tonic::metadata::MetadataMap) -> bool {
        self.accepts(metadata.get(OTLP_HEADER).and_then(|v| v.to_str().ok()))
    }
}

/// Compares without stopping at the first difference, so timing does not reveal the key.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Middleware for the OTLP/HTTP port: `x-otlp-api-key` or 401.
pub async fn otlp(State(key): State<ApiKey>, request: Request, next: Next) -> Response {
    if key.accepts(header_str(request.headers(), OTLP_HEADER)) {
        return next.run(request).await;
    }
    crate::ingest::http::unauthenticated(request.headers())
}

/// Middleware for the UI port: the cookie, a bearer token, `?token=` (which sets the cookie and
/// redirects to the same URL without it), or `x-otlp-api-key` on `/v1/traces`.
pub async fn ui(State(key): State<ApiKey>, request: Request, next: Next) -> Response {
    if key.0.is_none() || is_public(request.uri().path()) {
        return next.run(request).await;
    }
    let headers = request.headers();
    let from_cookie = cookie(headers);
    let presented = [from_cookie.as_deref(), bearer(headers), header_str(headers, OTLP_HEADER)];
    if presented.iter().any(|p| p.is_some() && key.accepts(*p)) {
        return next.run(request).await;
    }
    if let Some(token) = query_token(request.uri()) {
        if key.accepts(Some(&token)) {
            return login(request.uri(), &token);
        }
    }
    let path = request.uri().path();
    if path.starts_with("/api/") {
        let body = axum::Json(ApiErrorBody {
            error: "authentication required: send the API key as a bearer token".into(),
        });
        (StatusCode::UNAUTHORIZED, body).into_response()
    } else if path.starts_with("/v1/") {
        crate::ingest::http::unauthenticated(request.headers())
    } else {
        (StatusCode::UNAUTHORIZED, Html(LOGIN_PAGE)).into_response()
    }
}

/// Middleware for a UI port on loopback without a key: only loopback host names. Otherwise any
/// web page could rebind its own name to 127.0.0.1 (DNS rebinding) and read the API as
/// same-origin. A request without `Host` (HTTP/1.0, in-process calls) passes.
pub async fn loopback_host(request: Request, next: Next) -> Response {
    match header_str(request.headers(), "host") {
        Some(host) if !is_loopback_host(host) => (
            StatusCode::FORBIDDEN,
            "otelscope answers loopback host names only (127.0.0.1, [::1], localhost); \
             set --api-key to serve other names",
        )
            .into_response(),
        _ => next.run(request).await,
    }
}

/// `localhost`, `*.localhost` or a loopback IP, with or without a port.
fn is_loopback_host(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    let name = name.to_ascii_lowercase();
    name == "localhost"
        || name.ends_with(".localhost")
        || name.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The stylesheet and the WASM bundle carry no data. (Only these exact routes: any other path
/// falls through to SSR, which reads the store.)
fn is_public(path: &str) -> bool {
    path.starts_with("/pkg/") || path == "/assets/main.css"
}

/// Sets the cookie and redirects to the URL without `token`.
fn login(uri: &Uri, token: &str) -> Response {
    let rest: Vec<(String, String)> = form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
        .filter(|(k, _)| k != "token")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let query = form_urlencoded::Serializer::new(String::new()).extend_pairs(rest).finish();
    let target =
        if query.is_empty() { uri.path().to_owned() } else { format!("{}?{query}", uri.path()) };
    let mut response = Redirect::to(&target).into_response();
    let token: String = form_urlencoded::byte_serialize(token.as_bytes()).collect();
    let cookie = format!("{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict");
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    header_str(headers, "authorization")?.strip_prefix("Bearer ")
}

/// The token cookie, percent-decoded (it is set encoded by `login`).
fn cookie(headers: &HeaderMap) -> Option<String> {
    let raw = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| pair.trim().strip_prefix(COOKIE)?.strip_prefix('='))?;
    form_urlencoded::parse(format!("t={raw}").as_bytes()).next().map(|(_, v)| v.into_owned())
}

fn query_token(uri: &Uri) -> Option<String> {
    form_urlencoded::parse(uri.query()?.as_bytes())
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v.into_owned())
}

const LOGIN_PAGE: &str = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>otelscope — sign in</title>\
<link rel=\"stylesheet\" href=\"/assets/main.css\"></head><body><main class=\"page\"><section class=\"empty-page\">\
<h1>This otelscope needs its API key</h1><p class=\"empty-state\">Open the link the server printed, or enter the key.</p>\
<form method=\"get\"><input type=\"password\" name=\"token\" placeholder=\"API key\" autofocus> <button>Sign in</button></form>\
</section></main></body></html>\n";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_compare_exactly() {
        let key = ApiKey::new(Some("s3cret".into()));
        assert!(key.accepts(Some("s3cret")));
        assert!(!key.accepts(Some("s3cre")));
        assert!(!key.accepts(Some("s3cret!")));
        assert!(!key.accepts(None));
        assert!(ApiKey::new(None).accepts(None));
        assert!(ApiKey::new(Some(String::new())).accepts(None), "an empty key means none");
    }

    #[test]
    fn loopback_host_names() {
        for host in [
            "127.0.0.1:8686",
            "127.0.0.1",
            "localhost:8686",
            "LOCALHOST",
            "app.localhost:1",
            "[::1]:8686",
            "[::1]",
        ] {
            assert!(is_loopback_host(host), "{host}");
        }
        for host in [
            "evil.example:8686",
            "10.0.0.5:8686",
            "localhost.evil.example",
            "[2001:db8::1]:80",
            "0.0.0.0:8686",
        ] {
            assert!(!is_loopback_host(host), "{host}");
        }
    }

    #[test]
    fn cookie_and_bearer_are_found() {
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, HeaderValue::from_static("a=b; otelscope_token=xyz; c=d"));
        headers.insert("authorization", HeaderValue::from_static("Bearer abc"));
        assert_eq!(cookie(&headers).as_deref(), Some("xyz"));
        assert_eq!(bearer(&headers), Some("abc"));
    }
}
