//! The SQLite schema and its migrations, versioned with `PRAGMA user_version`.
//!
//! Spans are stored as one row per trace per export request (`span_chunks`, a zstd-compressed
//! JSON array; chunks written before compression are plain JSON and still read), so
//! an insert touches a few B-tree pages per trace instead of one per span; `traces` and
//! `trace_ops` are the summaries and the index that search reads.

use rusqlite::Connection;

use super::StoreError;

/// Migrations in order; `MIGRATIONS[i]` takes the schema from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[
    r#"
    CREATE TABLE span_chunks (
        id          INTEGER PRIMARY KEY,
        trace_id    TEXT    NOT NULL,
        span_count  INTEGER NOT NULL,
        spans       BLOB    NOT NULL
    );
    CREATE INDEX span_chunks_trace ON span_chunks (trace_id);

    CREATE TABLE traces (
        trace_id     TEXT PRIMARY KEY,
        start_ns     INTEGER NOT NULL,
        end_ns       INTEGER NOT NULL,
        span_count   INTEGER NOT NULL,
        error_count  INTEGER NOT NULL,
        root_service TEXT    NOT NULL,
        root_name    TEXT    NOT NULL,
        -- 1 once the root span (no parent) arrived; until then root_* name the earliest span.
        has_root     INTEGER NOT NULL
    );
    CREATE INDEX traces_start ON traces (start_ns);

    -- Which operations occur in which trace, with span counts: search by service/name and
    -- per-service totals.
    CREATE TABLE trace_ops (
        trace_id   TEXT    NOT NULL,
        service    TEXT    NOT NULL,
        name       TEXT    NOT NULL,
        span_count INTEGER NOT NULL,
        PRIMARY KEY (trace_id, service, name)
    ) WITHOUT ROWID;
    CREATE INDEX trace_ops_service ON trace_ops (service, name);
"#,
    r#"
    -- One row per log record / metric point (JSON of the model type); far fewer than spans.
    CREATE TABLE logs (
        id       INTEGER PRIMARY KEY,
        time_ns  INTEGER NOT NULL,
        service  TEXT    NOT NULL,
        trace_id TEXT,
        severity INTEGER NOT NULL,
        record   BLOB    NOT NULL
    );
    CREATE INDEX logs_time ON logs (time_ns);
    CREATE INDEX logs_trace ON logs (trace_id) WHERE trace_id IS NOT NULL;

    CREATE TABLE metric_points (
        id      INTEGER PRIMARY KEY,
        name    TEXT    NOT NULL,
        service TEXT    NOT NULL,
        time_ns INTEGER NOT NULL,
        point   BLOB    NOT NULL
    );
    CREATE INDEX metric_points_name ON metric_points (name, time_ns);
    CREATE INDEX metric_points_time ON metric_points (time_ns);
"#,
    r#"
    -- Per operation and trace: error spans and a latency histogram (`latency.rs`). Rows
    -- written before this version have none (NULL histogram).
    ALTER TABLE trace_ops ADD COLUMN error_count INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE trace_ops ADD COLUMN latency BLOB;

    -- The same per service, kept equal to the sum of its trace_ops rows by every write and
    -- retention pass, so /services reads one row per service.
    CREATE TABLE service_stats (
        service     TEXT PRIMARY KEY,
        span_count  INTEGER NOT NULL,
        error_count INTEGER NOT NULL,
        latency     BLOB
    ) WITHOUT ROWID;
    INSERT INTO service_stats (service, span_count, error_count, latency)
        SELECT service, SUM(span_count), 0, NULL FROM trace_ops GROUP BY service;
"#,
    r#"
    -- Retention counts from when otelscope received the data, never from the sender's
    -- timestamps. Rows stored before this version count as received now (the upgrade).
    -- `stored_bytes` is what a trace's chunks take, for the disk-size bound.
    ALTER TABLE traces ADD COLUMN received_ns INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE traces ADD COLUMN stored_bytes INTEGER NOT NULL DEFAULT 0;
    UPDATE traces SET
        received_ns = CAST((julianday('now') - 2440587.5) * 86400000000000.0 AS INTEGER),
        stored_bytes = (SELECT COALESCE(SUM(length(spans)), 0) FROM span_chunks c
                        WHERE c.trace_id = traces.trace_id);
    CREATE INDEX traces_received ON traces (received_ns);

    ALTER TABLE logs ADD COLUMN received_ns INTEGER NOT NULL DEFAULT 0;
    UPDATE logs SET received_ns = CAST((julianday('now') - 2440587.5) * 86400000000000.0 AS INTEGER);
    CREATE INDEX logs_received ON logs (received_ns);

    ALTER TABLE metric_points ADD COLUMN received_ns INTEGER NOT NULL DEFAULT 0;
    UPDATE metric_points SET received_ns = CAST((julianday('now') - 2440587.5) * 86400000000000.0 AS INTEGER);
    CREATE INDEX metric_points_received ON metric_points (received_ns);
"#,
    r#"
    -- Rollups per 10 s bucket (of span start / point time) for /cache and /retries, kept by the
    -- writer so no query decodes span chunks. `received_ns` is the last receipt that added to a
    -- row; retention drops rows older than the oldest data it keeps. Data stored before this
    -- version is not rolled up (that would decode every chunk); the tables start empty.
    CREATE TABLE cache_rollup (
        bucket_ns   INTEGER NOT NULL,
        service     TEXT    NOT NULL,
        name        TEXT    NOT NULL,
        layer       TEXT    NOT NULL,
        -- 'spans' or 'metrics'
        source      TEXT    NOT NULL,
        hits        INTEGER NOT NULL,
        misses      INTEGER NOT NULL,
        received_ns INTEGER NOT NULL,
        PRIMARY KEY (bucket_ns, service, name, layer, source)
    ) WITHOUT ROWID;
    CREATE INDEX cache_rollup_received ON cache_rollup (received_ns);

    -- The last value of each cumulative cache counter (metric name, service, attributes), so
    -- the next point becomes a delta.
    CREATE TABLE cache_counters (
        series      TEXT    PRIMARY KEY,
        start_ns    INTEGER NOT NULL,
        time_ns     INTEGER NOT NULL,
        value       REAL    NOT NULL,
        received_ns INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX cache_counters_received ON cache_counters (received_ns);

    -- Per operation: counts, `attempts` (attempts -> calls seen whole) and `tries` (attempt
    -- index -> attempt spans), both `counts_merge` pairs, and `delays` (latency.rs histogram).
    CREATE TABLE retry_rollup (
        bucket_ns     INTEGER NOT NULL,
        service       TEXT    NOT NULL,
        name          TEXT    NOT NULL,
        calls         INTEGER NOT NULL,
        retried_calls INTEGER NOT NULL,
        resends       INTEGER NOT NULL,
        give_ups      INTEGER NOT NULL,
        circuit_open  INTEGER NOT NULL,
        attempts      BLOB,
        tries         BLOB,
        delays        BLOB,
        received_ns   INTEGER NOT NULL,
        PRIMARY KEY (bucket_ns, service, name)
    ) WITHOUT ROWID;
    CREATE INDEX retry_rollup_received ON retry_rollup (received_ns);

    -- A few newest trace ids per bucket, operation and kind ('retried', 'gave_up', 'circuit_open').
    CREATE TABLE retry_examples (
        bucket_ns   INTEGER NOT NULL,
        service     TEXT    NOT NULL,
        name        TEXT    NOT NULL,
        kind        TEXT    NOT NULL,
        trace_id    TEXT    NOT NULL,
        start_ns    INTEGER NOT NULL,
        received_ns INTEGER NOT NULL,
        PRIMARY KEY (bucket_ns, service, name, kind, trace_id)
    ) WITHOUT ROWID;
    CREATE INDEX retry_examples_received ON retry_examples (received_ns);
"#,
    // v6: a few newest traces with a cache miss per bucket and cache (spans only).
    r#"
    CREATE TABLE cache_examples (
        bucket_ns   INTEGER NOT NULL,
        service     TEXT    NOT NULL,
        name        TEXT    NOT NULL,
        layer       TEXT    NOT NULL,
        trace_id    TEXT    NOT NULL,
        start_ns    INTEGER NOT NULL,
        received_ns INTEGER NOT NULL,
        PRIMARY KEY (bucket_ns, service, name, layer, trace_id)
    ) WITHOUT ROWID;
    CREATE INDEX cache_examples_received ON cache_examples (received_ns);
    -- A query reads the newest few per cache from its range's end.
    CREATE INDEX cache_examples_by_cache ON cache_examples (service, name, layer, bucket_ns);
    -- And per operation and kind.
    CREATE INDEX retry_examples_by_op ON retry_examples (service, name, kind, bucket_ns);
"#,
    // v7 (flame graphs and profiles): the stack rollup of span self times (`rollup/flame.rs`)
    // and the kept CPU profiles (`profiles.rs`). Data stored before this version is not folded
    // (that would decode every chunk).
    r#"
    -- Every distinct stack prefix once: a frame (service, name) under its parent frame (0 is
    -- the root, which has no row). `[other]` (service '') under the root holds stacks past a
    -- bucket's bound.
    CREATE TABLE flame_nodes (
        id      INTEGER PRIMARY KEY,
        parent  INTEGER NOT NULL,
        service TEXT    NOT NULL,
        name    TEXT    NOT NULL,
        UNIQUE (parent, service, name)
    );
    CREATE INDEX flame_nodes_op ON flame_nodes (service, name);

    -- Per frame and 10 s bucket of the trace's start: self time (µs) and traces through it.
    CREATE TABLE flame_rollup (
        node        INTEGER NOT NULL,
        bucket_ns   INTEGER NOT NULL,
        self_us     INTEGER NOT NULL,
        traces      INTEGER NOT NULL,
        received_ns INTEGER NOT NULL,
        PRIMARY KEY (node, bucket_ns)
    ) WITHOUT ROWID;
    CREATE INDEX flame_rollup_bucket ON flame_rollup (bucket_ns);
    CREATE INDEX flame_rollup_received ON flame_rollup (received_ns);

    -- Traces with parts not yet folded (received_ns = their last part's receipt).
    CREATE TABLE flame_pending (
        trace_id    TEXT PRIMARY KEY,
        received_ns INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX flame_pending_received ON flame_pending (received_ns);

    -- Folded traces: the last chunk folded in and the bucket they went to, so a late part
    -- replaces the trace's old contribution.
    CREATE TABLE flame_folded (
        trace_id   TEXT PRIMARY KEY,
        last_chunk INTEGER NOT NULL,
        bucket_ns  INTEGER NOT NULL
    ) WITHOUT ROWID;

    -- CPU profiles, imported or taken of otelscope itself (`/api/v1/profiles`), each its
    -- folded text zstd-compressed; the newest few are kept (`store/profiles.rs`).
    CREATE TABLE profiles (
        id           TEXT    PRIMARY KEY,
        created_ns   INTEGER NOT NULL,
        -- 'cpu', 'pprof' or 'folded'
        source       TEXT    NOT NULL,
        name         TEXT    NOT NULL,
        unit         TEXT    NOT NULL,
        stacks       INTEGER NOT NULL,
        total        INTEGER NOT NULL,
        stored_bytes INTEGER NOT NULL,
        folded       BLOB    NOT NULL
    );
    CREATE INDEX profiles_created ON profiles (created_ns);
"#,
    r#"
    -- The fold pass finds the traces to fold in `traces` itself, by their receipt (strictly
    -- increasing from one write to the next), past this watermark: the (received_ns, rowid)
    -- of the last trace it took. It replaces flame_pending, a row written per trace per write.
    CREATE TABLE flame_watermark (
        id          INTEGER PRIMARY KEY CHECK (id = 0),
        received_ns INTEGER NOT NULL,
        trace_rowid INTEGER NOT NULL
    );
    INSERT INTO flame_watermark
    SELECT 0, COALESCE((SELECT MIN(received_ns) - 1 FROM flame_pending),
                       (SELECT MAX(received_ns) FROM traces), 0), 0;
    DROP TABLE flame_pending;
"#,
    r#"
    -- Searches leave out traces rooted in otelscope's own services (model::SELF_SERVICES)
    -- unless asked: newest first over the others without stepping over the self traces an
    -- idle dashboard's polling leaves (thousands a day).
    CREATE INDEX traces_start_others ON traces (start_ns)
        WHERE root_service NOT IN ('otelscope', 'otelscope-ui');
"#,
    r#"
    -- The frames of each profile's tree, counted at import so a read can refuse to draw one
    -- too large without building it; NULL for profiles kept before (counted, within the
    -- bound, when read).
    ALTER TABLE profiles ADD COLUMN nodes INTEGER;
"#,
];

/// The schema version this build writes.
pub const VERSION: i64 = MIGRATIONS.len() as i64;

/// Brings `conn` to [`VERSION`], refusing a store from a newer otelscope.
pub fn migrate(conn: &mut Connection, path: &str) -> Result<(), StoreError> {
    migrate_to(conn, path, VERSION)
}

/// Brings `conn` to `version` (tests make stores of older versions with it).
pub(crate) fn migrate_to(
    conn: &mut Connection,
    path: &str,
    version: i64,
) -> Result<(), StoreError> {
    let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if found > VERSION {
        return Err(StoreError::TooNew { path: path.to_owned(), found, known: VERSION });
    }
    for (from, sql) in MIGRATIONS.iter().enumerate().take(version as usize).skip(found as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", from as i64 + 1)?;
        tx.commit()?;
    }
    Ok(())
}
