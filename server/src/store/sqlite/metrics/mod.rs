//! Metric series and blocks in SQLite (layout in `schema.rs`): the write of a batch's points
//! (series looked up in memory, one block per metric per batch, type/unit changes refused);
//! compaction and retention in `retain.rs`, the reads in `read.rs`, older stores' rows in
//! `legacy.rs`.

mod legacy;
mod read;
mod retain;

pub(super) use legacy::convert_legacy;
pub(super) use read::{catalog, raw, rows};
pub(super) use retain::{compact, drop_oldest, drop_received_before, retain};

use std::collections::{BTreeMap, HashMap};

use otelscope_app::model::{MetricKind, MetricPoint};
use rusqlite::{params, Connection};

use super::super::metrics::{
    codec, kind_text, parse_kind, temporality_text, PointHasher, Refusals,
};
use super::super::StoreError;

/// How stale a series' `received_ns` may get before a write refreshes it (so a series is
/// written once a minute at most, not once a point).
const MARK_EVERY_NS: i64 = 60_000_000_000;
/// A metric's fresh (level 0) blocks are merged once it has this many.
const COMPACT_AT: i64 = 32;
/// The points one retention pass merges at most (past the metric that crosses it).
const COMPACT_POINTS: usize = 300_000;
/// The widest spread of receipts one merge takes (see `compact`).
const COMPACT_SPAN_NS: i64 = 3_600_000_000_000;
/// The most fresh blocks one merge takes.
const COMPACT_BLOCKS: i64 = 512;
/// The most points one merged block holds.
const BLOCK_POINTS: usize = 65_536;
/// A block written with at least this many points is stored merged (see `flush`).
const MERGED_AT: usize = 1_024;
/// The most blocks dropped at once by the count bound.
const DROP_BLOCKS: i64 = 256;

fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("metric block: {e}"))
}

/// The writer's memory of the series: id by identity hash, the type and unit fixed for each
/// (service, metric name), when each series' `received_ns` was last written, and the points
/// stored. Changes during a write are logged so a rolled-back batch leaves nothing behind.
#[derive(Debug, Default)]
pub struct SeriesIndex {
    ids: HashMap<i64, i64>,
    identities: HashMap<(String, String), (MetricKind, String)>,
    marked: HashMap<i64, i64>,
    pub(super) points: u64,
    undo: Vec<Undo>,
}

#[derive(Debug)]
enum Undo {
    Id(i64),
    Identity((String, String)),
    Marked(i64, Option<i64>),
    Points(u64),
}

impl SeriesIndex {
    /// Reads the series table (once, at open, and after retention dropped series).
    pub fn load(conn: &Connection) -> Result<SeriesIndex, StoreError> {
        let mut index = SeriesIndex::default();
        let mut stmt = conn.prepare(
            "SELECT id, hash, service, name, kind, unit, received_ns FROM metric_series ORDER BY id",
        )?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let (id, hash): (i64, i64) = (r.get(0)?, r.get(1)?);
            index.ids.insert(hash, id);
            let kind = parse_kind(&r.get::<_, String>(4)?).unwrap_or_default();
            index.identities.entry((r.get(2)?, r.get(3)?)).or_insert((kind, r.get(5)?));
            index.marked.insert(id, r.get(6)?);
        }
        index.points =
            conn.query_row("SELECT COALESCE(SUM(points), 0) FROM metric_blocks", [], |r| {
                r.get::<_, i64>(0)
            })? as u64;
        Ok(index)
    }

    /// A point in the undo log to roll back to.
    pub fn mark(&self) -> usize {
        self.undo.len()
    }

    /// Forgets the changes made since `mark` (their rows were rolled back).
    pub fn rollback_to(&mut self, mark: usize) {
        while self.undo.len() > mark {
            match self.undo.pop() {
                Some(Undo::Id(hash)) => {
                    self.ids.remove(&hash);
                }
                Some(Undo::Identity(key)) => {
                    self.identities.remove(&key);
                }
                Some(Undo::Marked(id, old)) => match old {
                    Some(old) => {
                        self.marked.insert(id, old);
                    }
                    None => {
                        self.marked.remove(&id);
                    }
                },
                Some(Undo::Points(n)) => self.points = self.points.saturating_sub(n),
                None => {}
            }
        }
    }

    /// Keeps the changes (their rows were committed).
    pub fn commit(&mut self) {
        self.undo.clear();
    }
}

/// The points of one batch as `stage` filed them: metric name, series id, point.
#[derive(Default)]
pub(in crate::store::sqlite) struct Staged<'a> {
    points: Vec<(&'a str, i64, &'a MetricPoint)>,
    received: Option<i64>,
}

/// The points of a group of batches, by metric name and series, written as blocks when the
/// group commits (`flush`): one block per metric for the whole group, so a busy writer's
/// groups make blocks as large as compaction would, and those are stored merged at once
/// instead of being decoded and encoded again.
#[derive(Default)]
pub(in crate::store::sqlite) struct Group<'a> {
    by_name: BTreeMap<&'a str, BTreeMap<i64, Vec<&'a MetricPoint>>>,
    /// The earliest receipt of the points (see `flush`).
    received: Option<i64>,
}

impl<'a> Group<'a> {
    /// Takes in the points of a batch whose savepoint committed.
    pub(in crate::store::sqlite) fn absorb(&mut self, batch: Staged<'a>) {
        for (name, id, point) in batch.points {
            self.by_name.entry(name).or_default().entry(id).or_default().push(point);
        }
        self.received = match (self.received, batch.received) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }
}

/// Writes `points` received at `received` as blocks at once (see `stage` and `flush`).
pub(super) fn write(
    conn: &Connection,
    index: &mut SeriesIndex,
    received: i64,
    points: &[MetricPoint],
    refusals: &Refusals,
) -> Result<u64, StoreError> {
    let mut staged = Staged::default();
    let written = stage(conn, index, received, points, None, refusals, &mut staged)?;
    let mut group = Group::default();
    group.absorb(staged);
    flush(conn, group)?;
    Ok(written)
}

/// Files `points` received at `received` under their series (created when new) into
/// `staged`, to be written as blocks by `flush`; `hashes` are the points' identity hashes when
/// the receiver worked them out (`WriteBatch::metric_hashes`). A point whose metric (per
/// service) was stored before with another type or unit is refused into `refusals`. Returns
/// the points staged.
pub(in crate::store::sqlite) fn stage<'a>(
    conn: &Connection,
    index: &mut SeriesIndex,
    received: i64,
    points: &'a [MetricPoint],
    hashes: Option<&[i64]>,
    refusals: &Refusals,
    staged: &mut Staged<'a>,
) -> Result<u64, StoreError> {
    if points.is_empty() {
        return Ok(0);
    }
    let hashes = hashes.filter(|h| h.len() == points.len());
    staged.points.reserve(points.len());
    let mut insert_series = conn.prepare_cached(
        "INSERT INTO metric_series (hash, name, kind, unit, temporality, monotonic, description,
             service, resource, scope, attributes, received_ns)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?;
    let mut mark_series =
        conn.prepare_cached("UPDATE metric_series SET received_ns = ?2 WHERE id = ?1")?;
    let mut written = 0u64;
    let mut hasher = PointHasher::default();
    // The (service, name) checked last: a batch's points of one metric come together.
    let mut checked: Option<&MetricPoint> = None;
    for (i, point) in points.iter().enumerate() {
        let same_metric = checked.is_some_and(|c| {
            c.service == point.service
                && c.name == point.name
                && c.kind == point.kind
                && c.unit == point.unit
        });
        if !same_metric {
            let key = (point.service.clone(), point.name.clone());
            match index.identities.get(&key) {
                Some((kind, unit)) if *kind != point.kind || *unit != point.unit => {
                    refusals.refuse(|| {
                        format!(
                            "metric {:?} of service {:?} is stored as {} with unit {:?}; a point as {} with unit {:?} is refused (a series may not change its type or unit)",
                            point.name,
                            point.service,
                            kind_text(*kind),
                            unit,
                            kind_text(point.kind),
                            point.unit
                        )
                    });
                    checked = None;
                    continue;
                }
                Some(_) => {}
                None => {
                    index.identities.insert(key.clone(), (point.kind, point.unit.clone()));
                    index.undo.push(Undo::Identity(key));
                }
            }
            checked = Some(point);
        }
        let hash = match hashes {
            Some(hashes) => hashes[i],
            None => hasher.hash(point),
        };
        let id = match index.ids.get(&hash) {
            Some(id) => *id,
            None => {
                insert_series.execute(params![
                    hash,
                    point.name,
                    kind_text(point.kind),
                    point.unit,
                    temporality_text(point.temporality),
                    point.monotonic as i64,
                    point.description,
                    point.service,
                    json(&point.resource),
                    json(&point.scope),
                    json(&point.attributes),
                    received,
                ])?;
                let id = conn.last_insert_rowid();
                index.ids.insert(hash, id);
                index.undo.push(Undo::Id(hash));
                let old = index.marked.insert(id, received);
                index.undo.push(Undo::Marked(id, old));
                id
            }
        };
        if index.marked.get(&id).is_none_or(|m| received - m >= MARK_EVERY_NS) {
            mark_series.execute(params![id, received])?;
            let old = index.marked.insert(id, received);
            index.undo.push(Undo::Marked(id, old));
        }
        staged.points.push((point.name.as_str(), id, point));
        written += 1;
    }
    if written > 0 {
        staged.received = Some(staged.received.map_or(received, |r| r.min(received)));
    }
    index.points += written;
    index.undo.push(Undo::Points(written));
    Ok(written)
}

/// Writes what `staged` holds: per metric, blocks of up to `BLOCK_POINTS` points, one run per
/// series in time order. A block of `MERGED_AT` points or more is stored as merged (level 1),
/// since compaction would only encode it again; smaller ones wait to be merged (level 0).
/// Blocks carry the earliest receipt of their points: a series' `received_ns` is then never
/// more than `MARK_EVERY_NS` older than any block holding its points (`drop_orphan_series`).
pub(in crate::store::sqlite) fn flush(
    conn: &Connection,
    group: Group<'_>,
) -> Result<(), StoreError> {
    let Some(received) = group.received else { return Ok(()) };
    for (name, series) in group.by_name {
        let level = |n: usize| i64::from(n >= MERGED_AT);
        insert_blocks(conn, name, received, series, level)?;
    }
    Ok(())
}

/// Inserts one metric's `series` as blocks of up to `BLOCK_POINTS` points, one run per series
/// in time order, each received at `received` and of `level(points in it)`; returns the points
/// written. The write path and compaction both store blocks through it.
fn insert_blocks<P: codec::Point>(
    conn: &Connection,
    name: &str,
    received: i64,
    series: impl IntoIterator<Item = (i64, Vec<P>)>,
    level: impl Fn(usize) -> i64,
) -> Result<usize, StoreError> {
    let mut insert = conn.prepare_cached(
        "INSERT INTO metric_blocks (name, level, min_time, max_time, points, received_ns, data)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    let mut put = |runs: &mut Vec<(i64, Vec<P>)>| -> Result<(), StoreError> {
        if runs.is_empty() {
            return Ok(());
        }
        let (min, max, n) = span_of(runs);
        insert.execute(params![
            name,
            level(n),
            min as i64,
            max as i64,
            n as i64,
            received,
            codec::encode(runs)
        ])?;
        runs.clear();
        Ok(())
    };
    let (mut runs, mut in_block, mut written) = (Vec::new(), 0, 0);
    for (id, mut points) in series {
        points.sort_by_key(|p| p.time_ns());
        in_block += points.len();
        written += points.len();
        runs.push((id, points));
        if in_block >= BLOCK_POINTS {
            put(&mut runs)?;
            in_block = 0;
        }
    }
    put(&mut runs)?;
    Ok(written)
}

/// JSON of an identity part stored as text (model types always serialize).
fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

fn span_of<P: codec::Point>(runs: &[(i64, Vec<P>)]) -> (u64, u64, usize) {
    let mut min = u64::MAX;
    let mut max = 0;
    let mut n = 0;
    for (_, samples) in runs {
        for s in samples {
            min = min.min(s.time_ns());
            max = max.max(s.time_ns());
        }
        n += samples.len();
    }
    (min.min(max), max, n)
}
