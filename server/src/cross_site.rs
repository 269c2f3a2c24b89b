//! Refuses requests another web site's page makes the browser send to the UI port (Fetch
//! Metadata's resource isolation policy, plus an `Origin` check for browsers without it): a
//! no-key otelscope on loopback would otherwise import profiles, sign in or start costly work
//! for any page the user visits. Clients that send neither header (curl, SDKs, the desktop
//! window, SSR's in-process calls) pass.

use axum::extract::Request;
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use otelscope_app::model::ApiErrorBody;

/// Middleware for the UI port: a request [`allowed`] passes, anything else gets 403 with a
/// sentence saying why (JSON under `/api/`).
pub async fn middleware(request: Request, next: Next) -> Response {
    match allowed(request.method(), request.uri().path(), request.headers()) {
        Ok(()) => next.run(request).await,
        Err(why) => refuse(request.uri().path(), why),
    }
}

/// Why a request was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refused {
    /// `Sec-Fetch-Site` says another site (or a sibling subdomain) made the request.
    OtherSite,
    /// `Origin` names another origin than the one the request was sent to.
    OtherOrigin,
}

/// The policy:
/// - `Sec-Fetch-Site: same-origin` or `none` (typed into the address bar, a bookmark) passes;
/// - from another site or a sibling subdomain (`cross-site`, `same-site`), only a top-level
///   `GET`/`HEAD` navigation to a page passes (a link someone followed); API calls, embeds
///   (`<img>`, `<script>`, frames) and every other method are refused;
/// - without `Sec-Fetch-Site` (older browsers, non-browser clients), a request that changes
///   state (any method but `GET`, `HEAD`, `OPTIONS`) passes only if its `Origin`, when sent,
///   is this server's own: the `Host` it was sent to, over http or https.
pub fn allowed(method: &Method, path: &str, headers: &HeaderMap) -> Result<(), Refused> {
    let safe = matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS);
    match header_str(headers, "sec-fetch-site") {
        Some("same-origin" | "none") => Ok(()),
        Some(_) if safe && is_page_navigation(path, headers) => Ok(()),
        Some(_) => Err(Refused::OtherSite),
        None if safe => Ok(()),
        None => match header_str(headers, header::ORIGIN.as_str()) {
            None => Ok(()),
            Some(origin) if is_own_origin(origin, headers) => Ok(()),
            Some(_) => Err(Refused::OtherOrigin),
        },
    }
}

/// A top-level navigation to a page: `Sec-Fetch-Mode: navigate` into a `document` (not a
/// frame: pages may not be framed anyway), and not to the API.
fn is_page_navigation(path: &str, headers: &HeaderMap) -> bool {
    header_str(headers, "sec-fetch-mode") == Some("navigate")
        && matches!(header_str(headers, "sec-fetch-dest"), Some("document") | None)
        && !path.starts_with("/api/")
        && !path.starts_with("/v1/")
}

/// Whether `origin` (`scheme://host[:port]`) is the origin the request was sent to: the same
/// host and port as its `Host` header. (`null`, sent by sandboxed frames and some redirects,
/// is never ours.)
fn is_own_origin(origin: &str, headers: &HeaderMap) -> bool {
    let Some(host) = header_str(headers, header::HOST.as_str()) else { return false };
    let authority = origin.strip_prefix("http://").or_else(|| origin.strip_prefix("https://"));
    authority.is_some_and(|authority| authority.eq_ignore_ascii_case(host))
}

fn refuse(path: &str, why: Refused) -> Response {
    let message = match why {
        Refused::OtherSite => {
            "refused: another web site's page sent this request (Sec-Fetch-Site); \
             open otelscope itself, or call the API from a script or SDK"
        }
        Refused::OtherOrigin => {
            "refused: the request's Origin is not this server's; \
             open otelscope itself, or call the API from a script or SDK"
        }
    };
    tracing::warn!(path, ?why, "Refused a cross-site request.");
    if path.starts_with("/api/") || path.starts_with("/v1/") {
        (StatusCode::FORBIDDEN, axum::Json(ApiErrorBody { error: message.into() })).into_response()
    } else {
        (StatusCode::FORBIDDEN, message).into_response()
    }
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn check(method: Method, path: &str, pairs: &[(&'static str, &'static str)]) -> bool {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_static("127.0.0.1:8686"));
        for (name, value) in pairs {
            headers.insert(*name, HeaderValue::from_static(value));
        }
        allowed(&method, path, &headers).is_ok()
    }

    #[test]
    fn the_app_and_non_browser_clients_pass() {
        let same = [("sec-fetch-site", "same-origin"), ("origin", "http://127.0.0.1:8686")];
        assert!(check(Method::POST, "/api/v1/profiles", &same));
        assert!(check(Method::DELETE, "/api/v1/profiles/ab", &same));
        assert!(check(Method::GET, "/api/v1/traces", &[("sec-fetch-site", "same-origin")]));
        assert!(check(Method::GET, "/traces", &[("sec-fetch-site", "none")]));
        // curl, SDKs, the desktop window: no browser headers at all.
        assert!(check(Method::POST, "/api/v1/profiles/cpu", &[]));
        assert!(check(Method::POST, "/v1/traces", &[]));
        // An old browser's same-origin POST: no Sec-Fetch-Site, its own Origin (any case).
        assert!(check(Method::POST, "/login", &[("origin", "http://127.0.0.1:8686")]));
        assert!(check(Method::POST, "/login", &[("origin", "https://127.0.0.1:8686")]));
    }

    #[test]
    fn other_sites_may_link_to_pages_but_not_act() {
        let cross = |extra: &[(&'static str, &'static str)]| {
            [&[("sec-fetch-site", "cross-site")][..], extra].concat()
        };
        let navigate = cross(&[("sec-fetch-mode", "navigate"), ("sec-fetch-dest", "document")]);
        assert!(check(Method::GET, "/traces/0af7651916cd43dd8448eb211c80319c", &navigate));
        assert!(!check(Method::GET, "/api/v1/profiles", &navigate), "no API by navigation");
        let image = cross(&[("sec-fetch-mode", "no-cors"), ("sec-fetch-dest", "image")]);
        assert!(!check(Method::GET, "/ssr/profile", &image), "no embedding of costly pages");
        assert!(!check(Method::GET, "/api/v1/traces", &image));
        let form = cross(&[("sec-fetch-mode", "navigate"), ("sec-fetch-dest", "document")]);
        assert!(!check(Method::POST, "/login", &form), "a cross-site form post");
        assert!(!check(Method::POST, "/api/v1/profiles", &cross(&[("sec-fetch-mode", "no-cors")])));
        let frame = cross(&[("sec-fetch-mode", "navigate"), ("sec-fetch-dest", "iframe")]);
        assert!(!check(Method::GET, "/traces", &frame));
        let sibling = [("sec-fetch-site", "same-site"), ("sec-fetch-mode", "cors")];
        assert!(!check(Method::DELETE, "/api/v1/profiles/ab", &sibling));
    }

    #[test]
    fn without_fetch_metadata_the_origin_decides() {
        for origin in ["http://evil.example", "null", "http://127.0.0.1:9999", "127.0.0.1:8686"] {
            let mut headers = HeaderMap::new();
            headers.insert(header::HOST, HeaderValue::from_static("127.0.0.1:8686"));
            headers.insert(header::ORIGIN, HeaderValue::from_str(origin).unwrap());
            assert_eq!(
                allowed(&Method::POST, "/api/v1/profiles", &headers),
                Err(Refused::OtherOrigin),
                "{origin}"
            );
            assert_eq!(allowed(&Method::GET, "/api/v1/traces", &headers), Ok(()), "{origin}");
        }
    }
}
