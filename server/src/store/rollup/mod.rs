//! Rollups the writer keeps per 10 s bucket for `/api/v1/cache` and `/api/v1/retries`, and the
//! flame graph rollup. What a batch adds to the first two is computed by pure functions that run
//! in the prepare step on the receiving thread (`cache`, `retry`); the writer only upserts the
//! rows (`sql`), so no query decodes span chunks. `flame` folds settled traces into stacks.

mod bucket;
mod cache;
mod counts;
pub(super) mod flame;
pub(super) mod minutes_sql;
pub(super) mod pending;
mod retry;
pub mod services;
pub(super) mod services_sql;
pub(super) mod sql;

pub use bucket::BUCKET_NS;
pub(super) use bucket::{bucket_of, EXAMPLES_PER_BUCKET};
pub use counts::{merge_counts, Counts};

use otelscope_app::model::{MetricPoint, Span};

use cache::{CacheDelta, CacheExample, CounterPoint};
use retry::{RetryDelta, RetryExample, RetryKey};

/// What one batch adds to the rollup tables.
#[derive(Debug, Default)]
pub struct PreparedRollups {
    /// Hits and misses known without the store's help (spans, delta counters), one per key.
    pub(super) cache: Vec<CacheDelta>,
    /// Points of cumulative counters, by series then time: the writer turns them into deltas
    /// against the last value it kept (`cache::counter_delta`).
    pub(super) counters: Vec<CounterPoint>,
    pub(super) retries: Vec<(RetryKey, RetryDelta)>,
    pub(super) examples: Vec<RetryExample>,
    pub(super) cache_examples: Vec<CacheExample>,
    /// The RED rollup's deltas and the service map's edges (issue 25, `services`).
    pub(super) red: Vec<(services::RedKey, services::RedDelta)>,
    pub(super) edges: services::EdgeDeltas,
}

impl PreparedRollups {
    /// Drops the services rollups (issue 25) from a prepared batch: the "without" side of
    /// `benches/services.rs`, to weigh what they cost within one run.
    #[doc(hidden)]
    pub fn without_services(&mut self) {
        self.red.clear();
        self.edges = services::EdgeDeltas::default();
    }

    pub fn is_empty(&self) -> bool {
        self.cache.is_empty()
            && self.counters.is_empty()
            && self.retries.is_empty()
            && self.examples.is_empty()
            && self.cache_examples.is_empty()
            && self.red.is_empty()
            && self.edges.edges.is_empty()
            && self.edges.halves.is_empty()
    }
}

/// Computes a batch's rollup deltas (pure).
pub fn prepare(spans: &[Span], metrics: &[MetricPoint]) -> PreparedRollups {
    let (cache, counters, cache_examples) = cache::extract(spans, metrics);
    let (retries, examples) = retry::extract(spans);
    let red = services::red(spans);
    let edges = services::edges(spans);
    PreparedRollups { cache, counters, retries, examples, cache_examples, red, edges }
}
