//! The RED and service-map rollups in SQLite (issue 25): the writer's upserts, the pairing of
//! halves across batches through `edge_pending`, the reads behind `/api/v1/services/{name}/red`
//! and `/api/v1/map`, and retention. Helpers for `SqliteStore`; the rules are in `services`.
//!
//! Pairing across batches: each half a batch left unpaired looks for its other half among the
//! `edge_pending` rows the writer's `PendingIndex` names for (caller's trace id, caller's span id,
//! family, other side), read by id; found, the pair's edges are added and the row deleted; not
//! found, the half is inserted. The table has no key index (v22): a row is an append to its rowid
//! B-tree. All of it runs in the batch's savepoint, so a failed batch leaves no half behind and a
//! restart loses none (the index is read again from the table). Then the halves received over
//! `PAIR_WAIT_NS` before this batch expire, and so do the oldest beyond `MAX_PENDING` (ids grow
//! with inserts: the rows below `max(id) - MAX_PENDING`), in id order. RED rows leave with their
//! (service, bucket) (`red_buckets`, v17).
//!
//! Minutes (v21): a range of hours reads `red_minutes` and `edge_minutes`, the 10 s rows summed
//! per minute, for its whole minutes, and 10 s rows for the rest (its ends, and any minute
//! marked stale). Triggers on `red_buckets` and `edge_rollup` mark a minute stale in the
//! statement that changes one of its 10 s rows (a batch's upsert, retention's delete), so a
//! minute row is read only while it equals the sum of its 10 s rows: answers are exact, the
//! minutes only make them cheaper. `minutes_sql::compact`, in the retention pass, sums the stale minutes
//! that ended over `SETTLE_NS` ago again (at most `MINUTES_PER_PASS` a pass), and clears
//! their marks; the minute being written stays stale and is read from its 10 s rows.

use std::collections::HashSet;

use rusqlite::{params, Connection, OptionalExtension, Row};

use super::bucket::bucket_of;
use super::pending::{PendingIndex, PendingRow};
use super::services::{
    EdgeDeltas, Family, Half, NodeRef, RedDelta, RedKey, Side, MAX_PENDING, PAIR_WAIT_NS,
};
use crate::store::service_rows::{
    span_kind, EdgeRow, Grain, MapQuery, MapRows, NodeRow, RedQuery, RedRow,
};
use crate::store::StoreError;

/// The width of a `red_minutes` or `edge_minutes` row (the migration's triggers say it too).
pub const MINUTE_NS: i64 = 60_000_000_000;
/// Upserts a batch's RED deltas, pairs its halves, expires the stale ones and upserts the edges
/// and node metadata (inside the batch's savepoint).
pub(in crate::store) fn write(
    conn: &Connection,
    pending: &mut PendingIndex,
    received: i64,
    red: &[(RedKey, RedDelta)],
    edges: &EdgeDeltas,
) -> Result<(), StoreError> {
    let mut upsert_red = conn.prepare_cached(
        "INSERT INTO red_rollup (service, bucket_ns, name, kind, requests, errors, duration_ns,
             latency, received_ns)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
         ON CONFLICT (service, bucket_ns, name, kind) DO UPDATE SET
           requests = requests + excluded.requests,
           errors = errors + excluded.errors,
           duration_ns = duration_ns + excluded.duration_ns,
           latency = latency_merge(latency, excluded.latency),
           received_ns = MAX(received_ns, excluded.received_ns)",
    )?;
    for (k, d) in red {
        upsert_red.execute(params![
            k.service,
            k.bucket_ns,
            k.name,
            k.kind,
            d.requests,
            d.errors,
            d.duration_ns,
            d.latency.encode(),
            received
        ])?;
    }
    // The (service, bucket)s the batch wrote to: `red` is sorted by key, so they come in runs.
    let mut touch = conn.prepare_cached(
        "INSERT INTO red_buckets (service, bucket_ns, received_ns) VALUES (?1, ?2, ?3)
         ON CONFLICT (service, bucket_ns) DO UPDATE SET
           received_ns = MAX(received_ns, excluded.received_ns)",
    )?;
    let mut last: Option<(&str, i64)> = None;
    for (k, _) in red {
        let here = (k.service.as_str(), k.bucket_ns);
        if last != Some(here) {
            touch.execute(params![k.service, k.bucket_ns, received])?;
            last = Some(here);
        }
    }
    let mut made = EdgeDeltas::default();
    pending.ensure(conn)?;
    if !edges.halves.is_empty() {
        pair(conn, pending, received, &edges.halves, &mut made)?;
    }
    expire(conn, pending, received, &mut made)?;
    upsert_edges(conn, received, edges)?;
    upsert_edges(conn, received, &made)?;
    Ok(())
}

fn pair(
    conn: &Connection,
    pending: &mut PendingIndex,
    received: i64,
    halves: &[Half],
    made: &mut EdgeDeltas,
) -> Result<(), StoreError> {
    let mut find =
        conn.prepare_cached(&format!("SELECT {HALF_COLUMNS} FROM edge_pending WHERE id = ?1"))?;
    let mut delete = conn.prepare_cached("DELETE FROM edge_pending WHERE id = ?1")?;
    let mut insert = conn.prepare_cached(
        "INSERT INTO edge_pending (trace_id, span_id, family, side, service, start_ns,
             duration_ns, error, peer_kind, peer_name, peer_system, received_ns)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?;
    for half in halves {
        let wanted = half.side.other();
        let hash = pending.hash(&half.trace_id, &half.span_id, half.family, wanted);
        // The oldest row of the other half's key; a candidate of another key only shares the hash.
        let mut other = None;
        for id in pending.candidates(hash) {
            let row = find.query_row([id], read_half).optional()?;
            match row {
                Some((id, row))
                    if row.trace_id == half.trace_id
                        && row.span_id == half.span_id
                        && row.family == half.family
                        && row.side == wanted =>
                {
                    other = Some((id, row));
                    break;
                }
                Some(_) => {}
                // Not in the table (the index cannot be behind it, but if it were): forget it.
                None => pending.remove(id),
            }
        }
        match other {
            Some((id, other)) => {
                delete.execute([id])?;
                pending.remove(id);
                match half.side {
                    Side::Caller => made.pair(half, &other),
                    Side::Callee => made.pair(&other, half),
                }
            }
            None => {
                let peer = half.peer.as_ref();
                insert.execute(params![
                    half.trace_id,
                    half.span_id,
                    half.family as i64,
                    half.side as i64,
                    half.service,
                    clamp(half.start_ns),
                    clamp(half.duration_ns),
                    i64::from(half.error),
                    peer.map(|p| p.kind.as_str()),
                    peer.map(|p| p.name.as_str()),
                    peer.and_then(|p| p.system.as_deref()),
                    received
                ])?;
                let id = conn.last_insert_rowid();
                let hash = pending.hash(&half.trace_id, &half.span_id, half.family, half.side);
                pending.insert(hash, PendingRow { id, received_ns: received });
            }
        }
    }
    Ok(())
}

/// Expires the halves that waited `PAIR_WAIT_NS` (by receipt) and the oldest beyond
/// `MAX_PENDING`, taking rows in id order while they are due. Receipts grow with ids (the
/// writer makes each batch's receipt later than the last), so that is every due row; one that
/// broke the order would only wait until the rows before it are due.
fn expire(
    conn: &Connection,
    pending: &mut PendingIndex,
    received: i64,
    made: &mut EdgeDeltas,
) -> Result<(), StoreError> {
    let stale = received.saturating_sub(PAIR_WAIT_NS as i64);
    // The oldest row decides whether anything is due; the index knows it without a query.
    pending.ensure(conn)?;
    let Some((oldest, max_id)) = pending.ends() else { return Ok(()) };
    let below = max_id - MAX_PENDING;
    if oldest.received_ns >= stale && oldest.id > below {
        return Ok(());
    }
    let mut due = conn.prepare_cached(&format!(
        "SELECT {HALF_COLUMNS}, received_ns FROM edge_pending ORDER BY id"
    ))?;
    let mut rows = due.query([])?;
    let mut last_due = None;
    while let Some(row) = rows.next()? {
        let (id, half) = read_half(row)?;
        let row_received: i64 = row.get(12)?;
        if row_received >= stale && id > below {
            break;
        }
        made.expire(&half);
        last_due = Some(id);
    }
    drop(rows);
    if let Some(last_due) = last_due {
        conn.prepare_cached("DELETE FROM edge_pending WHERE id <= ?1")?.execute([last_due])?;
        pending.remove_below(last_due.saturating_add(1));
    }
    Ok(())
}

const HALF_COLUMNS: &str = "id, trace_id, span_id, family, side, service, start_ns, duration_ns,
    error, peer_kind, peer_name, peer_system";

fn read_half(r: &Row<'_>) -> rusqlite::Result<(i64, Half)> {
    let peer_kind: Option<String> = r.get(9)?;
    let peer_name: Option<String> = r.get(10)?;
    let peer = match (peer_kind.and_then(|k| k.parse().ok()), peer_name) {
        (Some(kind), Some(name)) => Some(NodeRef { kind, name, system: r.get(11)? }),
        _ => None,
    };
    Ok((
        r.get(0)?,
        Half {
            trace_id: r.get(1)?,
            span_id: r.get(2)?,
            family: if r.get::<_, i64>(3)? == 1 { Family::Messaging } else { Family::Request },
            side: if r.get::<_, i64>(4)? == 1 { Side::Callee } else { Side::Caller },
            service: r.get(5)?,
            start_ns: r.get::<_, i64>(6)?.max(0) as u64,
            duration_ns: r.get::<_, i64>(7)?.max(0) as u64,
            error: r.get::<_, i64>(8)? != 0,
            peer,
        },
    ))
}

fn upsert_edges(conn: &Connection, received: i64, d: &EdgeDeltas) -> Result<(), StoreError> {
    let mut upsert = conn.prepare_cached(
        "INSERT INTO edge_rollup (bucket_ns, source, target, kind, calls, errors, latency,
             received_ns)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (bucket_ns, source, target, kind) DO UPDATE SET
           calls = calls + excluded.calls,
           errors = errors + excluded.errors,
           latency = latency_merge(latency, excluded.latency),
           received_ns = MAX(received_ns, excluded.received_ns)",
    )?;
    for (k, e) in &d.edges {
        upsert.execute(params![
            k.bucket_ns,
            k.source,
            k.target,
            k.kind.as_str(),
            e.calls,
            e.errors,
            e.latency.encode(),
            received
        ])?;
    }
    let mut node = conn.prepare_cached(
        "INSERT INTO map_nodes (id, kind, name, system, namespace, deployment, received_ns)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (id) DO UPDATE SET
           system = COALESCE(excluded.system, system),
           namespace = COALESCE(excluded.namespace, namespace),
           deployment = COALESCE(excluded.deployment, deployment),
           received_ns = MAX(received_ns, excluded.received_ns)",
    )?;
    for (id, n) in &d.nodes {
        node.execute(params![
            id,
            n.kind.as_str(),
            n.name,
            n.system,
            n.namespace,
            n.deployment,
            received
        ])?;
    }
    Ok(())
}

/// The start of the minute holding `ns` (as the migration's triggers compute it).
fn minute_of(ns: i64) -> i64 {
    ns - ns % MINUTE_NS
}

/// How a range `[lo, hi)` of bucket starts is read: the whole minutes `[from, to)` from the
/// minute rows (but the stale ones), the rest from the 10 s rows. `None`: 10 s rows only.
fn whole_minutes(grain: Grain, lo: i64, hi: i64) -> Option<(i64, i64)> {
    if !grain.takes(MINUTE_NS as u64) || lo < 0 {
        return None;
    }
    let from = lo.checked_add(MINUTE_NS - 1).map(minute_of)?;
    let to = minute_of(hi);
    (from < to).then_some((from, to))
}

/// The spans of 10 s buckets to read around and between the whole minutes `[from, to)`:
/// `[lo, from)`, each stale minute, `[to, hi)` (empty ones left out).
fn bucket_spans(lo: i64, hi: i64, from: i64, to: i64, stale: &[i64]) -> Vec<(i64, i64)> {
    let mut spans = vec![(lo, from)];
    spans.extend(stale.iter().filter(|&&m| m >= from && m < to).map(|&m| (m, m + MINUTE_NS)));
    spans.push((to, hi));
    spans.retain(|(a, b)| a < b);
    spans
}

fn red_row(service: &str, r: &Row<'_>) -> rusqlite::Result<RedRow> {
    Ok(RedRow {
        service: service.to_owned(),
        bucket_ns: r.get::<_, i64>(0)?.max(0) as u64,
        name: r.get(1)?,
        kind: span_kind(&r.get::<_, String>(2)?),
        requests: r.get::<_, i64>(3)?.max(0) as u64,
        errors: r.get::<_, i64>(4)?.max(0) as u64,
        duration_ns: r.get::<_, i64>(5)?.max(0) as u64,
        latency: r.get::<_, Option<Vec<u8>>>(6)?.unwrap_or_default(),
    })
}

/// The `red_rollup` rows of a range, of one service or of every one (each read by its primary
/// key's (service, bucket) prefix); with a grain of a minute or more, its whole minutes that
/// are not stale from `red_minutes` instead (see the module doc).
pub(in crate::store) fn red(conn: &Connection, q: &RedQuery) -> Result<Vec<RedRow>, StoreError> {
    let services: Vec<String> = match &q.service {
        Some(service) => vec![service.clone()],
        // `red_buckets` has a row per (service, bucket), not per operation: the shorter walk.
        None => conn
            .prepare_cached("SELECT DISTINCT service FROM red_buckets")?
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?,
    };
    let mut buckets = conn.prepare_cached(
        "SELECT bucket_ns, name, kind, requests, errors, duration_ns, latency FROM red_rollup
         WHERE service = ?1 AND bucket_ns >= ?2 AND bucket_ns < ?3",
    )?;
    let (lo, hi) = (bucket_of(q.since_ns), clamp(q.until_ns));
    let minutes = whole_minutes(q.grain, lo, hi);
    let mut rows = Vec::new();
    for service in services {
        let Some((from, to)) = minutes else {
            let read = buckets.query_map(params![service, lo, hi], |r| red_row(&service, r))?;
            for row in read {
                rows.push(row?);
            }
            continue;
        };
        let stale: Vec<i64> = conn
            .prepare_cached(
                "SELECT minute_ns FROM red_minutes_stale
                 WHERE minute_ns >= ?1 AND minute_ns < ?2 AND service = ?3",
            )?
            .query_map(params![from, to, service], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        for (a, b) in bucket_spans(lo, hi, from, to, &stale) {
            let read = buckets.query_map(params![service, a, b], |r| red_row(&service, r))?;
            for row in read {
                rows.push(row?);
            }
        }
        let skip: HashSet<i64> = stale.into_iter().collect();
        let mut whole = conn.prepare_cached(
            "SELECT minute_ns, name, kind, requests, errors, duration_ns, latency FROM red_minutes
             WHERE service = ?1 AND minute_ns >= ?2 AND minute_ns < ?3",
        )?;
        let read = whole.query_map(params![service, from, to], |r| red_row(&service, r))?;
        for row in read {
            let row = row?;
            if !skip.contains(&(row.bucket_ns as i64)) {
                rows.push(row);
            }
        }
    }
    Ok(rows)
}

fn edge_row(r: &Row<'_>) -> rusqlite::Result<EdgeRow> {
    Ok(EdgeRow {
        bucket_ns: r.get::<_, i64>(0)?.max(0) as u64,
        source: r.get(1)?,
        target: r.get(2)?,
        kind: r.get::<_, String>(3)?.parse().unwrap_or_default(),
        calls: r.get::<_, i64>(4)?.max(0) as u64,
        errors: r.get::<_, i64>(5)?.max(0) as u64,
        latency: r.get::<_, Option<Vec<u8>>>(6)?.unwrap_or_default(),
    })
}

/// The `edge_rollup` rows of a range (its whole minutes from `edge_minutes` as `red` does),
/// every node's metadata and the waiting halves' count.
pub(in crate::store) fn map(conn: &Connection, q: &MapQuery) -> Result<MapRows, StoreError> {
    let mut buckets = conn.prepare_cached(
        "SELECT bucket_ns, source, target, kind, calls, errors, latency FROM edge_rollup
         WHERE bucket_ns >= ?1 AND bucket_ns < ?2",
    )?;
    let (lo, hi) = (bucket_of(q.since_ns), clamp(q.until_ns));
    let mut edges = Vec::new();
    match whole_minutes(q.grain, lo, hi) {
        None => {
            for row in buckets.query_map(params![lo, hi], edge_row)? {
                edges.push(row?);
            }
        }
        Some((from, to)) => {
            let stale: Vec<i64> = conn
                .prepare_cached(
                    "SELECT minute_ns FROM edge_minutes_stale WHERE minute_ns >= ?1
                     AND minute_ns < ?2",
                )?
                .query_map(params![from, to], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            for (a, b) in bucket_spans(lo, hi, from, to, &stale) {
                for row in buckets.query_map(params![a, b], edge_row)? {
                    edges.push(row?);
                }
            }
            let skip: HashSet<i64> = stale.into_iter().collect();
            let mut whole = conn.prepare_cached(
                "SELECT minute_ns, source, target, kind, calls, errors, latency FROM edge_minutes
                 WHERE minute_ns >= ?1 AND minute_ns < ?2",
            )?;
            for row in whole.query_map(params![from, to], edge_row)? {
                let row = row?;
                if !skip.contains(&(row.bucket_ns as i64)) {
                    edges.push(row);
                }
            }
        }
    }
    let nodes = conn
        .prepare_cached(
            "SELECT id, kind, name, system, namespace, deployment FROM map_nodes ORDER BY id",
        )?
        .query_map([], |r| {
            Ok(NodeRow {
                id: r.get(0)?,
                kind: r.get::<_, String>(1)?.parse().unwrap_or_default(),
                name: r.get(2)?,
                system: r.get(3)?,
                namespace: r.get(4)?,
                deployment: r.get(5)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let pending: i64 =
        conn.prepare_cached("SELECT COUNT(*) FROM edge_pending")?.query_row([], |r| r.get(0))?;
    Ok(MapRows { edges, nodes, pending: pending.max(0) as u64 })
}

/// Drops the rows last written before `cutoff` (see `sql::retain`).
pub(in crate::store) fn retain(
    conn: &Connection,
    pending: &mut PendingIndex,
    cutoff: i64,
) -> Result<u64, StoreError> {
    let mut dropped = 0;
    // RED rows go by (service, bucket), with the bucket's last receipt.
    let gone: Vec<(String, i64)> = conn
        .prepare_cached("SELECT service, bucket_ns FROM red_buckets WHERE received_ns < ?1")?
        .query_map([cutoff], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let mut drop_red =
        conn.prepare_cached("DELETE FROM red_rollup WHERE service = ?1 AND bucket_ns = ?2")?;
    for (service, bucket_ns) in &gone {
        dropped += drop_red.execute(params![service, bucket_ns])? as u64;
    }
    conn.prepare_cached("DELETE FROM red_buckets WHERE received_ns < ?1")?.execute([cutoff])?;
    // Waiting halves go in id order (see `expire`): the rows before the first one kept.
    let keep_from: Option<i64> = conn
        .prepare_cached("SELECT id FROM edge_pending WHERE received_ns >= ?1 ORDER BY id LIMIT 1")?
        .query_row([cutoff], |r| r.get(0))
        .optional()?;
    let keep_from = keep_from.unwrap_or(i64::MAX);
    dropped +=
        conn.prepare_cached("DELETE FROM edge_pending WHERE id < ?1")?.execute([keep_from])? as u64;
    pending.remove_below(keep_from);
    for table in ["edge_rollup", "map_nodes"] {
        dropped += conn
            .prepare_cached(&format!("DELETE FROM {table} WHERE received_ns < ?1"))?
            .execute([cutoff])? as u64;
    }
    Ok(dropped)
}

pub(super) fn clamp(ns: u64) -> i64 {
    ns.min(i64::MAX as u64) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: i64 = 1_000_000_000;

    #[test]
    fn whole_minutes_and_the_buckets_around_them() {
        let step = |s: i64| Grain::Steps((s * S) as u64);
        // Finer than a minute, or steps a minute does not divide: 10 s rows only.
        assert_eq!(whole_minutes(Grain::Buckets, 0, 600 * S), None);
        assert_eq!(whole_minutes(step(30), 0, 600 * S), None);
        assert_eq!(whole_minutes(step(90), 0, 600 * S), None);
        assert_eq!(whole_minutes(step(120), 70 * S, 600 * S), Some((120 * S, 600 * S)));
        assert_eq!(whole_minutes(Grain::Whole, 60 * S, 185 * S), Some((60 * S, 180 * S)));
        // No whole minute inside.
        assert_eq!(whole_minutes(Grain::Whole, 70 * S, 175 * S), None);
        // The ends and the stale minutes inside are read from 10 s rows.
        assert_eq!(
            bucket_spans(70 * S, 250 * S, 120 * S, 240 * S, &[180 * S, 600 * S]),
            [(70 * S, 120 * S), (180 * S, 240 * S), (240 * S, 250 * S)]
        );
        assert!(bucket_spans(60 * S, 180 * S, 60 * S, 180 * S, &[]).is_empty());
    }
}
