//! Reads of one trace: its version (stored span count), its spans whole (deduplicated, by
//! start) and chunk by chunk, and the spans linking to one of its spans (`span_links`).

use otelscope_app::model::{LinkingSpan, Span};
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

/// See `Store::linking_spans`: the primary key's prefix finds them; a linking trace retention
/// dropped is skipped (its rows go with it, but a pass may be under way).
pub(super) fn linking_spans(
    conn: &Connection,
    trace_id: &str,
    span_id: &str,
    limit: usize,
) -> Result<Vec<LinkingSpan>, StoreError> {
    let mut select = conn.prepare_cached(
        "SELECT l.trace_id, l.span_id, l.service, l.name, l.start_ns FROM span_links l
         WHERE l.target_trace = ?1 AND l.target_span = ?2
           AND EXISTS (SELECT 1 FROM traces t WHERE t.trace_id = l.trace_id)
         ORDER BY l.start_ns, l.trace_id, l.span_id LIMIT ?3",
    )?;
    let rows = select
        .query_map(
            params![
                trace_id.to_ascii_lowercase(),
                span_id.to_ascii_lowercase(),
                limit.min(i64::MAX as usize) as i64
            ],
            |r| {
                Ok(LinkingSpan {
                    trace_id: r.get(0)?,
                    span_id: r.get(1)?,
                    service: r.get(2)?,
                    name: r.get(3)?,
                    start_ns: r.get::<_, i64>(4)?.max(0) as u64,
                })
            },
        )?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}
