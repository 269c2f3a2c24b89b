//! The rollup tables in SQLite: the writer's upserts of prepared deltas (and the one lookup
//! cumulative counters need), the reads behind `/api/v1/cache` and `/api/v1/retries`, and
//! retention. Helpers for `SqliteStore`.

use rusqlite::{params, Connection, OptionalExtension};

use super::bucket::{bucket_of, EXAMPLES_PER_BUCKET};
use super::cache::{counter_delta, CacheDelta, LastValue};
use super::counts::Counts;
use super::pending::PendingIndex;
use super::PreparedRollups;
use crate::store::latency::Histogram;
use crate::store::request::{CacheQuery, RetryQuery};
use crate::store::rows::{CacheRow, CacheRows, RetryExampleRow, RetryRow, RetryRows};
use crate::store::StoreError;

/// Upserts one batch's rollup deltas (inside the batch's savepoint).
pub(in crate::store) fn write(
    conn: &Connection,
    pending: &mut PendingIndex,
    received: i64,
    r: &PreparedRollups,
) -> Result<(), StoreError> {
    if r.is_empty() {
        return Ok(());
    }
    super::services_sql::write(conn, pending, received, &r.red, &r.edges)?;
    for delta in &r.cache {
        add_cache(conn, received, delta)?;
    }
    // Cumulative counters: the one read the writer does, the series' last kept value.
    let mut last = conn
        .prepare_cached("SELECT start_ns, time_ns, value FROM cache_counters WHERE series = ?1")?;
    let mut keep = conn.prepare_cached(
        "INSERT INTO cache_counters (series, start_ns, time_ns, value, received_ns)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (series) DO UPDATE SET start_ns = excluded.start_ns,
           time_ns = excluded.time_ns, value = excluded.value, received_ns = excluded.received_ns",
    )?;
    for point in &r.counters {
        let before = last
            .query_row([&point.series], |r| {
                Ok(LastValue { start_ns: r.get(0)?, time_ns: r.get(1)?, value: r.get(2)? })
            })
            .optional()?;
        let Some(delta) = counter_delta(before, point) else { continue };
        keep.execute(params![point.series, point.start_ns, point.time_ns, point.value, received])?;
        let n = delta.round() as i64;
        if n > 0 {
            let (hits, misses) = if point.hit { (n, 0) } else { (0, n) };
            let delta = CacheDelta { key: point.key.clone(), hits, misses, hit_ns: 0, miss_ns: 0 };
            add_cache(conn, received, &delta)?;
        }
    }
    let mut upsert_retry = conn.prepare_cached(
        "INSERT INTO retry_rollup (bucket_ns, service, name, calls, retried_calls, resends,
             give_ups, circuit_open, attempts, tries, delays, received_ns)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
         ON CONFLICT (bucket_ns, service, name) DO UPDATE SET
           calls = calls + excluded.calls,
           retried_calls = retried_calls + excluded.retried_calls,
           resends = resends + excluded.resends,
           give_ups = give_ups + excluded.give_ups,
           circuit_open = circuit_open + excluded.circuit_open,
           attempts = counts_merge(attempts, excluded.attempts),
           tries = counts_merge(tries, excluded.tries),
           delays = latency_merge(delays, excluded.delays),
           received_ns = MAX(received_ns, excluded.received_ns)",
    )?;
    for (key, d) in &r.retries {
        upsert_retry.execute(params![
            key.bucket_ns,
            key.service,
            key.name,
            d.calls,
            d.retried,
            d.resends,
            d.give_ups,
            d.circuit_open,
            d.attempts.encode(),
            d.tries.encode(),
            d.delays.encode(),
            received
        ])?;
    }
    let mut insert_example = conn.prepare_cached(
        "INSERT INTO retry_examples (bucket_ns, service, name, kind, trace_id, start_ns, received_ns,
             duration_ns, outcome)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
         ON CONFLICT (bucket_ns, service, name, kind, trace_id) DO UPDATE SET
           start_ns = excluded.start_ns, duration_ns = excluded.duration_ns,
           outcome = excluded.outcome
         WHERE excluded.start_ns < start_ns",
    )?;
    // A trace's earliest example span stays (so the split of exports does not matter); only
    // the newest few per bucket, operation and kind stay.
    let mut trim = conn.prepare_cached(
        "DELETE FROM retry_examples WHERE bucket_ns = ?1 AND service = ?2 AND name = ?3 AND kind = ?4
           AND trace_id NOT IN (SELECT trace_id FROM retry_examples
             WHERE bucket_ns = ?1 AND service = ?2 AND name = ?3 AND kind = ?4
             ORDER BY start_ns DESC, trace_id LIMIT ?5)",
    )?;
    for e in &r.examples {
        insert_example.execute(params![
            e.key.bucket_ns,
            e.key.service,
            e.key.name,
            e.kind.as_str(),
            e.trace_id,
            e.start_ns,
            received,
            e.duration_ns,
            e.outcome
        ])?;
    }
    for e in &r.examples {
        let k = &e.key;
        trim.execute(params![
            k.bucket_ns,
            k.service,
            k.name,
            e.kind.as_str(),
            EXAMPLES_PER_BUCKET as i64
        ])?;
    }
    let mut insert_miss = conn.prepare_cached(
        "INSERT OR IGNORE INTO cache_examples (bucket_ns, service, name, layer, trace_id, start_ns, received_ns)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    let mut trim_misses = conn.prepare_cached(
        "DELETE FROM cache_examples WHERE bucket_ns = ?1 AND service = ?2 AND name = ?3 AND layer = ?4
           AND trace_id NOT IN (SELECT trace_id FROM cache_examples
             WHERE bucket_ns = ?1 AND service = ?2 AND name = ?3 AND layer = ?4
             ORDER BY start_ns DESC, trace_id LIMIT ?5)",
    )?;
    for e in &r.cache_examples {
        let k = &e.key;
        insert_miss.execute(params![
            k.bucket_ns,
            k.service,
            k.name,
            k.layer,
            e.trace_id,
            e.start_ns,
            received
        ])?;
    }
    let mut trimmed = std::collections::BTreeSet::new();
    for e in &r.cache_examples {
        let k = &e.key;
        if trimmed.insert((k.bucket_ns, &k.service, &k.name, &k.layer)) {
            trim_misses.execute(params![
                k.bucket_ns,
                k.service,
                k.name,
                k.layer,
                EXAMPLES_PER_BUCKET as i64
            ])?;
        }
    }
    Ok(())
}

fn add_cache(conn: &Connection, received: i64, d: &CacheDelta) -> Result<(), StoreError> {
    // Lookup spans are timed; counters are not.
    let timed = d.key.source == otelscope_app::model::CacheSource::Spans;
    let (timed_hits, timed_misses) = if timed { (d.hits, d.misses) } else { (0, 0) };
    conn.prepare_cached(
        "INSERT INTO cache_rollup (bucket_ns, service, name, layer, source, hits, misses, received_ns,
                                  hit_ns, miss_ns, timed_hits, timed_misses)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
         ON CONFLICT (bucket_ns, service, name, layer, source) DO UPDATE SET
           hits = hits + excluded.hits, misses = misses + excluded.misses,
           hit_ns = hit_ns + excluded.hit_ns, miss_ns = miss_ns + excluded.miss_ns,
           timed_hits = timed_hits + excluded.timed_hits,
           timed_misses = timed_misses + excluded.timed_misses,
           received_ns = MAX(received_ns, excluded.received_ns)",
    )?
    .execute(params![
        d.key.bucket_ns,
        d.key.service,
        d.key.name,
        d.key.layer,
        d.key.source.as_str(),
        d.hits,
        d.misses,
        received,
        d.hit_ns,
        d.miss_ns,
        timed_hits,
        timed_misses
    ])?;
    Ok(())
}

/// The `cache_rollup` rows and `cache_examples` of a query's range.
pub(in crate::store) fn cache(conn: &Connection, q: &CacheQuery) -> Result<CacheRows, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT bucket_ns, service, name, layer, source, hits, misses,
                hit_ns, miss_ns, timed_hits, timed_misses FROM cache_rollup
         WHERE bucket_ns >= ?1 AND bucket_ns < ?2 AND (?3 IS NULL OR service = ?3)",
    )?;
    let rows = stmt
        .query_map(params![bucket_of(q.since_ns), clamp(q.until_ns), q.service], |r| {
            Ok(CacheRow {
                bucket_ns: r.get::<_, i64>(0)?.max(0) as u64,
                service: r.get(1)?,
                name: r.get(2)?,
                layer: r.get(3)?,
                source: super::super::rows::wire_kind(r, 4)?,
                hits: r.get::<_, i64>(5)?.max(0) as u64,
                misses: r.get::<_, i64>(6)?.max(0) as u64,
                hit_ns: r.get::<_, i64>(7)?.max(0) as u64,
                miss_ns: r.get::<_, i64>(8)?.max(0) as u64,
                timed_hits: r.get::<_, i64>(9)?.max(0) as u64,
                timed_misses: r.get::<_, i64>(10)?.max(0) as u64,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    // The newest few per cache, each read by the (cache, bucket) index from the range's end, so
    // a long range costs a few rows per cache, not every example it holds.
    let mut stmt = conn.prepare_cached(
        "SELECT trace_id FROM cache_examples
         WHERE service = ?1 AND name = ?2 AND layer = ?3 AND bucket_ns >= ?4 AND bucket_ns < ?5
         ORDER BY bucket_ns DESC, start_ns DESC, trace_id LIMIT ?6",
    )?;
    let caches: std::collections::BTreeSet<(&str, &str, &str)> = rows
        .iter()
        .filter(|row| row.source == otelscope_app::model::CacheSource::Spans && row.misses > 0)
        .map(|row| (row.service.as_str(), row.name.as_str(), row.layer.as_str()))
        .collect();
    let mut examples = Vec::new();
    for (service, name, layer) in caches {
        let range = (bucket_of(q.since_ns), clamp(q.until_ns));
        // Each trace may stand in several buckets: read enough for the answer's distinct ones.
        let limit =
            q.miss_examples.saturating_mul(EXAMPLES_PER_BUCKET).min(i64::MAX as usize) as i64;
        let ids = stmt
            .query_map(params![service, name, layer, range.0, range.1, limit], |r| r.get(0))?
            .collect::<Result<Vec<String>, _>>()?;
        examples.extend(
            ids.into_iter().map(|id| (service.to_owned(), name.to_owned(), layer.to_owned(), id)),
        );
    }
    Ok(CacheRows { rows, miss_examples: examples })
}

/// The `retry_rollup` rows and `retry_examples` of a query's range.
pub(in crate::store) fn retries(
    conn: &Connection,
    q: &RetryQuery,
) -> Result<RetryRows, StoreError> {
    let range = params![bucket_of(q.since_ns), clamp(q.until_ns), q.service];
    let mut stmt = conn.prepare_cached(
        "SELECT service, name, calls, retried_calls, resends, give_ups, circuit_open, attempts,
                tries, delays, bucket_ns
         FROM retry_rollup WHERE bucket_ns >= ?1 AND bucket_ns < ?2 AND (?3 IS NULL OR service = ?3)",
    )?;
    let count = |r: &rusqlite::Row<'_>, i| r.get::<_, i64>(i).map(|n| n.max(0) as u64);
    let rows = stmt
        .query_map(range, |r| {
            let mut row = RetryRow {
                service: r.get(0)?,
                name: r.get(1)?,
                calls: count(r, 2)?,
                retried: count(r, 3)?,
                resends: count(r, 4)?,
                give_ups: count(r, 5)?,
                circuit_open: count(r, 6)?,
                attempts: Counts::default(),
                tries: Counts::default(),
                delays: Histogram::default(),
                bucket_ns: count(r, 10)?,
            };
            row.attempts.merge_encoded(&r.get::<_, Option<Vec<u8>>>(7)?.unwrap_or_default());
            row.tries.merge_encoded(&r.get::<_, Option<Vec<u8>>>(8)?.unwrap_or_default());
            row.delays.merge_encoded(&r.get::<_, Option<Vec<u8>>>(9)?.unwrap_or_default());
            Ok(row)
        })?
        .collect::<Result<Vec<_>, _>>()?;
    // The newest few per operation and kind, read by the (operation, kind, bucket) index from
    // the range's end.
    let mut stmt = conn.prepare_cached(
        "SELECT trace_id, start_ns, duration_ns, outcome FROM retry_examples
         WHERE service = ?1 AND name = ?2 AND kind = ?3 AND bucket_ns >= ?4 AND bucket_ns < ?5
         ORDER BY bucket_ns DESC, start_ns DESC, trace_id LIMIT ?6",
    )?;
    let ops: std::collections::BTreeSet<(&str, &str)> =
        rows.iter().map(|row| (row.service.as_str(), row.name.as_str())).collect();
    let mut examples = Vec::new();
    for (service, name) in ops {
        for kind in otelscope_app::model::RetryExampleKind::ALL {
            let (since, until) = (bucket_of(q.since_ns), clamp(q.until_ns));
            let limit =
                q.examples_per_kind.saturating_mul(EXAMPLES_PER_BUCKET).min(i64::MAX as usize)
                    as i64;
            let ids = stmt
                .query_map(params![service, name, kind.as_str(), since, until, limit], |r| {
                    Ok(RetryExampleRow {
                        service: service.to_owned(),
                        name: name.to_owned(),
                        kind,
                        trace_id: r.get(0)?,
                        start_ns: count(r, 1)?,
                        duration_ns: r.get::<_, Option<i64>>(2)?.map(|n| n.max(0) as u64),
                        outcome: r.get::<_, Option<String>>(3)?.unwrap_or_default(),
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?;
            examples.extend(ids);
        }
    }
    Ok(RetryRows { rows, examples })
}

/// Drops rollup rows (and kept counter values) last written before `dropped_before`: the
/// receipt before which retention has dropped the data (the age cutoff, or just after the newest
/// trace a pass dropped), so a bucket goes with the data it came from. Not the oldest receipt in
/// `traces`: that is each trace's *last* part's, and a trace still kept may have written a row
/// with an earlier part (the services fixture lost its first call that way: issue 25). With
/// nothing kept, every rollup goes; the flame graph rollup follows the same cutoff.
pub(in crate::store) fn retain(
    conn: &Connection,
    pending: &mut PendingIndex,
    dropped_before: i64,
) -> Result<u64, StoreError> {
    let kept: bool = conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM traces) OR EXISTS (SELECT 1 FROM metric_blocks)",
        )?
        .query_row([], |r| r.get(0))?;
    let cutoff = if kept { dropped_before } else { i64::MAX };
    let mut dropped = 0;
    for table in
        ["cache_rollup", "cache_counters", "cache_examples", "retry_rollup", "retry_examples"]
    {
        dropped += conn
            .prepare_cached(&format!("DELETE FROM {table} WHERE received_ns < ?1"))?
            .execute([cutoff])? as u64;
    }
    dropped += super::services_sql::retain(conn, pending, cutoff)?;
    Ok(dropped + super::flame::retain(conn, cutoff)?)
}

fn clamp(ns: u64) -> i64 {
    ns.min(i64::MAX as u64) as i64
}
