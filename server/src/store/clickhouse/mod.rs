//! `ClickHouseStore`: the store in a ClickHouse database (`--store clickhouse://…`), for a team
//! whose telemetry outgrows one machine (issue 27). So far: spans are written and read (trace
//! pages, search, services, operations, span links, a trace's flame graph), the cache, retry
//! and RED rollups are kept (`rollups.rs`) and the service map's (`map.rs`, halves paired at
//! read), and retention drops whole days (`retention.rs`).
//! Every other `Store` method (logs, metrics, the flame rollup, profiles)
//! answers `StoreError::Unavailable("not yet supported by the ClickHouse store: …")`, never a
//! silent empty answer, and a batch of logs or metric points fails with it (its sender is not
//! told it was kept). The flame fold does nothing yet (logged once at open).
//!
//! # Client
//!
//! ClickHouse's HTTP interface through `ureq` (`http.rs`): synchronous like the `Store` trait,
//! no async runtime to carry into the writer thread, and HTTP rather than the native protocol
//! (on 18.16 the native protocol fails to read `Array(LowCardinality(String))` across parts).
//! Inserts and answers are RowBinary, written and read by hand (a few lines per type); values
//! go into statements as `\xHH`-escaped literals (`http::quote`), since 18.16 has no query
//! parameters. The `clickhouse` crate was not taken: it is async (a runtime per store, and
//! `block_on` on the writer thread), and its row validation needs a newer server anyway.
//!
//! # Layout (schema v3, `schema.rs`; portable: 18.16 and later)
//!
//! Every table is partitioned by the UTC day otelscope received the rows (`day`), so retention
//! drops whole partitions (`ALTER TABLE … DROP PARTITION ID`) by age of receipt, or oldest
//! first over the span or byte bound (`retention.rs`).
//! - `span_chunks` (MergeTree, key (trace_id, id), granules of 1,024 rows): one row per trace
//!   per export request, the chunk exactly as SQLite keeps it (zstd JSON, `store::chunk`), with
//!   its span count. Its key is the trace-id lookup: a trace page reads its chunks one at a time
//!   (`id > after ORDER BY id LIMIT 1`), `trace_version` sums their counts. `id` is the receipt
//!   time in ns with the low 8 bits a per-process random number (`next_chunk_id`): increasing
//!   in arrival order within one otelscope, and unlikely to collide between servers.
//! - `trace_parts` (Null) → `traces_mv` → `traces` (AggregatingMergeTree, key trace_id): each
//!   export request's part of a trace (start, end, counts, its head) becomes aggregate states;
//!   queries merge them per trace (`minMerge`, `argMinMerge`, …), so answers never depend on
//!   ClickHouse having merged parts. The head (root service and name) is `argMin` over (no root
//!   in the part, the part's start unless it has the root, chunk id): the first root to arrive,
//!   else the earliest span, as SQLite's upsert picks it.
//! - `trace_ops` (MergeTree, key (service, name, start_ns)): one row per trace part, service and
//!   span name with counts and a `latency.rs` histogram: the spans "sorted by service, name and
//!   time" of the issue, at the granularity the answers need. Search's service and name
//!   filters read trace ids from it; `operation_stats` reads a service's rows newest first.
//! - `service_ops` (SummingMergeTree, key (service, name)): span and error counts, summed at
//!   query time too; `operations` and `services` read it. `service_latency` (SummingMergeTree,
//!   key (service, bucket)): the services' histograms as one row per bucket, so percentiles
//!   come from a few hundred rows per service however many spans are stored.
//! - `span_links` (MergeTree, key (target trace, target span, start)): a row per span link, read
//!   by the span linked to (`linking_spans`).
//! - `cache_rollup`, `retry_rollup`, `red_rollup` (SummingMergeTree): each batch's rollup
//!   deltas (`rollup::prepare`, shared with SQLite), counts-by-key and histograms as `…Map`
//!   nested columns; `cache_examples`, `retry_examples` (MergeTree): every example row, the
//!   newest per key and bucket picked at read (`rollups.rs`).
//! - `map_edges` (SummingMergeTree), `map_halves`, `map_nodes` (MergeTree): the service map's
//!   edges paired within a batch, the halves left, the nodes' metadata (`map.rs`).
//! - `schema_versions`: the applied versions; a newer database is refused.
//!
//! # Guarantees (so far)
//!
//! While ClickHouse does not answer, a write fails as `Unavailable`: senders get 503 with
//! `Retry-After` (the ingest path's answer to a failed write), health says `degraded` (the
//! store's `health` asks `SELECT 1`), and the next write after it is back succeeds: every
//! statement is its own HTTP request, there is no connection state to rebuild.
//!
//! A write is one insert per table for the whole group of batches, chunks first; a 2xx to a
//! sender means ClickHouse acknowledged every insert. An insert that fails fails the group
//! (the writer retries it), and rows of the tables inserted before it stay: a retried group may
//! store a chunk twice (readers deduplicate spans, `SeenSpans`) and count its spans twice in
//! the summaries. Insert ids or ReplicatedMergeTree's block deduplication are for later.
//!
//! Not yet: logs, metrics, the flame rollup, profiles, retention finer than a
//! day, `ON CLUSTER` tested against a cluster, the version-gated features of newer servers
//! (bloom index on trace id, TTL, codecs), insert batching across writes.

mod config;
mod http;
mod map;
mod retention;
mod rollups;
mod schema;
mod traces;
mod write;

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use otelscope_app::model::{
    LinkingSpan, LogContext, LogFacets, LogHistogram, LogPage, MetricCatalog, MetricsAnswer,
    OperationStats, ServiceSummary, StoreHealth, TraceSummary,
};

pub use config::ClickHouseConfig;
pub use schema::ServerVersion;

use super::metrics::{MetricCatalogQuery, MetricRows, MetricRowsQuery};
use super::request::{
    CacheQuery, LogHistogramQuery, LogQuery, MetricQuery, OperationQuery, RetryQuery, TraceQuery,
};
use super::rows::{CacheRows, RetryRows, TraceRowInfo};
use super::service_rows::{MapQuery, MapRows, RedQuery, RedRow};
use super::{LogSample, Retention, SpanChunk, Store, StoreError, WriteBatch};
use crate::stacks::StackTree;

/// The store in one ClickHouse database.
pub struct ClickHouseStore {
    config: ClickHouseConfig,
    http: http::Http,
    /// The server's version, probed when the store opened.
    version: ServerVersion,
    /// The last chunk id given (see `next_chunk_id`).
    last_chunk_id: AtomicI64,
    /// This process's low 8 bits of every chunk id.
    node: i64,
    /// Spans written by this process (for logs and figures).
    spans_written: AtomicU64,
}

/// The error of a method this store does not have yet.
fn unsupported(what: &str) -> StoreError {
    StoreError::Unavailable(format!("not yet supported by the ClickHouse store: {what}"))
}

impl ClickHouseStore {
    /// Connects, probes the server's version, creates the database if needed and migrates its
    /// schema. An unreachable server or a newer schema is refused with a clear error.
    pub fn open(config: ClickHouseConfig) -> Result<ClickHouseStore, StoreError> {
        let user = config.user.as_deref().map(|u| (u, config.password.as_deref().unwrap_or("")));
        let http = http::Http::new(&config.host, user);
        let location = config.location();
        let open_error = |why: String| StoreError::Open { path: location.clone(), why };
        let answer = http
            .query("SELECT version() FORMAT RowBinary")
            .map_err(|e| open_error(format!("ClickHouse does not answer: {e}")))?;
        let text = http::Reader::new(&answer).string()?;
        let version = ServerVersion::parse(&text)
            .ok_or_else(|| open_error(format!("unknown ClickHouse version {text:?}")))?;
        let found = schema::migrate(&http, &config.database, config.cluster.as_deref())?;
        let last = http::Reader::new(&http.query(&format!(
            "SELECT max(id) FROM {}.span_chunks FORMAT RowBinary",
            config.database
        ))?)
        .i64()?;
        let mut seed = [0u8; 1];
        getrandom::fill(&mut seed).map_err(|e| open_error(format!("no random number: {e}")))?;
        tracing::info!(
            store = %location, server = %text.trim(), schema_found = found, schema = schema::VERSION,
            "Opened the ClickHouse store."
        );
        tracing::warn!(
            "The ClickHouse store keeps spans and the cache, retry, RED and map rollups so far: no logs, metrics, flame rollup or profiles yet; retention drops whole days."
        );
        Ok(ClickHouseStore {
            config,
            http,
            version,
            last_chunk_id: AtomicI64::new(last),
            node: i64::from(seed[0]),
            spans_written: AtomicU64::new(0),
        })
    }

    /// The server's version, as probed when the store opened.
    pub fn server_version(&self) -> ServerVersion {
        self.version
    }

    /// Drops the store's database (tests; nothing in the product calls it).
    pub fn drop_database(&self) -> Result<(), StoreError> {
        let on =
            self.config.cluster.as_ref().map(|c| format!(" ON CLUSTER {c}")).unwrap_or_default();
        self.http.query(&format!("DROP DATABASE IF EXISTS {}{on}", self.config.database)).map(drop)
    }

    /// A chunk id for a chunk received at `received_ns`: past every id this process gave
    /// (and the largest stored when it opened), the low 8 bits this process's.
    fn next_chunk_id(&self, received_ns: i64) -> i64 {
        let mut last = self.last_chunk_id.load(Ordering::Relaxed);
        loop {
            let next = (received_ns.max(last.saturating_add(256)) & !0xff) | self.node;
            match self.last_chunk_id.compare_exchange(
                last,
                next,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => return next,
                Err(now) => last = now,
            }
        }
    }
}

impl Store for ClickHouseStore {
    fn write(&self, batches: &[WriteBatch]) -> Result<Vec<Result<(), StoreError>>, StoreError> {
        write::write(self, batches)
    }

    fn enforce_retention(
        &self,
        retention: Retention,
        now_ns: u64,
        _: u64,
    ) -> Result<u64, StoreError> {
        retention::enforce(self, retention, now_ns)
    }

    fn trace_version(&self, trace_id: &str) -> Result<Option<u64>, StoreError> {
        traces::trace_version(self, trace_id)
    }

    fn services(&self) -> Result<Vec<ServiceSummary>, StoreError> {
        traces::services(self)
    }

    fn operations(&self, service: &str, limit: usize) -> Result<Vec<String>, StoreError> {
        traces::operations(self, service, limit)
    }

    fn operation_stats(
        &self,
        service: &str,
        since_ns: u64,
        max_rows: usize,
    ) -> Result<(Vec<OperationStats>, bool), StoreError> {
        traces::operation_stats(self, service, since_ns, max_rows)
    }

    fn search_traces(&self, query: &TraceQuery) -> Result<Vec<TraceSummary>, StoreError> {
        traces::search(self, query)
    }

    fn count_traces(&self, query: &TraceQuery, cap: usize) -> Result<Option<u64>, StoreError> {
        traces::count(self, query, cap)
    }

    fn trace_chunk(&self, trace_id: &str, after: i64) -> Result<Option<SpanChunk>, StoreError> {
        traces::trace_chunk(self, trace_id, after)
    }

    fn trace_rows(&self, trace_ids: &[String]) -> Result<Vec<TraceRowInfo>, StoreError> {
        traces::trace_rows(self, trace_ids)
    }

    fn linking_spans(
        &self,
        trace_id: &str,
        span_id: &str,
        limit: usize,
    ) -> Result<Vec<LinkingSpan>, StoreError> {
        traces::linking_spans(self, trace_id, span_id, limit)
    }

    fn log_page(&self, _: &LogQuery) -> Result<LogPage, StoreError> {
        Err(unsupported("log_page"))
    }

    fn log_histogram(&self, _: &LogHistogramQuery) -> Result<LogHistogram, StoreError> {
        Err(unsupported("log_histogram"))
    }

    fn log_facets(&self, _: &LogQuery) -> Result<LogFacets, StoreError> {
        Err(unsupported("log_facets"))
    }

    fn log_context(&self, _: &str, _: usize, _: usize) -> Result<Option<LogContext>, StoreError> {
        Err(unsupported("log_context"))
    }

    fn log_sample(&self, _: &LogQuery, _: usize) -> Result<LogSample, StoreError> {
        Err(unsupported("log_sample"))
    }

    fn metrics(&self, _: &MetricQuery) -> Result<MetricsAnswer, StoreError> {
        Err(unsupported("metrics"))
    }

    fn metric_catalog(&self, _: &MetricCatalogQuery) -> Result<MetricCatalog, StoreError> {
        Err(unsupported("metric_catalog"))
    }

    fn metric_rows(&self, _: &MetricRowsQuery) -> Result<MetricRows, StoreError> {
        Err(unsupported("metric_rows"))
    }

    fn cache(&self, query: &CacheQuery) -> Result<CacheRows, StoreError> {
        rollups::cache(self, query)
    }

    fn retries(&self, query: &RetryQuery) -> Result<RetryRows, StoreError> {
        rollups::retries(self, query)
    }

    fn red(&self, query: &RedQuery) -> Result<Vec<RedRow>, StoreError> {
        rollups::red(self, query)
    }

    fn service_map(&self, query: &MapQuery) -> Result<MapRows, StoreError> {
        map::map(self, query)
    }

    fn fold_flames(&self, _: u64) -> Result<usize, StoreError> {
        // Not yet (logged once at open): nothing is folded, and `flame_operation` says so.
        Ok(0)
    }

    fn flame_operation(&self, _: &OperationQuery) -> Result<StackTree, StoreError> {
        Err(unsupported("flame_operation"))
    }

    fn flame_trace(&self, trace_id: &str) -> Result<StackTree, StoreError> {
        traces::flame_trace(self, trace_id)
    }

    fn health(&self) -> StoreHealth {
        let state = match self.http.query("SELECT 1 FORMAT RowBinary") {
            Ok(_) => "ok".to_owned(),
            Err(e) => format!("unreachable: {e}"),
        };
        StoreHealth {
            kind: "clickhouse".into(),
            location: Some(self.config.location()),
            server_version: Some(format!("{}.{}", self.version.major, self.version.minor)),
            state,
        }
    }
}
