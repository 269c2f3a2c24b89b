//! The store behind the query API. A small trait (`Store`, the contract a backend meets); the
//! engine built well: SQLite (`sqlite/`), on disk in WAL mode or in memory; a second one begun:
//! ClickHouse (`clickhouse/`, spans only so far). What can be asked of a store (`request`) and what it answers
//! besides the wire model (`rows`, `stacks::StackTree`) live here, below the query layer.

mod chunk;
mod clickhouse;
mod latency;
mod logs;
pub mod metrics;
mod migrations;
mod prepare;
mod private;
mod profiles;
pub mod request;
mod rollup;
pub mod rows;
mod schema;
pub mod service_rows;
mod sqlite;

pub use chunk::{whole_trace, SeenSpans, SpanChunk};
pub use clickhouse::{ClickHouseConfig, ClickHouseStore, ServerVersion};
pub use latency::Histogram;
pub use logs::{LogSample, PreparedLogs, FACET_TOP, MAX_FACET_SCAN, MAX_LOG_CONTEXT};
pub use metrics::{MetricCatalogQuery, MetricRows, MetricRowsQuery, Refusals, Sample, SeriesMeta};
pub use prepare::PreparedSpans;
pub use profiles::{ProfileBounds, StoredProfile};
pub use request::{
    CacheQuery, LogCursor, LogHistogramQuery, LogQuery, MetricQuery, OperationQuery, RetryQuery,
    TextTerm, TraceQuery, MAX_LOG_BUCKETS,
};
pub use rollup::flame::{MAX_FOLD_SPANS, MAX_STACKS_PER_BUCKET, SETTLE_NS, TRACES_PER_PASS};
pub use rollup::services::{
    node_id, red as red_deltas, trace_edges, EdgeDelta, EdgeDeltas, EdgeKey, RedDelta, RedKey,
    MAX_PENDING as MAX_PENDING_HALVES, PAIR_WAIT_NS,
};
pub use rollup::{Counts, PreparedRollups, BUCKET_NS as ROLLUP_BUCKET_NS};
pub use rows::{CacheRow, CacheRows, RetryExampleRow, RetryRow, RetryRows, TraceRowInfo};
pub use service_rows::{EdgeRow, Grain, MapQuery, MapRows, NodeRow, RedQuery, RedRow};
pub use sqlite::{SqliteStore, WriteHook};

use otelscope_app::model::{
    LinkingSpan, LogContext, LogFacets, LogHistogram, LogPage, LogRecord, MetricCatalog,
    MetricPoint, MetricsAnswer, OperationStats, ProfileSummary, ServiceSummary, Span, StoreHealth,
    TraceSummary,
};

use crate::stacks::StackTree;

/// What can go wrong reading or writing the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("the store at {path} was written by a newer otelscope (schema {found}, this one knows up to {known}); upgrade otelscope or use another --data-dir")]
    TooNew { path: String, found: i64, known: i64 },
    #[error("cannot create the data directory {path}: {source}")]
    DataDir { path: String, source: std::io::Error },
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("store unavailable: {0}")]
    Unavailable(String),
    #[error("the store at {path} is in use by another otelscope (it holds {lock}); stop that one or use another --data-dir")]
    Locked { path: String, lock: String },
    #[error("cannot open the store at {path}: {why}")]
    Open { path: String, why: String },
}

/// One unit of work for the writer: everything one export request carried.
#[derive(Debug, Default)]
pub struct WriteBatch {
    /// When otelscope received the request (Unix ns). Retention by age counts from this, never
    /// from the timestamps the sender wrote.
    pub received_ns: u64,
    pub spans: Vec<Span>,
    pub logs: Vec<LogRecord>,
    pub metrics: Vec<MetricPoint>,
    /// `spans` ready to write, when the receiver prepared them (see `prepare`).
    pub prepared: Option<PreparedSpans>,
    /// What `spans` and `metrics` add to the cache and retry rollups, when prepared.
    pub rollups: Option<PreparedRollups>,
    /// `logs` ready to write (chunks compressed, index rows and search text), when prepared.
    pub prepared_logs: Option<PreparedLogs>,
    /// Metric points the store refused while writing (a series that changed its type or
    /// unit); the receiver keeps a clone and reports them once the batch is durable.
    pub refusals: std::sync::Arc<Refusals>,
    /// `SeriesMeta::identity_hash` of each of `metrics`, in order, when prepared.
    pub metric_hashes: Option<Vec<i64>>,
}

impl WriteBatch {
    /// Does the store's CPU work for `spans` now, on the calling thread, and drops them: the
    /// writer thread then only runs SQL. Receivers call it; a batch not prepared is prepared
    /// by the writer.
    pub fn prepare(&mut self) -> Result<(), StoreError> {
        self.rollups = Some(rollup::prepare(&self.spans, &self.metrics));
        if !self.metrics.is_empty() {
            self.metric_hashes = Some(metrics::hashes(&self.metrics));
        }
        if !self.spans.is_empty() {
            self.prepared = Some(prepare::prepare(&self.spans)?);
            self.spans = Vec::new();
        }
        if !self.logs.is_empty() {
            self.prepared_logs = Some(logs::prepare(&self.logs)?);
            self.logs = Vec::new();
        }
        Ok(())
    }

    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
            && self.logs.is_empty()
            && self.metrics.is_empty()
            && self.prepared.as_ref().is_none_or(|p| p.traces.is_empty())
            && self.prepared_logs.as_ref().is_none_or(|p| p.is_empty())
    }
}

/// How much the store may keep. Whatever goes over first is trimmed, oldest received first.
#[derive(Clone, Copy, Debug)]
pub struct Retention {
    pub max_spans: u64,
    /// Age counted from when the data was received.
    pub max_age_ns: u64,
    /// Bytes of the database in use (pages not on SQLite's free list).
    pub max_bytes: u64,
}

impl Retention {
    /// Keeps everything (tests and benchmarks).
    pub const UNBOUNDED: Retention =
        Retention { max_spans: u64::MAX, max_age_ns: u64::MAX, max_bytes: u64::MAX };
}

/// A telemetry store: the contract a backend meets. The query layer asks with the types of
/// `request` and gets the wire model, `rows` or `stacks::StackTree` back; a backend knows
/// nothing of query strings or answers.
///
/// Writes come from one writer thread (`write`, `enforce_retention`, `fold_flames`, and the
/// profile writes); reads from any thread, concurrently with the writer, each seeing committed
/// data only. Unless a method says otherwise:
/// - an unknown id (trace, service, profile) is not an error: the answer is empty, `None` or
///   `false`;
/// - times are Unix nanoseconds of the sender's clock, compared inclusively (`since <= t <=
///   until`); retention alone counts from receipt;
/// - every answer is bounded: by the request's `limit`, an explicit cap, or the store's own
///   bounds (named where they apply), never by how much is stored;
/// - `StoreError::Unavailable` is what a backend says when it cannot answer now.
pub trait Store: Send + Sync + 'static {
    /// Stores several batches in one transaction, each in its own savepoint: the outer error
    /// fails them all (nothing was committed); otherwise one result per batch, in order, each
    /// durable when `Ok`, and a batch that failed left nothing behind. A batch's spans may
    /// belong to traces stored before (a trace arrives over many batches); spans, logs and
    /// points are kept as given (no deduplication), and the batch's `rollups` are added.
    fn write(&self, batches: &[WriteBatch]) -> Result<Vec<Result<(), StoreError>>, StoreError>;
    /// Drops the data beyond `retention` (age counted from `received_ns` against `now_ns`, the
    /// span count, the bytes: whichever is over): whole traces, oldest received first, at most
    /// `budget` spans per call so ingest never waits long (a later call goes on); returns how
    /// many spans were dropped (0 when nothing was over). Logs and metric points go by the same
    /// age and at most `max_spans` rows each, and over the byte bound with the traces received
    /// before them (log records go a whole stored chunk at a time, oldest received first); rollup rows go with the data retention dropped (written before the age cutoff, or before the newest trace a pass dropped), never with a kept trace's early parts.
    fn enforce_retention(
        &self,
        retention: Retention,
        now_ns: u64,
        budget: u64,
    ) -> Result<u64, StoreError>;
    /// A number that grows whenever spans are added to a trace (its stored span count), so an
    /// answer about the trace holds while it stays; `None` for an unknown trace.
    fn trace_version(&self, trace_id: &str) -> Result<Option<u64>, StoreError>;
    /// Services seen, with span counts, errors and latency percentiles, sorted by name; empty
    /// when nothing is stored.
    fn services(&self) -> Result<Vec<ServiceSummary>, StoreError>;
    /// The distinct span names of one service, sorted, at most `limit`; empty for an unknown
    /// service. Cost grows with the names returned, not with the spans stored (SQLite skips
    /// through its (service, name) index: one probe per name).
    fn operations(&self, service: &str, limit: usize) -> Result<Vec<String>, StoreError>;
    /// Each span name of `service` with counts and latency percentiles over the traces that
    /// started at or after `since_ns`, slowest (p95) first; reads at most `max_rows` per-trace
    /// rows, the newest traces' (the flag says when there were more). Empty for an unknown
    /// service.
    fn operation_stats(
        &self,
        service: &str,
        since_ns: u64,
        max_rows: usize,
    ) -> Result<(Vec<OperationStats>, bool), StoreError>;
    /// Trace summaries matching `query`, newest start first, at most `query.limit`. Traces
    /// rooted in otelscope's own services are left out unless `include_self` or `service` names
    /// one. With attribute filters a store may stop after a bound of candidates it checks span
    /// by span (SQLite: 5,000), so fewer than `limit` does not prove there are no more.
    fn search_traces(&self, query: &TraceQuery) -> Result<Vec<TraceSummary>, StoreError>;
    /// For each of `trace_ids` that is stored, in the same order: its span counts per service
    /// and its root span once that arrived (read up to the root, never the whole trace when
    /// the root comes early). The trace list's per-row chips, status and error text.
    fn trace_rows(&self, trace_ids: &[String]) -> Result<Vec<TraceRowInfo>, StoreError>;
    /// How many traces match `query` (its limit aside), counting at most `cap`; `None` when it
    /// cannot be told without reading spans (attribute filters).
    fn count_traces(&self, query: &TraceQuery, cap: usize) -> Result<Option<u64>, StoreError>;
    /// The chunk of one trace's spans stored next after chunk `after` (`i64::MIN` for the
    /// first), in arrival order; `None` after the last and for an unknown trace. Each call is
    /// one short read, so a reader that goes slowly holds no connection or lock between
    /// chunks. A span sent twice is in two chunks: readers deduplicate.
    fn trace_chunk(&self, trace_id: &str, after: i64) -> Result<Option<SpanChunk>, StoreError>;
    /// The spans whose links point at span `span_id` of trace `trace_id` (a producer's
    /// consumers), earliest start first (ties by trace and span id), at most `limit`; only
    /// linking spans whose trace is still stored. Ids are compared in lower case.
    fn linking_spans(
        &self,
        trace_id: &str,
        span_id: &str,
        limit: usize,
    ) -> Result<Vec<LinkingSpan>, StoreError>;
    /// One page of the log records matching `query`, in page order: (time, id) descending,
    /// so records that share a time keep one order (the id is the store's, opaque to clients,
    /// and later stored records get larger ones). At most `query.limit` records (at least 1):
    /// without a cursor the newest; with an `older` cursor the next ones after it; with a
    /// newer one the `limit` nearest before it (still newest first). A page is stable while
    /// records arrive: a cursor is a position, not an offset.
    /// - `matched`: the records matching the filters, the cursor aside, counted exactly up to
    ///   `MAX_LOG_MATCHED` (then that number and `matched_capped`);
    /// - `older`: a cursor after the page's last record when older matches exist; `newer`: a
    ///   cursor before its first when newer matches exist (`None` for the first page, which
    ///   starts at the newest match). An empty page past either end gives a cursor back
    ///   toward the other end when matches are there.
    ///
    /// `trace_id` (and `trace_id` with `span_id`) is answered by an index on the trace: cost
    /// grows with the trace's records, not with the store.
    fn log_page(&self, query: &LogQuery) -> Result<LogPage, StoreError>;
    /// Counts of the records matching `query.logs` per step, each split by severity band
    /// (non-zero bands only, in `SeverityBand` order): one bucket per step from `since_ns`,
    /// empty ones included, at most `MAX_LOG_BUCKETS`.
    fn log_histogram(&self, query: &LogHistogramQuery) -> Result<LogHistogram, StoreError>;
    /// Top values among the records matching `query` (its limit and cursor aside): services,
    /// severity bands and the record attribute keys present, each with how many records carry
    /// it, most first (ties by value), at most `FACET_TOP` each. The work is bounded: the
    /// newest `MAX_FACET_SCAN` matches are read (`scanned`), and `sampled` says more matched.
    fn log_facets(&self, query: &LogQuery) -> Result<LogFacets, StoreError>;
    /// The record `id` with the records of its service just before and after it in time
    /// order ((time, id) ascending; whatever their severity or trace), at most `before` and
    /// `after` (each capped at `MAX_LOG_CONTEXT`), oldest first in each list. `None` for an
    /// unknown (or malformed) id.
    fn log_context(
        &self,
        id: &str,
        before: usize,
        after: usize,
    ) -> Result<Option<LogContext>, StoreError>;
    /// The newest `max_records` records matching `query` (its limit and cursor aside), newest
    /// first, and how many match in all (exactly): the sample log patterns are drawn from.
    fn log_sample(&self, query: &LogQuery, max_records: usize) -> Result<LogSample, StoreError>;
    /// Without `query.name`: the metric catalog, by name, at most `limit` names. With it: the
    /// newest `limit` points of that metric (before `step_ns` thins them), grouped into one
    /// series per service and attribute set, each in time order. `truncated` says when more
    /// was stored; an unknown name gives no series.
    fn metrics(&self, query: &MetricQuery) -> Result<MetricsAnswer, StoreError>;
    /// The metric catalogue: one entry per (name, type, unit) with its series count, services
    /// (of the series), points stored under the name and the newest point's time; by name,
    /// at most `query.limit` (`truncated` past that). `q` matches a part of the name, any
    /// case. otelscope's own services' metrics are left out unless `include_self` or
    /// `service` names one. Reads the series table, not the points.
    fn metric_catalog(&self, query: &MetricCatalogQuery) -> Result<MetricCatalog, StoreError>;
    /// The series of one metric (one type and unit: the asked, else the one with the most
    /// series; the others are named in `other_identities`) that match the service and
    /// attribute filters, each with its samples in `[since_ns, until_ns]` in time order. At
    /// most `max_series` series (by id) and about `max_samples` samples, the newest kept
    /// (`truncated` says when either bound cut); both capped by `metrics::MAX_*`. An unknown
    /// name gives no series.
    fn metric_rows(&self, query: &MetricRowsQuery) -> Result<MetricRows, StoreError>;
    /// The cache rollup rows of the buckets in `query`'s range (and service), in no particular
    /// order, and per cache (service, name, layer) with misses from spans the newest miss
    /// examples, enough for `query.miss_examples` distinct traces. No span is decoded.
    fn cache(&self, query: &CacheQuery) -> Result<CacheRows, StoreError>;
    /// The retry rollup rows of the buckets in `query`'s range (and service), in no particular
    /// order, and per operation and kind (`retried`, `gave_up`, `circuit_open`) the newest
    /// examples, enough for `query.examples_per_kind` distinct traces. No span is decoded.
    fn retries(&self, query: &RetryQuery) -> Result<RetryRows, StoreError>;
    /// The RED rollup rows of the buckets in `query`'s range (of its service, or of all), in no
    /// particular order: per service, span name, span kind and 10 s bucket of the spans'
    /// starts, the spans, errors, summed duration and latency histogram. No span is decoded.
    fn red(&self, query: &RedQuery) -> Result<Vec<RedRow>, StoreError>;
    /// The service map's edge rows of the buckets in `query`'s range (calls paired by
    /// `rollup::services`'s rules, across batches and in any order), every node's metadata,
    /// and how many halves of calls wait for their other half. No span is decoded.
    fn service_map(&self, query: &MapQuery) -> Result<MapRows, StoreError>;
    /// Folds traces whose last part arrived over `SETTLE_NS` before `now_ns` into the flame
    /// graph rollup, at most `TRACES_PER_PASS` per call; returns how many it took (0: nothing
    /// waits). A trace that gets more spans later is folded again, replacing its earlier fold.
    fn fold_flames(&self, now_ns: u64) -> Result<usize, StoreError>;
    /// An operation's flame graph stacks over a range of trace starts: the rollup's rows, plus
    /// recent traces not yet folded (no bulk decoding). At most `MAX_STACKS_PER_BUCKET` stacks
    /// per rollup bucket; the rest is one `[other]` frame (and `truncated`). An unknown
    /// operation gives an empty tree.
    fn flame_operation(&self, query: &OperationQuery) -> Result<StackTree, StoreError>;
    /// One trace's flame graph stacks (empty for an unknown trace). Holds the trace's spans, so
    /// callers check its size (`trace_version`) against `MAX_FOLD_SPANS` first.
    fn flame_trace(&self, trace_id: &str) -> Result<StackTree, StoreError>;
    /// Keeps a profile (`/api/v1/profiles`) and drops the oldest beyond the store's profile
    /// bounds, in one durable transaction. Not a telemetry batch: it does not go through the
    /// ingest queue, but takes the one writer connection like the writer thread does. A store
    /// that keeps no profiles refuses (the default).
    fn put_profile(&self, summary: &ProfileSummary, folded: &str) -> Result<(), StoreError> {
        let _ = (summary, folded);
        Err(StoreError::Unavailable("this store keeps no profiles".into()))
    }
    /// The kept profiles, newest first (ties: last kept first); empty for a store that keeps
    /// none.
    fn profiles(&self) -> Result<Vec<ProfileSummary>, StoreError> {
        Ok(Vec::new())
    }
    /// Removes one kept profile; whether there was one with that id.
    fn delete_profile(&self, id: &str) -> Result<bool, StoreError> {
        let _ = id;
        Ok(false)
    }
    /// Which store this is and whether it answers now, for `/api/v1/health` (called on a
    /// blocking thread; a remote store asks its server). The default is the embedded SQLite
    /// store's answer: it is in this process, so it always answers.
    fn health(&self) -> StoreHealth {
        StoreHealth {
            kind: "sqlite".into(),
            location: None,
            server_version: None,
            state: "ok".into(),
        }
    }
    /// One kept profile with its folded text; `None` for an unknown id.
    fn profile(&self, id: &str) -> Result<Option<StoredProfile>, StoreError> {
        let _ = id;
        Ok(None)
    }
}
