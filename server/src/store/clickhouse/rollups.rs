//! The cache, retry and RED rollups in ClickHouse (the map's are in `map.rs`): the writer inserts each batch's deltas as
//! the receiver prepared them (`rollup::prepare`, the same pure step the SQLite store upserts),
//! one row per key and batch, into summing tables (schema v3); reads `sum` and `sumMap` per key,
//! so any number of otelscope servers may write and no answer waits for ClickHouse's merges.
//!
//! Example traces (cache misses, retries) are plain rows; a read takes, per key and bucket,
//! each trace once (its earliest example span, as SQLite's upsert keeps it) and the newest
//! `EXAMPLES_PER_BUCKET` of them, as SQLite's trim leaves them.
//!
//! Cumulative cache counters (metric points) need the series' last value; metric points are not
//! stored by this store yet (a batch with them is refused), so no counter delta is written.

use otelscope_app::model::{CacheSource, RetryExampleKind};

use super::super::latency::Histogram;
use super::super::request::{CacheQuery, RetryQuery};
use super::super::rollup::{bucket_of, Counts, PreparedRollups, EXAMPLES_PER_BUCKET};
use super::super::rows::{CacheRow, CacheRows, RetryExampleRow, RetryRow, RetryRows};
use super::super::service_rows::{span_kind, RedQuery, RedRow};
use super::super::StoreError;
use super::http::{quote, Reader, Rows};
use super::ClickHouseStore;

/// The rows one group of batches adds to the rollup tables.
#[derive(Default)]
pub(super) struct RollupRows {
    pub cache: Rows,
    pub cache_examples: Rows,
    pub retries: Rows,
    pub retry_examples: Rows,
    pub red: Rows,
    pub map_edges: Rows,
    pub map_halves: Rows,
    pub map_nodes: Rows,
}

impl RollupRows {
    /// The tables and their rows, in insert order.
    pub fn tables(&self) -> [(&'static str, &Rows); 8] {
        [
            ("cache_rollup", &self.cache),
            ("cache_examples", &self.cache_examples),
            ("retry_rollup", &self.retries),
            ("retry_examples", &self.retry_examples),
            ("red_rollup", &self.red),
            ("map_edges", &self.map_edges),
            ("map_halves", &self.map_halves),
            ("map_nodes", &self.map_nodes),
        ]
    }

    /// Adds one batch's deltas, received at `received` (partitioned by its `day`).
    pub fn add(&mut self, day: u16, received: i64, r: &PreparedRollups) {
        let map = super::map::MapWrite {
            map_edges: &mut self.map_edges,
            map_halves: &mut self.map_halves,
            map_nodes: &mut self.map_nodes,
        };
        super::map::add(map, day, received, &r.edges);
        for d in &r.cache {
            let k = &d.key;
            // Lookup spans are timed; counters are not.
            let timed = k.source == CacheSource::Spans;
            let (timed_hits, timed_misses) = if timed { (d.hits, d.misses) } else { (0, 0) };
            self.cache
                .date(day)
                .i64(k.bucket_ns)
                .string(&k.service)
                .string(&k.name)
                .string(&k.layer)
                .string(k.source.as_str())
                .u64(count(d.hits))
                .u64(count(d.misses))
                .u64(count(d.hit_ns))
                .u64(count(d.miss_ns))
                .u64(count(timed_hits))
                .u64(count(timed_misses));
        }
        for e in &r.cache_examples {
            let k = &e.key;
            self.cache_examples
                .date(day)
                .string(&k.service)
                .string(&k.name)
                .string(&k.layer)
                .i64(k.bucket_ns)
                .i64(e.start_ns)
                .string(&e.trace_id);
        }
        for (k, d) in &r.retries {
            let pairs = |c: &Counts| c.0.iter().map(|(k, n)| (*k, *n)).collect::<Vec<_>>();
            let delays: Vec<(u16, u64)> = d.delays.buckets().collect();
            self.retries
                .date(day)
                .i64(k.bucket_ns)
                .string(&k.service)
                .string(&k.name)
                .u64(count(d.calls))
                .u64(count(d.retried))
                .u64(count(d.resends))
                .u64(count(d.give_ups))
                .u64(count(d.circuit_open))
                .map_u32(&pairs(&d.attempts))
                .map_u32(&pairs(&d.tries))
                .map_u16(&delays);
        }
        for e in &r.examples {
            let k = &e.key;
            self.retry_examples
                .date(day)
                .string(&k.service)
                .string(&k.name)
                .string(e.kind.as_str())
                .i64(k.bucket_ns)
                .i64(e.start_ns)
                .string(&e.trace_id)
                .i64(e.duration_ns)
                .string(&e.outcome);
        }
        for (k, d) in &r.red {
            let latency: Vec<(u16, u64)> = d.latency.buckets().collect();
            self.red
                .date(day)
                .string(&k.service)
                .i64(k.bucket_ns)
                .string(&k.name)
                .string(k.kind)
                .u64(count(d.requests))
                .u64(count(d.errors))
                .u64(count(d.duration_ns))
                .map_u16(&latency);
        }
    }
}

fn count(n: i64) -> u64 {
    n.max(0) as u64
}

fn clamp(ns: u64) -> i64 {
    ns.min(i64::MAX as u64) as i64
}

/// `bucket_ns` within `[since's bucket, until)`, and of `service` when given.
fn range(since_ns: u64, until_ns: u64, service: Option<&str>) -> String {
    let mut sql =
        format!("bucket_ns >= {} AND bucket_ns < {}", bucket_of(since_ns), clamp(until_ns));
    if let Some(service) = service {
        sql.push_str(&format!(" AND service = {}", quote(service)));
    }
    sql
}

/// See `Store::cache`.
pub(super) fn cache(store: &ClickHouseStore, q: &CacheQuery) -> Result<CacheRows, StoreError> {
    let db = &store.config.database;
    let range = range(q.since_ns, q.until_ns, q.service.as_deref());
    let answer = store.http.query(&format!(
        "SELECT bucket_ns, service, name, layer, source, sum(hits), sum(misses), sum(hit_ns),
                sum(miss_ns), sum(timed_hits), sum(timed_misses)
         FROM {db}.cache_rollup WHERE {range}
         GROUP BY bucket_ns, service, name, layer, source FORMAT RowBinary"
    ))?;
    let mut r = Reader::new(&answer);
    let mut rows = Vec::new();
    while !r.done() {
        let bucket_ns = r.i64()?.max(0) as u64;
        let (service, name, layer) = (r.string()?, r.string()?, r.string()?);
        let source = r.string()?.parse().unwrap_or(CacheSource::Spans);
        rows.push(CacheRow {
            bucket_ns,
            service,
            name,
            layer,
            source,
            hits: r.u64()?,
            misses: r.u64()?,
            hit_ns: r.u64()?,
            miss_ns: r.u64()?,
            timed_hits: r.u64()?,
            timed_misses: r.u64()?,
        });
    }
    // Each trace may stand in several buckets: enough rows for the answer's distinct ones.
    let limit = q.miss_examples.saturating_mul(EXAMPLES_PER_BUCKET);
    let answer = store.http.query(&format!(
        "SELECT service, name, layer, trace_id FROM (
           SELECT service, name, layer, bucket_ns, trace_id, min(start_ns) AS started
           FROM {db}.cache_examples WHERE {range}
           GROUP BY service, name, layer, bucket_ns, trace_id
           ORDER BY bucket_ns DESC, started DESC, trace_id
           LIMIT {EXAMPLES_PER_BUCKET} BY service, name, layer, bucket_ns)
         ORDER BY service, name, layer, bucket_ns DESC, started DESC, trace_id
         LIMIT {limit} BY service, name, layer FORMAT RowBinary"
    ))?;
    let mut r = Reader::new(&answer);
    let mut miss_examples = Vec::new();
    while !r.done() {
        miss_examples.push((r.string()?, r.string()?, r.string()?, r.string()?));
    }
    Ok(CacheRows { rows, miss_examples })
}

/// See `Store::retries`.
pub(super) fn retries(store: &ClickHouseStore, q: &RetryQuery) -> Result<RetryRows, StoreError> {
    let db = &store.config.database;
    let range = range(q.since_ns, q.until_ns, q.service.as_deref());
    let answer = store.http.query(&format!(
        "SELECT bucket_ns, service, name, sum(calls), sum(retried), sum(resends), sum(give_ups),
                sum(circuit_open), sumMap(attemptsMap.key, attemptsMap.count),
                sumMap(triesMap.key, triesMap.count), sumMap(delaysMap.bucket, delaysMap.count)
         FROM {db}.retry_rollup WHERE {range}
         GROUP BY bucket_ns, service, name FORMAT RowBinary"
    ))?;
    let mut r = Reader::new(&answer);
    let mut rows = Vec::new();
    while !r.done() {
        let bucket_ns = r.i64()?.max(0) as u64;
        let (service, name) = (r.string()?, r.string()?);
        let mut row = RetryRow {
            bucket_ns,
            service,
            name,
            calls: r.u64()?,
            retried: r.u64()?,
            resends: r.u64()?,
            give_ups: r.u64()?,
            circuit_open: r.u64()?,
            attempts: Counts(r.map_u32()?.into_iter().collect()),
            tries: Counts(r.map_u32()?.into_iter().collect()),
            delays: Histogram::default(),
        };
        for (bucket, n) in r.map_u16()? {
            row.delays.add_bucket(bucket, n);
        }
        rows.push(row);
    }
    let limit = q.examples_per_kind.saturating_mul(EXAMPLES_PER_BUCKET);
    let answer = store.http.query(&format!(
        "SELECT service, name, kind, trace_id, started, duration, outcome FROM (
           SELECT service, name, kind, bucket_ns, trace_id, min(start_ns) AS started,
                  argMin(duration_ns, start_ns) AS duration, argMin(outcome, start_ns) AS outcome
           FROM {db}.retry_examples WHERE {range}
           GROUP BY service, name, kind, bucket_ns, trace_id
           ORDER BY bucket_ns DESC, started DESC, trace_id
           LIMIT {EXAMPLES_PER_BUCKET} BY service, name, kind, bucket_ns)
         ORDER BY service, name, kind, bucket_ns DESC, started DESC, trace_id
         LIMIT {limit} BY service, name, kind FORMAT RowBinary"
    ))?;
    let mut r = Reader::new(&answer);
    let mut examples = Vec::new();
    while !r.done() {
        let (service, name, kind) = (r.string()?, r.string()?, r.string()?);
        let (trace_id, start_ns, duration_ns) = (r.string()?, r.i64()?, r.i64()?);
        let outcome = r.string()?;
        // A kind this otelscope does not know (a newer server wrote it) is left out.
        let Some(kind) = RetryExampleKind::ALL.into_iter().find(|k| k.as_str() == kind) else {
            continue;
        };
        examples.push(RetryExampleRow {
            service,
            name,
            kind,
            trace_id,
            start_ns: start_ns.max(0) as u64,
            duration_ns: Some(duration_ns.max(0) as u64),
            outcome,
        });
    }
    Ok(RetryRows { rows, examples })
}

/// See `Store::red`.
pub(super) fn red(store: &ClickHouseStore, q: &RedQuery) -> Result<Vec<RedRow>, StoreError> {
    let answer = store.http.query(&format!(
        "SELECT service, bucket_ns, name, kind, sum(requests), sum(errors), sum(duration_ns),
                sumMap(latencyMap.bucket, latencyMap.count)
         FROM {}.red_rollup WHERE {}
         GROUP BY service, bucket_ns, name, kind FORMAT RowBinary",
        store.config.database,
        range(q.since_ns, q.until_ns, q.service.as_deref())
    ))?;
    let mut r = Reader::new(&answer);
    let mut rows = Vec::new();
    while !r.done() {
        let service = r.string()?;
        let bucket_ns = r.i64()?.max(0) as u64;
        let (name, kind) = (r.string()?, span_kind(&r.string()?));
        let (requests, errors, duration_ns) = (r.u64()?, r.u64()?, r.u64()?);
        let mut latency = Histogram::default();
        for (bucket, n) in r.map_u16()? {
            latency.add_bucket(bucket, n);
        }
        rows.push(RedRow {
            service,
            bucket_ns,
            name,
            kind,
            requests,
            errors,
            duration_ns,
            latency: latency.encode(),
        });
    }
    Ok(rows)
}
