//! The store behind the query API, as a small trait so another engine can be added later.
//! For now one engine: an in-memory one that nothing writes to until the OTLP receivers exist.

mod memory;

pub use memory::MemoryStore;

use otelscope_app::model::ServiceSummary;

/// What can go wrong reading or writing the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("store unavailable: {0}")]
    Unavailable(String),
}

/// A telemetry store: what the query API reads.
pub trait Store: Send + Sync + 'static {
    /// Services seen, with span counts, sorted by name.
    fn services(&self) -> Result<Vec<ServiceSummary>, StoreError>;
}
