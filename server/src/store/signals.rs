//! Metric points in SQLite: one JSON row each, indexed by time and name (logs: `logs/` and
//! `sqlite/logs.rs`). Helpers for `SqliteStore`.

use std::collections::BTreeMap;

use otelscope_app::model::{MetricName, MetricPoint, MetricSeries, MetricsAnswer};
use rusqlite::{params, Connection};

use super::request::MetricQuery;
use super::StoreError;

pub(super) fn insert(
    conn: &Connection,
    received_ns: i64,
    metrics: &[MetricPoint],
) -> Result<(), StoreError> {
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

/// Drops points received before `cutoff_ns`, and the oldest beyond `max_rows`.
pub(super) fn retain(conn: &Connection, cutoff_ns: i64, max_rows: u64) -> Result<u64, StoreError> {
    let mut dropped = drop_received_before(conn, cutoff_ns)?;
    for table in ["metric_points"] {
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

/// Drops points received before `cutoff_ns`.
pub(super) fn drop_received_before(conn: &Connection, cutoff_ns: i64) -> Result<u64, StoreError> {
    let mut dropped = 0;
    for table in ["metric_points"] {
        dropped += conn
            .execute(&format!("DELETE FROM {table} WHERE received_ns < ?1"), [cutoff_ns])?
            as u64;
    }
    Ok(dropped)
}

/// Drops the `rows` oldest points.
pub(super) fn drop_oldest(conn: &Connection, rows: u64) -> Result<u64, StoreError> {
    let mut dropped = 0;
    for table in ["metric_points"] {
        dropped += conn.execute(
            &format!(
                "DELETE FROM {table} WHERE id IN (SELECT id FROM {table} ORDER BY id LIMIT ?1)"
            ),
            [rows.min(i64::MAX as u64) as i64],
        )? as u64;
    }
    Ok(dropped)
}

/// The catalog (at most `limit` names, by name), or the newest `limit` points of one metric
/// grouped into series; `truncated` says when more was stored.
pub(super) fn metrics(conn: &Connection, q: &MetricQuery) -> Result<MetricsAnswer, StoreError> {
    // One row more than the limit tells whether anything was left out.
    let fetch = q.limit.saturating_add(1).min(i64::MAX as usize) as i64;
    let Some(name) = &q.name else {
        let mut stmt = conn.prepare_cached(
            "SELECT name, COUNT(*) FROM metric_points WHERE (?1 IS NULL OR service = ?1)
             GROUP BY name ORDER BY name LIMIT ?2",
        )?;
        let mut names: Vec<MetricName> = stmt
            .query_map(params![q.service, fetch], |r| {
                Ok(MetricName { name: r.get(0)?, points: r.get::<_, i64>(1)? as u64 })
            })?
            .collect::<Result<_, _>>()?;
        let truncated = names.len() > q.limit;
        names.truncate(q.limit);
        return Ok(MetricsAnswer { names, series: Vec::new(), truncated });
    };
    // Newest first, so a bounded read keeps the recent end of the series (what a chart of
    // "the last hour" shows); reversed into time order below.
    let mut stmt = conn.prepare_cached(
        "SELECT point FROM metric_points
         WHERE name = ?1 AND (?2 IS NULL OR service = ?2) AND (?3 IS NULL OR time_ns >= ?3)
           AND (?4 IS NULL OR time_ns <= ?4)
         ORDER BY time_ns DESC, id DESC LIMIT ?5",
    )?;
    let rows = stmt.query_map(
        params![name, q.service, q.since_ns.map(|t| t as i64), q.until_ns.map(|t| t as i64), fetch],
        |r| r.get::<_, Vec<u8>>(0),
    )?;
    let mut points = Vec::new();
    for blob in rows {
        let point: MetricPoint =
            serde_json::from_slice(&blob?).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        points.push(point);
    }
    let truncated = points.len() > q.limit;
    points.truncate(q.limit);
    points.reverse();
    Ok(MetricsAnswer { names: Vec::new(), series: into_series(points, q.step_ns), truncated })
}

/// Groups points (in time order) into one series per service and attribute set; with a step,
/// keeps the last point of each step.
pub(crate) fn into_series(points: Vec<MetricPoint>, step_ns: Option<u64>) -> Vec<MetricSeries> {
    let mut series: BTreeMap<String, MetricSeries> = BTreeMap::new();
    for point in points {
        let key = format!(
            "{}\u{0}{}",
            point.service,
            serde_json::to_string(&point.attributes).unwrap_or_default()
        );
        let entry = series.entry(key).or_insert_with(|| MetricSeries {
            name: point.name.clone(),
            kind: point.kind,
            unit: point.unit.clone(),
            service: point.service.clone(),
            attributes: point.attributes.clone(),
            points: Vec::new(),
        });
        if let (Some(step), Some(last)) = (step_ns, entry.points.last_mut()) {
            if last.time_ns / step == point.time_ns / step {
                *last = point;
                continue;
            }
        }
        entry.points.push(point);
    }
    series.into_values().collect()
}
