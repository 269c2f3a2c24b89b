//! otelscope's own spans (`--self-telemetry`, service `otelscope`): each request to the UI
//! port continues the caller's W3C `traceparent`, and the store queries and SSR renders it does
//! are its children. The spans go straight into the ingest pipeline through the same OTLP
//! conversion a sender's spans take (`ingest::signal::accept_in_process`).
//!
//! An SSR page's render is the UI's span (service `otelscope-ui`, `otelscope.platform = ssr`),
//! a child of the page request's: the app's own spans from the other platforms arrive as OTLP
//! (`uitrace` in the app).
//!
//! Only the app's own `traceparent` is continued: a same-origin browser request's, or the
//! in-process desktop window's (which sends [`app_token`]). Anyone else's starts a new trace
//! that links to it, as the OpenTelemetry specification advises at a trust boundary, so no
//! caller can graft otelscope's spans into a trace of its choosing.
//!
//! No feedback loop: receiving and storing spans (OTLP routes, the writer, this exporter) is
//! never traced, and a request makes a bounded number of spans (its own, one per store query,
//! one SSR render and, for a page, one per API answer the render reads in-process), so idle
//! dashboards make spans at the rate of their polls, no faster.

use std::sync::Arc;

use axum::extract::{MatchedPath, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::{
    FutureExt as _, Link, SpanKind, Status, TraceContextExt as _, Tracer as _, TracerProvider as _,
};
use opentelemetry::{Context, KeyValue};
use opentelemetry_http::HeaderExtractor;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::transform::common::tonic::ResourceAttributesWithSchema;
use opentelemetry_proto::transform::trace::tonic::group_spans_by_resource_and_scope;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{
    BatchSpanProcessor, SdkTracer, SdkTracerProvider, SpanData, SpanExporter,
};
use opentelemetry_sdk::Resource;
use otelscope_app::Route;

use crate::ingest::convert::Limits;
use crate::ingest::Ingest;
use crate::AppState;

/// The service name of the server's own spans.
pub const SERVICE: &str = otelscope_app::model::SELF_SERVICES[0];

/// The tracer of the server's own spans and what exports them. Cheap to clone.
#[derive(Clone)]
pub struct SelfTelemetry(Arc<Inner>);

struct Inner {
    provider: SdkTracerProvider,
    tracer: SdkTracer,
    /// SSR renders, exported with the UI's resource (see `IngestExporter`).
    ui_tracer: SdkTracer,
}

/// The instrumentation scope of the spans that belong to the UI (SSR renders).
const UI_SCOPE: &str = "otelscope-ui";

impl std::fmt::Debug for SelfTelemetry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SelfTelemetry")
    }
}

impl SelfTelemetry {
    /// Starts the exporter (a batching processor on its own thread) into `ingest`.
    pub fn start(ingest: Ingest, limits: Limits) -> SelfTelemetry {
        let resource = Resource::builder_empty()
            .with_attributes([
                KeyValue::new("service.name", SERVICE),
                KeyValue::new("service.version", env!("CARGO_PKG_VERSION")),
            ])
            .build();
        let ui_resource = Resource::builder_empty()
            .with_attributes([
                KeyValue::new("service.name", otelscope_app::model::SELF_SERVICES[1]),
                KeyValue::new("service.version", env!("CARGO_PKG_VERSION")),
                KeyValue::new("otelscope.platform", "ssr"),
            ])
            .build();
        let exporter = IngestExporter {
            ingest,
            limits,
            resource: (&resource).into(),
            ui_resource: (&ui_resource).into(),
        };
        let provider = SdkTracerProvider::builder()
            .with_span_processor(BatchSpanProcessor::builder(exporter).build())
            .with_resource(resource)
            .build();
        let tracer = provider.tracer("otelscope");
        let ui_tracer = provider.tracer(UI_SCOPE);
        SelfTelemetry(Arc::new(Inner { provider, tracer, ui_tracer }))
    }

    pub fn tracer(&self) -> &SdkTracer {
        &self.0.tracer
    }

    /// Exports every ended span now (tests, and shutdown).
    pub fn flush(&self) {
        if let Err(error) = self.0.provider.force_flush() {
            tracing::warn!(%error, "Flushing otelscope's own spans failed.");
        }
    }

    /// Starts a child of the current span, if the current context is one of ours.
    pub fn child_of_current(name: &'static str) -> Option<Context> {
        let cx = Context::current();
        let this = cx.get::<SelfTelemetry>()?.clone();
        let span = this.tracer().start_with_context(name, &cx);
        Some(cx.with_span(span))
    }

    /// Starts the span of an SSR render of `route` (`render /traces/{trace_id}`), a child of
    /// the current span, if the current context is one of ours.
    pub fn ssr_render_of_current(route: &Route) -> Option<Context> {
        let cx = Context::current();
        let this = cx.get::<SelfTelemetry>()?.clone();
        let span = this
            .0
            .ui_tracer
            .span_builder(format!("render {}", route.template()))
            .with_attributes([KeyValue::new("otelscope.route", route.template())])
            .start_with_context(&this.0.ui_tracer, &cx);
        Some(cx.with_span(span))
    }
}

/// Ends the span of a context when dropped (a span that lives in a blocking task).
pub struct EndOnDrop(pub Context);

impl Drop for EndOnDrop {
    fn drop(&mut self) {
        self.0.span().end();
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        let _ = self.provider.shutdown();
    }
}

/// Writes spans into the pipeline as an OTLP request received now. Spans of the UI's scope
/// (SSR renders) go out under the UI's resource, the rest under the server's.
struct IngestExporter {
    ingest: Ingest,
    limits: Limits,
    resource: ResourceAttributesWithSchema,
    ui_resource: ResourceAttributesWithSchema,
}

impl std::fmt::Debug for IngestExporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IngestExporter")
    }
}

impl SpanExporter for IngestExporter {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let (ui, server): (Vec<_>, Vec<_>) =
            batch.into_iter().partition(|span| span.instrumentation_scope.name() == UI_SCOPE);
        let mut resource_spans = group_spans_by_resource_and_scope(server, &self.resource);
        if !ui.is_empty() {
            resource_spans.extend(group_spans_by_resource_and_scope(ui, &self.ui_resource));
        }
        let request = ExportTraceServiceRequest { resource_spans };
        crate::ingest::signal::accept_in_process(&self.ingest, &self.limits, request)
            .await
            .map_err(|error| OTelSdkError::InternalFailure(error.to_string()))
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.resource = resource.into();
    }
}

/// The middleware of the UI port and of the in-process API (`api_router`, which SSR calls): a
/// server span per request, named after its route template
/// (`GET /api/v1/traces/{trace_id}`, `GET /ssr/traces/{trace_id}` for a page), that continues
/// the caller's `traceparent`; the handler runs in its context.
pub(crate) async fn middleware(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let Some(this) = state.self_telemetry.clone() else {
        return next.run(request).await;
    };
    let path = request.uri().path();
    // Never the spans' own way in (no feedback loop), nor the static files.
    if path == "/v1/traces"
        || path == crate::web::FAVICON
        || path.starts_with("/pkg/")
        || path.starts_with("/assets/")
    {
        return next.run(request).await;
    }
    let method = request.method().as_str().to_owned();
    // An API route's template, or the app page's (`/ssr/traces/{trace_id}` for an SSR link).
    let route = match request.extensions().get::<MatchedPath>() {
        Some(matched) => matched.as_str().to_owned(),
        None => {
            let (prefix, app_path) = match path.strip_prefix("/ssr") {
                Some(rest) if rest.is_empty() || rest.starts_with('/') => ("/ssr", rest),
                _ => ("", path),
            };
            let app_path = if app_path.is_empty() { "/" } else { app_path };
            let template = app_path.parse::<Route>().map_or("/{unknown}", |r| r.template());
            format!("{prefix}{template}")
        }
    };
    // The caller's `traceparent`; without one, the current context: an SSR render's, for the
    // API calls it makes in-process (`api_router`), else none (a new trace).
    let current = Context::current();
    let sent = TraceContextPropagator::new()
        .extract_with_context(&current, &HeaderExtractor(request.headers()));
    let claimed = sent.span().span_context().clone();
    let (parent, links) = if !claimed.is_valid() || is_the_app(request.headers()) {
        (sent, Vec::new())
    } else {
        (current, vec![Link::with_context(claimed)])
    };
    let span = this
        .tracer()
        .span_builder(format!("{method} {route}"))
        .with_kind(SpanKind::Server)
        .with_links(links)
        .with_attributes([
            KeyValue::new("http.request.method", method),
            KeyValue::new("http.route", route),
            KeyValue::new("url.path", path.to_owned()),
        ])
        .start_with_context(this.tracer(), &parent);
    let cx = parent.with_span(span).with_value(this);
    let response = next.run(request).with_context(cx.clone()).await;
    end_server_span(&cx, response.status());
    response
}

/// A token for this process's own app (the desktop window beside the in-process server),
/// random per process, sent in `otelscope_app::platform::APP_TOKEN_HEADER`.
pub fn app_token() -> &'static str {
    static TOKEN: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        let mut bytes = [0u8; 16];
        // Without randomness no caller can be told from the app: an empty token matches none.
        if getrandom::fill(&mut bytes).is_err() {
            return String::new();
        }
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    });
    &TOKEN
}

/// Whether a request comes from the app itself: the browser says it is same-origin, or it
/// carries this process's [`app_token`].
fn is_the_app(headers: &axum::http::HeaderMap) -> bool {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let token = app_token();
    header("sec-fetch-site") == Some("same-origin")
        || (!token.is_empty()
            && header(otelscope_app::platform::APP_TOKEN_HEADER).is_some_and(|sent| {
                sent.len() == token.len()
                    && sent.bytes().zip(token.bytes()).fold(0, |acc, (a, b)| acc | (a ^ b)) == 0
            }))
}

/// Ends the server span of `cx` with its answer's status (an error status on 5xx only).
pub fn end_server_span(cx: &Context, status: StatusCode) {
    let span = cx.span();
    span.set_attribute(KeyValue::new("http.response.status_code", i64::from(status.as_u16())));
    if status.is_server_error() {
        span.set_status(Status::error(status.to_string()));
    }
    span.end();
}
