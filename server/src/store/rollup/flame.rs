//! The flame graph rollup: span self times per stack frame and 10 s bucket of the trace's
//! start, so an operation's flame graph over hours reads a few rows per frame instead of
//! decoding every chunk. Helpers for `SqliteStore`.
//!
//! A trace arrives in parts (children usually before parents), so its stacks are only right
//! once it is whole. The fold pass (`SqliteStore::fold_flames`, run on a timer) folds traces
//! whose last part arrived more than [`SETTLE_NS`] ago, in the order of `traces.received_ns`
//! past a watermark (`flame_watermark`; writes make receipts strictly increasing, so a part
//! written after a pass read is past its watermark): it decodes the trace's chunks, takes off
//! what an earlier fold of the trace added (the fold of the chunks up to
//! `flame_folded.last_chunk`), and adds the new fold. Writes themselves do nothing for it.
//! Frames are interned in `flame_nodes` (a trie of (service, name) under a parent), so
//! `match=any` finds an operation wherever it sits. A query adds the few recent traces not yet
//! folded, folded on the fly (at most [`FRESH_TRACES_MAX`]).

use std::collections::HashMap;

use rusqlite::{params, Connection, OptionalExtension};

use super::bucket::{bucket_of, BUCKET_NS};
use crate::stacks::{SpanTiming, StackTree, OTHER, ROOT};
use crate::store::chunk::{SeenSpans, WHOLE_CHUNK_MAX};
use crate::store::request::OperationQuery;
use crate::store::StoreError;

/// How long after its last part a trace is taken as whole and folded into the rollup.
pub const SETTLE_NS: u64 = 5_000_000_000;
/// Distinct frames one bucket keeps; the excess of later traces goes to `[other]`.
pub const MAX_STACKS_PER_BUCKET: i64 = 2_000;
/// Traces larger than this are not folded (into the rollup, or for `?trace_id=`): a fold holds
/// the trace's spans in memory.
pub const MAX_FOLD_SPANS: u64 = 200_000;
/// Recent traces not yet in the rollup that a query folds itself, newest first.
pub const FRESH_TRACES_MAX: usize = 1_000;
/// Traces one fold pass takes at most (it runs again at once when it took this many).
pub const TRACES_PER_PASS: usize = 256;

/// A trace to fold, as the pass found it.
pub(in crate::store) struct Pending {
    trace_id: String,
    received_ns: i64,
    /// The trace's rowid in `traces`: with `received_ns`, the watermark once it is folded.
    rowid: i64,
    /// The last chunk and bucket of an earlier fold.
    folded: Option<(i64, i64)>,
    /// `None` when the trace is gone.
    span_count: Option<i64>,
}

/// Settled traces past the watermark, oldest receipt first.
pub(in crate::store) fn settled(
    conn: &Connection,
    now_ns: u64,
) -> Result<Vec<Pending>, StoreError> {
    let before = now_ns.saturating_sub(SETTLE_NS).min(i64::MAX as u64) as i64;
    let (mark, mark_rowid) = watermark(conn)?;
    let mut stmt = conn.prepare_cached(
        "SELECT t.trace_id, t.received_ns, t.rowid, f.last_chunk, f.bucket_ns, t.span_count
         FROM traces t INDEXED BY traces_received
         LEFT JOIN flame_folded f ON f.trace_id = t.trace_id
         WHERE t.received_ns >= ?1 AND (t.received_ns > ?1 OR t.rowid > ?2)
           AND t.received_ns <= ?3
         ORDER BY t.received_ns, t.rowid LIMIT ?4",
    )?;
    let rows = stmt.query_map(params![mark, mark_rowid, before, TRACES_PER_PASS as i64], |r| {
        let last: Option<i64> = r.get(3)?;
        let bucket: Option<i64> = r.get(4)?;
        Ok(Pending {
            trace_id: r.get(0)?,
            received_ns: r.get(1)?,
            rowid: r.get(2)?,
            folded: last.zip(bucket),
            span_count: r.get(5)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The (received_ns, rowid) of the last trace the fold pass took.
fn watermark(conn: &Connection) -> Result<(i64, i64), StoreError> {
    Ok(conn
        .prepare_cached("SELECT received_ns, trace_rowid FROM flame_watermark WHERE id = 0")?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?
        .unwrap_or((i64::MIN, i64::MIN)))
}

/// One trace folded, ready to apply.
pub(in crate::store) struct Folding {
    pending: Pending,
    /// What an earlier fold added (to take off) and what to add now, each with its bucket.
    old: Option<(StackTree, i64)>,
    new: Option<(StackTree, i64)>,
    last_chunk: i64,
    /// Spans decoded.
    pub spans: u64,
}

/// Decodes a pending trace and folds it (and, after a late part, its earlier parts alone).
pub(in crate::store) fn fold(conn: &Connection, pending: Pending) -> Result<Folding, StoreError> {
    let mut folding = Folding { pending, old: None, new: None, last_chunk: i64::MIN, spans: 0 };
    let count = folding.pending.span_count.unwrap_or(0).max(0) as u64;
    if folding.pending.span_count.is_none() || count > MAX_FOLD_SPANS {
        return Ok(folding);
    }
    let upto = folding.pending.folded.map(|(last, _)| last);
    let (spans, earlier, last) = trace_spans(conn, &folding.pending.trace_id, upto)?;
    folding.spans = spans.len() as u64;
    folding.last_chunk = last;
    if let Some((_, bucket)) = folding.pending.folded {
        folding.old = Some((StackTree::from_trace(&spans[..earlier]), bucket));
    }
    if let Some(start) = spans.iter().map(|s| s.start_ns).min() {
        folding.new = Some((StackTree::from_trace(&spans), bucket_of(start)));
    }
    Ok(folding)
}

/// A trace's spans for folding (each once, only what folding reads), how many came from chunks
/// up to `upto`, and the last chunk's id.
pub(in crate::store) fn trace_spans(
    conn: &Connection,
    trace_id: &str,
    upto: Option<i64>,
) -> Result<(Vec<SpanTiming>, usize, i64), StoreError> {
    let mut stmt =
        conn.prepare_cached("SELECT id, spans FROM span_chunks WHERE trace_id = ?1 ORDER BY id")?;
    let mut rows = stmt.query([trace_id])?;
    let (mut spans, mut earlier, mut last) = (Vec::new(), 0, i64::MIN);
    let mut seen = SeenSpans::default();
    while let Some(row) = rows.next()? {
        let id: i64 = row.get(0)?;
        let blob = row.get_ref(1)?.as_blob().map_err(rusqlite::Error::from)?;
        for span in timings(blob)? {
            if seen.first_time(&span.span_id) {
                spans.push(span);
            }
        }
        last = id;
        if upto.is_some_and(|upto| id <= upto) {
            earlier = spans.len();
        }
    }
    Ok((spans, earlier, last))
}

/// A stored chunk's spans as [`SpanTiming`]s: serde skips every other field without building
/// it. Decompressed whole up to `WHOLE_CHUNK_MAX` of JSON, streamed past that (as
/// `SpanChunk::for_each_span` does).
fn timings(blob: &[u8]) -> Result<Vec<SpanTiming>, StoreError> {
    const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];
    let corrupt = |e: &dyn std::fmt::Display| StoreError::Corrupt(format!("span chunk: {e}"));
    if !blob.starts_with(&ZSTD_MAGIC) {
        return serde_json::from_slice(blob).map_err(|e| corrupt(&e));
    }
    let whole = zstd::zstd_safe::get_frame_content_size(blob)
        .ok()
        .flatten()
        .filter(|&size| size <= WHOLE_CHUNK_MAX as u64);
    match whole {
        Some(size) => {
            let json =
                crate::store::chunk::decompress(blob, size as usize).map_err(|e| corrupt(&e))?;
            serde_json::from_slice(&json).map_err(|e| corrupt(&e))
        }
        None => {
            let decoder = zstd::stream::read::Decoder::new(blob).map_err(|e| corrupt(&e))?;
            let reader = std::io::BufReader::with_capacity(64 << 10, decoder);
            serde_json::from_reader(reader).map_err(|e| corrupt(&e))
        }
    }
}

/// Applies folds (inside one transaction, in the order `settled` gave them): takes off each
/// trace's earlier fold, adds the new one, records what was folded, and moves the watermark
/// past the last.
pub(in crate::store) fn apply(conn: &Connection, folds: &[Folding]) -> Result<(), StoreError> {
    let mut nodes = Nodes::default();
    for f in folds {
        let p = &f.pending;
        let exists: bool = conn
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM traces WHERE trace_id = ?1)")?
            .query_row([&p.trace_id], |r| r.get(0))?;
        if exists && f.new.is_some() {
            if let Some((tree, bucket)) = &f.old {
                subtract(conn, &mut nodes, tree, *bucket)?;
            }
            if let Some((tree, bucket)) = &f.new {
                add(conn, &mut nodes, tree, *bucket, p.received_ns)?;
                conn.prepare_cached(
                    "INSERT INTO flame_folded (trace_id, last_chunk, bucket_ns) VALUES (?1, ?2, ?3)
                     ON CONFLICT (trace_id) DO UPDATE SET last_chunk = excluded.last_chunk,
                       bucket_ns = excluded.bucket_ns",
                )?
                .execute(params![p.trace_id, f.last_chunk, bucket])?;
            }
        }
    }
    if let Some(last) = folds.last() {
        conn.prepare_cached(
            "INSERT INTO flame_watermark (id, received_ns, trace_rowid) VALUES (0, ?1, ?2)
             ON CONFLICT (id) DO UPDATE SET received_ns = excluded.received_ns,
               trace_rowid = excluded.trace_rowid",
        )?
        .execute(params![last.pending.received_ns, last.pending.rowid])?;
    }
    Ok(())
}

/// Node ids and bucket row counts looked up during one apply.
#[derive(Default)]
struct Nodes {
    ids: HashMap<(i64, String, String), i64>,
    rows: HashMap<i64, i64>,
}

impl Nodes {
    /// The id of (parent, service, name), created when `create` and missing.
    fn id(
        &mut self,
        conn: &Connection,
        parent: i64,
        service: &str,
        name: &str,
        create: bool,
    ) -> Result<Option<i64>, StoreError> {
        let key = (parent, service.to_owned(), name.to_owned());
        if let Some(&id) = self.ids.get(&key) {
            return Ok(Some(id));
        }
        let found: Option<i64> = conn
            .prepare_cached(
                "SELECT id FROM flame_nodes WHERE parent = ?1 AND service = ?2 AND name = ?3",
            )?
            .query_row(params![parent, service, name], |r| r.get(0))
            .optional()?;
        let id = match found {
            Some(id) => id,
            None if create => {
                conn.prepare_cached(
                    "INSERT INTO flame_nodes (parent, service, name) VALUES (?1, ?2, ?3)",
                )?
                .execute(params![parent, service, name])?;
                conn.last_insert_rowid()
            }
            None => return Ok(None),
        };
        self.ids.insert(key, id);
        Ok(Some(id))
    }
}

fn row_exists(conn: &Connection, node: i64, bucket: i64) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM flame_rollup WHERE node = ?1 AND bucket_ns = ?2)",
        )?
        .query_row(params![node, bucket], |r| r.get(0))?)
}

/// Adds to an existing row; false when there is none.
fn bump(
    conn: &Connection,
    node: i64,
    bucket: i64,
    self_us: u64,
    traces: u64,
    received: i64,
) -> Result<bool, StoreError> {
    let changed = conn
        .prepare_cached(
            "UPDATE flame_rollup SET self_us = self_us + ?3, traces = traces + ?4,
               received_ns = MAX(received_ns, ?5) WHERE node = ?1 AND bucket_ns = ?2",
        )?
        .execute(params![
            node,
            bucket,
            self_us.min(i64::MAX as u64) as i64,
            traces as i64,
            received
        ])?;
    Ok(changed > 0)
}

fn upsert(
    conn: &Connection,
    node: i64,
    bucket: i64,
    self_us: u64,
    traces: u64,
    received: i64,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO flame_rollup (node, bucket_ns, self_us, traces, received_ns)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (node, bucket_ns) DO UPDATE SET self_us = self_us + excluded.self_us,
           traces = traces + excluded.traces, received_ns = MAX(received_ns, excluded.received_ns)",
    )?
    .execute(params![
        node,
        bucket,
        self_us.min(i64::MAX as u64) as i64,
        traces as i64,
        received
    ])?;
    Ok(())
}

/// Adds a trace's frames to `bucket`: a frame without a row in the bucket gets one while the
/// bucket has fewer than [`MAX_STACKS_PER_BUCKET`]; past that it (and everything below it) goes
/// to `[other]`, which counts the trace once.
fn add(
    conn: &Connection,
    nodes: &mut Nodes,
    tree: &StackTree,
    bucket: i64,
    received: i64,
) -> Result<(), StoreError> {
    let mut rows = match nodes.rows.get(&bucket) {
        Some(&rows) => rows,
        None => conn
            .prepare_cached("SELECT COUNT(*) FROM flame_rollup WHERE bucket_ns = ?1")?
            .query_row([bucket], |r| r.get(0))?,
    };
    let mut ids: Vec<Option<i64>> = vec![Some(0); tree.nodes().len()];
    let mut other = (0u64, false);
    for (i, node) in tree.nodes().iter().enumerate().skip(1) {
        let room = rows < MAX_STACKS_PER_BUCKET;
        let id = match ids[node.parent] {
            Some(parent) => nodes.id(conn, parent, &node.service, &node.name, room)?,
            None => None,
        };
        // An existing row is updated in one statement; a new one is inserted while there is
        // room.
        let id = match id {
            Some(id) if bump(conn, id, bucket, node.self_us, node.traces, received)? => Some(id),
            Some(id) if room => {
                upsert(conn, id, bucket, node.self_us, node.traces, received)?;
                rows += 1;
                Some(id)
            }
            _ => None,
        };
        ids[i] = id;
        if id.is_none() {
            other = (other.0 + node.self_us, true);
        }
    }
    nodes.rows.insert(bucket, rows);
    if other.1 {
        let id = nodes.id(conn, 0, "", OTHER, true)?.unwrap_or(0);
        upsert(conn, id, bucket, other.0, 1, received)?;
    }
    Ok(())
}

/// Takes a trace's earlier fold off `bucket`: from each frame's row, or from `[other]` where
/// the frame has none (it went there when added). Rows no trace passes through any more go.
fn subtract(
    conn: &Connection,
    nodes: &mut Nodes,
    tree: &StackTree,
    bucket: i64,
) -> Result<(), StoreError> {
    let mut ids: Vec<Option<i64>> = vec![Some(0); tree.nodes().len()];
    let mut other = (0u64, false);
    for (i, node) in tree.nodes().iter().enumerate().skip(1) {
        let id = match ids[node.parent] {
            Some(parent) => nodes.id(conn, parent, &node.service, &node.name, false)?,
            None => None,
        };
        let id = match id {
            Some(id) if row_exists(conn, id, bucket)? => Some(id),
            _ => None,
        };
        ids[i] = id;
        match id {
            Some(id) => take(conn, id, bucket, node.self_us, node.traces)?,
            None => other = (other.0 + node.self_us, true),
        }
    }
    if other.1 {
        if let Some(id) = nodes.id(conn, 0, "", OTHER, false)? {
            take(conn, id, bucket, other.0, 1)?;
        }
    }
    Ok(())
}

fn take(
    conn: &Connection,
    node: i64,
    bucket: i64,
    self_us: u64,
    traces: u64,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "UPDATE flame_rollup SET self_us = MAX(self_us - ?3, 0), traces = MAX(traces - ?4, 0)
         WHERE node = ?1 AND bucket_ns = ?2",
    )?
    .execute(params![node, bucket, self_us.min(i64::MAX as u64) as i64, traces as i64])?;
    conn.prepare_cached(
        "DELETE FROM flame_rollup WHERE node = ?1 AND bucket_ns = ?2 AND traces <= 0",
    )?
    .execute(params![node, bucket])?;
    Ok(())
}

/// The operation's part of the rollup over its range, plus the recent traces in the range not
/// yet folded (folded here, newest first, at most [`FRESH_TRACES_MAX`]; `truncated` if more).
pub(in crate::store) fn operation(
    conn: &Connection,
    q: &OperationQuery,
) -> Result<StackTree, StoreError> {
    let (from, to) = (bucket_of(q.since_ns), q.until_ns.min(i64::MAX as u64) as i64);
    let mut tree = rolled_up(conn, q, from, to)?;
    let other: Option<i64> = conn
        .prepare_cached(
            "SELECT id FROM flame_nodes WHERE parent = 0 AND service = '' AND name = ?1",
        )?
        .query_row([OTHER], |r| r.get(0))
        .optional()?;
    if let Some(other) = other {
        let in_range: bool = conn
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM flame_rollup WHERE node = ?1 AND bucket_ns >= ?2 AND bucket_ns < ?3)",
            )?
            .query_row(params![other, from, to], |r| r.get(0))?;
        tree.truncated |= in_range;
    }
    // Traces starting in the range's buckets: from the first bucket to the end of the last
    // (`until` is exclusive: the bucket starting at `until` is not in the range).
    let end = to.saturating_add(BUCKET_NS as i64 - 1) / BUCKET_NS as i64 * BUCKET_NS as i64;
    // Not folded yet: received at or past the watermark (the few seconds the pass waits for a
    // trace to settle) and never folded.
    let (mark, _) = watermark(conn)?;
    let mut stmt = conn.prepare_cached(
        "SELECT t.trace_id FROM traces t INDEXED BY traces_received
         WHERE t.received_ns >= ?7 AND t.start_ns >= ?1 AND t.start_ns < ?2 AND t.span_count <= ?5
           AND NOT EXISTS (SELECT 1 FROM flame_folded f WHERE f.trace_id = t.trace_id)
           AND EXISTS (SELECT 1 FROM trace_ops o WHERE o.trace_id = t.trace_id AND o.service = ?3
                       AND (?4 IS NULL OR o.name = ?4))
         ORDER BY t.start_ns DESC LIMIT ?6",
    )?;
    let fresh = stmt
        .query_map(
            params![
                from,
                end,
                q.service,
                q.name,
                MAX_FOLD_SPANS as i64,
                FRESH_TRACES_MAX as i64 + 1,
                mark
            ],
            |r| r.get::<_, String>(0),
        )?
        .collect::<Result<Vec<_>, _>>()?;
    if fresh.len() > FRESH_TRACES_MAX {
        tree.truncated = true;
    }
    let matcher = q.matcher();
    for id in fresh.iter().take(FRESH_TRACES_MAX) {
        let (spans, _, _) = trace_spans(conn, id, None)?;
        tree.merge(&StackTree::from_trace(&spans).select(&matcher));
    }
    Ok(tree)
}

/// The rollup rows of the operation's frames (their subtrees), summed over the range.
fn rolled_up(
    conn: &Connection,
    q: &OperationQuery,
    from: i64,
    to: i64,
) -> Result<StackTree, StoreError> {
    // Every matching frame and its subtree; a frame under another matching one is reached at
    // a greater depth as well, and its deepest depth places it inside the outer subtree.
    let mut stmt = conn.prepare_cached(
        "WITH RECURSIVE sub (id, depth) AS (
             SELECT id, 0 FROM flame_nodes
             WHERE service = ?1 AND (?2 IS NULL OR name = ?2) AND (?3 = 0 OR parent = 0)
             UNION ALL
             SELECT n.id, sub.depth + 1 FROM flame_nodes n JOIN sub ON n.parent = sub.id
             WHERE sub.depth < 256)
         SELECT n.id, n.parent, n.service, n.name, MAX(sub.depth) AS d
         FROM sub JOIN flame_nodes n ON n.id = sub.id GROUP BY n.id ORDER BY d, n.id",
    )?;
    let frames = stmt
        .query_map(params![q.service, q.name, q.root_only as i64], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, i64>(4)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mut sums = conn.prepare_cached(
        "SELECT COALESCE(SUM(self_us), 0), COALESCE(SUM(traces), 0) FROM flame_rollup
         WHERE node = ?1 AND bucket_ns >= ?2 AND bucket_ns < ?3",
    )?;
    let mut tree = StackTree::default();
    let mut at: HashMap<i64, usize> = HashMap::new();
    for (id, parent, service, name, depth) in frames {
        let above = if depth == 0 { Some(ROOT) } else { at.get(&parent).copied() };
        let Some(above) = above else { continue };
        let (self_us, traces): (i64, i64) =
            sums.query_row(params![id, from, to], |r| Ok((r.get(0)?, r.get(1)?)))?;
        if traces <= 0 {
            continue;
        }
        let node = tree.child(above, &service, &name);
        tree.add(node, self_us.max(0) as u64, traces as u64);
        if depth == 0 {
            tree.traces += traces as u64;
            tree.add(ROOT, 0, traces as u64);
        }
        at.insert(id, node);
    }
    Ok(tree)
}

/// Drops rollup rows last written before `cutoff` (the oldest receipt the store keeps, as
/// `rollup::sql::retain` finds it for every rollup), then frames no row or frame refers to.
pub(in crate::store) fn retain(conn: &Connection, cutoff: i64) -> Result<u64, StoreError> {
    let dropped = conn
        .prepare_cached("DELETE FROM flame_rollup WHERE received_ns < ?1")?
        .execute([cutoff])? as u64;
    if dropped > 0 {
        conn.execute(
            "DELETE FROM flame_nodes WHERE id NOT IN (SELECT node FROM flame_rollup)
               AND id NOT IN (SELECT parent FROM flame_nodes)",
            [],
        )?;
    }
    Ok(dropped)
}

#[cfg(test)]
#[path = "flame_tests.rs"]
mod tests;
