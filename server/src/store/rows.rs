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
    pub source: otelscope_app::model::CacheSource,
    pub hits: u64,
    pub misses: u64,
    /// The summed durations of the hits' and the misses' lookup spans, and how many lookups
    /// each sum covers (spans only; lookups stored before schema v16 were not timed).
    pub hit_ns: u64,
    pub miss_ns: u64,
    pub timed_hits: u64,
    pub timed_misses: u64,
}

/// What the store reads for one retry query: rollup rows and examples.
#[derive(Clone, Debug, Default)]
pub struct RetryRows {
    pub rows: Vec<RetryRow>,
    /// Per operation and kind, newest first.
    pub examples: Vec<RetryExampleRow>,
}

/// One `retry_examples` row as read back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryExampleRow {
    pub service: String,
    pub name: String,
    pub kind: otelscope_app::model::RetryExampleKind,
    pub trace_id: String,
    pub start_ns: u64,
    /// NULL for rows stored before schema v15.
    pub duration_ns: Option<u64>,
    /// Empty for rows stored before schema v15.
    pub outcome: String,
}

/// One `retry_rollup` row as read back (its blobs decoded).
#[derive(Clone, Debug, Default)]
pub struct RetryRow {
    /// The row's 10 s bucket (Unix ns).
    pub bucket_ns: u64,
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

/// Column `i` of `r`: a wire kind's text (`spans`, `cpu`, …) read back as its enum.
pub(crate) fn wire_kind<T>(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<T>
where
    T: std::str::FromStr<Err = otelscope_app::model::UnknownKind>,
{
    let text: String = r.get(i)?;
    text.parse().map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
    })
}

/// What the trace list shows of one trace beyond its search summary (`Store::trace_rows`).
#[derive(Clone, Debug, PartialEq)]
pub struct TraceRowInfo {
    pub trace_id: String,
    /// Spans per service, most first (then by name).
    pub services: Vec<(String, u64)>,
    /// The root span (no parent), when it arrived.
    pub root: Option<otelscope_app::model::Span>,
}
