//! Ingest: OTLP receivers (HTTP and gRPC), conversion to our model, and the bounded queue that
//! feeds the store's single writer. The only module that knows OTLP types.

pub mod arrivals;
pub mod convert;
pub(crate) mod cost;
pub mod fuzzing;
pub mod grpc;
pub mod http;
pub mod memory;
mod pipeline;
pub mod port;
pub(crate) mod signal;

pub use pipeline::{now_ns, Ingest, IngestError, IngestSettings, WriterState};
