//! Server-rendered pages. Every GET outside `/api` and the bundle is rendered here: the app's
//! HTML for that route inside `#ssr`, plus the script that starts the WASM app, which removes
//! `#ssr` and mounts itself in `#main`. Under `/ssr/...` the page comes without the script.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, Method, Request, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use futures_util::{stream, StreamExt};
use http_body_util::BodyExt;
use opentelemetry::trace::FutureExt as _;
use otelscope_app::platform::SsrPage;
use otelscope_app::{ApiFailure, ApiOutcome, Route, SsrData};
use tower::ServiceExt;

use crate::api::ApiError;
use crate::AppState;

/// How many render passes a page may take to discover the API data it needs.
const MAX_PASSES: usize = 4;

/// The most spans of a trace SSR draws. Its answer (~300 bytes a span) and the parsed spans
/// of a pass take about 150 MB at this size; a larger trace's page says so and leaves it to
/// the app, and its spans are never read for SSR (`Store::trace_version` gives the count).
pub const MAX_SPANS: u64 = 200_000;

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
    let app_path_and_query = match uri.query() {
        Some(query) => format!("{app_path}?{query}"),
        None => app_path,
    };
    let status = page_status(&state, &app_path_and_query).await;
    // The head goes out at once, so the browser fetches the bundle and the page's API data
    // while the server renders (a 100,000-span trace takes it a few hundred ms). It preloads
    // what a render without data asks for; the title, known after the data, closes the head.
    let preloads = if with_script {
        let mut preloads =
            render_blocking(app_path_and_query.clone(), Arc::default(), true).await.1;
        // A page whose code is a split module: its wasm files too, in one pack (see
        // `web::split_pack`), which the loader compiles while the main module loads.
        if let Some(module) =
            app_path_and_query.parse::<Route>().ok().and_then(|r| r.split_module())
        {
            preloads.extend(crate::web::split_pack_path(module));
        }
        preloads
    } else {
        Vec::new()
    };
    let mut head = document_head(with_script, &preloads);
    if with_script && state.self_telemetry.is_none() {
        // The app traces itself only when the server does (`uitrace` reads this).
        head.push_str("<meta name=\"otelscope-self-telemetry\" content=\"off\">\n");
    }
    if with_script && std::env::var("OTELSCOPE_COMPONENT_SPANS").is_ok_and(|v| v == "1") {
        // The browser's per-component render spans (`platform::component_spans_wanted`), as
        // the desktop window reads the same variable.
        head.push_str("<meta name=\"otelscope-component-spans\" content=\"on\">\n");
    }
    // The render streams after the handler returned the head: its span is started here,
    // under the request's, and ends with the render.
    // The API answers it reads in-process are its children.
    let render_span = app_path_and_query
        .parse::<Route>()
        .ok()
        .and_then(|route| crate::selftrace::SelfTelemetry::ssr_render_of_current(&route));
    let rest = async move {
        let render = render_with_data(&state, &app_path_and_query, with_script);
        let page = match &render_span {
            Some(cx) => render.with_context(cx.clone()).await,
            None => render.await,
        };
        drop(render_span.map(crate::selftrace::EndOnDrop));
        let title = page.title.as_deref().unwrap_or("otelscope");
        Ok::<_, Infallible>(document_rest(&page.html, title, with_script))
    };
    let body = stream::once(async move { Ok::<_, Infallible>(head) }).chain(stream::once(rest));
    let html = [(header::CONTENT_TYPE, "text/html; charset=utf-8")];
    (status, html, Body::from_stream(body)).into_response()
}

/// The page's HTTP status, known before it is rendered (the head streams first): 404 for an
/// unknown path or a trace the store does not hold, 400 for filters the API refuses; the page
/// itself says why either way.
async fn page_status(state: &AppState, path_and_query: &str) -> StatusCode {
    use crate::query::params::{parse_cache_query, parse_retry_query, parse_trace_query};
    let now = crate::ingest::now_ns();
    let refused = |parsed: Result<(), crate::query::error::ParamError>| match parsed {
        Ok(()) => StatusCode::OK,
        Err(_) => StatusCode::BAD_REQUEST,
    };
    match path_and_query.parse::<Route>() {
        Ok(Route::NotFound { .. }) | Err(_) => StatusCode::NOT_FOUND,
        Ok(Route::Traces { filters }) => {
            refused(parse_trace_query(&filters.to_string(), now).map(drop))
        }
        Ok(Route::Cache { filters }) => {
            refused(parse_cache_query(&filters.to_string(), now).map(drop))
        }
        Ok(Route::Retries { filters }) => {
            refused(parse_retry_query(&filters.to_string(), now).map(drop))
        }
        Ok(Route::TraceDetail { trace_id } | Route::TraceSpan { trace_id, .. }) => {
            let store = state.store.clone();
            let id = trace_id.to_ascii_lowercase();
            match crate::api::blocking("store.trace_version", move || store.trace_version(&id))
                .await
            {
                Ok(None) => StatusCode::NOT_FOUND,
                _ => StatusCode::OK,
            }
        }
        Ok(_) => StatusCode::OK,
    }
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

/// Renders with the API answered in-process. A `preview` is drawn for the WASM app to replace.
async fn render_with_data(state: &AppState, path: &str, preview: bool) -> SsrPage {
    render_answered(path, preview, |api_path| async move { call_api(state, &api_path).await })
        .await
        .page
}

/// A page from [`render_answered`].
pub struct Rendered {
    pub page: SsrPage,
    /// API paths the last pass still asked for (empty when the page got all its data).
    pub unanswered: Vec<String>,
    /// How many render passes it took (each a whole render: a trace page's is up to 2,000 rows).
    pub passes: usize,
}

/// Renders the app at `path` (path and query) until its components ask for no API path that
/// has not been answered, at most `MAX_PASSES` times; `answer` gives the outcome of each path
/// asked for (a pass's paths at once). The server's pages and the tests' pages (with fixed
/// answers) are drawn by this.
/// Each pass runs on a blocking thread; the answers are shared with it, not copied.
pub async fn render_answered<F: Future<Output = ApiOutcome>>(
    path: &str,
    preview: bool,
    mut answer: impl FnMut(String) -> F,
) -> Rendered {
    let mut answers: Arc<BTreeMap<String, ApiOutcome>> = Arc::default();
    let mut rendered = Rendered {
        page: SsrPage { html: String::new(), title: None },
        unanswered: Vec::new(),
        passes: 0,
    };
    for passes in 1..=MAX_PASSES {
        let (page, wanted) = render_blocking(path.to_owned(), answers.clone(), preview).await;
        rendered = Rendered { page, unanswered: wanted, passes };
        if rendered.unanswered.is_empty() {
            break;
        }
        // The paths of one pass are answered together: a trace page's trace and its map are
        // each a read of the whole trace, on blocking threads of their own.
        let asked = rendered.unanswered.iter().map(|api_path| answer(api_path.clone()));
        let outcomes = futures_util::future::join_all(asked).await;
        // The pass is over, so this is the only handle again: no copy of the map or answers.
        let more = Arc::make_mut(&mut answers);
        for (api_path, outcome) in rendered.unanswered.iter().zip(outcomes) {
            more.insert(api_path.clone(), outcome);
        }
    }
    rendered
}

/// One render pass on a blocking thread, so a large page never holds up an async worker.
async fn render_blocking(
    path: String,
    answers: Arc<BTreeMap<String, ApiOutcome>>,
    preview: bool,
) -> (SsrPage, Vec<String>) {
    tokio::task::spawn_blocking(move || render_pass(&path, &answers, preview)).await.unwrap_or_else(
        |_| {
            tracing::error!("A render pass panicked.");
            let html =
                "<p class=\"error-state\" role=\"alert\">This page could not be rendered.</p>";
            (SsrPage { html: html.into(), title: None }, Vec::new())
        },
    )
}

/// One synchronous render: the VirtualDom is `!Send`, so it is created, rendered and dropped
/// here, on one thread, and never lives across an `.await`. Answers are shared (`Arc<str>`).
fn render_pass(
    path: &str,
    answers: &BTreeMap<String, ApiOutcome>,
    preview: bool,
) -> (SsrPage, Vec<String>) {
    let data = if preview { SsrData::preview() } else { SsrData::default() };
    for (api_path, outcome) in answers {
        data.answer(api_path.clone(), outcome.clone());
    }
    let page = otelscope_app::platform::render_ssr(path, &data);
    (page, data.take_wanted())
}

/// Answers one API path in-process, as the browser would get it over HTTP; a trace with more
/// than `ssr_max_spans` spans is not read at all, for itself or its map (its count is one row
/// of `traces`).
async fn call_api(state: &AppState, api_path: &str) -> ApiOutcome {
    if let Some(trace_id) = trace_of(api_path) {
        let store = state.store.clone();
        let count = tokio::task::spawn_blocking(move || store.trace_version(&trace_id)).await;
        if let Ok(Ok(Some(count))) = count {
            if count > state.ssr_max_spans {
                let max = state.ssr_max_spans;
                return Err(ApiFailure::TooLargeForSsr { spans: count, max });
            }
        }
    }
    let request = Request::get(api_path)
        .body(Body::empty())
        .map_err(|e| ApiFailure::Unexpected(e.to_string()))?;
    let Ok(response) = crate::api_router(state.clone()).oneshot(request).await;
    let status = response.status();
    let bytes = response
        .into_body()
        .collect()
        .await
        .map_err(|e| ApiFailure::Unreachable(e.to_string()))?
        .to_bytes();
    if status.is_success() {
        let text = std::str::from_utf8(&bytes)
            .map_err(|_| ApiFailure::Unexpected("the answer is not UTF-8".into()))?;
        Ok(Arc::from(text))
    } else {
        Err(ApiFailure::from_status(status.as_u16(), &String::from_utf8_lossy(&bytes)))
    }
}

/// The trace (its id, lowercase) that `api_path` reads whole: `/api/v1/traces/{id}`, and the
/// trace's map, `/api/v1/map?trace_id={id}`, which a page without scripts asks with it.
fn trace_of(api_path: &str) -> Option<String> {
    let id = (api_path.strip_prefix("/api/v1/traces/"))
        .or_else(|| api_path.strip_prefix("/api/v1/map?trace_id="))?;
    (!id.is_empty() && !id.contains(['/', '?', '&'])).then(|| id.to_ascii_lowercase())
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
        // In the order the browser needs them: over HTTP/1.1 it fetches six at a time, and the
        // module graph has ten files. The module graph first (the entry and what it imports,
        // found otherwise one import at a time), then the main WASM, then the rest.
        let entry = crate::web::ENTRY_JS;
        head.push_str(&format!("<link rel=\"modulepreload\" href=\"/{entry}\">\n"));
        for path in crate::web::module_imports() {
            let href = escape_attribute(&path);
            head.push_str(&format!("<link rel=\"modulepreload\" href=\"{href}\">\n"));
        }
        let wasm = crate::web::WASM;
        head.push_str(&format!(
            "<link rel=\"preload\" href=\"/{wasm}\" as=\"fetch\" type=\"application/wasm\" crossorigin>\n"
        ));
        // The boot code is a served file: the CSP allows no inline script. The theme's script
        // is a classic one, so it runs before the page is painted.
        head.push_str(&format!(
            "<script src=\"{}\"></script>\n<script type=\"module\" src=\"{}\"></script>\n",
            crate::web::THEME_JS,
            crate::web::BOOT_JS
        ));
        for path in preloads {
            let href = escape_attribute(path);
            head.push_str(&format!(
                "<link rel=\"preload\" href=\"{href}\" as=\"fetch\" crossorigin>\n"
            ));
        }
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
    fn trace_paths() {
        assert_eq!(trace_of("/api/v1/traces/ABC"), Some("abc".into()));
        assert_eq!(trace_of("/api/v1/traces?service=a"), None);
        assert_eq!(trace_of("/api/v1/traces/"), None);
        assert_eq!(trace_of("/api/v1/traces/a/b"), None);
        assert_eq!(trace_of("/api/v1/map?trace_id=ABC"), Some("abc".into()));
        assert_eq!(trace_of("/api/v1/map?trace_id=abc&since=1h"), None);
        assert_eq!(trace_of("/api/v1/map?since=1h"), None);
    }

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
