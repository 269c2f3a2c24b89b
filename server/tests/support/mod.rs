//! Helpers for the server's router-level tests: states over real in-memory SQLite, OTLP
//! request builders, a gate on a store's writes (to fill the ingest queue, or fail writes),
//! and SSR pages on fixed API answers. Spans come from the one builders
//! (`otelscope_app::model::fixture`, `otelscope_e2e::otlp_span`), waits from
//! `otelscope_e2e::eventually`.

#![allow(dead_code)]

use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use otelscope_e2e::otlp_span;
use otelscope_server::ingest::IngestSettings;
use otelscope_server::store::{Retention, SqliteStore, Store, StoreError, WriteBatch};
use otelscope_server::{router, AppState, IngestLimits};
use tokio::sync::Notify;
use tower::ServiceExt;

pub fn settings(queue_capacity: usize) -> IngestSettings {
    IngestSettings { queue_capacity, ..IngestSettings::new(Retention::UNBOUNDED) }
}

pub fn state() -> AppState {
    state_with_cap(IngestLimits::default().max_body_bytes)
}

pub fn state_with_cap(max_body_bytes: usize) -> AppState {
    let limits = IngestLimits { max_body_bytes, ..IngestLimits::default() };
    AppState::new(Arc::new(SqliteStore::in_memory().unwrap()), settings(16), limits)
}

pub fn state_over(store: Arc<dyn Store>, queue_capacity: usize) -> AppState {
    AppState::new(store, settings(queue_capacity), IngestLimits::default())
}

/// A server span of service `test-svc` (see [`request_with`]) with the given trace id, 1 ms
/// long in November 2023.
pub fn span(name: &str, trace_id: [u8; 16]) -> Span {
    const START: u64 = 1_700_000_000_000_000_000;
    otlp_span(trace_id, 0x0102_0304_0506_0708, name)
        .kind(SpanKind::Server)
        .ns(START, START + 1_000_000)
        .build()
}

pub fn request_with(spans: Vec<Span>) -> ExportTraceServiceRequest {
    let service = KeyValue {
        key: "service.name".into(),
        value: Some(AnyValue { value: Some(any_value::Value::StringValue("test-svc".into())) }),
        ..Default::default()
    };
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource { attributes: vec![service], ..Default::default() }),
            scope_spans: vec![ScopeSpans { spans, ..Default::default() }],
            ..Default::default()
        }],
    }
}

pub struct Posted {
    pub status: StatusCode,
    pub content_type: String,
    pub retry_after: Option<String>,
    pub body: Vec<u8>,
}

/// POSTs `body` to `/v1/traces` on the UI router.
pub async fn post(
    state: &AppState,
    content_type: &str,
    encoding: Option<&str>,
    body: Vec<u8>,
) -> Posted {
    let mut request = Request::post("/v1/traces");
    if !content_type.is_empty() {
        request = request.header("content-type", content_type);
    }
    if let Some(encoding) = encoding {
        request = request.header("content-encoding", encoding);
    }
    let response =
        router(state.clone()).oneshot(request.body(Body::from(body)).unwrap()).await.unwrap();
    let (status, content_type, retry_after) = {
        let header =
            |name: &str| response.headers().get(name).map(|v| v.to_str().unwrap().to_owned());
        (response.status(), header("content-type").unwrap_or_default(), header("retry-after"))
    };
    let body = response.into_body().collect().await.unwrap().to_bytes().to_vec();
    Posted { status, content_type, retry_after, body }
}

/// A gate on a real store's writes (its write hook, so no wrapper store): writes wait until
/// [`WriteGate::open`] is called, and fail or panic while a [`Fault`] is set.
pub struct WriteGate {
    open: Mutex<bool>,
    opened: Condvar,
    writing: Notify,
    fault: Mutex<Option<Fault>>,
}

/// What a gated store's writes do instead of writing.
#[derive(Clone, Copy, Debug)]
pub enum Fault {
    /// Fail the whole group with an error that names internals (which senders must not see).
    Error,
    /// Panic inside `write`.
    Panic,
}

impl WriteGate {
    /// A closed gate.
    pub fn new() -> Arc<WriteGate> {
        Arc::new(WriteGate {
            open: Mutex::new(false),
            opened: Condvar::new(),
            writing: Notify::new(),
            fault: Mutex::new(None),
        })
    }

    /// A gate that lets writes through at once.
    pub fn opened() -> Arc<WriteGate> {
        let gate = WriteGate::new();
        gate.open();
        gate
    }

    /// An in-memory store whose writes pass this gate first.
    pub fn store(self: &Arc<WriteGate>) -> Arc<dyn Store> {
        let gate = self.clone();
        let store =
            SqliteStore::in_memory().unwrap().with_write_hook(Arc::new(move || gate.pass()));
        Arc::new(store)
    }

    /// Makes later writes fail (or succeed again, with `None`).
    pub fn set_fault(&self, fault: Option<Fault>) {
        *self.fault.lock().unwrap() = fault;
    }

    pub fn open(&self) {
        *self.open.lock().unwrap() = true;
        self.opened.notify_all();
    }

    /// Resolves once the writer thread is inside `write`.
    pub async fn wait_until_writing(&self) {
        tokio::time::timeout(Duration::from_secs(10), self.writing.notified())
            .await
            .expect("the writer never started writing");
    }

    /// Resolves once a batch waits in the ingest queue.
    pub async fn wait_until_queued(&self, state: &AppState) {
        otelscope_e2e::eventually(
            "a batch is queued",
            Duration::from_secs(10),
            async || match state.ingest.queued() {
                0 => Err("nothing queued"),
                _ => Ok(()),
            },
        )
        .await;
    }

    /// The write hook: waits for the gate, then fails as the fault says.
    fn pass(&self) -> Result<(), StoreError> {
        self.writing.notify_one();
        let mut open = self.open.lock().unwrap();
        while !*open {
            open = self.opened.wait(open).unwrap();
        }
        drop(open);
        let fault = *self.fault.lock().unwrap();
        match fault {
            Some(Fault::Error) => Err(StoreError::Unavailable(
                "disk I/O error at /secret/path/otelscope.db-wal".into(),
            )),
            Some(Fault::Panic) => panic!("the store panicked (a test fault)"),
            None => Ok(()),
        }
    }
}

/// GETs `path` from the UI router and parses the JSON answer.
pub async fn get_json(state: &AppState, path: &str) -> serde_json::Value {
    let request = Request::get(path).body(Body::empty()).unwrap();
    let response = router(state.clone()).oneshot(request).await.unwrap();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    serde_json::from_slice(&body).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Rollup fixtures: a span of service `shop` in trace `trace`, starting at `start_s` seconds.
pub fn shop_span(
    trace: u32,
    id: u32,
    name: &str,
    start_s: u64,
    attributes: Vec<otelscope_app::model::KeyValue>,
) -> otelscope_app::model::Span {
    let span = otelscope_app::model::fixture::span(trace, id, name).service("shop").at_s(start_s);
    otelscope_app::model::Span { attributes, ..span.build() }
}

/// An attribute of our own model.
pub fn kv(key: &str, value: otelscope_app::model::AttrValue) -> otelscope_app::model::KeyValue {
    otelscope_app::model::KeyValue { key: key.into(), value }
}

/// A state whose in-memory store got `batches` as the receivers hand them over (prepared,
/// then written one by one).
pub fn state_with_batches(batches: Vec<WriteBatch>) -> AppState {
    let store = SqliteStore::in_memory().unwrap();
    for mut batch in batches {
        batch.prepare().unwrap();
        for result in store.write(&[batch]).unwrap() {
            result.unwrap();
        }
    }
    let settings =
        IngestSettings { queue_capacity: 4, ..IngestSettings::new(Retention::UNBOUNDED) };
    AppState::new(Arc::new(store), settings, IngestLimits::default())
}

/// The app at `path` drawn as the server draws a page without scripts
/// (`ssr::render_answered`), with fixed API answers by path (any other path is a 404); fails
/// when the page still wanted data after its passes.
pub fn render_with(path: &str, answers: &[(&str, &str)]) -> String {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let rendered = runtime.block_on(otelscope_server::ssr::render_answered(path, false, |want| {
        let outcome = match answers.iter().find(|(p, _)| *p == want) {
            Some((_, body)) => Ok((*body).into()),
            None => {
                Err(otelscope_app::ApiFailure::from_status(404, r#"{"error":"no such thing"}"#))
            }
        };
        std::future::ready(outcome)
    }));
    assert!(rendered.unanswered.is_empty(), "{path} still wanted {:?}", rendered.unanswered);
    rendered.page.html
}
