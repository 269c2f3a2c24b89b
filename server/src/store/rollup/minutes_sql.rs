//! The RED and edge minute rows in SQLite (v21): `compact` sums the stale minutes again from
//! their 10 s rows in the retention pass; the reads that use them are in `services_sql`.

use std::collections::BTreeMap;

use rusqlite::{params, Connection};

use super::services_sql::{clamp, MINUTE_NS};
use crate::store::latency::Histogram;
use crate::store::StoreError;

/// How long after its end a stale minute waits before `compact` sums it again (spans of it
/// still arriving would make it stale again at once).
pub const SETTLE_NS: i64 = 30_000_000_000;
/// The most stale minutes (of RED rows, and of edges) one retention pass sums again.
pub const MINUTES_PER_PASS: usize = 48;

/// Sums the stale minutes that ended over `SETTLE_NS` before `now_ns` again from their 10 s
/// rows (at most `MINUTES_PER_PASS` of RED rows and as many of edges), and clears their marks;
/// a minute whose 10 s rows are gone loses its minute rows. Returns the minutes summed.
pub(in crate::store) fn compact(conn: &Connection, now_ns: u64) -> Result<u64, StoreError> {
    let before = clamp(now_ns).saturating_sub(SETTLE_NS + MINUTE_NS);
    let limit = MINUTES_PER_PASS as i64;
    let stale: Vec<(i64, String)> = conn
        .prepare_cached(
            "SELECT minute_ns, service FROM red_minutes_stale WHERE minute_ns <= ?1
             ORDER BY minute_ns LIMIT ?2",
        )?
        .query_map(params![before, limit], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let mut read = conn.prepare_cached(
        "SELECT name, kind, requests, errors, duration_ns, latency FROM red_rollup
         WHERE service = ?1 AND bucket_ns >= ?2 AND bucket_ns < ?3",
    )?;
    let mut clear =
        conn.prepare_cached("DELETE FROM red_minutes WHERE service = ?1 AND minute_ns = ?2")?;
    let mut insert = conn.prepare_cached(
        "INSERT INTO red_minutes (service, minute_ns, name, kind, requests, errors, duration_ns,
             latency) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    let mut unmark =
        conn.prepare_cached("DELETE FROM red_minutes_stale WHERE minute_ns = ?1 AND service = ?2")?;
    for (minute, service) in &stale {
        let mut sums: BTreeMap<(String, String), (i64, i64, i64, Histogram)> = BTreeMap::new();
        let mut rows = read.query(params![service, minute, minute + MINUTE_NS])?;
        while let Some(r) = rows.next()? {
            let sum = sums.entry((r.get(0)?, r.get(1)?)).or_default();
            sum.0 = sum.0.saturating_add(r.get(2)?);
            sum.1 = sum.1.saturating_add(r.get(3)?);
            sum.2 = sum.2.saturating_add(r.get(4)?);
            if let Some(latency) = r.get::<_, Option<Vec<u8>>>(5)? {
                sum.3.merge_encoded(&latency);
            }
        }
        clear.execute(params![service, minute])?;
        for ((name, kind), (requests, errors, duration_ns, latency)) in sums {
            let latency = latency.encode();
            let latency = (!latency.is_empty()).then_some(latency);
            insert.execute(params![
                service,
                minute,
                name,
                kind,
                requests,
                errors,
                duration_ns,
                latency
            ])?;
        }
        unmark.execute(params![minute, service])?;
    }
    let edge_stale: Vec<i64> = conn
        .prepare_cached(
            "SELECT minute_ns FROM edge_minutes_stale WHERE minute_ns <= ?1
             ORDER BY minute_ns LIMIT ?2",
        )?
        .query_map(params![before, limit], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let mut read = conn.prepare_cached(
        "SELECT source, target, kind, calls, errors, latency FROM edge_rollup
         WHERE bucket_ns >= ?1 AND bucket_ns < ?2",
    )?;
    let mut clear = conn.prepare_cached("DELETE FROM edge_minutes WHERE minute_ns = ?1")?;
    let mut insert = conn.prepare_cached(
        "INSERT INTO edge_minutes (minute_ns, source, target, kind, calls, errors, latency)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    let mut unmark = conn.prepare_cached("DELETE FROM edge_minutes_stale WHERE minute_ns = ?1")?;
    for minute in &edge_stale {
        let mut sums: BTreeMap<(String, String, String), (i64, i64, Histogram)> = BTreeMap::new();
        let mut rows = read.query(params![minute, minute + MINUTE_NS])?;
        while let Some(r) = rows.next()? {
            let sum = sums.entry((r.get(0)?, r.get(1)?, r.get(2)?)).or_default();
            sum.0 = sum.0.saturating_add(r.get(3)?);
            sum.1 = sum.1.saturating_add(r.get(4)?);
            if let Some(latency) = r.get::<_, Option<Vec<u8>>>(5)? {
                sum.2.merge_encoded(&latency);
            }
        }
        clear.execute([minute])?;
        for ((source, target, kind), (calls, errors, latency)) in sums {
            let latency = latency.encode();
            let latency = (!latency.is_empty()).then_some(latency);
            insert.execute(params![minute, source, target, kind, calls, errors, latency])?;
        }
        unmark.execute([minute])?;
    }
    Ok((stale.len() + edge_stale.len()) as u64)
}
