//! The SQLite schema and its migrations, versioned with `PRAGMA user_version`; a newer store is refused.
//!
//! # How the store lays out data
//!
//! - `span_chunks`: one row per trace per export request, the spans as a zstd-compressed JSON
//!   array; an insert touches a few pages per trace, not one B-tree insert per span (see
//!   `shared/calibration.md`); readers take one chunk per short read (`id > last ORDER BY id LIMIT
//!   1`), so a slow reader holds no connection or lock.
//! - `traces`: one summary row per trace (start, end, counts, root service/name, whether the root
//!   arrived, `received_ns` = when its last part arrived, `stored_bytes`); search walks it newest
//!   first by `start_ns`.
//! - `trace_ops`: (trace, service, name) → span count, error count and a duration histogram
//!   (`latency.rs`: 64 buckets per power of two, so percentiles are within 1%; merged in SQL by
//!   the `latency_merge` function when a trace arrives in several requests); it answers
//!   service/name filters and `/services` (counts, errors, p50/p95/p99); `/operations` lists a
//!   service's names by skipping through its (service, name) index, one probe per name.
//! - `cache_rollup`: (10 s bucket, service, cache name, layer, source `spans`|`metrics`) → hits,
//!   misses, and (spans, v18) `hit_ns`/`miss_ns`, the summed lookup durations over
//!   `timed_hits`/`timed_misses` lookups (their means are the page's hit vs miss latency);
//!   `cache_counters`: the last value of each cumulative cache counter (name + service +
//!   attribute set; its start time is kept in the row).
//! - `cache_examples`: the 3 newest trace ids with a miss per bucket and cache (spans only), so
//!   `/cache` links to example misses.
//! - `retry_rollup`: (10 s bucket, service, span name) → calls, retried calls, resends, give-ups,
//!   circuit-open rejections, `attempts` (attempts → calls seen whole), `tries` (attempt index →
//!   attempt spans), backoff `delays` (a `latency.rs` histogram); `retry_examples`: the 3 newest
//!   trace ids per bucket, operation and kind (retried, gave up, circuit open), with the span's
//!   `duration_ns` and `outcome` (v15; NULL before).
//! - Every rollup row carries `received_ns`, the last receipt that added to it; after each
//!   retention pass, rows last written before the oldest receipt still kept in `traces` or
//!   `metric_blocks` go (a bucket goes with the data it came from; one that newer data also wrote
//!   to stays whole until that goes too). Data stored before schema v5 is not rolled up: doing so
//!   would decode every chunk.
//! - `profiles` (v7; `nodes` since v10, `duration_ns` since v16, NULL for older rows): one row per kept profile
//!   (`/api/v1/profiles`): summary columns, its tree's node count and the folded text zstd-
//!   compressed; the newest 200 are kept within 64 MiB of compressed text (the newest always),
//!   trimmed in the transaction that adds one (`store/profiles.rs`, `ProfileBounds`). A profile is
//!   written on the writer connection under its mutex, not through the ingest queue, so SQLite
//!   still has one writer.
//! - Flame graphs (v7): `flame_nodes` interns every stack prefix once, a frame (service, name)
//!   under its parent frame (0 = the root), so an operation is found wherever it sits (index on
//!   service, name) and its subtree by a recursive query; `flame_rollup`: (frame, 10 s bucket of
//!   the trace's start) → self µs and traces through the frame, read per frame by its primary key,
//!   so an operation over six hours reads a few rows per frame of its subtree.
//! - A trace is folded only when whole: the fold pass takes traces in the order of
//!   `traces.received_ns` (their last part's receipt) past a watermark (`flame_watermark`: the
//!   (received_ns, rowid) of the last trace it took), and decodes those whose last part arrived
//!   over 5 s ago on a read connection (as `SpanTiming`s: ids, names, services and times; serde
//!   skips the rest) and holds the writer only to apply; `flame_folded` keeps the last chunk
//!   folded, and a late part replaces the trace's old contribution (the fold of its chunks up to
//!   that one, taken off its old bucket) with the new.
//! - A bucket keeps at most 2,000 frames; a later trace's new frames past that go to `[other]`
//!   under the root (counted once per trace) and answers over it say `truncated`; frames deeper
//!   than 128 end in one `[deeper]` frame; traces over 200,000 spans are not folded.
//! - A query adds the recent traces of its range not folded yet (at most 1,000, newest first,
//!   `truncated` past that), folded on the fly; a late part of a folded trace shows once the pass
//!   has taken it. Data stored before v7 is not folded.
//! - Logs (v11): `log_chunks` holds the records of one batch, up to 128 at a time, as a
//!   zstd-compressed JSON array (the resource, scope and keys every record repeats compress
//!   away); its id is its first record's and the others follow on, so a record's chunk is the
//!   chunk with the largest id at or below the record's (`id <= ? ORDER BY id DESC LIMIT 1`).
//! - `log_records`: one small row per record, `WITHOUT ROWID` in page order (time, id): the
//!   service and the key set as integers (`log_services`, `log_keysets`: each distinct name or
//!   sorted set of attribute keys once) and the severity number (v20 dropped the trace and span
//!   ids and their index). A page, the histogram and the facets read these rows only and
//!   decode just the records shown. Indexes: `id` (full-text hits and context anchors),
//!   (service, time) for a service's pages and context.
//! - `log_text`: an FTS5 table, contentless (the text lives in the chunks), rowid = record id,
//!   one column (fewer position lists to write): the body's text and the attribute values'
//!   text (`model::value_text`, each cut at 64 KiB) for `q`, one token per attribute (`a` + a
//!   64-bit hash of key and value) for exact `attr=K=V`, and (v20) one for the trace id and
//!   one for the span id (`t`/`s` + a 64-bit hash) for `trace_id`/`span_id`. No per-row sizes
//!   (v20, `columnsize = 0`): retention deletes a record's entries by giving its text again,
//!   decoded from the chunk (`logs::PreparedRow::text`). Words and phrases are FTS5 phrases;
//!   excluded ones as `log_counts` below says. With a time range, the `MATCH` is bounded to
//!   the ids stored in it (`rowid BETWEEN`, the range's smallest and largest id), so a common
//!   word costs the range's matches, not the store's.
//! - `log_counts` (v13): the records per 10 s cell of `time_ns`, service and severity number,
//!   with the smallest and largest id counted in the cell. The writer adds each batch's, and
//!   retention takes the dropped records back out, so the counts are exact; the ids are a
//!   bound (retention does not move them inward). The histogram reads whole cells from it and
//!   counts from `log_records` only the cells a bucket's edge cuts (all of the range when a
//!   step is under 10 s, or with text, attribute or id filters); a time range's id bound for
//!   the full-text `MATCH` is its cells'. Excluded words go in the same `MATCH` (`NOT`) when
//!   a wanted word or attribute is there, else a `NOT IN` of their matches.
//! - Record ids grow with every write, so cursors key on (time, id) and stay put when records
//!   arrive. Retention drops whole chunks (with their rows and text), oldest received first,
//!   by age, count and bytes (with the traces received before them).
//! - `metric_points`: one JSON row each, indexed by time and metric name.
//! - A metric's series hold its newest `limit` points (10,000 unless asked, never more than
//!   100,000), read newest first by the (name, time) index and returned in time order; the catalog
//!   holds at most `limit` names; `truncated: true` says when more was stored.
//!
//! ## Metrics (v12)
//!
//! - `metric_series`: one row per series, a series being name + unit + type + temporality
//!   (and monotonic) + service + resource + scope + point attributes, keyed by a 64-bit hash of
//!   those (`hash`, unique); the attributes as JSON. The writer keeps the hash → id map, and
//!   per (service, name) the type and unit first stored, in memory (`sqlite::metrics::
//!   SeriesIndex`): a point of a known metric with another type or unit is refused
//!   (`partial_success`), never mixed in.
//! - `metric_blocks`: the points of one metric name, one block per commit group (level 0, or
//!   level 1 at once when it holds 1,024 points or more, so a busy writer merges nothing); once a
//!   metric has 32 level-0 blocks, the retention pass after a commit merges up to 512 of them into
//!   blocks of up to 65,536 points (level 1), the metrics with the most first, every one due up
//!   to 300,000 points a pass. A block is zstd over runs, one per series: times
//!   as delta-of-delta varints, start times as a 1-byte code, values XOR'd with the previous
//!   (`store/metrics/codec/`), then the histograms (explicit bounds, exponential buckets,
//!   summary quantiles) and exemplars (≤ 4 a point) as JSON. Measured at the 1M-point bench
//!   (`server/benches/metrics.rs`): bytes per point of the database pages in use.
//! - A read takes a metric's series from `metric_series` (name, service index), filters their
//!   attributes in Rust, then the blocks of the name whose (min_time, max_time) meet the range,
//!   newest first, decoding only the runs of the chosen series (a chart of a cumulative
//!   histogram decodes its histograms into an arena and makes whole only the points its steps
//!   need, `store/metrics/thin.rs`); at most 5,000 series and
//!   300,000 samples (`store::metrics::MAX_*`), `truncated` past that. The catalogue groups
//!   `metric_series` by name, type and unit and takes points and last seen from the blocks'
//!   covering index.
//! - Retention: blocks go by receipt (a merged block carries its newest, a group's its
//!   earliest), by count (the oldest received beyond `max_spans` points) and with the traces
//!   over the size bound;
//!   a series row goes once no kept block can hold a point of it (its `received_ns`, refreshed
//!   at most once a minute, is over a minute older than the oldest kept block).
//! - Attribute filters (`attr=K=V`) decode candidate traces newest first, span by span up to the
//!   first match, and stop at `limit` or after 5,000 candidates.
//! - Retention drops whole traces, oldest `received_ns` first, by span count, by age and by size,
//!   at most 50,000 spans per pass after each commit and every 60 s; logs and points by age (of
//!   receipt), count and size.
//! - The size bound measures the database (pages not on SQLite's free list) and converts the excess
//!   into traces' `stored_bytes` at the measured ratio of the two, so index and page overhead are
//!   paid for without dropping more than needed.

use rusqlite::Connection;

use super::StoreError;

use super::migrations::MIGRATIONS;

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
