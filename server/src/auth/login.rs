//! Signing in to the UI port with `--api-key`: the plain HTML form (no script), `POST /login`
//! (key right → a session cookie and a redirect to a same-origin `next` path), and
//! `POST /logout`. The key never travels in a URL and is never stored in the browser.

use std::time::Instant;

use axum::extract::{Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;

use super::refuse::{page, safe_next, too_many_guesses};
use super::sessions::SESSION_TTL;
use super::{check_key, client_ip, session_cookie, KeyCheck, COOKIE};
use crate::AppState;

/// Largest sign-in form read (a key and a path).
const MAX_FORM_BYTES: usize = 16 * 1024;

/// `GET`/`POST /login` and `POST /logout`.
pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/login", get(form).post(sign_in)).route("/logout", post(sign_out))
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
