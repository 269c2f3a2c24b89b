//! Server-rendered pages. Every GET outside `/api` and the bundle is rendered here: the app's
//! HTML for that route inside `#ssr`, plus the script that starts the WASM app, which removes
//! `#ssr` and mounts itself in `#main`. Under `/ssr/...` the page comes without the script.

use std::collections::BTreeMap;
use std::convert::Infallible;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, Method, Request, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use futures_util::{stream, StreamExt};
use http_body_util::BodyExt;
use otelscope_app::platform::SsrPage;
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
    // The head goes out at once, so the browser fetches the bundle and the page's API data
    // while the server renders (a 100,000-span trace takes it a few hundred ms). It preloads
    // what a render without data asks for; the title, known after the data, closes the head.
    let preloads = if with_script {
        render_pass(&app_path_and_query, &BTreeMap::new(), true).1
    } else {
        Vec::new()
    };
    let head = document_head(with_script, &preloads);
    let rest = async move {
        let page = render_with_data(&state, &app_path_and_query, with_script).await;
        let title = page.title.as_deref().unwrap_or("otelscope");
        Ok::<_, Infallible>(document_rest(&page.html, title, with_script))
    };
    let body = stream::once(async move { Ok::<_, Infallible>(head) }).chain(stream::once(rest));
    let html = [(header::CONTENT_TYPE, "text/html; charset=utf-8")];
    (status, html, Body::from_stream(body)).into_response()
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

/// Renders until the components ask for no API path that has not been answered. A `preview`
/// is drawn for the WASM app to replace.
async fn render_with_data(state: &AppState, path: &str, preview: bool) -> SsrPage {
    let mut answers = BTreeMap::new();
    let mut page = SsrPage { html: String::new(), title: None };
    for _ in 0..MAX_PASSES {
        let (rendered, wanted) = render_pass(path, &answers, preview);
        page = rendered;
        if wanted.is_empty() {
            break;
        }
        for api_path in wanted {
            let outcome = call_api(state, &api_path).await;
            answers.insert(api_path, outcome);
        }
    }
    page
}

/// One synchronous render; the VirtualDom is `!Send` and never lives across an `.await`.
fn render_pass(
    path: &str,
    answers: &BTreeMap<String, Result<String, String>>,
    preview: bool,
) -> (SsrPage, Vec<String>) {
    let data = if preview { SsrData::preview() } else { SsrData::default() };
    for (api_path, outcome) in answers {
        data.answer(api_path.clone(), outcome.clone());
    }
    let page = otelscope_app::platform::render_ssr(path, &data);
    (page, data.take_wanted())
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

/// The HTML document around a rendered page, in the two parts the handler sends.
#[cfg(test)]
fn document(body: &str, title: &str, with_script: bool, preloads: &[String]) -> String {
    document_head(with_script, preloads) + &document_rest(body, title, with_script)
}

/// The document up to the title. With the script, it asks the browser to fetch the WASM
/// bundle and the API documents the page shows (`preloads`) while it parses the HTML, so the
/// app finds them ready when it starts (module scripts run after parsing).
fn document_head(with_script: bool, preloads: &[String]) -> String {
    let mut head = String::new();
    if with_script {
        let entry = crate::web::ENTRY_JS;
        let wasm = crate::web::WASM;
        head = format!(
            "<link rel=\"modulepreload\" href=\"/{entry}\">\n\
             <link rel=\"preload\" href=\"/{wasm}\" as=\"fetch\" type=\"application/wasm\" crossorigin>\n"
        );
        for path in preloads {
            let href = escape_attribute(path);
            head.push_str(&format!(
                "<link rel=\"preload\" href=\"{href}\" as=\"fetch\" crossorigin>\n"
            ));
        }
        // The boot code is a served file: the CSP allows no inline script.
        head.push_str(&format!(
            "<script type=\"module\" src=\"{}\"></script>\n",
            crate::web::BOOT_JS
        ));
    }
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <link rel=\"stylesheet\" href=\"/assets/main.css\">\n{head}"
    )
}

/// The rest of the document: the title (which closes the head) and the rendered page.
fn document_rest(body: &str, title: &str, with_script: bool) -> String {
    let title = escape_attribute(title);
    let main = if with_script { "<div id=\"main\"></div>\n" } else { "" };
    format!(
        "<title>{title}</title>\n</head>\n<body>\n<div id=\"ssr\">{body}</div>\n{main}</body>\n</html>\n"
    )
}

/// `value` for a double-quoted HTML attribute or for text (a page title holds span names).
/// This is the whole escaping either needs, so no crate for it.
pub(crate) fn escape_attribute(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            _ => out.push(c),
        }
    }
    out
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

    #[test]
    fn preloads_are_escaped_attributes() {
        let html = document("", "a <b>", true, &["/api/v1/traces?a=\"><script>&b=1".to_owned()]);
        assert!(html.contains("<title>a &lt;b&gt;</title>"));
        assert!(html.contains(r#"href="/api/v1/traces?a=&quot;&gt;&lt;script&gt;&amp;b=1""#));
        assert!(!html.contains("<script>&"));
        assert!(!document("", "t", false, &[]).contains("<script"));
        assert!(
            html.contains(r#"<script type="module" src="/assets/boot.js"></script>"#),
            "no inline script, for the CSP: {html}"
        );
    }
}
