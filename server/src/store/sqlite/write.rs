//! The write path: a group of batches in one transaction, each batch in its own savepoint, its
//! spans as chunks with the per-trace, per-operation and per-service rows, its logs, points and
//! rollup deltas.

use std::sync::atomic::Ordering;

use rusqlite::{params, Connection};

use super::super::rollup::pending::PendingIndex;
use super::super::rollup::{self, sql as rollup_sql};
use super::super::{logs as prepared_logs, prepare, StoreError, WriteBatch};
use super::{logs, metrics, SqliteStore};

/// Stores `batches` (see `Store::write`).
pub(super) fn write(
    store: &SqliteStore,
    batches: &[WriteBatch],
) -> Result<Vec<Result<(), StoreError>>, StoreError> {
    if batches.iter().all(WriteBatch::is_empty) {
        return Ok(batches.iter().map(|_| Ok(())).collect());
    }
    let mut conn = store.writer()?;
    let mut index = store.metric_index.lock().unwrap_or_else(|p| p.into_inner());
    let mut pending = store.pending();
    let outcome = write_group(store, &mut conn, &mut index, &mut pending, batches);
    match &outcome {
        Ok(_) => index.commit(),
        // Nothing was committed: the series created on the way were not either, nor the
        // halves paired or left waiting.
        Err(_) => {
            index.rollback_to(0);
            pending.invalidate();
        }
    }
    outcome
}

fn write_group(
    store: &SqliteStore,
    conn: &mut rusqlite::Connection,
    index: &mut metrics::SeriesIndex,
    pending: &mut PendingIndex,
    batches: &[WriteBatch],
) -> Result<Vec<Result<(), StoreError>>, StoreError> {
    let mut tx = conn.transaction()?;
    let mut results = Vec::with_capacity(batches.len());
    let mut added = Written::default();
    let mut last_received = store.last_received.load(Ordering::Relaxed);
    // The metric points of the batches that committed, written as one block per metric.
    let mut points = metrics::Group::default();
    for batch in batches {
        let received =
            (batch.received_ns.min(i64::MAX as u64) as i64).max(last_received.saturating_add(1));
        // Each batch in its own savepoint: one that fails is rolled back alone, and the
        // others of the group still commit.
        let savepoint = tx.savepoint()?;
        let mark = index.mark();
        let mut staged = metrics::Staged::default();
        match write_batch(&savepoint, index, pending, batch, received, &mut staged) {
            Ok(written) => {
                savepoint.commit()?;
                points.absorb(staged);
                last_received = received;
                added.spans += written.spans;
                added.bytes += written.bytes;
                results.push(Ok(()));
            }
            Err(error) => {
                index.rollback_to(mark);
                // The savepoint rolls back as it drops; the index reads the table again.
                pending.invalidate();
                results.push(Err(error));
            }
        }
    }
    metrics::flush(&tx, points)?;
    tx.commit()?;
    store.last_received.store(last_received, Ordering::Relaxed);
    store.total_spans.fetch_add(added.spans, Ordering::Relaxed);
    store.total_bytes.fetch_add(added.bytes, Ordering::Relaxed);
    Ok(results)
}

/// What a batch added.
#[derive(Default)]
struct Written {
    spans: u64,
    /// `stored_bytes` added.
    bytes: u64,
}

/// Writes one batch on `conn` (inside the group's transaction) as received at `received`,
/// preparing its spans first unless the receiver already did (`WriteBatch::prepare`); its
/// metric points go into `staged`, written once the group's batches are in.
fn write_batch<'a>(
    conn: &Connection,
    index: &mut metrics::SeriesIndex,
    pending: &mut PendingIndex,
    batch: &'a WriteBatch,
    received: i64,
    staged: &mut metrics::Staged<'a>,
) -> Result<Written, StoreError> {
    match &batch.prepared_logs {
        Some(prepared) => logs::insert(conn, received, prepared)?,
        None => logs::insert(conn, received, &prepared_logs::prepare(&batch.logs)?)?,
    };
    let hashes = batch.metric_hashes.as_deref();
    metrics::stage(conn, index, received, &batch.metrics, hashes, &batch.refusals, staged)?;
    match &batch.rollups {
        Some(rollups) => rollup_sql::write(conn, pending, received, rollups)?,
        None => {
            let rollups = rollup::prepare(&batch.spans, &batch.metrics);
            rollup_sql::write(conn, pending, received, &rollups)?
        }
    }
    let prepared_here;
    let prepared = match &batch.prepared {
        Some(prepared) => prepared,
        None => {
            prepared_here = prepare::prepare(&batch.spans)?;
            &prepared_here
        }
    };
    let mut insert_chunk = conn.prepare_cached(
        "INSERT INTO span_chunks (trace_id, span_count, spans) VALUES (?1, ?2, ?3)",
    )?;
    let mut upsert_trace = conn.prepare_cached(UPSERT_TRACE)?;
    let mut upsert_op = conn.prepare_cached(
        "INSERT INTO trace_ops (trace_id, service, name, span_count, error_count, latency)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (trace_id, service, name) DO UPDATE SET
           span_count = span_count + excluded.span_count,
           error_count = error_count + excluded.error_count,
           latency = latency_merge(latency, excluded.latency)",
    )?;
    let mut added = Written::default();
    for t in &prepared.traces {
        insert_chunk.execute(params![t.trace_id, t.span_count, t.blob])?;
        upsert_trace.execute(params![
            t.trace_id,
            t.start_ns,
            t.end_ns,
            t.span_count,
            t.errors,
            t.root_service,
            t.root_name,
            t.has_root as i64,
            received,
            t.stored_bytes as i64,
        ])?;
        for op in &t.ops {
            upsert_op.execute(params![
                t.trace_id, op.service, op.name, op.spans, op.errors, op.latency
            ])?;
        }
        added.bytes += t.stored_bytes;
    }
    added.spans = prepared.span_count;
    let mut upsert_service = conn.prepare_cached(
        "INSERT INTO service_stats (service, span_count, error_count, latency)
         VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (service) DO UPDATE SET
           span_count = span_count + excluded.span_count,
           error_count = error_count + excluded.error_count,
           latency = latency_merge(latency, excluded.latency)",
    )?;
    if !prepared.links.is_empty() {
        let mut insert_link = conn.prepare_cached(
            "INSERT OR IGNORE INTO span_links
               (target_trace, target_span, trace_id, span_id, service, name, start_ns)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?;
        for l in &prepared.links {
            insert_link.execute(params![
                l.target_trace,
                l.target_span,
                l.trace_id,
                l.span_id,
                l.service,
                l.name,
                l.start_ns
            ])?;
        }
    }
    for delta in &prepared.services {
        upsert_service.execute(params![
            delta.service,
            delta.spans,
            delta.errors,
            delta.latency.encode()
        ])?;
    }
    Ok(added)
}

const UPSERT_TRACE: &str = "
    INSERT INTO traces (trace_id, start_ns, end_ns, span_count, error_count, root_service, root_name, has_root, received_ns, stored_bytes)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
    ON CONFLICT (trace_id) DO UPDATE SET
        root_service = CASE WHEN has_root = 0 AND (excluded.has_root = 1 OR excluded.start_ns < start_ns)
                            THEN excluded.root_service ELSE root_service END,
        root_name    = CASE WHEN has_root = 0 AND (excluded.has_root = 1 OR excluded.start_ns < start_ns)
                            THEN excluded.root_name ELSE root_name END,
        has_root     = MAX(has_root, excluded.has_root),
        start_ns     = MIN(start_ns, excluded.start_ns),
        end_ns       = MAX(end_ns, excluded.end_ns),
        span_count   = span_count + excluded.span_count,
        error_count  = error_count + excluded.error_count,
        received_ns  = MAX(received_ns, excluded.received_ns),
        stored_bytes = stored_bytes + excluded.stored_bytes";
