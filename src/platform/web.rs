//! The browser: `fetch` through web-sys, and the WASM entry that takes over from the SSR HTML.

use dioxus::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

#[path = "dom_web.rs"]
mod dom;
pub use dom::{copy_text, focus, focus_and_reveal, query_value, replace_url, set_scroll_top};
#[path = "render_span.rs"]
mod render_span;
#[path = "web_tracing.rs"]
mod web_tracing;
pub use web_tracing::trace_component_renders;

use crate::env::{ApiOutcome, Env, PlatformKind};
use crate::ApiFailure;

/// GETs `url` with the browser's `fetch` (same origin: the API key travels as the server's
/// cookie), with a W3C `traceparent` when given; non-2xx answers become errors carrying the
/// API's `{"error": ...}` message.
pub async fn get_text(
    url: &str,
    _api_key: Option<&str>,
    traceparent: Option<String>,
) -> ApiOutcome {
    let window = web_sys::window().ok_or_else(|| ApiFailure::Unexpected("no window".to_owned()))?;
    let init = web_sys::RequestInit::new();
    if let Some(traceparent) = traceparent {
        init.set_headers(&headers(&[("traceparent", &traceparent)])?.into());
    }
    read_answer(window.fetch_with_str_and_init(url, &init)).await
}

fn headers(pairs: &[(&str, &str)]) -> Result<web_sys::Headers, ApiFailure> {
    let unexpected = |_| ApiFailure::Unexpected("cannot set a request header".into());
    let headers = web_sys::Headers::new().map_err(unexpected)?;
    for (name, value) in pairs {
        headers.set(name, value).map_err(unexpected)?;
    }
    Ok(headers)
}

/// A fetch's answer: the body when 2xx, the API's error otherwise.
async fn read_answer(fetch: js_sys::Promise) -> ApiOutcome {
    let unexpected = |what: &str| ApiFailure::Unexpected(what.to_owned());
    // The browser says nothing more about a failed fetch than that it failed.
    let response =
        JsFuture::from(fetch).await.map_err(|_| ApiFailure::Unreachable(String::new()))?;
    let response: web_sys::Response =
        response.dyn_into().map_err(|_| unexpected("not a response"))?;
    // The body's bytes, copied once into WASM memory: `text()` would decode them to UTF-16
    // and wasm-bindgen encode them back to UTF-8, two passes over a large trace.
    let buffer =
        JsFuture::from(response.array_buffer().map_err(|_| unexpected("unreadable body"))?)
            .await
            .map_err(|_| ApiFailure::Unreachable("the answer was cut short".into()))?;
    let bytes = js_sys::Uint8Array::new(&buffer).to_vec();
    let text = String::from_utf8(bytes).map_err(|_| unexpected("the answer is not UTF-8"))?;
    if response.ok() {
        Ok(text.into())
    } else {
        Err(ApiFailure::from_status(response.status(), &text))
    }
}

/// POSTs `body` (a profile to import, the UI's own spans) as `content_type`, with a W3C
/// `traceparent` when given, and reads the answer as `get_text` does.
pub async fn post(
    url: &str,
    body: Vec<u8>,
    content_type: &str,
    _api_key: Option<&str>,
    traceparent: Option<String>,
) -> ApiOutcome {
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_body(&js_sys::Uint8Array::from(body.as_slice()));
    let mut pairs = vec![("content-type", content_type)];
    if let Some(traceparent) = &traceparent {
        pairs.push(("traceparent", traceparent));
    }
    init.set_headers(&headers(&pairs)?.into());
    let window = web_sys::window().ok_or_else(|| ApiFailure::Unexpected("no window".into()))?;
    read_answer(window.fetch_with_str_and_init(url, &init)).await
}

/// DELETEs `url` (a kept profile), with a W3C `traceparent` when given, and reads the answer
/// as `get_text` does.
pub async fn delete(url: &str, _api_key: Option<&str>, traceparent: Option<String>) -> ApiOutcome {
    let init = web_sys::RequestInit::new();
    init.set_method("DELETE");
    if let Some(traceparent) = traceparent {
        init.set_headers(&headers(&[("traceparent", &traceparent)])?.into());
    }
    let window = web_sys::window().ok_or_else(|| ApiFailure::Unexpected("no window".into()))?;
    read_answer(window.fetch_with_str_and_init(url, &init)).await
}

/// Wall-clock time in milliseconds since the Unix epoch, finer than a millisecond (the page's
/// time origin plus its monotonic clock), so the UI's sub-millisecond spans are not 0 ns.
pub fn now_ms() -> f64 {
    match web_sys::window().and_then(|w| w.performance()) {
        Some(clock) => clock.time_origin() + clock.now(),
        None => js_sys::Date::now(),
    }
}

/// The local time zone's offset east of UTC, in minutes, at `at_ms` (Unix ms): the browser's.
pub fn utc_offset_minutes(at_ms: f64) -> i32 {
    -(js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(at_ms)).get_timezone_offset() as i32)
}

/// Waits `ms` milliseconds (browser timer).
pub async fn sleep_ms(ms: u32) {
    gloo_timers::future::TimeoutFuture::new(ms).await;
}

/// The WASM `main`: drops the server-rendered copy of the page and mounts the live app in
/// `#main`, talking to the API on the same origin.
pub fn launch_standalone() {
    if let Some(ssr) =
        web_sys::window().and_then(|w| w.document()).and_then(|d| d.get_element_by_id("ssr"))
    {
        ssr.remove();
    }
    dom::remember_opened_url();
    // Before the first render, so dioxus-core's render spans are seen from the start.
    web_tracing::install(component_spans_wanted());
    LaunchBuilder::web()
        // Provided at the root before dioxus-web would provide its own (see `dom`).
        .with_context_provider(|| Box::new(dom::page_document()))
        .with_context(Env {
            platform: PlatformKind::Web,
            api_base: String::new(),
            api_key: None,
            start_path: None,
            self_telemetry: Some(self_telemetry_on()),
        })
        .launch(crate::App);
}

/// Whether the server traces itself: the page says `<meta name="otelscope-self-telemetry"
/// content="off">` when it runs with `--self-telemetry off`.
fn self_telemetry_on() -> bool {
    let meta = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.query_selector("meta[name=otelscope-self-telemetry]").ok().flatten());
    meta.and_then(|m| m.get_attribute("content")).as_deref() != Some("off")
}

/// Shows an ended span in the devtools performance panel, as a `performance.measure` named
/// after it (times in ms since the Unix epoch).
pub fn mark_span(name: &str, start_ms: f64, end_ms: f64) {
    let Some(performance) = web_sys::window().and_then(|w| w.performance()) else { return };
    let origin = performance.time_origin();
    // `measure(name, {start, end})`: web-sys binds this form only as an unstable API.
    let options = js_sys::Object::new();
    let set =
        |key: &str, ms: f64| js_sys::Reflect::set(&options, &key.into(), &(ms - origin).into());
    if set("start", start_ms).is_err() || set("end", end_ms.max(start_ms)).is_err() {
        return;
    }
    let measure = js_sys::Reflect::get(&performance, &"measure".into())
        .ok()
        .and_then(|f| f.dyn_into::<js_sys::Function>().ok());
    if let Some(measure) = measure {
        let _ = measure.call2(&performance, &name.into(), &options);
    }
}

/// Whether the per-component render spans are switched on: the page says `<meta
/// name="otelscope-component-spans" content="on">` when the server runs with
/// `OTELSCOPE_COMPONENT_SPANS=1`.
pub fn component_spans_wanted() -> bool {
    let meta = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.query_selector("meta[name=otelscope-component-spans]").ok().flatten());
    meta.and_then(|m| m.get_attribute("content")).as_deref() == Some("on")
}
