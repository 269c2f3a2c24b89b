//! Response headers that protect the browser: the Content-Security-Policy and friends on every
//! UI-port answer, and CORS for the OTLP/HTTP port, for the origins named by `--cors-origin`.

use axum::extract::Request;
use axum::http::{header, HeaderName, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::Response;
use tower_http::cors::{AllowOrigin, CorsLayer};

/// The policy of every UI-port answer. Why each part:
/// - `script-src`: only files we serve (the app boots from `/assets/boot.js`, no inline
///   script); `'wasm-unsafe-eval'` compiles the WASM bundle. No `'unsafe-eval'`: the app never
///   runs `document::eval` in the browser (focus, scroll, URL, clipboard and the title go
///   through web-sys, `platform::dom`), so an injected string can never become code.
/// - `style-src 'unsafe-inline'`: the waterfall, scatter and minimap position elements with
///   `style` attributes, which Dioxus sets with `setAttribute("style", ..)`; no inline
///   `<style>` or foreign stylesheet is needed beyond that.
/// - `connect-src 'self'`: the app fetches only its own API and posts its spans to `/v1/traces`.
/// - `frame-ancestors 'none'`, `form-action 'self'`, `base-uri 'none'`, `object-src 'none'`.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; \
     script-src 'self' 'wasm-unsafe-eval'; \
     style-src 'self' 'unsafe-inline'; \
     img-src 'self' data:; \
     connect-src 'self'; \
     base-uri 'none'; \
     form-action 'self'; \
     object-src 'none'; \
     frame-ancestors 'none'";

/// Middleware for the UI port: the CSP, `nosniff`, no framing, no referrer, and
/// `Cross-Origin-Resource-Policy: same-origin` (no other site may embed or read any answer,
/// even where the browser would let it try) on every answer; API answers are never cached
/// (`no-store`: they are live data, and may be private behind a key).
pub async fn security(request: Request, next: Next) -> Response {
    let api = request.uri().path().starts_with("/api/");
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        HeaderName::from_static("cross-origin-resource-policy"),
        HeaderValue::from_static("same-origin"),
    );
    if api {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    headers
        .insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    response
}

/// CORS for browser apps exporting OTLP/HTTP from `origins`: preflights allow `POST` with the
/// headers an OTLP exporter sends. `None` without origins (then browsers block cross-origin
/// exports, as they should by default).
pub fn otlp_cors(origins: &[HeaderValue]) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins.iter().cloned()))
            .allow_methods([Method::POST])
            .allow_headers([
                header::CONTENT_TYPE,
                header::CONTENT_ENCODING,
                HeaderName::from_static(crate::auth::OTLP_HEADER),
            ])
            .max_age(std::time::Duration::from_secs(3600)),
    )
}

/// Failures of a `--cors-origin` value.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum OriginError {
    #[error(
        "--cors-origin {0:?} is not an origin: write scheme://host[:port], e.g. http://localhost:3000"
    )]
    NotAnOrigin(String),
}

/// Checks `--cors-origin` values: `http(s)://host[:port]` exactly as browsers send `Origin`
/// (no path, no trailing slash, no `*`).
pub fn parse_origins(values: &[String]) -> Result<Vec<HeaderValue>, OriginError> {
    values
        .iter()
        .map(|value| value.trim())
        .filter(|value| !value.is_empty())
        .map(|value| {
            let not_an_origin = || OriginError::NotAnOrigin(value.to_owned());
            let rest = value
                .strip_prefix("http://")
                .or_else(|| value.strip_prefix("https://"))
                .ok_or_else(not_an_origin)?;
            let host_ok = !rest.is_empty()
                && rest.chars().all(|c| c.is_ascii_alphanumeric() || "-.:[]".contains(c));
            if !host_ok {
                return Err(not_an_origin());
            }
            HeaderValue::from_str(&value.to_ascii_lowercase()).map_err(|_| not_an_origin())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_checked() {
        let ok = parse_origins(&["http://localhost:3000".into(), " https://App.example ".into()]);
        assert_eq!(
            ok.unwrap(),
            vec![
                HeaderValue::from_static("http://localhost:3000"),
                HeaderValue::from_static("https://app.example")
            ]
        );
        for bad in
            ["*", "localhost:3000", "http://a.example/", "http://a.example/x", "ftp://a", "http://"]
        {
            assert_eq!(
                parse_origins(&[bad.into()]),
                Err(OriginError::NotAnOrigin(bad.into())),
                "{bad}"
            );
        }
    }
}
