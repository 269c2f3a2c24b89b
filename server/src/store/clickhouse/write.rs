//! The write path: a group of batches becomes one `INSERT … FORMAT RowBinary` per table (the
//! span chunks first, then the trace parts, the per-trace operation rows, the per-service
//! sums, the span links and the rollups' deltas), so ClickHouse sees few large inserts rather
//! than one per batch.
//!
//! A batch's spans are taken as the receiver prepared them (`PreparedSpans`: one zstd chunk per
//! trace, its summary and per-operation histograms); nothing is decoded here. Logs and metric
//! points are not stored yet: a batch carrying them fails alone with `Unavailable`, so its
//! sender is not told they were kept. The cache, retry and RED rollups take the deltas the
//! receiver prepared (`WriteBatch::rollups`, computed here when it did not: `rollup::prepare`);
//! the service map's edges, waiting halves and nodes likewise (`map.rs`).

use std::sync::atomic::Ordering;

use super::super::latency::Histogram;
use super::super::{prepare, rollup, PreparedSpans, StoreError, WriteBatch};
use super::http::Rows;
use super::rollups::RollupRows;
use super::ClickHouseStore;

/// Nanoseconds in a day: rows are partitioned by the day (UTC) they were received.
pub(super) const DAY_NS: u64 = 86_400_000_000_000;

/// The rows of one group of batches, per table.
#[derive(Default)]
struct Group {
    chunks: Rows,
    parts: Rows,
    ops: Rows,
    service_ops: Rows,
    service_latency: Rows,
    links: Rows,
    rollups: RollupRows,
}

/// Stores `batches` (see `Store::write`).
pub(super) fn write(
    store: &ClickHouseStore,
    batches: &[WriteBatch],
) -> Result<Vec<Result<(), StoreError>>, StoreError> {
    let mut group = Group::default();
    let mut results = Vec::with_capacity(batches.len());
    for batch in batches {
        results.push(add_batch(store, &mut group, batch));
    }
    let db = &store.config.database;
    // The chunks first: a trace page reads them alone; a failure after them leaves spans that
    // search does not list yet, never a listed trace without spans.
    for (table, rows) in [
        ("span_chunks", &group.chunks),
        ("trace_parts", &group.parts),
        ("trace_ops", &group.ops),
        ("service_ops", &group.service_ops),
        ("service_latency", &group.service_latency),
        ("span_links", &group.links),
    ]
    .into_iter()
    .chain(group.rollups.tables())
    {
        if !rows.is_empty() {
            store.http.insert(&format!("{db}.{table}"), &rows.0)?;
        }
    }
    Ok(results)
}

/// Adds one batch's rows to `group`, or says why the batch cannot be stored.
fn add_batch(
    store: &ClickHouseStore,
    group: &mut Group,
    batch: &WriteBatch,
) -> Result<(), StoreError> {
    let has_logs =
        !batch.logs.is_empty() || batch.prepared_logs.as_ref().is_some_and(|p| !p.is_empty());
    if has_logs {
        return Err(super::unsupported("storing log records"));
    }
    if !batch.metrics.is_empty() {
        return Err(super::unsupported("storing metric points"));
    }
    let prepared_here;
    let prepared: &PreparedSpans = match &batch.prepared {
        Some(prepared) => prepared,
        None => {
            prepared_here = prepare::prepare(&batch.spans)?;
            &prepared_here
        }
    };
    let received = batch.received_ns.min(i64::MAX as u64) as i64;
    let day = (batch.received_ns / DAY_NS).min(u64::from(u16::MAX)) as u16;
    for t in &prepared.traces {
        let id = store.next_chunk_id(received);
        group
            .chunks
            .date(day)
            .i64(received)
            .string(&t.trace_id)
            .i64(id)
            .u32(t.span_count.clamp(0, i64::from(u32::MAX)) as u32)
            .string(&t.blob);
        group
            .parts
            .date(day)
            .string(&t.trace_id)
            .i64(id)
            .i64(received)
            .i64(t.start_ns)
            .i64(t.end_ns)
            .u64(t.span_count.max(0) as u64)
            .u64(t.errors.max(0) as u64)
            .string(&t.root_service)
            .string(&t.root_name)
            .u8(u8::from(t.has_root));
        for op in &t.ops {
            group
                .ops
                .date(day)
                .string(&op.service)
                .string(&op.name)
                .i64(t.start_ns)
                .string(&t.trace_id)
                .u64(op.spans.max(0) as u64)
                .u64(op.errors.max(0) as u64)
                .string(&op.latency);
            group
                .service_ops
                .date(day)
                .string(&op.service)
                .string(&op.name)
                .u64(op.spans.max(0) as u64)
                .u64(op.errors.max(0) as u64);
        }
    }
    for delta in &prepared.services {
        add_latency(&mut group.service_latency, day, &delta.service, &delta.latency);
    }
    for link in &prepared.links {
        group
            .links
            .date(day)
            .string(&link.target_trace)
            .string(&link.target_span)
            .string(&link.trace_id)
            .string(&link.span_id)
            .string(&link.service)
            .string(&link.name)
            .i64(link.start_ns);
    }
    match &batch.rollups {
        Some(rollups) => group.rollups.add(day, received, rollups),
        None => group.rollups.add(day, received, &rollup::prepare(&batch.spans, &batch.metrics)),
    }
    store.spans_written.fetch_add(prepared.span_count, Ordering::Relaxed);
    Ok(())
}

/// One `service_latency` row per non-empty bucket of `latency`.
fn add_latency(rows: &mut Rows, day: u16, service: &str, latency: &Histogram) {
    for (bucket, count) in latency.buckets() {
        rows.date(day).string(service).u16(bucket).u64(count);
    }
}
