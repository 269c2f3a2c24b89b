//! Compaction of a metric's small blocks into large ones, and retention of blocks and series.

use std::collections::BTreeMap;

use rusqlite::{params, Connection};

use super::super::super::metrics::{codec, Sample};
use super::super::super::StoreError;
use super::*;

/// Merges the fresh blocks of metrics that have `COMPACT_AT` or more into blocks of up to
/// `BLOCK_POINTS` points, one run per series (which is what makes a point cost a few bytes and
/// a read decode a few blocks). The metrics with the most fresh blocks first, every one due
/// until `COMPACT_POINTS` points were merged (so a burst of ingest does not leave reads many
/// small blocks, and one pass stays short); returns the blocks merged.
///
/// A merged block carries the earliest receipt of the blocks merged, as `flush` does: a
/// series' `received_ns` then stays within `MARK_EVERY_NS` of every block holding its points
/// (with the latest receipt, a series whose points came only in the oldest of them looked
/// older than its block, and `drop_orphan_series` dropped it while its points were kept).
/// Since the block then goes when its earliest point is due, a merge takes only blocks
/// received within `COMPACT_SPAN_NS` of each other: no point goes more than that early.
pub(in crate::store::sqlite) fn compact(conn: &Connection) -> Result<u64, StoreError> {
    let names: Vec<String> = conn
        .prepare_cached(
            "SELECT name FROM metric_blocks WHERE level = 0 GROUP BY name HAVING COUNT(*) >= ?1
             ORDER BY COUNT(*) DESC LIMIT 64",
        )?
        .query_map([COMPACT_AT], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let mut merged = 0;
    let mut points = 0usize;
    for name in names {
        if points >= COMPACT_POINTS {
            break;
        }
        let mut ids = Vec::new();
        // The earliest and latest receipt of the blocks taken.
        let (mut received, mut latest) = (i64::MAX, i64::MIN);
        let mut series: BTreeMap<i64, Vec<Sample>> = BTreeMap::new();
        {
            let mut stmt = conn.prepare_cached(
                "SELECT id, received_ns, data FROM metric_blocks WHERE name = ?1 AND level = 0
                 ORDER BY id LIMIT ?2",
            )?;
            let mut rows = stmt.query(params![name, COMPACT_BLOCKS])?;
            while let Some(r) = rows.next()? {
                let at: i64 = r.get(1)?;
                let (first, last) = (received.min(at), latest.max(at));
                if !ids.is_empty() && last.saturating_sub(first) > COMPACT_SPAN_NS {
                    break;
                }
                (received, latest) = (first, last);
                ids.push(r.get::<_, i64>(0)?);
                let blob: Vec<u8> = r.get(2)?;
                for (id, samples) in codec::decode(&blob, |_| true).map_err(corrupt)? {
                    series.entry(id).or_default().extend(samples);
                }
            }
        }
        points += insert_blocks(conn, &name, received, series, |_| 1)?;
        let mut delete = conn.prepare_cached("DELETE FROM metric_blocks WHERE id = ?1")?;
        for id in &ids {
            delete.execute([id])?;
        }
        merged += ids.len() as u64;
    }
    Ok(merged)
}

/// Drops blocks received before `cutoff`, then the oldest received until at most `max_points`
/// are kept, then the series no kept block can hold. Returns the points dropped; reloads
/// `index` when series went.
pub(in crate::store::sqlite) fn retain(
    conn: &Connection,
    index: &mut SeriesIndex,
    cutoff: i64,
    max_points: u64,
) -> Result<u64, StoreError> {
    let mut dropped = drop_where(conn, "received_ns < ?1", cutoff)?;
    while index.points.saturating_sub(dropped) > max_points {
        let excess = index.points - dropped - max_points;
        let n = drop_oldest_blocks(conn, DROP_BLOCKS, excess)?;
        if n == 0 {
            break;
        }
        dropped += n;
    }
    index.points = index.points.saturating_sub(dropped);
    if dropped > 0 {
        drop_orphan_series(conn, index)?;
    }
    Ok(dropped)
}

/// Drops the blocks received before `received` (the size bound: with the traces received
/// before them); returns the points dropped.
pub(in crate::store::sqlite) fn drop_received_before(
    conn: &Connection,
    index: &mut SeriesIndex,
    received: i64,
) -> Result<u64, StoreError> {
    let dropped = drop_where(conn, "received_ns < ?1", received)?;
    index.points = index.points.saturating_sub(dropped);
    if dropped > 0 {
        drop_orphan_series(conn, index)?;
    }
    Ok(dropped)
}

/// Drops the `blocks` oldest received blocks (the size bound, when no trace is left to drop).
pub(in crate::store::sqlite) fn drop_oldest(
    conn: &Connection,
    index: &mut SeriesIndex,
    blocks: i64,
) -> Result<u64, StoreError> {
    let dropped = drop_oldest_blocks(conn, blocks, u64::MAX)?;
    index.points = index.points.saturating_sub(dropped);
    if dropped > 0 {
        drop_orphan_series(conn, index)?;
    }
    Ok(dropped)
}

/// Drops the oldest received blocks, at most `blocks` of them, stopping once `points` points
/// went; returns the points dropped.
fn drop_oldest_blocks(conn: &Connection, blocks: i64, points: u64) -> Result<u64, StoreError> {
    let oldest: Vec<(i64, i64)> = conn
        .prepare_cached("SELECT id, points FROM metric_blocks ORDER BY received_ns, id LIMIT ?1")?
        .query_map([blocks.max(1)], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let mut delete = conn.prepare_cached("DELETE FROM metric_blocks WHERE id = ?1")?;
    let mut dropped = 0u64;
    for (id, n) in oldest {
        if dropped >= points {
            break;
        }
        delete.execute([id])?;
        dropped += n.max(0) as u64;
    }
    Ok(dropped)
}

fn drop_where(conn: &Connection, cond: &str, arg: i64) -> Result<u64, StoreError> {
    let mut stmt =
        conn.prepare_cached(&format!("DELETE FROM metric_blocks WHERE {cond} RETURNING points"))?;
    let mut rows = stmt.query([arg])?;
    let mut n = 0u64;
    while let Some(r) = rows.next()? {
        n += r.get::<_, i64>(0)?.max(0) as u64;
    }
    Ok(n)
}

/// A series' `received_ns` is at most `MARK_EVERY_NS` older than the receipt of any point of
/// it, so one older than that before the oldest kept block has no point left.
fn drop_orphan_series(conn: &Connection, index: &mut SeriesIndex) -> Result<(), StoreError> {
    let oldest: Option<i64> = conn
        .prepare_cached("SELECT MIN(received_ns) FROM metric_blocks")?
        .query_row([], |r| r.get(0))?;
    // With no block left, every series goes.
    let before = oldest.map_or(i64::MAX, |oldest| oldest.saturating_sub(MARK_EVERY_NS + 1));
    let n = conn
        .prepare_cached("DELETE FROM metric_series WHERE received_ns < ?1")?
        .execute([before])?;
    if n > 0 {
        let points = index.points;
        *index = SeriesIndex::load(conn)?;
        index.points = points;
    }
    Ok(())
}
