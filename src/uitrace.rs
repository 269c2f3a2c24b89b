//! The UI's own spans (service `otelscope-ui`): one per navigation, per view render while a page loads, and per API call, whose `traceparent` the server continues.
//!
//! A navigation span (`navigate /traces/{trace_id}`) starts when the route changes and ends
//! once the page has drawn with every API answer it asked for: it is the page's load time. The
//! renders of its view and the API calls made meanwhile are its children, so one trace runs
//! from the click to the server's store queries. Calls made after that (live refresh, paging)
//! are traces of their own, one client span each; renders after the load are not traced.
//!
//! In the browser each ended span is also a `performance.measure`, so the devtools
//! performance panel shows them (`platform::mark_span`).
//!
//! Ended spans wait in a buffer that the app's flush task hands to the platform every few
//! seconds as one OTLP JSON request (`platform::post`): the browser sends it to the
//! same-origin `/v1/traces`, the desktop window to the server it shows. Under SSR nothing here
//! runs: the server traces its renders itself. Sending is never traced (no feedback loop).

use std::cell::RefCell;
use std::sync::Mutex;

use dioxus::prelude::*;
use opentelemetry::propagation::{Injector, TextMapPropagator as _};
use opentelemetry::trace::{
    Span as _, SpanKind, Status, TraceContextExt as _, Tracer as _, TracerProvider as _,
};
use opentelemetry::{Context, KeyValue};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::transform::common::tonic::ResourceAttributesWithSchema;
use opentelemetry_proto::transform::trace::tonic::group_spans_by_resource_and_scope;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{
    SdkTracer, SdkTracerProvider, SimpleSpanProcessor, SpanData, SpanExporter,
};
use opentelemetry_sdk::Resource;

use crate::env::{ApiOutcome, Env, PlatformKind};
use crate::model::{Health, SELF_SERVICES};
use crate::{platform, ApiFailure, Route};

/// Seconds between two exports of the ended spans.
const FLUSH_SECONDS: u32 = 5;

/// The most ended spans kept for the next export; more are dropped (a server that stays
/// away must not grow the app's memory).
const MAX_BUFFERED: usize = 2_000;

/// Spans ended since the last export.
static ENDED: Mutex<Vec<SpanData>> = Mutex::new(Vec::new());

thread_local! {
    /// The tracer, once `use_ui_tracing` started it (never under SSR, nor when the server runs
    /// with `--self-telemetry off`).
    static TRACING: RefCell<Option<Tracing>> = const { RefCell::new(None) };
}

struct Tracing {
    tracer: SdkTracer,
    resource: ResourceAttributesWithSchema,
    /// The page being loaded, while its navigation span is open.
    page: Option<Page>,
    /// The path of the last navigation.
    path: String,
}

struct Page {
    cx: Context,
    /// API calls of this page not answered yet.
    pending: u32,
    /// Whether the page's view has drawn (a page ends no sooner).
    drawn: bool,
}

impl Page {
    /// Whether the page has drawn with every answer it asked for.
    fn loaded(&self) -> bool {
        self.drawn && self.pending == 0
    }
}

/// The exporter of the SDK's simple processor: keeps ended spans for the flush task.
#[derive(Debug)]
struct Buffer;

impl SpanExporter for Buffer {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        for span in &batch {
            platform::mark_span(&span.name, epoch_ms(span.start_time), epoch_ms(span.end_time));
        }
        if let Ok(mut ended) = ENDED.lock() {
            let room = MAX_BUFFERED.saturating_sub(ended.len());
            ended.extend(batch.into_iter().take(room));
        }
        Ok(())
    }
}

/// Now, finer than a millisecond (`platform::now_ms`), for every start and end of the UI's
/// spans: the SDK's own clock in the browser is `Date.now()`, whole milliseconds, which made
/// most of the UI's spans 0 ns long and their p50 on /self "0 ns" (issue 26).
fn now() -> std::time::SystemTime {
    std::time::UNIX_EPOCH + std::time::Duration::from_secs_f64(platform::now_ms().max(0.0) / 1e3)
}

fn epoch_ms(time: std::time::SystemTime) -> f64 {
    time.duration_since(std::time::UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64() * 1e3)
}

/// Starts the UI's tracing for the app's lifetime (call once, in the root component): on the
/// web and desktop platforms, unless the server said `--self-telemetry off`. When the `Env`
/// does not know (a desktop window on a remote server), the flush task asks `/api/v1/health`
/// first and stops tracing if the server says off.
pub(crate) fn use_ui_tracing() {
    let env = use_context::<Env>();
    use_hook(move || {
        if crate::env::render_mode().on_server() || env.self_telemetry == Some(false) {
            return;
        }
        TRACING.with_borrow_mut(|tracing| *tracing = Some(Tracing::start(env.platform)));
        if platform::component_spans_wanted() {
            platform::trace_component_renders(component_rendered);
        }
        spawn(flush_forever(env));
    });
}

/// Whether this app traces itself (tests read it as the root's `data-ui-tracing`).
pub(crate) fn is_on() -> bool {
    TRACING.with_borrow(Option::is_some)
}

impl Tracing {
    /// An ended span `name` from `started` to now, under the loading page's navigation; none
    /// once the page has loaded.
    fn page_child(&self, name: String, started: std::time::SystemTime, attributes: Vec<KeyValue>) {
        let Some(page) = &self.page else { return };
        let mut span = self
            .tracer
            .span_builder(name)
            .with_start_time(started)
            .with_attributes(attributes)
            .start_with_context(&self.tracer, &page.cx);
        span.end_with_timestamp(now());
    }

    /// Ends the navigation once its page has drawn with every answer it waited for.
    fn end_page_if_loaded(&mut self) {
        if self.page.as_ref().is_some_and(Page::loaded) {
            if let Some(page) = self.page.take() {
                page.cx.span().end_with_timestamp(now());
            }
        }
    }

    fn start(platform: PlatformKind) -> Tracing {
        let resource = Resource::builder_empty()
            .with_attributes([
                KeyValue::new("service.name", SELF_SERVICES[1]),
                KeyValue::new("service.version", env!("CARGO_PKG_VERSION")),
                KeyValue::new("otelscope.platform", platform.name()),
            ])
            .build();
        let schema = ResourceAttributesWithSchema::from(&resource);
        let provider = SdkTracerProvider::builder()
            .with_span_processor(SimpleSpanProcessor::new(Buffer))
            .with_resource(resource)
            .build();
        Tracing {
            tracer: provider.tracer("otelscope-ui"),
            resource: schema,
            page: None,
            path: String::new(),
        }
    }
}

/// Exports the ended spans every [`FLUSH_SECONDS`]; a failed export loses those spans only.
async fn flush_forever(env: Env) {
    if env.self_telemetry.is_none() {
        let health = platform::get_text(&format!("{}/api/v1/health", env.api_base), None, None)
            .await
            .ok()
            .and_then(|body| serde_json::from_str::<Health>(&body).ok());
        if health.is_some_and(|h| !h.self_telemetry) {
            TRACING.with_borrow_mut(|tracing| *tracing = None);
            drop(std::mem::take(&mut *ENDED.lock().unwrap_or_else(|e| e.into_inner())));
            return;
        }
    }
    loop {
        platform::sleep_ms(FLUSH_SECONDS * 1000).await;
        let ended = std::mem::take(&mut *ENDED.lock().unwrap_or_else(|e| e.into_inner()));
        let Some(json) = export_json(ended) else { continue };
        let url = format!("{}/v1/traces", env.api_base);
        let key = env.api_key.as_deref();
        let _ = platform::post(&url, json.into_bytes(), "application/json", key, None).await;
    }
}

/// The OTLP JSON request of `spans`, `None` when there are none.
fn export_json(spans: Vec<SpanData>) -> Option<String> {
    if spans.is_empty() {
        return None;
    }
    let request = TRACING.with_borrow(|tracing| {
        let tracing = tracing.as_ref()?;
        Some(ExportTraceServiceRequest {
            resource_spans: group_spans_by_resource_and_scope(spans, &tracing.resource),
        })
    })?;
    serde_json::to_string(&request).ok()
}

/// Starts a navigation when the current route is not the last one navigated to; called first
/// thing in each view's render (and by the lazy pages' loader), so the calls the view and its
/// children make in that render are the page's.
pub(crate) fn use_navigation() -> (Route, String) {
    let route = use_route::<Route>();
    let path = route.to_string();
    navigate(&route, &path);
    (route, path)
}

/// Ends the last page's navigation span if it is still open (the user left before it loaded)
/// and starts this one's, unless `path` is the page already navigated to.
fn navigate(route: &Route, path: &str) {
    TRACING.with_borrow_mut(|tracing| {
        let Some(tracing) = tracing else { return };
        if tracing.path == path {
            return;
        }
        tracing.path = path.to_owned();
        if let Some(left) = tracing.page.take() {
            left.cx.span().set_attribute(KeyValue::new("otelscope.left_before_loaded", true));
            left.cx.span().end_with_timestamp(now());
        }
        let template = route.template();
        let span = tracing
            .tracer
            .span_builder(format!("navigate {template}"))
            .with_start_time(now())
            .with_kind(SpanKind::Internal)
            .with_attributes([
                KeyValue::new("otelscope.route", template),
                KeyValue::new("url.path", path.to_owned()),
            ])
            .start(&tracing.tracer);
        tracing.page = Some(Page { cx: Context::new().with_span(span), pending: 0, drawn: false });
    });
}

/// One traced API call: its client span (when tracing) and the `traceparent` to send.
struct ApiCall {
    cx: Option<Context>,
    /// Only a GET's success is known to be a 200 (an import answers 201).
    get: bool,
    /// Whether the call counts towards its page's load.
    of_page: bool,
}

impl ApiCall {
    /// Starts the client span of `GET url` (`GET /api/v1/traces/{trace_id}`): a child of the
    /// page's navigation while it loads, else the root of a trace of its own.
    fn start(method: &str, url: &str) -> ApiCall {
        TRACING.with_borrow_mut(|tracing| {
            let get = method == "GET";
            let Some(tracing) = tracing else { return ApiCall { cx: None, get, of_page: false } };
            let path = url_path(url);
            let route = api_route(path);
            let parent = match &mut tracing.page {
                Some(page) => {
                    page.pending += 1;
                    page.cx.clone()
                }
                None => Context::new(),
            };
            let span = tracing
                .tracer
                .span_builder(format!("{method} {route}"))
                .with_start_time(now())
                .with_kind(SpanKind::Client)
                .with_attributes([
                    KeyValue::new("http.request.method", method.to_owned()),
                    KeyValue::new("http.route", route),
                    KeyValue::new("url.path", path.to_owned()),
                ])
                .start_with_context(&tracing.tracer, &parent);
            ApiCall { cx: Some(parent.with_span(span)), get, of_page: tracing.page.is_some() }
        })
    }

    /// The W3C `traceparent` header value for this call's request.
    fn traceparent(&self) -> Option<String> {
        struct Take(Option<String>);
        impl Injector for Take {
            fn set(&mut self, key: &str, value: String) {
                if key == "traceparent" {
                    self.0 = Some(value);
                }
            }
        }
        let cx = self.cx.as_ref()?;
        let mut take = Take(None);
        TraceContextPropagator::new().inject_context(cx, &mut take);
        take.0
    }

    /// Ends the span with the call's outcome: status code, body size, the failure as an error.
    pub(crate) fn end(mut self, outcome: &ApiOutcome) {
        self.finish(Some(outcome));
    }

    fn finish(&mut self, outcome: Option<&ApiOutcome>) {
        let Some(cx) = self.cx.take() else { return };
        let span = cx.span();
        match outcome {
            Some(Ok(body)) => {
                // The API answers a successful GET with 200 only.
                if self.get {
                    span.set_attribute(KeyValue::new("http.response.status_code", 200));
                }
                span.set_attribute(KeyValue::new("http.response.body.size", body.len() as i64));
            }
            Some(Err(failure)) => {
                if let ApiFailure::Status { status, .. } = failure {
                    span.set_attribute(KeyValue::new(
                        "http.response.status_code",
                        i64::from(*status),
                    ));
                }
                span.set_status(Status::error(failure.to_string()));
            }
            // Dropped unanswered: the view went away or asked again.
            None => span.set_attribute(KeyValue::new("otelscope.cancelled", true)),
        }
        span.end_with_timestamp(now());
        if self.of_page {
            TRACING.with_borrow_mut(|tracing| {
                if let Some(page) = tracing.as_mut().and_then(|t| t.page.as_mut()) {
                    page.pending = page.pending.saturating_sub(1);
                }
            });
        }
    }
}

impl Drop for ApiCall {
    fn drop(&mut self) {
        self.finish(None);
    }
}

/// GETs `url` as `platform::get_text` does, in a client span whose `traceparent` it sends.
/// The span starts now, not when the future is first polled, so a page's calls are counted
/// from the render that asked for them.
pub(crate) fn get_text(
    url: &str,
    api_key: Option<&str>,
) -> impl std::future::Future<Output = ApiOutcome> + 'static {
    let call = ApiCall::start("GET", url);
    let (url, api_key) = (url.to_owned(), api_key.map(str::to_owned));
    async move {
        let outcome = platform::get_text(&url, api_key.as_deref(), call.traceparent()).await;
        call.end(&outcome);
        outcome
    }
}

/// POSTs `body` as `platform::post` does, in a client span whose `traceparent` it sends.
pub(crate) async fn post(
    url: &str,
    body: Vec<u8>,
    content_type: &str,
    api_key: Option<&str>,
) -> ApiOutcome {
    let call = ApiCall::start("POST", url);
    let outcome = platform::post(url, body, content_type, api_key, call.traceparent()).await;
    call.end(&outcome);
    outcome
}

/// DELETEs `url` as `platform::delete` does, in a client span whose `traceparent` it sends.
pub(crate) async fn delete(url: &str, api_key: Option<&str>) -> ApiOutcome {
    let call = ApiCall::start("DELETE", url);
    let outcome = platform::delete(url, api_key, call.traceparent()).await;
    call.end(&outcome);
    outcome
}

/// A view's navigation (see `use_navigation`) and a render span for each of its renders while
/// its page loads: from the start of the view's render to the effects after it (the DOM
/// updated). The render that finds no API call of the page pending ends the navigation.
pub(crate) fn use_render_span() {
    let (route, path) = use_navigation();
    let started = now();
    let renders = use_hook(|| std::rc::Rc::new(std::cell::Cell::new(0u64)));
    renders.set(renders.get() + 1);
    let render = renders.get();
    use_effect(use_reactive!(|render| {
        let _ = render;
        rendered(&route, &path, started);
    }));
}

/// The effect after a view's render at `path` that started at `started`.
fn rendered(route: &Route, path: &str, started: std::time::SystemTime) {
    TRACING.with_borrow_mut(|tracing| {
        let Some(tracing) = tracing else { return };
        // A render of the page left behind is not this page's.
        if path != tracing.path {
            return;
        }
        let Some(page) = &mut tracing.page else { return };
        page.drawn = true;
        tracing.page_child(format!("render {}", route.template()), started, Vec::new());
        tracing.end_page_if_loaded();
    });
}

/// A component's render (dioxus-core's `render` span, behind the switch of
/// `platform::trace_component_renders`): a `component {name}` span under the loading page's
/// navigation; none once the page loaded.
fn component_rendered(component: &str, started: std::time::SystemTime) {
    TRACING.with_borrow(|tracing| {
        let Some(tracing) = tracing else { return };
        // `otelscope_app::views::self_view::OperationTable` → `OperationTable`.
        let path = component.split('<').next().unwrap_or(component);
        let short = path.rsplit("::").next().unwrap_or(path);
        let attributes = vec![KeyValue::new("otelscope.component", component.to_owned())];
        tracing.page_child(format!("component {short}"), started, attributes);
    });
}

/// After the calling component drew a new API answer (each is a new allocation): ends the
/// page's navigation if that was the last answer it waited for (a view's own render may not
/// follow a child's data). Not generic, so `use_api`'s many instances share it.
pub(crate) fn use_answer_drawn(outcome: Option<&ApiOutcome>) {
    let answer = outcome.map(|o| o.as_ref().map_or(1, |body| body.as_ptr() as usize));
    use_effect(use_reactive!(|answer| {
        if answer.is_some() {
            answer_drawn();
        }
    }));
}

fn answer_drawn() {
    TRACING.with_borrow_mut(|tracing| {
        if let Some(tracing) = tracing {
            tracing.end_page_if_loaded();
        }
    });
}

/// The path of an API URL, without origin and query.
fn url_path(url: &str) -> &str {
    let path = match url.find("://") {
        Some(scheme) => {
            let rest = &url[scheme + 3..];
            rest.find('/').map_or("/", |slash| &rest[slash..])
        }
        None => url,
    };
    path.split(['?', '#']).next().unwrap_or(path)
}

/// An API path's route template as the server names it (`/api/v1/traces/{trace_id}`).
fn api_route(path: &str) -> String {
    for (prefix, parameter, fixed) in
        [("/api/v1/traces/", "{trace_id}", ""), ("/api/v1/profiles/", "{id}", "cpu")]
    {
        if let Some(rest) = path.strip_prefix(prefix) {
            if !rest.is_empty() && !rest.contains('/') && rest != fixed {
                return format!("{prefix}{parameter}");
            }
        }
    }
    path.to_owned()
}

#[cfg(test)]
mod tests {
    use super::{api_route, url_path};

    #[test]
    fn api_calls_are_named_by_the_servers_route_templates() {
        let path = url_path("http://127.0.0.1:8686/api/v1/traces/4bf9?limit=2");
        assert_eq!(path, "/api/v1/traces/4bf9");
        assert_eq!(api_route(path), "/api/v1/traces/{trace_id}");
        assert_eq!(api_route(url_path("/api/v1/traces?service=a")), "/api/v1/traces");
        assert_eq!(api_route("/api/v1/profiles/cpu"), "/api/v1/profiles/cpu");
        assert_eq!(api_route("/api/v1/profiles/7"), "/api/v1/profiles/{id}");
        assert_eq!(url_path("http://host:1"), "/");
    }
}
