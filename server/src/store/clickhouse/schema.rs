//! The ClickHouse schema and its migrations, versioned in the table `schema_versions` (one row
//! per applied version); a database of a newer otelscope is refused. Every statement is
//! idempotent (`IF NOT EXISTS`), so two servers migrating at once, or one interrupted halfway,
//! end in the same schema. `{db}` is the database, `{on}` ` ON CLUSTER name` when a cluster is
//! named (else empty). The layout is described in `clickhouse/mod.rs`.
//!
//! A materialized view's aliases must not repeat its source's column names (18.16 then reads
//! the alias inside its own aggregate), hence `trace_parts`' `part_` names.
//!
//! The schema is the portable one (ClickHouse 18.16 and later): no TTL, skip indexes, codecs or
//! `LowCardinality`. Features of newer servers go in later versions, gated by the probed server
//! version (`ServerVersion`).

use super::super::StoreError;
use super::http::{Http, Reader};

/// `MIGRATIONS[i]` takes the schema from version `i` to `i + 1`; each is a list of statements.
const MIGRATIONS: &[&[&str]] = &[
    &[
        "CREATE TABLE IF NOT EXISTS {db}.span_chunks{on} (
        day Date,
        received_ns Int64,
        trace_id String,
        id Int64,
        span_count UInt32,
        spans String
    ) ENGINE = MergeTree PARTITION BY day ORDER BY (trace_id, id)
      SETTINGS index_granularity = 1024",
        "CREATE TABLE IF NOT EXISTS {db}.trace_parts{on} (
        day Date,
        trace_id String,
        chunk_id Int64,
        part_received_ns Int64,
        part_start_ns Int64,
        part_end_ns Int64,
        part_spans UInt64,
        part_errors UInt64,
        root_service String,
        root_name String,
        has_root UInt8
    ) ENGINE = Null",
        "CREATE TABLE IF NOT EXISTS {db}.traces{on} (
        day Date,
        trace_id String,
        start_ns AggregateFunction(min, Int64),
        end_ns AggregateFunction(max, Int64),
        span_count AggregateFunction(sum, UInt64),
        error_count AggregateFunction(sum, UInt64),
        root AggregateFunction(argMin, Tuple(String, String), Tuple(UInt8, Int64, Int64)),
        received_ns AggregateFunction(max, Int64)
    ) ENGINE = AggregatingMergeTree PARTITION BY day ORDER BY trace_id",
        "CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.traces_mv{on} TO {db}.traces AS
     SELECT day, trace_id,
        minState(part_start_ns) AS start_ns,
        maxState(part_end_ns) AS end_ns,
        sumState(part_spans) AS span_count,
        sumState(part_errors) AS error_count,
        argMinState((root_service, root_name),
            (toUInt8(1 - has_root), if(has_root = 1, toInt64(0), part_start_ns), chunk_id)) AS root,
        maxState(part_received_ns) AS received_ns
     FROM {db}.trace_parts GROUP BY day, trace_id",
        "CREATE TABLE IF NOT EXISTS {db}.trace_ops{on} (
        day Date,
        service String,
        name String,
        start_ns Int64,
        trace_id String,
        span_count UInt64,
        error_count UInt64,
        latency String
    ) ENGINE = MergeTree PARTITION BY day ORDER BY (service, name, start_ns)",
        "CREATE TABLE IF NOT EXISTS {db}.service_ops{on} (
        day Date,
        service String,
        name String,
        span_count UInt64,
        error_count UInt64
    ) ENGINE = SummingMergeTree PARTITION BY day ORDER BY (service, name)",
        "CREATE TABLE IF NOT EXISTS {db}.service_latency{on} (
        day Date,
        service String,
        bucket UInt16,
        count UInt64
    ) ENGINE = SummingMergeTree PARTITION BY day ORDER BY (service, bucket)",
    ],
    // v2: whether a trace still waits for its root (`TraceSummary::root_missing`). Kept as the
    // minimum of `1 - has_root`, so rows written before v2 (an empty state, read as 0) keep
    // answering "root present", as they did. (18.16 has no `ADD COLUMN IF NOT EXISTS`: a rerun after
    // a failure half-way finds the column and goes on, see `migrate`.)
    &[
        "ALTER TABLE {db}.traces{on} ADD COLUMN root_missing AggregateFunction(min, UInt8)",
        "DROP TABLE IF EXISTS {db}.traces_mv{on}",
        "CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.traces_mv{on} TO {db}.traces AS
     SELECT day, trace_id,
        minState(part_start_ns) AS start_ns,
        maxState(part_end_ns) AS end_ns,
        sumState(part_spans) AS span_count,
        sumState(part_errors) AS error_count,
        argMinState((root_service, root_name),
            (toUInt8(1 - has_root), if(has_root = 1, toInt64(0), part_start_ns), chunk_id)) AS root,
        maxState(part_received_ns) AS received_ns,
        minState(toUInt8(1 - has_root)) AS root_missing
     FROM {db}.trace_parts GROUP BY day, trace_id",
    ],
    // v3: span links by the span they point at, and the cache, retry, RED and map rollups as
    // summing tables of per-batch deltas (counts summed, histograms and counts-by-key as
    // `…Map` nested columns, which SummingMergeTree sums per key). Reads sum and `sumMap` per
    // key at query time, so they never depend on merges; the example tables, the map's
    // unpaired halves and its nodes keep every row inserted, and reads pick per key.
    &[
        "CREATE TABLE IF NOT EXISTS {db}.span_links{on} (
        day Date,
        target_trace String,
        target_span String,
        trace_id String,
        span_id String,
        service String,
        name String,
        start_ns Int64
    ) ENGINE = MergeTree PARTITION BY day ORDER BY (target_trace, target_span, start_ns)",
        "CREATE TABLE IF NOT EXISTS {db}.cache_rollup{on} (
        day Date,
        bucket_ns Int64,
        service String,
        name String,
        layer String,
        source String,
        hits UInt64,
        misses UInt64,
        hit_ns UInt64,
        miss_ns UInt64,
        timed_hits UInt64,
        timed_misses UInt64
    ) ENGINE = SummingMergeTree PARTITION BY day ORDER BY (bucket_ns, service, name, layer, source)",
        "CREATE TABLE IF NOT EXISTS {db}.cache_examples{on} (
        day Date,
        service String,
        name String,
        layer String,
        bucket_ns Int64,
        start_ns Int64,
        trace_id String
    ) ENGINE = MergeTree PARTITION BY day ORDER BY (service, name, layer, bucket_ns)",
        "CREATE TABLE IF NOT EXISTS {db}.retry_rollup{on} (
        day Date,
        bucket_ns Int64,
        service String,
        name String,
        calls UInt64,
        retried UInt64,
        resends UInt64,
        give_ups UInt64,
        circuit_open UInt64,
        attemptsMap Nested(key UInt32, count UInt64),
        triesMap Nested(key UInt32, count UInt64),
        delaysMap Nested(bucket UInt16, count UInt64)
    ) ENGINE = SummingMergeTree PARTITION BY day ORDER BY (bucket_ns, service, name)",
        "CREATE TABLE IF NOT EXISTS {db}.retry_examples{on} (
        day Date,
        service String,
        name String,
        kind String,
        bucket_ns Int64,
        start_ns Int64,
        trace_id String,
        duration_ns Int64,
        outcome String
    ) ENGINE = MergeTree PARTITION BY day ORDER BY (service, name, kind, bucket_ns)",
        "CREATE TABLE IF NOT EXISTS {db}.red_rollup{on} (
        day Date,
        service String,
        bucket_ns Int64,
        name String,
        kind String,
        requests UInt64,
        errors UInt64,
        duration_ns UInt64,
        latencyMap Nested(bucket UInt16, count UInt64)
    ) ENGINE = SummingMergeTree PARTITION BY day ORDER BY (service, bucket_ns, name, kind)",
        "CREATE TABLE IF NOT EXISTS {db}.map_edges{on} (
        day Date,
        bucket_ns Int64,
        source String,
        target String,
        kind String,
        calls UInt64,
        errors UInt64,
        latencyMap Nested(bucket UInt16, count UInt64)
    ) ENGINE = SummingMergeTree PARTITION BY day ORDER BY (bucket_ns, source, target, kind)",
        "CREATE TABLE IF NOT EXISTS {db}.map_halves{on} (
        day Date,
        received_ns Int64,
        trace_id String,
        span_id String,
        family UInt8,
        side UInt8,
        service String,
        start_ns Int64,
        duration_ns Int64,
        error UInt8,
        peer_kind String,
        peer_name String,
        peer_system String
    ) ENGINE = MergeTree PARTITION BY day ORDER BY start_ns",
        "CREATE TABLE IF NOT EXISTS {db}.map_nodes{on} (
        day Date,
        received_ns Int64,
        id String,
        kind String,
        name String,
        system String,
        namespace String,
        deployment String
    ) ENGINE = MergeTree PARTITION BY day ORDER BY id",
    ],
];

/// The schema version this otelscope writes.
pub(super) const VERSION: u32 = MIGRATIONS.len() as u32;

/// The server's version, probed once when the store opens.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ServerVersion {
    pub major: u32,
    pub minor: u32,
}

impl ServerVersion {
    /// `18.16.1` → 18.16; `None` for anything else.
    pub fn parse(text: &str) -> Option<ServerVersion> {
        let mut parts = text.trim().split('.');
        let major = parts.next()?.parse().ok()?;
        let minor = parts.next()?.parse().ok()?;
        Some(ServerVersion { major, minor })
    }
}

/// Creates the database and brings its schema to `VERSION`; returns the schema version found.
pub(super) fn migrate(http: &Http, db: &str, cluster: Option<&str>) -> Result<u32, StoreError> {
    let on = cluster.map(|c| format!(" ON CLUSTER {c}")).unwrap_or_default();
    let fill = |sql: &str| sql.replace("{db}", db).replace("{on}", &on);
    http.query(&format!("CREATE DATABASE IF NOT EXISTS {db}{on}"))?;
    http.query(&fill(
        "CREATE TABLE IF NOT EXISTS {db}.schema_versions{on} (version UInt32, applied DateTime)
         ENGINE = MergeTree ORDER BY version",
    ))?;
    let found = current(http, db)?;
    if found > VERSION {
        return Err(StoreError::Open {
            path: db.to_owned(),
            why: format!(
                "its schema is version {found}, written by a newer otelscope (this one knows up to {VERSION}); upgrade otelscope or use another database"
            ),
        });
    }
    for (i, statements) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        for statement in *statements {
            match http.query(&fill(statement)) {
                // A migration that failed half-way added this column before: go on.
                Err(StoreError::Unavailable(why)) if why.contains("Code: 15,") => {}
                answer => {
                    answer?;
                }
            }
        }
        let version = i as u32 + 1;
        http.query(&format!(
            "INSERT INTO {db}.schema_versions (version, applied) VALUES ({version}, now())"
        ))?;
    }
    Ok(found)
}

/// The highest version applied (0 for a new database).
fn current(http: &Http, db: &str) -> Result<u32, StoreError> {
    let answer = http.query(&format!(
        "SELECT toUInt64(max(version)) FROM {db}.schema_versions FORMAT RowBinary"
    ))?;
    Ok(Reader::new(&answer).u64()? as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse_major_and_minor() {
        assert_eq!(ServerVersion::parse("18.16.1\n"), Some(ServerVersion { major: 18, minor: 16 }));
        assert!(ServerVersion::parse("24.8.4.13") > ServerVersion::parse("18.16.1"));
        assert_eq!(ServerVersion::parse("garbage"), None);
    }
}
