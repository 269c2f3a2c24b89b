//! The log rollup (schema v13, `log_counts`, laid out in `schema.rs`): records counted per
//! 10 s cell of their time, service and severity number, with the smallest and largest id
//! counted in each cell. The writer adds a batch's counts (`add`), retention takes dropped
//! records back out (`subtract`); the histogram reads whole cells (`cells`), and a time range's
//! record ids are bounded by its cells' (`id_bounds`) for the full-text `MATCH`.

use std::collections::HashMap;

use rusqlite::types::Value;
use rusqlite::{params, params_from_iter, Connection, OptionalExtension};

use super::super::StoreError;

/// A cell's width: the histogram's finest step that the rollup answers alone.
pub(super) const CELL_NS: u64 = 10_000_000_000;

/// The cell of a record at `time_ns` (stored as `i64`, never negative).
pub(super) fn cell_of(time_ns: i64) -> i64 {
    time_ns.max(0) / CELL_NS as i64
}

/// What one batch adds: (cell, service id, severity) → (records, smallest id, largest id).
#[derive(Default)]
pub(super) struct Counts(HashMap<(i64, i64, i32), (i64, i64, i64)>);

impl Counts {
    pub fn record(&mut self, time_ns: i64, service: i64, severity: i32, id: i64) {
        let entry = self.0.entry((cell_of(time_ns), service, severity)).or_insert((0, id, id));
        entry.0 += 1;
        entry.1 = entry.1.min(id);
        entry.2 = entry.2.max(id);
    }
}

/// Adds a batch's counts.
pub(super) fn add(conn: &Connection, counts: &Counts) -> Result<(), StoreError> {
    let mut upsert = conn.prepare_cached(
        "INSERT INTO log_counts (cell, service, severity, count, first_id, last_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (cell, service, severity) DO UPDATE SET
            count = count + excluded.count,
            first_id = MIN(first_id, excluded.first_id),
            last_id = MAX(last_id, excluded.last_id)",
    )?;
    for (&(cell, service, severity), &(count, first, last)) in &counts.0 {
        upsert.execute(params![cell, service, severity, count, first, last])?;
    }
    Ok(())
}

/// Takes the records with ids in `first..end` back out (before they are deleted).
pub(super) fn subtract(conn: &Connection, first: i64, end: i64) -> Result<(), StoreError> {
    let gone: Vec<(i64, i64, i64, i64)> = conn
        .prepare_cached(
            "SELECT time_ns / 10000000000, service, severity, COUNT(*) FROM log_records
             WHERE id >= ?1 AND id < ?2 GROUP BY 1, 2, 3",
        )?
        .query_map([first, end], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
        .collect::<Result<_, _>>()?;
    let mut take = conn.prepare_cached(
        "UPDATE log_counts SET count = count - ?4 WHERE cell = ?1 AND service = ?2 AND severity = ?3",
    )?;
    let mut empty = conn.prepare_cached(
        "DELETE FROM log_counts WHERE cell = ?1 AND service = ?2 AND severity = ?3 AND count <= 0",
    )?;
    for (cell, service, severity, count) in gone {
        take.execute(params![cell, service, severity, count])?;
        empty.execute(params![cell, service, severity])?;
    }
    Ok(())
}

/// The smallest and largest id of the records in `since..until` (a bound: it may take in
/// records just outside, or gone); `None` when no record is there.
pub(super) fn id_bounds(
    conn: &Connection,
    since_ns: Option<i64>,
    until_ns: Option<i64>,
) -> Result<Option<(i64, i64)>, StoreError> {
    let first = since_ns.map_or(0, cell_of);
    let last = until_ns.map_or(i64::MAX, |u| cell_of(u.saturating_sub(1)));
    let bounds: Option<(Option<i64>, Option<i64>)> = conn
        .prepare_cached(
            "SELECT MIN(first_id), MAX(last_id) FROM log_counts WHERE cell >= ?1 AND cell <= ?2",
        )?
        .query_row([first, last], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    Ok(match bounds {
        Some((Some(lo), Some(hi))) => Some((lo, hi)),
        _ => None,
    })
}

/// The counts of cells `first..end` per (cell, severity number) of the records that the
/// service and severity conditions `selection` (over columns `service`, `severity`, with
/// `args`) keep.
pub(super) fn cells(
    conn: &Connection,
    selection: &str,
    args: &[Value],
    first: i64,
    end: i64,
) -> Result<Vec<(i64, i64, u64)>, StoreError> {
    let n = args.len();
    let sql = format!(
        "SELECT cell, severity, SUM(count) FROM log_counts
         WHERE cell >= ?{} AND cell < ?{} AND {selection} GROUP BY cell, severity",
        n + 1,
        n + 2
    );
    let all = args.iter().cloned().chain([Value::Integer(first), Value::Integer(end)]);
    let rows = conn
        .prepare_cached(&sql)?
        .query_map(params_from_iter(all), |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, i64>(2)?.max(0) as u64))
        })?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}
