//! `--api-key`: OTLP senders present it in `x-otlp-api-key`; scripts and the desktop client as
//! `Authorization: Bearer KEY`; people sign in once with a form (`login`), which gives the
//! browser a session cookie that never holds the key (`sessions`; wrong keys are throttled by
//! `throttle`). Without a key configured every request passes. Only the embedded asset files
//! are public; every other path is behind the sign-in. This file decides; `refuse` renders the
//! refusals in the format each path speaks; `keys` is where the key comes from.

pub mod keys;
pub(crate) mod login;
mod refuse;
pub mod sessions;
pub mod throttle;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::AppState;
use refuse::{too_many_guesses, unauthenticated};

/// The session cookie: a random token from `Sessions`, never the key.
pub const COOKIE: &str = "otelscope_session";

/// The header OTLP senders put the API key in (checked here; gRPC reads the same key from
/// its metadata).
pub const OTLP_HEADER: &str = "x-otlp-api-key";

/// The configured key, shared by the middlewares; `None` means no authentication. Only the
/// key's SHA-256 digest is kept: presented keys are hashed and the digests compared, so
/// neither the key's length nor its bytes show in the time a comparison takes.
#[derive(Clone, Debug, Default)]
pub struct ApiKey(Option<Arc<[u8; 32]>>);

impl ApiKey {
    pub fn new(key: Option<String>) -> ApiKey {
        ApiKey(key.filter(|k| !k.is_empty()).map(|k| Arc::new(digest(k.as_bytes()))))
    }

    /// Whether a key is required at all.
    pub fn is_set(&self) -> bool {
        self.0.is_some()
    }

    pub(crate) fn accepts(&self, candidate: Option<&str>) -> bool {
        match (&self.0, candidate) {
            (None, _) => true,
            (Some(key), Some(candidate)) => {
                constant_time_eq(key.as_ref(), &digest(candidate.as_bytes()))
            }
            (Some(_), None) => false,
        }
    }
}

fn digest(bytes: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).into()
}

/// Compares two digests without stopping at the first difference.
fn constant_time_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Middleware for the OTLP/HTTP port: `x-otlp-api-key` or 401; wrong keys count towards the
/// client's throttle, shared with the other ports (429 while it waits).
pub async fn otlp(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if !state.api_key.is_set() {
        return next.run(request).await;
    }
    let presented = header_str(request.headers(), OTLP_HEADER);
    match presented.map(|key| check_key(&state, client_ip(&request), key, Instant::now())) {
        Some(KeyCheck::Right) => next.run(request).await,
        Some(KeyCheck::Throttled(wait)) => too_many_guesses("/v1/", wait),
        Some(KeyCheck::Wrong) | None => refuse::otlp_unauthenticated(request.headers()),
    }
}

/// Middleware for the UI port: the embedded asset files and the sign-in routes pass; anything
/// else needs a live session cookie, the key as a bearer token, or (for same-origin OTLP on
/// `/v1/...`) the key in `x-otlp-api-key`. Wrong keys count towards the client's throttle.
pub async fn ui(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    if !state.api_key.is_set() || is_public(path) {
        return next.run(request).await;
    }
    let now = Instant::now();
    let headers = request.headers();
    if session_cookie(headers).is_some_and(|token| state.sessions.is_valid(&token, now)) {
        return next.run(request).await;
    }
    let presented = bearer(headers)
        .or_else(|| path.starts_with("/v1/").then(|| header_str(headers, OTLP_HEADER)).flatten());
    match presented.map(|key| check_key(&state, client_ip(&request), key, now)) {
        Some(KeyCheck::Right) => next.run(request).await,
        Some(KeyCheck::Throttled(wait)) => too_many_guesses(path, wait),
        Some(KeyCheck::Wrong) | None => unauthenticated(&request),
    }
}

/// What a presented key turned out to be.
#[derive(Debug, PartialEq)]
pub(crate) enum KeyCheck {
    Right,
    Wrong,
    /// Too many wrong keys from this client lately: not even checked; wait this long.
    Throttled(Duration),
}

/// Checks `candidate` unless `client` is throttled, and counts it if wrong.
pub(crate) fn check_key(
    state: &AppState,
    client: Option<IpAddr>,
    candidate: &str,
    now: Instant,
) -> KeyCheck {
    if let Some(wait) = state.sessions.throttled(client, now) {
        return KeyCheck::Throttled(wait);
    }
    if state.api_key.accepts(Some(candidate)) {
        state.sessions.clear_failures(client);
        KeyCheck::Right
    } else {
        tracing::warn!(client = ?client, "Wrong API key presented.");
        state.sessions.record_failure(client, now);
        KeyCheck::Wrong
    }
}

/// The client's address: as `conn` found it (`--trusted-proxy`), else the peer's when the
/// server was started with connect info; `None` in-process (`oneshot`).
pub(crate) fn client_ip<B>(request: &axum::http::Request<B>) -> Option<IpAddr> {
    client_of(request.extensions())
}

/// `client_ip` from a request's extensions.
pub(crate) fn client_of(extensions: &axum::http::Extensions) -> Option<IpAddr> {
    let found = extensions.get::<crate::peer::ClientAddr>().map(|client| client.0);
    found.or_else(|| extensions.get::<ConnectInfo<SocketAddr>>().map(|info| info.0.ip()))
}

/// Origins named by `--cors-origin`; the OTLP/HTTP port lets them past the `Host` check.
pub type CorsOrigins = Arc<[HeaderValue]>;

/// Middleware for a UI port on loopback without a key: only loopback host names. Otherwise any
/// web page could rebind its own name to 127.0.0.1 (DNS rebinding) and read the API as
/// same-origin. A request without `Host` (HTTP/1.0, in-process calls, HTTP/2 gRPC) passes, and so
/// does one whose `Origin` is an allowed CORS origin (a browser sets `Origin`; a page cannot).
pub async fn loopback_host(
    State(origins): State<CorsOrigins>,
    request: Request,
    next: Next,
) -> Response {
    let headers = request.headers();
    let allowed_origin = headers.get(header::ORIGIN).is_some_and(|o| origins.contains(o));
    match header_str(headers, "host") {
        Some(host) if !is_loopback_host(host) && !allowed_origin => (
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

/// The embedded asset files (bundle, stylesheet, boot script) carry no data, and the sign-in
/// routes must be reachable signed out. Everything else, `/pkg/` and unknown `/pkg/...` paths
/// included, would reach SSR, which reads the store.
fn is_public(path: &str) -> bool {
    crate::web::is_asset_file(path) || path == "/login" || path == "/logout"
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    header_str(headers, "authorization")?.strip_prefix("Bearer ")
}

/// The session cookie's value, if the request has one.
pub(crate) fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| pair.trim().strip_prefix(COOKIE)?.strip_prefix('='))
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_compare_exactly() {
        let key = ApiKey::new(Some("s3cret".into()));
        assert!(key.accepts(Some("s3cret")));
        assert!(!key.accepts(Some("s3cre")));
        assert!(!key.accepts(Some("s3cret!")));
        assert!(!key.accepts(Some("")));
        assert!(!key.accepts(Some(&"s3cret".repeat(1000))), "any length is hashed first");
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
        headers.insert(header::COOKIE, HeaderValue::from_static("a=b; otelscope_session=xyz; c=d"));
        headers.insert("authorization", HeaderValue::from_static("Bearer abc"));
        assert_eq!(session_cookie(&headers).as_deref(), Some("xyz"));
        assert_eq!(bearer(&headers), Some("abc"));
    }
}
