//! Reads of one trace: its version (stored span count), its spans whole (deduplicated, by
//! start) and chunk by chunk.

use otelscope_app::model::Span;
use rusqlite::{params, Connection, OptionalExtension};

use super::super::{SpanChunk, StoreError};

/// See `Store::trace_version`.
pub(super) fn trace_version(conn: &Connection, trace_id: &str) -> Result<Option<u64>, StoreError> {
    let count: Option<i64> = conn
        .prepare_cached("SELECT span_count FROM traces WHERE trace_id = ?1")?
        .query_row([trace_id], |r| r.get(0))
        .optional()?;
    Ok(count.map(|c| c as u64))
}

/// The chunk of `trace_id` stored next after chunk `after` (`i64::MIN` for the first).
pub(super) fn next_chunk(
    conn: &Connection,
    trace_id: &str,
    after: i64,
) -> Result<Option<SpanChunk>, StoreError> {
    let chunk = conn
        .prepare_cached(
            "SELECT id, spans FROM span_chunks WHERE trace_id = ?1 AND id > ?2 ORDER BY id LIMIT 1",
        )?
        .query_row(params![trace_id, after], |r| Ok(SpanChunk { id: r.get(0)?, blob: r.get(1)? }))
        .optional()?;
    Ok(chunk)
}

/// Calls `each` with every stored span of `trace_id` in stored order, retried copies included,
/// one chunk in memory at a time, until it returns `false`; returns whether it saw them all.
pub(super) fn each_span(
    conn: &Connection,
    trace_id: &str,
    each: &mut dyn FnMut(Span) -> bool,
) -> Result<bool, StoreError> {
    let mut after = i64::MIN;
    while let Some(chunk) = next_chunk(conn, trace_id, after)? {
        after = chunk.id;
        if !chunk.for_each_span(each)? {
            return Ok(false);
        }
    }
    Ok(true)
}
