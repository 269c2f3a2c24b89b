//! Logs in SQLite: one JSON row each, indexed by time and trace id; and the legacy metric
//! points table (`metric_points`, emptied at open since v12: metrics live in
//! `sqlite/metrics.rs`). Helpers for `SqliteStore`.

use otelscope_app::model::{LogRecord, MetricPoint};
use rusqlite::{params, Connection};

use super::request::LogQuery;
use super::StoreError;

pub(super) fn insert(
    conn: &Connection,
    received_ns: i64,
    logs: &[LogRecord],
    metrics: &[MetricPoint],
) -> Result<(), StoreError> {
    let mut insert_log = conn.prepare_cached(
        "INSERT INTO logs (time_ns, service, trace_id, severity, record, received_ns)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for log in logs {
        let blob = serde_json::to_vec(log).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        insert_log.execute(params![
            log.time_ns as i64,
            log.service,
            log.trace_id,
            log.severity_number,
            blob,
            received_ns
        ])?;
    }
    let mut insert_point = conn.prepare_cached(
        "INSERT INTO metric_points (name, service, time_ns, point, received_ns)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for point in metrics {
        let blob = serde_json::to_vec(point).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        insert_point.execute(params![
            point.name,
            point.service,
            point.time_ns as i64,
            blob,
            received_ns
        ])?;
    }
    Ok(())
}

/// Drops logs and points received before `cutoff_ns`, and the oldest beyond `max_rows` per
/// table.
pub(super) fn retain(conn: &Connection, cutoff_ns: i64, max_rows: u64) -> Result<u64, StoreError> {
    let mut dropped = drop_received_before(conn, cutoff_ns)?;
    for table in ["logs", "metric_points"] {
        // Ids grow with every insert, so the newest `max_rows` are those above MAX(id) - max_rows
        // (both ends are rowid look-ups, not scans).
        let newest: Option<i64> =
            conn.query_row(&format!("SELECT MAX(id) FROM {table}"), [], |r| r.get(0))?;
        if let Some(newest) = newest {
            let keep_from = newest.saturating_sub(max_rows.min(i64::MAX as u64) as i64);
            dropped +=
                conn.execute(&format!("DELETE FROM {table} WHERE id <= ?1"), [keep_from])? as u64;
        }
    }
    Ok(dropped)
}

/// Drops logs and points received before `cutoff_ns`.
pub(super) fn drop_received_before(conn: &Connection, cutoff_ns: i64) -> Result<u64, StoreError> {
    let mut dropped = 0;
    for table in ["logs", "metric_points"] {
        dropped += conn
            .execute(&format!("DELETE FROM {table} WHERE received_ns < ?1"), [cutoff_ns])?
            as u64;
    }
    Ok(dropped)
}

/// Drops the `rows` oldest logs and the `rows` oldest points.
pub(super) fn drop_oldest(conn: &Connection, rows: u64) -> Result<u64, StoreError> {
    let mut dropped = 0;
    for table in ["logs", "metric_points"] {
        dropped += conn.execute(
            &format!(
                "DELETE FROM {table} WHERE id IN (SELECT id FROM {table} ORDER BY id LIMIT ?1)"
            ),
            [rows.min(i64::MAX as u64) as i64],
        )? as u64;
    }
    Ok(dropped)
}

pub(super) fn logs(conn: &Connection, q: &LogQuery) -> Result<Vec<LogRecord>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT record FROM logs
         WHERE (?1 IS NULL OR service = ?1) AND (?2 IS NULL OR trace_id = ?2)
           AND (?3 IS NULL OR severity >= ?3) AND (?4 IS NULL OR time_ns >= ?4)
           AND (?5 IS NULL OR time_ns <= ?5)
         ORDER BY time_ns DESC, id DESC LIMIT ?6",
    )?;
    let rows = stmt.query_map(
        params![
            q.service,
            q.trace_id,
            q.min_severity,
            q.since_ns.map(|t| t as i64),
            q.until_ns.map(|t| t as i64),
            q.limit as i64
        ],
        |r| r.get::<_, Vec<u8>>(0),
    )?;
    rows.map(|blob| serde_json::from_slice(&blob?).map_err(|e| StoreError::Corrupt(e.to_string())))
        .collect()
}
