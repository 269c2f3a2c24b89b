//! Signing in to the UI port with `--api-key`: the plain HTML form (no script), `POST /login`
//! (key right → a session cookie and a redirect to a same-origin `next` path), and
//! `POST /logout`. The key never travels in a URL and is never stored in the browser.

use std::time::Instant;

use axum::extract::{Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;

use crate::auth::{check_key, client_ip, session_cookie, too_many_guesses, KeyCheck, COOKIE};
use crate::sessions::SESSION_TTL;
use crate::AppState;

/// Largest sign-in form read (a key and a path).
const MAX_FORM_BYTES: usize = 16 * 1024;

/// `GET`/`POST /login` and `POST /logout`.
pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/login", get(form).post(sign_in)).route("/logout", post(sign_out))
}

/// The sign-in page, which comes back to `next` (made safe) afterwards.
pub(crate) fn page(next: &str, message: Option<&str>) -> Html<String> {
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
pub fn safe_next(next: &str) -> &str {
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

#[derive(Debug, serde::Deserialize)]
struct NextQuery {
    next: Option<String>,
}

async fn form(State(state): State<AppState>, Query(query): Query<NextQuery>) -> Response {
    let next = query.next.unwrap_or_else(|| "/".into());
    if !state.api_key.is_set() {
        return Redirect::to(safe_next(&next)).into_response();
    }
    page(&next, None).into_response()
}

/// `POST /login` with `key` and `next` as a form. SameSite=Strict keeps the cookie out of
/// cross-site requests, and a cross-site form can at most sign a browser in with the key
/// the attacker already has, so no CSRF token is needed.
async fn sign_in(State(state): State<AppState>, request: Request) -> Response {
    let client = client_ip(&request);
    let secure = came_over_tls(request.headers());
    // Within the body deadline, so a form trickled a byte at a time cannot hold a connection.
    let read = axum::body::to_bytes(request.into_body(), MAX_FORM_BYTES);
    let body = match tokio::time::timeout(state.ingest_limits.body_timeout, read).await {
        Ok(Ok(body)) => body,
        Ok(Err(_)) => {
            return (StatusCode::PAYLOAD_TOO_LARGE, "sign-in form too large").into_response()
        }
        Err(_) => {
            let page = page("/", Some("The sign-in form did not arrive in time."));
            let close = [(header::CONNECTION, HeaderValue::from_static("close"))];
            return (StatusCode::REQUEST_TIMEOUT, close, page).into_response();
        }
    };
    let (mut key, mut next) = (String::new(), String::from("/"));
    for (name, value) in form_urlencoded::parse(&body) {
        match name.as_ref() {
            "key" => key = value.into_owned(),
            "next" => next = value.into_owned(),
            _ => {}
        }
    }
    let target = safe_next(&next);
    if !state.api_key.is_set() {
        return Redirect::to(target).into_response();
    }
    let now = Instant::now();
    match check_key(&state, client, &key, now) {
        KeyCheck::Throttled(wait) => too_many_guesses("/login", wait),
        KeyCheck::Wrong => {
            (StatusCode::UNAUTHORIZED, page(target, Some("That is not the API key.")))
                .into_response()
        }
        KeyCheck::Right => match state.sessions.create(now) {
            Ok(token) => {
                let max_age = SESSION_TTL.as_secs();
                let cookie = format!(
                    "{COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/; Max-Age={max_age}"
                );
                with_cookie(Redirect::to(target).into_response(), &cookie, secure)
            }
            Err(error) => {
                tracing::error!(%error, "Cannot start a session.");
                (StatusCode::INTERNAL_SERVER_ERROR, "cannot start a session").into_response()
            }
        },
    }
}

/// Ends the session and clears the cookie, then shows the sign-in page.
async fn sign_out(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(token) = session_cookie(&headers) {
        state.sessions.remove(&token);
    }
    let cookie = format!("{COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
    with_cookie(Redirect::to("/login").into_response(), &cookie, came_over_tls(&headers))
}

/// Adds `Set-Cookie`, with `Secure` when the browser reached us over TLS.
fn with_cookie(mut response: Response, cookie: &str, secure: bool) -> Response {
    let cookie = if secure { format!("{cookie}; Secure") } else { cookie.to_owned() };
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

/// We serve plain HTTP; TLS is known only from a reverse proxy's `X-Forwarded-Proto: https`
/// (or `Forwarded: proto=https`). Trusting it is safe: a forged header can only make the
/// cookie stricter (`Secure`) for the browser that sent it.
fn came_over_tls(headers: &HeaderMap) -> bool {
    let value = |name| headers.get(name).and_then(|v: &HeaderValue| v.to_str().ok());
    let forwarded_proto = value("x-forwarded-proto")
        .and_then(|v| v.split(',').next())
        .is_some_and(|proto| proto.trim().eq_ignore_ascii_case("https"));
    let forwarded = value("forwarded").is_some_and(|v| {
        v.split([';', ',']).any(|part| part.trim().eq_ignore_ascii_case("proto=https"))
    });
    forwarded_proto || forwarded
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

    #[test]
    fn tls_is_known_from_the_proxy() {
        let mut headers = HeaderMap::new();
        assert!(!came_over_tls(&headers));
        headers.insert("x-forwarded-proto", HeaderValue::from_static("https"));
        assert!(came_over_tls(&headers));
        headers.insert("x-forwarded-proto", HeaderValue::from_static("http"));
        assert!(!came_over_tls(&headers));
        headers.insert("forwarded", HeaderValue::from_static("for=1.2.3.4;proto=https"));
        assert!(came_over_tls(&headers));
    }
}
