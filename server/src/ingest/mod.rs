//! Ingest: OTLP receivers (HTTP and gRPC), conversion to our model, and the bounded queue that
//! feeds the store's single writer. The only module that knows OTLP types.

pub mod arrivals;
pub mod convert;
pub(crate) mod cost;
pub mod fuzzing;
pub mod grpc;
pub mod http;
pub mod memory;
mod misdirected;
mod pipeline;
pub mod port;
pub(crate) mod signal;

pub use pipeline::{now_ns, Ingest, IngestError, IngestSettings, WriterState};

/// The OTLP/HTTP port's routes: the three signals (`http::routes`), and for any other path or
/// method an answer that names the ones that work (`misdirected`).
pub fn otlp_http_routes() -> axum::Router<crate::AppState> {
    http::routes()
        .fallback(misdirected::misdirected_http)
        .method_not_allowed_fallback(misdirected::wrong_method)
}
