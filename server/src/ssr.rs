//! Server-rendered pages. Every GET outside `/api` and the bundle is rendered here: the app's
//! HTML for that route inside `#ssr`, plus the script that starts the WASM app, which removes
//! `#ssr` and mounts itself in `#main`. Under `/ssr/...` the page comes without the script.

use std::collections::BTreeMap;

use axum::body::Body;
use axum::extract::State;
use axum::http::{Method, Request, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Response};
use http_body_util::BodyExt;
use otelscope_app::{Route, SsrData};
use tower::ServiceExt;

use crate::api::ApiError;
use crate::AppState;

/// How many render passes a page may take to discover the API data it needs.
const MAX_PASSES: usize = 4;

/// The fallback handler of the UI port.
pub(crate) async fn page(State(state): State<AppState>, method: Method, uri: Uri) -> Response {
    let path = uri.path();
    if path == "/api" || path.starts_with("/api/") {
        return ApiError::NotFound("no such API route".into()).into_response();
    }
    if method != Method::GET && method != Method::HEAD {
        return (StatusCode::METHOD_NOT_ALLOWED, "pages answer GET only").into_response();
    }
    let (with_script, app_path) = match strip_ssr_prefix(path) {
        Some(rest) => (false, rest),
        None => (crate::web::has_bundle(), path.to_owned()),
    };
    let status = if Route::is_known(&app_path) { StatusCode::OK } else { StatusCode::NOT_FOUND };
    let app_path_and_query = match uri.query() {
        Some(query) => format!("{app_path}?{query}"),
        None => app_path,
    };
    let body = render_with_data(&state, &app_path_and_query).await;
    (status, Html(document(&body, with_script))).into_response()
}

/// `/ssr/traces` → `/traces`; `/ssr` → `/`; anything else is not an SSR-only path.
fn strip_ssr_prefix(path: &str) -> Option<String> {
    let rest = path.strip_prefix("/ssr")?;
    match rest {
        "" => Some("/".into()),
        _ if rest.starts_with('/') => Some(rest.into()),
        _ => None,
    }
}

/// Renders until the components ask for no API path that has not been answered.
async fn render_with_data(state: &AppState, path: &str) -> String {
    let mut answers = BTreeMap::new();
    let mut html = String::new();
    for _ in 0..MAX_PASSES {
        let (rendered, wanted) = render_pass(path, &answers);
        html = rendered;
        if wanted.is_empty() {
            break;
        }
        for api_path in wanted {
            let outcome = call_api(state, &api_path).await;
            answers.insert(api_path, outcome);
        }
    }
    html
}

/// One synchronous render; the VirtualDom is `!Send` and never lives across an `.await`.
fn render_pass(
    path: &str,
    answers: &BTreeMap<String, Result<String, String>>,
) -> (String, Vec<String>) {
    let data = SsrData::default();
    for (api_path, outcome) in answers {
        data.answer(api_path.clone(), outcome.clone());
    }
    let html = otelscope_app::platform::render_ssr(path, &data);
    (html, data.take_wanted())
}

/// Answers one API path in-process, as the browser would get it over HTTP.
async fn call_api(state: &AppState, api_path: &str) -> Result<String, String> {
    let request = Request::get(api_path).body(Body::empty()).map_err(|e| e.to_string())?;
    let Ok(response) = crate::api_router(state.clone()).oneshot(request).await;
    let status = response.status();
    let bytes = response.into_body().collect().await.map_err(|e| e.to_string())?.to_bytes();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    if status.is_success() {
        Ok(text)
    } else {
        Err(otelscope_app::platform::http_error(status.as_u16(), &text))
    }
}

/// The HTML document around a rendered page.
fn document(body: &str, with_script: bool) -> String {
    let script = if with_script {
        format!(
            "<div id=\"main\"></div>\n<script type=\"module\">import init from \"/{}\"; init();</script>\n",
            crate::web::ENTRY_JS
        )
    } else {
        String::new()
    };
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>otelscope</title>\n<link rel=\"stylesheet\" href=\"/assets/main.css\">\n</head>\n\
         <body>\n<div id=\"ssr\">{body}</div>\n{script}</body>\n</html>\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ssr_prefix() {
        assert_eq!(strip_ssr_prefix("/ssr"), Some("/".into()));
        assert_eq!(strip_ssr_prefix("/ssr/traces"), Some("/traces".into()));
        assert_eq!(strip_ssr_prefix("/ssrx"), None);
        assert_eq!(strip_ssr_prefix("/traces"), None);
    }
}
