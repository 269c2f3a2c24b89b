//! Retention: whole traces dropped oldest received first until the age, span and byte bounds
//! hold (a budget per pass), with the service stats they counted in, and the logs, points and
//! rollup rows that go with them.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;

use rusqlite::{params, Connection, OptionalExtension};

use super::super::latency::Histogram;
use super::super::prepare::ServiceDelta;
use super::super::rollup::minutes_sql;
use super::super::rollup::pending::PendingIndex;
use super::super::rollup::sql as rollup_sql;
use super::super::{Retention, StoreError};
use super::{logs, metrics, SqliteStore};

/// Drops what is over `retention` (see `Store::enforce_retention`).
pub(super) fn enforce(
    store: &SqliteStore,
    retention: Retention,
    now_ns: u64,
    budget: u64,
) -> Result<u64, StoreError> {
    let cutoff = now_ns.saturating_sub(retention.max_age_ns).min(i64::MAX as u64) as i64;
    let excess_spans = store.total_spans().saturating_sub(retention.max_spans);
    let mut conn = store.writer()?;
    let mut index = store.metric_index.lock().unwrap_or_else(|p| p.into_inner());
    let mut pending = store.pending();
    // The whole pass is one transaction: one WAL sync, not one per statement (each statement
    // alone would be its own commit, and a compaction deletes hundreds of blocks).
    let tx = conn.transaction()?;
    let outcome = enforce_in(
        store,
        &tx,
        &mut index,
        &mut pending,
        retention,
        (now_ns, cutoff),
        excess_spans,
        budget,
    );
    match outcome {
        Ok(spans) => {
            if let Err(error) = tx.commit() {
                // Rolled back: the halves it dropped are back in the table.
                pending.invalidate();
                return Err(error.into());
            }
            let bytes = spans.1.min(store.total_bytes.load(Ordering::Relaxed));
            store.total_spans.fetch_sub(spans.0.min(store.total_spans()), Ordering::Relaxed);
            store.total_bytes.fetch_sub(bytes, Ordering::Relaxed);
            Ok(spans.0)
        }
        Err(error) => {
            drop(tx);
            // The series index followed the rolled-back deletes: read it again.
            pending.invalidate();
            *index = metrics::SeriesIndex::load(&conn)?;
            Err(error)
        }
    }
}

/// `enforce` inside its transaction `conn`; returns the spans and `stored_bytes` dropped.
// The writer's two indexes (series, waiting halves) follow what the pass deletes.
#[allow(clippy::too_many_arguments)]
fn enforce_in(
    store: &SqliteStore,
    conn: &Connection,
    index: &mut metrics::SeriesIndex,
    pending: &mut PendingIndex,
    retention: Retention,
    (now_ns, cutoff): (u64, i64),
    excess_spans: u64,
    budget: u64,
) -> Result<(u64, u64), StoreError> {
    logs::retain(conn, cutoff, retention.max_spans)?;
    metrics::compact(conn)?;
    minutes_sql::compact(conn, now_ns)?;
    metrics::retain(conn, index, cutoff, retention.max_spans)?;
    // The database's pages are measured; which traces to drop is decided on their
    // `stored_bytes`, so the excess is converted at the measured ratio of the two.
    let used = used_bytes(conn)?;
    let excess_bytes = used.saturating_sub(retention.max_bytes);
    let stored = store.total_bytes.load(Ordering::Relaxed);
    let excess_stored = if used == 0 {
        0
    } else {
        (excess_bytes as f64 * stored as f64 / used as f64).ceil() as u64
    };
    let oldest: Option<i64> = conn
        .prepare_cached("SELECT MIN(received_ns) FROM traces")?
        .query_row([], |r| r.get(0))
        .optional()?
        .flatten();
    let too_old = oldest.is_some_and(|received| received < cutoff);
    if excess_spans == 0 && excess_bytes == 0 && !too_old {
        rollup_sql::retain(conn, pending, cutoff)?;
        return Ok((0, 0));
    }
    // Whole traces, oldest received first, until every bound holds again or the budget of
    // this pass is spent.
    let mut victims = Vec::new();
    let (mut spans, mut bytes, mut newest_victim) = (0u64, 0u64, None);
    {
        let mut oldest = conn.prepare_cached(
            "SELECT trace_id, span_count, received_ns, stored_bytes FROM traces
             ORDER BY received_ns LIMIT 1000",
        )?;
        let mut rows = oldest.query([])?;
        while let Some(row) = rows.next()? {
            let (id, count, received, size): (String, i64, i64, i64) =
                (row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?);
            let done = spans >= excess_spans && bytes >= excess_stored && received >= cutoff;
            if done || spans >= budget.max(1) {
                break;
            }
            spans += count.max(0) as u64;
            bytes += size.max(0) as u64;
            newest_victim = Some(received);
            victims.push(id);
        }
    }
    subtract_service_stats(conn, &victims)?;
    // A span link leaves with the linking span's trace or with the trace it points at.
    let mut delete_links = conn.prepare_cached("DELETE FROM span_links WHERE target_trace = ?1")?;
    for id in &victims {
        delete_links.execute([id])?;
    }
    for table in ["span_chunks", "trace_ops", "traces", "flame_folded", "span_links"] {
        let mut delete =
            conn.prepare_cached(&format!("DELETE FROM {table} WHERE trace_id = ?1"))?;
        for id in &victims {
            delete.execute([id])?;
        }
    }
    // Over the size bound, logs and metric points received no later than the traces just
    // dropped go too, so the oldest data goes first whatever its signal.
    if excess_bytes > 0 {
        let before = newest_victim.map_or(i64::MIN, |r| r + 1);
        logs::drop_received_before(conn, before)?;
        metrics::drop_received_before(conn, index, before)?;
        if victims.is_empty() {
            logs::drop_oldest(conn, SIGNAL_ROWS_PER_PASS)?;
            metrics::drop_oldest(conn, index, METRIC_BLOCKS_PER_PASS)?;
        }
    }
    rollup_sql::retain(
        conn,
        pending,
        newest_victim.map_or(cutoff, |r| cutoff.max(r.saturating_add(1))),
    )?;
    Ok((spans, bytes))
}

/// Takes the `trace_ops` rows of the traces about to be deleted off `service_stats`; a service
/// left with no spans loses its row.
fn subtract_service_stats(tx: &Connection, victims: &[String]) -> Result<(), StoreError> {
    let mut removed: BTreeMap<String, ServiceDelta> = BTreeMap::new();
    {
        let mut ops = tx.prepare_cached(
            "SELECT service, span_count, error_count, latency FROM trace_ops WHERE trace_id = ?1",
        )?;
        for id in victims {
            let mut rows = ops.query([id])?;
            while let Some(row) = rows.next()? {
                let delta = removed.entry(row.get(0)?).or_default();
                delta.spans += row.get::<_, i64>(1)?;
                delta.errors += row.get::<_, i64>(2)?;
                if let Some(bytes) = row.get::<_, Option<Vec<u8>>>(3)? {
                    delta.latency.merge_encoded(&bytes);
                }
            }
        }
    }
    let mut read = tx.prepare_cached(
        "SELECT span_count, error_count, latency FROM service_stats WHERE service = ?1",
    )?;
    let mut update = tx.prepare_cached(
        "UPDATE service_stats SET span_count = ?2, error_count = ?3, latency = ?4 WHERE service = ?1",
    )?;
    let mut delete = tx.prepare_cached("DELETE FROM service_stats WHERE service = ?1")?;
    for (service, delta) in removed {
        let Some((spans, errors, latency)) = read
            .query_row([&service], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, Option<Vec<u8>>>(2)?))
            })
            .optional()?
        else {
            continue;
        };
        let spans = spans - delta.spans;
        if spans <= 0 {
            delete.execute([&service])?;
            continue;
        }
        let mut left = Histogram::default();
        left.merge_encoded(&latency.unwrap_or_default());
        left.subtract_encoded(&delta.latency.encode());
        update.execute(params![service, spans, (errors - delta.errors).max(0), left.encode()])?;
    }
    Ok(())
}

/// Pages of the database in use (not on SQLite's free list, which later writes reuse), in bytes.
pub(super) fn used_bytes(conn: &Connection) -> Result<u64, StoreError> {
    // Cached like every statement of a pass (it runs after every group the writer commits).
    let pragma = |sql: &str| conn.prepare_cached(sql)?.query_row([], |r| r.get::<_, i64>(0));
    let pages = pragma("PRAGMA page_count")? - pragma("PRAGMA freelist_count")?;
    Ok(pages.max(0) as u64 * pragma("PRAGMA page_size")?.max(0) as u64)
}

/// Log records and metric points one pass drops (each) when only they are over the size bound.
const SIGNAL_ROWS_PER_PASS: u64 = 10_000;
/// Metric blocks one pass drops when only signals are over the size bound.
const METRIC_BLOCKS_PER_PASS: i64 = 64;
