//! Per-service reads: the services list, a service's span names and its operation stats, all
//! from the rows the write path keeps per service and per (trace, operation).

use std::collections::HashMap;

use otelscope_app::model::{OperationStats, ServiceSummary};
use rusqlite::Connection;

use super::super::latency::Histogram;
use super::super::StoreError;

/// See `Store::services`.
pub(super) fn services(conn: &Connection) -> Result<Vec<ServiceSummary>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT service, span_count, error_count, latency FROM service_stats
         ORDER BY service",
    )?;
    let rows = stmt.query_map([], |row| {
        let mut durations = Histogram::default();
        if let Some(bytes) = row.get::<_, Option<Vec<u8>>>(3)? {
            durations.merge_encoded(&bytes);
        }
        Ok(ServiceSummary {
            span_count: row.get::<_, i64>(1)?.max(0) as u64,
            error_count: row.get::<_, i64>(2)?.max(0) as u64,
            p50_ns: durations.quantile(0.50),
            p95_ns: durations.quantile(0.95),
            p99_ns: durations.quantile(0.99),
            ..ServiceSummary::new(row.get::<_, String>(0)?)
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// See `Store::operations`.
pub(super) fn operations(
    conn: &Connection,
    service: &str,
    limit: usize,
) -> Result<Vec<String>, StoreError> {
    // A loose index scan: each step asks the index for the next name after the last.
    let mut stmt = conn.prepare_cached(
        "WITH RECURSIVE names(name) AS (
             SELECT MIN(name) FROM trace_ops WHERE service = ?1
             UNION ALL
             SELECT (SELECT MIN(name) FROM trace_ops WHERE service = ?1 AND name > names.name)
             FROM names WHERE names.name IS NOT NULL
         )
         SELECT name FROM names WHERE name IS NOT NULL LIMIT ?2",
    )?;
    let rows = stmt.query_map(rusqlite::params![service, limit as i64], |row| row.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// See `Store::operation_stats`.
pub(super) fn operation_stats(
    conn: &Connection,
    service: &str,
    since_ns: u64,
    max_rows: usize,
) -> Result<(Vec<OperationStats>, bool), StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT o.name, o.span_count, o.error_count, o.latency, o.trace_id
         FROM trace_ops o JOIN traces t ON t.trace_id = o.trace_id
         WHERE o.service = ?1 AND t.start_ns >= ?2
         ORDER BY t.start_ns DESC LIMIT ?3",
    )?;
    let limit = max_rows as i64 + 1;
    let mut rows = stmt.query(rusqlite::params![service, since_ns as i64, limit])?;
    // Per name: counts, the merged histogram, and the trace of the slowest span.
    let mut by_name: HashMap<String, (OperationStats, Histogram, u64)> = HashMap::new();
    let mut read = 0;
    while let Some(row) = rows.next()? {
        read += 1;
        if read > max_rows {
            break;
        }
        let name: String = row.get(0)?;
        let entry = by_name.entry(name.clone()).or_insert_with(|| {
            let stats = OperationStats { name, ..OperationStats::default() };
            (stats, Histogram::default(), 0)
        });
        entry.0.span_count += row.get::<_, i64>(1)?.max(0) as u64;
        entry.0.error_count += row.get::<_, i64>(2)?.max(0) as u64;
        if let Some(bytes) = row.get::<_, Option<Vec<u8>>>(3)? {
            entry.1.merge_encoded(&bytes);
            let mut this_trace = Histogram::default();
            this_trace.merge_encoded(&bytes);
            let slowest = this_trace.quantile(1.0).unwrap_or(0);
            if slowest > entry.2 || entry.0.slowest_trace_id.is_none() {
                entry.2 = slowest;
                entry.0.slowest_trace_id = Some(row.get(4)?);
            }
        }
    }
    let mut stats: Vec<OperationStats> = by_name
        .into_values()
        .map(|(stats, durations, _)| OperationStats {
            p50_ns: durations.quantile(0.50),
            p95_ns: durations.quantile(0.95),
            max_ns: durations.quantile(1.0),
            ..stats
        })
        .collect();
    stats.sort_by(|a, b| b.p95_ns.cmp(&a.p95_ns).then_with(|| a.name.cmp(&b.name)));
    Ok((stats, read > max_rows))
}
