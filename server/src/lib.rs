//! The otelscope server: query API, web app (the embedded WASM bundle), SSR pages and, for
//! `otelscope desktop`, the native window. `router` is a plain function so tests can drive it
//! with `oneshot` and no socket.

pub mod api;
pub mod auth;
pub mod cli;
pub mod conn;
pub mod cross_site;
#[cfg(feature = "demo")]
pub mod demo;
#[cfg(feature = "desktop")]
pub mod desktop;
pub mod headers;
pub mod ingest;
pub mod patterns;
pub mod peer;
pub mod profile;
pub mod query;
pub mod selftrace;
pub mod serve;
pub mod ssr;
pub mod stacks;
pub mod store;
pub mod web;

use std::sync::Arc;

use axum::http::HeaderValue;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::Router;

use crate::auth::{ApiKey, CorsOrigins};
use crate::ingest::convert::Limits;
use crate::ingest::{Ingest, IngestSettings};
use crate::store::Store;

/// Everything a request handler may need. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub ingest: Ingest,
    pub ingest_limits: Arc<IngestLimits>,
    /// `--api-key`; checked by the `auth` middlewares and the gRPC services.
    pub api_key: ApiKey,
    /// Answer loopback `Host` names only on the port whose router is built from this state
    /// (loopback bind, no key): see `auth::loopback_host`. `serve` decides it per port.
    pub loopback_host_only: bool,
    /// Signed-in browsers and wrong-key counts of the UI port (see `auth::sessions`).
    pub sessions: Arc<auth::sessions::Sessions>,
    /// `--cors-origin`: browser origins that may export OTLP/HTTP to the OTLP port.
    pub cors_origins: CorsOrigins,
    /// Recent whole-trace answers (see `api::traces::TraceCache`).
    pub trace_cache: api::TraceCache,
    /// Traces with more spans are not drawn by SSR (see `ssr::MAX_SPANS`); lower in tests.
    pub ssr_max_spans: u64,
    /// Where OTLP is received, for `/api/v1/health` and the UI's empty states.
    pub endpoints: Arc<Endpoints>,
    /// What the demo workload runs on, when `--demo` started it (for `/api/v1/health`).
    pub demo: Option<Arc<otelscope_app::model::DemoStatus>>,
    /// otelscope's own spans (`--self-telemetry`), when on.
    pub self_telemetry: Option<selftrace::SelfTelemetry>,
}

/// The OTLP endpoints in use, as URLs (`http://127.0.0.1:4318`).
#[derive(Clone, Debug, Default)]
pub struct Endpoints {
    pub otlp_http: Option<String>,
    pub otlp_grpc: Option<String>,
}

/// Caps on what one export request may carry.
#[derive(Clone, Debug)]
pub struct IngestLimits {
    /// Largest body accepted, counted after decompression.
    pub max_body_bytes: usize,
    /// Longest a request body may take to arrive (408 after it).
    pub body_timeout: std::time::Duration,
    pub convert: Limits,
}

impl Default for IngestLimits {
    fn default() -> Self {
        IngestLimits {
            max_body_bytes: 64 * 1024 * 1024,
            body_timeout: std::time::Duration::from_secs(30),
            convert: Limits::default(),
        }
    }
}

impl AppState {
    /// State over `store`, with its writer thread started.
    pub fn new(store: Arc<dyn Store>, settings: IngestSettings, limits: IngestLimits) -> AppState {
        let ingest = Ingest::start(store.clone(), settings);
        AppState {
            store,
            ingest,
            ingest_limits: Arc::new(limits),
            api_key: ApiKey::default(),
            loopback_host_only: false,
            sessions: Arc::default(),
            cors_origins: Arc::new([]),
            trace_cache: api::TraceCache::default(),
            ssr_max_spans: ssr::MAX_SPANS,
            endpoints: Arc::default(),
            demo: None,
            self_telemetry: None,
        }
    }

    /// Traces the UI port's requests, store queries and SSR renders into this state's own
    /// pipeline (`selftrace`).
    pub fn with_self_telemetry(mut self) -> AppState {
        // The one way in that may use the server's own service name.
        let own_services = &otelscope_app::model::SELF_SERVICES;
        let limits = Limits { own_services, ..self.ingest_limits.convert.clone() };
        self.self_telemetry = Some(selftrace::SelfTelemetry::start(self.ingest.clone(), limits));
        self
    }

    /// Requires `key` on every port (see `auth`).
    pub fn with_api_key(mut self, key: ApiKey) -> AppState {
        self.api_key = key;
        self
    }

    /// Lets browser apps on `origins` export OTLP/HTTP (see `headers::otlp_cors`).
    pub fn with_cors_origins(mut self, origins: Vec<HeaderValue>) -> AppState {
        self.cors_origins = origins.into();
        self
    }
}

/// The whole UI port: `/api/v1`, same-origin OTLP/HTTP `POST /v1/traces` (the UI's own spans),
/// the web bundle and stylesheet, sign-in, and SSR pages for every other GET (404 for unknown
/// paths). Every answer carries the security headers (`headers::security`), and requests that
/// other web sites' pages make are refused (`cross_site`).
pub fn router(state: AppState) -> Router {
    let loopback_only = state.loopback_host_only;
    let router = Router::new()
        .nest("/api/v1", api::router())
        .merge(ingest::http::ui_traces_route())
        .merge(web::router())
        .merge(auth::login::routes())
        .fallback(ssr::page)
        .layer(from_fn_with_state(state.clone(), selftrace::middleware))
        .layer(from_fn_with_state(state.clone(), auth::ui))
        .with_state(state);
    let router = if loopback_only {
        // The UI port lets no other origin past: CORS origins are for the OTLP port only.
        router.layer(from_fn_with_state(CorsOrigins::from([]), auth::loopback_host))
    } else {
        router
    };
    // Other sites' pages may link to pages, never act (`cross_site`); outside the sign-in
    // check, so their guesses never count against the user's throttle.
    router.layer(from_fn(cross_site::middleware)).layer(from_fn(headers::security))
}

/// Only the JSON query API, under `/api/v1`. SSR calls it in-process.
pub fn api_router(state: AppState) -> Router {
    Router::new()
        .nest("/api/v1", api::router())
        .layer(from_fn_with_state(state.clone(), selftrace::middleware))
        .with_state(state)
}

/// The OTLP/HTTP port: `/v1/traces` and friends only; the `Host` check when on loopback
/// without a key, and CORS for `--cors-origin` (outermost, so preflights are answered first).
pub fn otlp_http_router(state: AppState) -> Router {
    let origins = state.cors_origins.clone();
    let loopback_only = state.loopback_host_only;
    let router = ingest::otlp_http_routes()
        .layer(from_fn_with_state(state.clone(), auth::otlp))
        .with_state(state);
    let router = if loopback_only {
        router.layer(from_fn_with_state(origins.clone(), auth::loopback_host))
    } else {
        router
    };
    match headers::otlp_cors(&origins) {
        Some(cors) => router.layer(cors),
        None => router,
    }
}
