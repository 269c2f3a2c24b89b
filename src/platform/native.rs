//! Native renderers: the desktop window (wry/webkit2gtk) and server-side rendering, both with
//! reqwest for HTTP. Both can be compiled into one binary; the launcher picks one at run time.

use std::rc::Rc;

use dioxus::history::{History, MemoryHistory};
use dioxus::prelude::*;

use crate::env::{ApiOutcome, Env, PlatformKind, SsrData};

#[path = "dom_native.rs"]
mod dom;
pub use dom::{copy_text, focus, focus_and_reveal, query_value, replace_url, set_scroll_top};

#[path = "component_spans.rs"]
mod component_spans;
#[path = "render_span.rs"]
mod render_span;
use crate::ApiFailure;
pub use component_spans::trace_component_renders;

/// GETs `url` with reqwest (with the API key as a bearer token when there is one, and a W3C
/// `traceparent` when given); non-2xx answers become errors carrying the API's message.
pub async fn get_text(url: &str, api_key: Option<&str>, traceparent: Option<String>) -> ApiOutcome {
    let mut request = reqwest::Client::new().get(url);
    if let Some(traceparent) = traceparent {
        request = request.header("traceparent", traceparent);
    }
    send(request, api_key).await
}

/// POSTs `body` (a profile to import, the UI's own spans) as `content_type`, with a W3C
/// `traceparent` when given, and reads the answer as `get_text` does.
pub async fn post(
    url: &str,
    body: Vec<u8>,
    content_type: &str,
    api_key: Option<&str>,
    traceparent: Option<String>,
) -> ApiOutcome {
    let mut request =
        reqwest::Client::new().post(url).header("content-type", content_type).body(body);
    if let Some(traceparent) = traceparent {
        request = request.header("traceparent", traceparent);
    }
    send(request, api_key).await
}

/// DELETEs `url` (a kept profile), with a W3C `traceparent` when given, and reads the answer
/// as `get_text` does.
pub async fn delete(url: &str, api_key: Option<&str>, traceparent: Option<String>) -> ApiOutcome {
    let mut request = reqwest::Client::new().delete(url);
    if let Some(traceparent) = traceparent {
        request = request.header("traceparent", traceparent);
    }
    send(request, api_key).await
}

async fn send(mut request: reqwest::RequestBuilder, api_key: Option<&str>) -> ApiOutcome {
    if let Some(key) = api_key {
        request = request.bearer_auth(key);
    }
    let response = request.send().await.map_err(|e| ApiFailure::Unreachable(e.to_string()))?;
    let status = response.status();
    let text = response.text().await.map_err(|e| ApiFailure::Unreachable(e.to_string()))?;
    if status.is_success() {
        Ok(text.into())
    } else {
        Err(ApiFailure::from_status(status.as_u16(), &text))
    }
}

/// Whether the per-component render spans are switched on: `OTELSCOPE_COMPONENT_SPANS=1`
/// (see `uitrace::components`).
pub fn component_spans_wanted() -> bool {
    std::env::var("OTELSCOPE_COMPONENT_SPANS").is_ok_and(|v| v == "1")
}

/// The browser's devtools marks (see `web`): no such panel here.
pub fn mark_span(_name: &str, _start_ms: f64, _end_ms: f64) {}

/// Wall-clock time in milliseconds since the Unix epoch.
pub fn now_ms() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64() * 1e3)
}

/// The local time zone's offset east of UTC, in minutes, at `at_ms` (Unix ms): the machine's
/// (`TZ`, else /etc/localtime); 0 when it cannot be told.
pub fn utc_offset_minutes(at_ms: f64) -> i32 {
    let at = (at_ms / 1e3) as libc::time_t;
    // SAFETY: `tm` is plain data that localtime_r fills; both pointers are valid for the call,
    // and localtime_r (unlike localtime) keeps no shared state.
    unsafe {
        let mut tm: libc::tm = std::mem::zeroed();
        if libc::localtime_r(&at, &mut tm).is_null() {
            return 0;
        }
        (tm.tm_gmtoff / 60) as i32
    }
}

/// Waits `ms` milliseconds (tokio timer).
pub async fn sleep_ms(ms: u32) {
    tokio::time::sleep(std::time::Duration::from_millis(u64::from(ms))).await;
}

/// One server-rendered page: the app's HTML and the title its `document::Title` asked for.
pub struct SsrPage {
    pub html: String,
    pub title: Option<String>,
}

/// SSR's `document`: keeps the title for the page's `<title>`; scripts cannot run here.
#[derive(Default)]
struct SsrDocument {
    title: std::cell::RefCell<Option<String>>,
}

impl document::Document for SsrDocument {
    fn eval(&self, js: String) -> document::Eval {
        document::NoOpDocument.eval(js)
    }

    fn set_title(&self, title: String) {
        *self.title.borrow_mut() = Some(title);
    }
}

/// Renders the app at `path` (path and query) to HTML with the data in `data`. The server calls
/// this until `data.take_wanted()` comes back empty.
pub fn render_ssr(path: &str, data: &SsrData) -> SsrPage {
    let history: Rc<dyn History> = Rc::new(MemoryHistory::with_initial_path(path));
    let doc = Rc::new(SsrDocument::default());
    let mut vdom = VirtualDom::new(crate::App)
        .with_root_context(Env {
            platform: PlatformKind::Ssr,
            api_base: String::new(),
            api_key: None,
            start_path: None,
            self_telemetry: Some(false),
        })
        .with_root_context(data.clone())
        .with_root_context(dom::OpenedUrl(path.to_owned()))
        .with_root_context(history)
        .with_root_context(doc.clone() as Rc<dyn document::Document>);
    vdom.rebuild_in_place();
    let html = dioxus::ssr::render(&vdom);
    let title = doc.title.borrow_mut().take();
    SsrPage { html, title }
}

/// What the desktop window opens on.
#[derive(Clone, Debug, Default)]
pub struct DesktopOptions {
    /// The API at `http://host:port`.
    pub api_base: String,
    pub api_key: Option<String>,
    /// The page to open instead of `/`.
    pub start_path: Option<String>,
    /// Keep this file holding the window's DOM (for scripted checks; see `DomDump`).
    pub dump_dom: Option<std::path::PathBuf>,
    /// Whether the server traces itself (`--self-telemetry`), and so the window too; `None`
    /// to ask the server's health.
    pub self_telemetry: Option<bool>,
}

/// Opens the desktop window on the app. Returns when the window is closed.
#[cfg(feature = "desktop")]
pub fn launch_desktop(options: DesktopOptions) {
    use dioxus::desktop::{Config, LogicalSize, WindowBuilder, WindowCloseBehaviour};
    let DesktopOptions { api_base, api_key, start_path, dump_dom, self_telemetry } = options;

    let window = WindowBuilder::new()
        .with_title("otelscope")
        .with_inner_size(LogicalSize::new(1280.0, 860.0));
    let config = Config::new()
        .with_window(window)
        .with_menu(None)
        .with_close_behaviour(WindowCloseBehaviour::WindowCloses)
        .with_custom_index(DESKTOP_INDEX.to_owned())
        .with_custom_head(format!(
            "<style>{}</style><script>{}</script>",
            crate::STYLESHEET,
            crate::THEME_SCRIPT
        ));
    let vdom = VirtualDom::new(DesktopRoot)
        .with_root_context(Env {
            platform: PlatformKind::Desktop,
            api_base,
            api_key,
            start_path: start_path.clone(),
            self_telemetry,
        })
        .with_root_context(dom::OpenedUrl(start_path.unwrap_or_default()))
        .with_root_context(DomDump(dump_dom));
    dioxus::desktop::launch::launch_virtual_dom(vdom, config);
}

/// The webview's page: dioxus-desktop's, titled otelscope (its own says "Dioxus app" until a
/// page sets a title, and the window's title is not the document's).
#[cfg(feature = "desktop")]
const DESKTOP_INDEX: &str = "<!DOCTYPE html>\n<html lang=\"en\"><head><title>otelscope</title>\
    <meta name=\"viewport\" content=\"width=device-width, initial-scale=1.0\"></head>\
    <body><div id=\"main\"></div></body></html>";

/// The window's document: dioxus-desktop's, except that a page's title names the document as
/// well as the window (dioxus-desktop sets only the window's).
#[cfg(feature = "desktop")]
struct WindowDocument(Rc<dyn document::Document>);

#[cfg(feature = "desktop")]
impl document::Document for WindowDocument {
    fn eval(&self, js: String) -> document::Eval {
        self.0.eval(js)
    }

    fn set_title(&self, title: String) {
        // A JSON string is a JavaScript string literal: the title stays text. Set after the
        // render's edits, as dioxus-desktop does for the head's other elements.
        let literal = serde_json::to_string(&title).unwrap_or_else(|_| "\"otelscope\"".into());
        let inner = self.0.clone();
        dioxus::core::queue_effect(move || {
            let _ = inner.eval(format!("document.title = {literal};"));
        });
        self.0.set_title(title);
    }

    fn create_meta(&self, props: document::MetaProps) {
        self.0.create_meta(props)
    }

    fn create_script(&self, props: document::ScriptProps) {
        self.0.create_script(props)
    }

    fn create_style(&self, props: document::StyleProps) {
        self.0.create_style(props)
    }

    fn create_link(&self, props: document::LinkProps) {
        self.0.create_link(props)
    }
}

/// Where the desktop window writes its DOM, if anywhere.
#[derive(Clone)]
#[cfg(feature = "desktop")]
struct DomDump(Option<std::path::PathBuf>);

/// The app, plus (with `--dump-dom`) a loop that writes the webview's DOM as HTML to a file
/// twice a second, replacing it atomically, so a script can read what the window shows.
#[cfg(feature = "desktop")]
#[component]
fn DesktopRoot() -> Element {
    let dump = use_context::<DomDump>();
    use_context_provider(|| -> Rc<dyn document::Document> {
        Rc::new(WindowDocument(document::document()))
    });
    use_future(move || {
        let target = dump.0.clone();
        async move {
            let Some(target) = target else { return };
            let partial = target.with_extension("partial");
            loop {
                let html = document::eval("return document.documentElement.outerHTML")
                    .join::<String>()
                    .await;
                if let Ok(html) = html {
                    let written = std::fs::write(&partial, html)
                        .and_then(|()| std::fs::rename(&partial, &target));
                    if let Err(error) = written {
                        tracing::warn!(%error, path = %target.display(), "Cannot write the DOM dump.");
                    }
                }
                sleep_ms(500).await;
            }
        }
    });
    rsx! { crate::App {} }
}

/// `otelscope-app` run natively (e.g. by `dx serve --platform desktop`): a window on the server
/// named by `OTELSCOPE_SERVER`, by default the local one.
pub fn launch_standalone() {
    #[cfg(feature = "desktop")]
    launch_desktop(DesktopOptions {
        api_base: std::env::var("OTELSCOPE_SERVER")
            .unwrap_or_else(|_| "http://127.0.0.1:8686".into()),
        api_key: std::env::var("OTELSCOPE_API_KEY").ok(),
        ..DesktopOptions::default()
    });
    #[cfg(not(feature = "desktop"))]
    eprintln!("otelscope-app was built without `desktop`; run `otelscope serve` for the web app");
}
