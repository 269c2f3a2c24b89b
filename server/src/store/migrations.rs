//! The SQLite schema's migrations in order, each a batch of SQL; the layout they build is described in `schema.rs`.

/// Migrations in order; `MIGRATIONS[i]` takes the schema from version `i` to `i + 1`.
pub(super) const MIGRATIONS: &[&str] = &[
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
    // v11 (logs): records in compressed chunks, an index row each, full-text search. The
    // `logs` rows of older versions are moved into these by `sqlite::logs::convert_at_open` when
    // the store opens (it compresses, which SQL cannot), then `logs` is dropped.
    r#"
    -- Names stored once: a record keeps the small integer.
    CREATE TABLE log_services (
        id   INTEGER PRIMARY KEY,
        name TEXT    NOT NULL UNIQUE
    );
    -- The distinct sets of attribute keys records carry (sorted, one per line), for the key
    -- facet without decoding records.
    CREATE TABLE log_keysets (
        id   INTEGER PRIMARY KEY,
        keys TEXT    NOT NULL UNIQUE
    );
    -- Up to 128 records of one batch, a zstd-compressed JSON array; the chunk's id is its
    -- first record's id and its records' ids follow on (id + position).
    CREATE TABLE log_chunks (
        id          INTEGER PRIMARY KEY,
        records     INTEGER NOT NULL,
        received_ns INTEGER NOT NULL,
        data        BLOB    NOT NULL
    );
    -- Covers retention's questions (what was received before, how many records in all).
    CREATE INDEX log_chunks_received ON log_chunks (received_ns, records);
    -- One row per record, in page order (time, id): ranges of time, the histogram and the
    -- facets read it without decoding a chunk.
    CREATE TABLE log_records (
        time_ns  INTEGER NOT NULL,
        id       INTEGER NOT NULL,
        service  INTEGER NOT NULL,
        severity INTEGER NOT NULL,
        keyset   INTEGER NOT NULL,
        trace_id BLOB,
        span_id  BLOB,
        PRIMARY KEY (time_ns, id)
    ) WITHOUT ROWID;
    CREATE UNIQUE INDEX log_records_id ON log_records (id);
    CREATE INDEX log_records_trace ON log_records (trace_id, span_id) WHERE trace_id IS NOT NULL;
    CREATE INDEX log_records_service ON log_records (service, time_ns);
    -- Full-text search (rowid = record id), one column: the body's text, the attribute values'
    -- text, and one hashed token per attribute key and value for exact `attr=K=V` filters.
    -- Contentless (the text is in the chunks), deletable for retention.
    CREATE VIRTUAL TABLE log_text USING fts5 (text, content = '', contentless_delete = 1);
"#,
    // v12 (metrics by series): see "Metrics" in the module doc. The JSON rows of
    // `metric_points` are moved into series and blocks when the store opens
    // (`sqlite::metrics::convert_legacy`); the table stays, empty.
    r#"
    CREATE TABLE metric_series (
        id          INTEGER PRIMARY KEY,
        -- FNV-1a of name, unit, kind, temporality, monotonic, service, resource, scope and
        -- point attributes (`store::metrics::SeriesMeta::identity_hash`).
        hash        INTEGER NOT NULL UNIQUE,
        name        TEXT    NOT NULL,
        -- 'gauge', 'sum', 'histogram', 'exponential_histogram' or 'summary'
        kind        TEXT    NOT NULL,
        unit        TEXT    NOT NULL,
        temporality TEXT    NOT NULL,
        monotonic   INTEGER NOT NULL,
        description TEXT    NOT NULL,
        service     TEXT    NOT NULL,
        -- JSON: resource attributes, scope, point attributes
        resource    TEXT    NOT NULL,
        scope       TEXT    NOT NULL,
        attributes  TEXT    NOT NULL,
        -- A receipt of one of its points, at most a minute older than the newest.
        received_ns INTEGER NOT NULL
    );
    CREATE INDEX metric_series_name ON metric_series (name, service);
    CREATE INDEX metric_series_received ON metric_series (received_ns);

    CREATE TABLE metric_blocks (
        id          INTEGER PRIMARY KEY,
        name        TEXT    NOT NULL,
        -- 0: written by one batch; 1: merged from many (`sqlite::metrics::compact`)
        level       INTEGER NOT NULL,
        min_time    INTEGER NOT NULL,
        max_time    INTEGER NOT NULL,
        points      INTEGER NOT NULL,
        received_ns INTEGER NOT NULL,
        data        BLOB    NOT NULL
    );
    CREATE INDEX metric_blocks_name ON metric_blocks (name, max_time, min_time, points);
    CREATE INDEX metric_blocks_received ON metric_blocks (received_ns);
    CREATE INDEX metric_blocks_fresh ON metric_blocks (name) WHERE level = 0;
"#,
    // v13 (log rollup): records counted per 10 s cell, service and severity number, with the
    // smallest and largest id counted in each (`sqlite::log_counts`); filled here from the
    // records already stored.
    r#"
    CREATE TABLE log_counts (
        cell     INTEGER NOT NULL, -- time_ns / 10 s
        service  INTEGER NOT NULL,
        severity INTEGER NOT NULL,
        count    INTEGER NOT NULL,
        first_id INTEGER NOT NULL,
        last_id  INTEGER NOT NULL,
        PRIMARY KEY (cell, service, severity)
    ) WITHOUT ROWID;
    INSERT INTO log_counts (cell, service, severity, count, first_id, last_id)
        SELECT time_ns / 10000000000, service, severity, COUNT(*), MIN(id), MAX(id)
        FROM log_records GROUP BY 1, 2, 3;
"#,
    // v14 (services in depth, issue 25): the RED rollup,
    // the service map's edges, the halves of calls waiting for their other half, and what the
    // map knows of its nodes. See `store/rollup/services.rs`.
    r#"
    CREATE TABLE red_rollup (
        service      TEXT    NOT NULL,
        bucket_ns    INTEGER NOT NULL,
        name         TEXT    NOT NULL,
        -- span kind as the wire writes it: 'server', 'client', 'internal', ...
        kind         TEXT    NOT NULL,
        requests     INTEGER NOT NULL,
        errors       INTEGER NOT NULL,
        duration_ns  INTEGER NOT NULL,
        latency      BLOB,
        received_ns  INTEGER NOT NULL,
        PRIMARY KEY (service, bucket_ns, name, kind)
    ) WITHOUT ROWID;
    CREATE INDEX red_rollup_received ON red_rollup (received_ns);

    CREATE TABLE edge_rollup (
        bucket_ns    INTEGER NOT NULL,
        source       TEXT    NOT NULL,
        target       TEXT    NOT NULL,
        -- 'request', 'database' or 'messaging'
        kind         TEXT    NOT NULL,
        calls        INTEGER NOT NULL,
        errors       INTEGER NOT NULL,
        latency      BLOB,
        received_ns  INTEGER NOT NULL,
        PRIMARY KEY (bucket_ns, source, target, kind)
    ) WITHOUT ROWID;
    CREATE INDEX edge_rollup_received ON edge_rollup (received_ns);

    CREATE TABLE edge_pending (
        id           INTEGER PRIMARY KEY,
        -- the caller's span: a client's or producer's own id, a server's or consumer's parent
        -- (or link)
        trace_id     TEXT    NOT NULL,
        span_id      TEXT    NOT NULL,
        -- 0: request (client/server), 1: messaging (producer/consumer)
        family       INTEGER NOT NULL,
        -- 0: caller (client, producer), 1: callee (server, consumer)
        side         INTEGER NOT NULL,
        service      TEXT    NOT NULL,
        start_ns     INTEGER NOT NULL,
        duration_ns  INTEGER NOT NULL,
        error        INTEGER NOT NULL,
        -- the virtual node it names (a caller's peer, a messaging span's queue), if any
        peer_kind    TEXT,
        peer_name    TEXT,
        peer_system  TEXT,
        received_ns  INTEGER NOT NULL
    );
    CREATE INDEX edge_pending_key ON edge_pending (trace_id, span_id, family, side);
    CREATE INDEX edge_pending_received ON edge_pending (received_ns);

    CREATE TABLE map_nodes (
        id           TEXT PRIMARY KEY,
        kind         TEXT    NOT NULL,
        name         TEXT    NOT NULL,
        system       TEXT,
        namespace    TEXT,
        deployment   TEXT,
        received_ns  INTEGER NOT NULL
    );
"#,
    // v15 (retries over time): a retry example's call duration and outcome, so the page shows
    // when, how long and how it ended (NULL for examples stored before).
    r#"
    ALTER TABLE retry_examples ADD COLUMN duration_ns INTEGER;
    ALTER TABLE retry_examples ADD COLUMN outcome TEXT;
"#,
    // v16 (profiles with their time): how long a profile ran (a CPU profile's seconds), so the
    // list shows when each started and for how long (NULL for imports and older rows).
    r#"
    ALTER TABLE profiles ADD COLUMN duration_ns INTEGER;
"#,
    // v17 (span ingest back to its baseline, issues 22 and 25): the RED rollup's rows leave by
    // their (service, bucket), whose last receipt `red_buckets` keeps, instead of by an index
    // entry per row; `edge_pending` expires and leaves in id order (receipts grow with ids), so
    // neither keeps a `received_ns` index the writer updates per row.
    r#"
    DROP INDEX red_rollup_received;
    CREATE TABLE red_buckets (
        service      TEXT    NOT NULL,
        bucket_ns    INTEGER NOT NULL,
        received_ns  INTEGER NOT NULL,
        PRIMARY KEY (service, bucket_ns)
    ) WITHOUT ROWID;
    CREATE INDEX red_buckets_received ON red_buckets (received_ns);
    INSERT INTO red_buckets (service, bucket_ns, received_ns)
        SELECT service, bucket_ns, MAX(received_ns) FROM red_rollup GROUP BY service, bucket_ns;
    DROP INDEX edge_pending_received;
"#,
    // v18 (hit vs miss latency): the summed durations of a cache row's hit and miss lookup
    // spans; with the counts, their means. Rows written before count none (`timed_*` 0).
    r#"
    ALTER TABLE cache_rollup ADD COLUMN hit_ns INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE cache_rollup ADD COLUMN miss_ns INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE cache_rollup ADD COLUMN timed_hits INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE cache_rollup ADD COLUMN timed_misses INTEGER NOT NULL DEFAULT 0;
"#,
    // v19 (issue 25): span links indexed by the span they point at, so a producer lists the
    // consumers that link to it. Rows leave with either trace (`retention.rs`); spans stored
    // before have none.
    r#"
    CREATE TABLE span_links (
        target_trace TEXT    NOT NULL,
        target_span  TEXT    NOT NULL,
        -- the linking span
        trace_id     TEXT    NOT NULL,
        span_id      TEXT    NOT NULL,
        service      TEXT    NOT NULL,
        name         TEXT    NOT NULL,
        start_ns     INTEGER NOT NULL,
        PRIMARY KEY (target_trace, target_span, trace_id, span_id)
    ) WITHOUT ROWID;
    CREATE INDEX span_links_source ON span_links (trace_id);
"#,
    // v20 (logs leaner, issue 23 item 8): a record's row loses its trace and span ids and the
    // (trace, span) index with them (37 B a record); trace and span ids become full-text tokens
    // (`store::logs::id_token`). The full-text table loses its per-row sizes (13 B a record):
    // contentless without `contentless_delete`, retention deletes a record's entries by giving
    // its text again (`sqlite::logs::unindex`). Its new table starts empty and
    // `sqlite::logs::reindex` fills it from the chunks when the store opens, from
    // `log_reindex.next_chunk` on, then drops that marker.
    r#"
    CREATE TABLE log_records_v20 (
        time_ns  INTEGER NOT NULL,
        id       INTEGER NOT NULL,
        service  INTEGER NOT NULL,
        severity INTEGER NOT NULL,
        keyset   INTEGER NOT NULL,
        PRIMARY KEY (time_ns, id)
    ) WITHOUT ROWID;
    INSERT INTO log_records_v20 (time_ns, id, service, severity, keyset)
        SELECT time_ns, id, service, severity, keyset FROM log_records ORDER BY time_ns, id;
    DROP TABLE log_records;
    ALTER TABLE log_records_v20 RENAME TO log_records;
    CREATE UNIQUE INDEX log_records_id ON log_records (id);
    CREATE INDEX log_records_service ON log_records (service, time_ns);
    DROP TABLE log_text;
    CREATE VIRTUAL TABLE log_text USING fts5 (text, content = '', columnsize = 0);
    CREATE TABLE log_reindex (next_chunk INTEGER NOT NULL);
    INSERT INTO log_reindex (next_chunk) VALUES (0);
"#,
    // v21 (issue 25: RED and the map over hours): the RED and edge rows summed per minute
    // (`red_minutes`, `edge_minutes`), kept by a compaction in the retention pass
    // (`minutes_sql::compact`). A minute is read from them only when no mark in the `_stale`
    // tables says a 10 s row of it changed since; the triggers set those marks in the writer's
    // own statements (a batch's upserts, retention's deletes), so a read is exact without the
    // writer doing more than one small insert per (service, bucket) and per edge row.
    r#"
    CREATE TABLE red_minutes (
        service      TEXT    NOT NULL,
        minute_ns    INTEGER NOT NULL,
        name         TEXT    NOT NULL,
        kind         TEXT    NOT NULL,
        requests     INTEGER NOT NULL,
        errors       INTEGER NOT NULL,
        duration_ns  INTEGER NOT NULL,
        latency      BLOB,
        PRIMARY KEY (service, minute_ns, name, kind)
    ) WITHOUT ROWID;
    CREATE TABLE red_minutes_stale (
        minute_ns    INTEGER NOT NULL,
        service      TEXT    NOT NULL,
        PRIMARY KEY (minute_ns, service)
    ) WITHOUT ROWID;
    CREATE TRIGGER red_minutes_stale_insert AFTER INSERT ON red_buckets BEGIN
        INSERT INTO red_minutes_stale (minute_ns, service)
            SELECT NEW.bucket_ns - NEW.bucket_ns % 60000000000, NEW.service
            WHERE NOT EXISTS (SELECT 1 FROM red_minutes_stale
                WHERE minute_ns = NEW.bucket_ns - NEW.bucket_ns % 60000000000
                  AND service = NEW.service);
    END;
    CREATE TRIGGER red_minutes_stale_update AFTER UPDATE ON red_buckets BEGIN
        INSERT INTO red_minutes_stale (minute_ns, service)
            SELECT NEW.bucket_ns - NEW.bucket_ns % 60000000000, NEW.service
            WHERE NOT EXISTS (SELECT 1 FROM red_minutes_stale
                WHERE minute_ns = NEW.bucket_ns - NEW.bucket_ns % 60000000000
                  AND service = NEW.service);
    END;
    CREATE TRIGGER red_minutes_stale_delete AFTER DELETE ON red_buckets BEGIN
        INSERT INTO red_minutes_stale (minute_ns, service)
            SELECT OLD.bucket_ns - OLD.bucket_ns % 60000000000, OLD.service
            WHERE NOT EXISTS (SELECT 1 FROM red_minutes_stale
                WHERE minute_ns = OLD.bucket_ns - OLD.bucket_ns % 60000000000
                  AND service = OLD.service);
    END;
    INSERT INTO red_minutes_stale (minute_ns, service)
        SELECT DISTINCT bucket_ns - bucket_ns % 60000000000, service FROM red_buckets;

    CREATE TABLE edge_minutes (
        minute_ns    INTEGER NOT NULL,
        source       TEXT    NOT NULL,
        target       TEXT    NOT NULL,
        kind         TEXT    NOT NULL,
        calls        INTEGER NOT NULL,
        errors       INTEGER NOT NULL,
        latency      BLOB,
        PRIMARY KEY (minute_ns, source, target, kind)
    ) WITHOUT ROWID;
    CREATE TABLE edge_minutes_stale (minute_ns INTEGER PRIMARY KEY);
    CREATE TRIGGER edge_minutes_stale_insert AFTER INSERT ON edge_rollup BEGIN
        INSERT INTO edge_minutes_stale (minute_ns)
            SELECT NEW.bucket_ns - NEW.bucket_ns % 60000000000
            WHERE NOT EXISTS (SELECT 1 FROM edge_minutes_stale
                WHERE minute_ns = NEW.bucket_ns - NEW.bucket_ns % 60000000000);
    END;
    CREATE TRIGGER edge_minutes_stale_update AFTER UPDATE ON edge_rollup BEGIN
        INSERT INTO edge_minutes_stale (minute_ns)
            SELECT NEW.bucket_ns - NEW.bucket_ns % 60000000000
            WHERE NOT EXISTS (SELECT 1 FROM edge_minutes_stale
                WHERE minute_ns = NEW.bucket_ns - NEW.bucket_ns % 60000000000);
    END;
    CREATE TRIGGER edge_minutes_stale_delete AFTER DELETE ON edge_rollup BEGIN
        INSERT INTO edge_minutes_stale (minute_ns)
            SELECT OLD.bucket_ns - OLD.bucket_ns % 60000000000
            WHERE NOT EXISTS (SELECT 1 FROM edge_minutes_stale
                WHERE minute_ns = OLD.bucket_ns - OLD.bucket_ns % 60000000000);
    END;
    INSERT INTO edge_minutes_stale (minute_ns)
        SELECT DISTINCT bucket_ns - bucket_ns % 60000000000 FROM edge_rollup;
"#,
    // v22 (span ingest back to its baseline, issue 22 item 9): `edge_pending` loses its key
    // index; the writer finds a half's other half through its in-memory `PendingIndex`
    // (`store/rollup/pending.rs`), so a waiting half is an append to the rowid B-tree only.
    r#"
    DROP INDEX edge_pending_key;
"#,
];
