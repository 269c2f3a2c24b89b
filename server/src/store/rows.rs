//! What a store answers besides the wire model: the rollup rows behind `/api/v1/cache` and
//! `/api/v1/retries`, read as stored and summed by the query layer (`query::cache`,
//! `query::retries`).

use super::latency::Histogram;
use super::rollup::Counts;

/// What the store reads for one cache query: rollup rows and miss examples.
#[derive(Clone, Debug, Default)]
pub struct CacheRows {
    pub rows: Vec<CacheRow>,
    /// `(service, name, layer, trace_id)`, newest first.
    pub miss_examples: Vec<(String, String, String, String)>,
}

/// One `cache_rollup` row as read back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CacheRow {
    pub bucket_ns: u64,
    pub service: String,
    pub name: String,
    pub layer: String,
    pub source: String,
    pub hits: u64,
    pub misses: u64,
}

/// What the store reads for one retry query: rollup rows and examples.
#[derive(Clone, Debug, Default)]
pub struct RetryRows {
    pub rows: Vec<RetryRow>,
    /// `(service, name, kind, trace_id)`, newest first.
    pub examples: Vec<(String, String, String, String)>,
}

/// One `retry_rollup` row as read back (its blobs decoded).
#[derive(Clone, Debug, Default)]
pub struct RetryRow {
    pub service: String,
    pub name: String,
    pub calls: u64,
    pub retried: u64,
    pub resends: u64,
    pub give_ups: u64,
    pub circuit_open: u64,
    pub attempts: Counts,
    pub tries: Counts,
    pub delays: Histogram,
}
