//! `Store::trace_rows`: per trace of a search page, its spans per service (from `trace_ops`,
//! no chunk decoded) and its root span (chunks decoded in stored order until the root, only
//! for traces whose `has_root` says it arrived).

use otelscope_app::model::Span;
use rusqlite::{Connection, OptionalExtension};

use super::super::rows::TraceRowInfo;
use super::super::StoreError;
use super::traces::each_span;

/// See `Store::trace_rows`.
pub(super) fn trace_rows(
    conn: &Connection,
    trace_ids: &[String],
) -> Result<Vec<TraceRowInfo>, StoreError> {
    let mut has_root = conn.prepare_cached("SELECT has_root FROM traces WHERE trace_id = ?1")?;
    let mut services = conn.prepare_cached(
        "SELECT service, SUM(span_count) AS n FROM trace_ops WHERE trace_id = ?1
         GROUP BY service ORDER BY n DESC, service",
    )?;
    let mut rows = Vec::with_capacity(trace_ids.len());
    for trace_id in trace_ids {
        let Some(rooted) =
            has_root.query_row([trace_id], |r| r.get::<_, i64>(0)).optional()?.map(|n| n != 0)
        else {
            continue;
        };
        let services = services
            .query_map([trace_id], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?.max(0) as u64))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let mut root: Option<Span> = None;
        if rooted {
            each_span(conn, trace_id, &mut |span| {
                if span.parent_span_id.is_none() {
                    root = Some(span);
                }
                root.is_none()
            })?;
        }
        rows.push(TraceRowInfo { trace_id: trace_id.clone(), services, root });
    }
    Ok(rows)
}
