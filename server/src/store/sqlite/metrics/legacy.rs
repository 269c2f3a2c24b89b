//! Metric points of stores older than schema v12, moved into series and blocks at open.

use std::collections::BTreeMap;

use otelscope_app::model::MetricPoint;
use rusqlite::Connection;

use super::super::super::metrics::Refusals;
use super::super::super::StoreError;
use super::*;

/// Points stored as JSON rows before schema v12 (`metric_points`), moved into series and
/// blocks at open, oldest first, a few thousand per transaction; the rows are then deleted.
pub(in crate::store::sqlite) fn convert_legacy(
    conn: &mut Connection,
    index: &mut SeriesIndex,
) -> Result<u64, StoreError> {
    let mut moved = 0;
    loop {
        let tx = conn.transaction()?;
        let rows: Vec<(i64, i64, Vec<u8>)> = tx
            .prepare("SELECT id, received_ns, point FROM metric_points ORDER BY id LIMIT 5000")?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<Result<_, _>>()?;
        let Some(last) = rows.last().map(|r| r.0) else { break };
        let mut by_receipt: BTreeMap<i64, Vec<MetricPoint>> = BTreeMap::new();
        for (_, received, blob) in rows {
            // A row that no longer parses is dropped with the table, as it could not be read.
            if let Ok(point) = serde_json::from_slice::<MetricPoint>(&blob) {
                by_receipt.entry(received).or_default().push(point);
            }
        }
        let refusals = Refusals::default();
        for (received, points) in by_receipt {
            moved += write(&tx, index, received, &points, &refusals)?;
        }
        tx.execute("DELETE FROM metric_points WHERE id <= ?1", [last])?;
        tx.commit()?;
        index.commit();
    }
    Ok(moved)
}
