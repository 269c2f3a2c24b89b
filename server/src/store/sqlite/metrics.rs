//! Metric series and blocks in SQLite (layout in `schema.rs`): the write of a batch's points
//! (series looked up in memory, one block per metric per batch, type/unit changes refused),
//! the compaction of small blocks into one per metric, retention, and the reads (catalogue,
//! a metric's series with samples, the raw `name=` answer).

use std::collections::{BTreeMap, HashMap};

use otelscope_app::model::{
    KeyValue, MetricCatalog, MetricInfo, MetricKind, MetricName, MetricPoint, MetricSeries,
    MetricsAnswer, Scope, SELF_SERVICES,
};
use rusqlite::{params, Connection, OptionalExtension};

use super::super::metrics::{
    codec, kind_text, parse_kind, parse_temporality, temporality_text, MetricCatalogQuery,
    MetricRows, MetricRowsQuery, Refusals, Sample, SeriesMeta, MAX_SAMPLES_READ, MAX_SERIES_READ,
};
use super::super::request::MetricQuery;
use super::super::StoreError;

/// How stale a series' `received_ns` may get before a write refreshes it (so a series is
/// written once a minute at most, not once a point).
const MARK_EVERY_NS: i64 = 60_000_000_000;
/// A metric's fresh (level 0) blocks are merged once it has this many.
const COMPACT_AT: i64 = 32;
/// The most fresh blocks one merge takes.
const COMPACT_BLOCKS: i64 = 512;
/// The most points one merged block holds.
const BLOCK_POINTS: usize = 65_536;
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

/// Writes `points` received at `received`: each to its series (created when new), grouped
/// into one block per metric name. A point whose metric (per service) was stored before with
/// another type or unit is refused into `refusals`. Returns the points written.
pub(super) fn write(
    conn: &Connection,
    index: &mut SeriesIndex,
    received: i64,
    points: &[MetricPoint],
    refusals: &Refusals,
) -> Result<u64, StoreError> {
    if points.is_empty() {
        return Ok(0);
    }
    let mut by_name: BTreeMap<&str, BTreeMap<i64, Vec<Sample>>> = BTreeMap::new();
    let mut insert_series = conn.prepare_cached(
        "INSERT INTO metric_series (hash, name, kind, unit, temporality, monotonic, description,
             service, resource, scope, attributes, received_ns)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?;
    let mut mark_series =
        conn.prepare_cached("UPDATE metric_series SET received_ns = ?2 WHERE id = ?1")?;
    let mut written = 0u64;
    for point in points {
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
                continue;
            }
            Some(_) => {}
            None => {
                index.identities.insert(key.clone(), (point.kind, point.unit.clone()));
                index.undo.push(Undo::Identity(key));
            }
        }
        let meta = SeriesMeta::of(point);
        let hash = meta.identity_hash();
        let id = match index.ids.get(&hash) {
            Some(id) => *id,
            None => {
                insert_series.execute(params![
                    hash,
                    meta.name,
                    kind_text(meta.kind),
                    meta.unit,
                    temporality_text(meta.temporality),
                    meta.monotonic as i64,
                    meta.description,
                    meta.service,
                    json(&meta.resource),
                    json(&meta.scope),
                    json(&meta.attributes),
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
        by_name.entry(&point.name).or_default().entry(id).or_default().push(Sample::of(point));
        written += 1;
    }
    let mut insert_block = conn.prepare_cached(
        "INSERT INTO metric_blocks (name, level, min_time, max_time, points, received_ns, data)
         VALUES (?1, 0, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for (name, series) in by_name {
        let runs: Vec<(i64, Vec<Sample>)> = series
            .into_iter()
            .map(|(id, mut samples)| {
                samples.sort_by_key(|s| s.time_ns);
                (id, samples)
            })
            .collect();
        let (min, max, n) = span_of(&runs);
        insert_block.execute(params![
            name,
            min as i64,
            max as i64,
            n as i64,
            received,
            codec::encode(&runs)
        ])?;
    }
    index.points += written;
    index.undo.push(Undo::Points(written));
    Ok(written)
}

/// JSON of an identity part stored as text (model types always serialize).
fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

fn span_of(runs: &[(i64, Vec<Sample>)]) -> (u64, u64, usize) {
    let mut min = u64::MAX;
    let mut max = 0;
    let mut n = 0;
    for (_, samples) in runs {
        for s in samples {
            min = min.min(s.time_ns);
            max = max.max(s.time_ns);
        }
        n += samples.len();
    }
    (min.min(max), max, n)
}

/// Merges the fresh blocks of metrics that have `COMPACT_AT` or more into blocks of up to
/// `BLOCK_POINTS` points, one run per series (which is what makes a point cost a few bytes).
/// At most two metrics per call; returns the blocks merged.
pub(super) fn compact(conn: &Connection) -> Result<u64, StoreError> {
    let names: Vec<String> = conn
        .prepare_cached(
            "SELECT name FROM metric_blocks WHERE level = 0 GROUP BY name HAVING COUNT(*) >= ?1
             LIMIT 2",
        )?
        .query_map([COMPACT_AT], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let mut merged = 0;
    for name in names {
        let mut ids = Vec::new();
        let mut received = 0i64;
        let mut series: BTreeMap<i64, Vec<Sample>> = BTreeMap::new();
        {
            let mut stmt = conn.prepare_cached(
                "SELECT id, received_ns, data FROM metric_blocks WHERE name = ?1 AND level = 0
                 ORDER BY id LIMIT ?2",
            )?;
            let mut rows = stmt.query(params![name, COMPACT_BLOCKS])?;
            while let Some(r) = rows.next()? {
                ids.push(r.get::<_, i64>(0)?);
                received = received.max(r.get(1)?);
                let blob: Vec<u8> = r.get(2)?;
                for (id, samples) in codec::decode(&blob, |_| true).map_err(corrupt)? {
                    series.entry(id).or_default().extend(samples);
                }
            }
        }
        let mut insert = conn.prepare_cached(
            "INSERT INTO metric_blocks (name, level, min_time, max_time, points, received_ns, data)
             VALUES (?1, 1, ?2, ?3, ?4, ?5, ?6)",
        )?;
        let mut runs: Vec<(i64, Vec<Sample>)> = Vec::new();
        let mut in_block = 0;
        let mut flush = |runs: &mut Vec<(i64, Vec<Sample>)>| -> Result<(), StoreError> {
            if runs.is_empty() {
                return Ok(());
            }
            let (min, max, n) = span_of(runs);
            insert.execute(params![
                name,
                min as i64,
                max as i64,
                n as i64,
                received,
                codec::encode(runs)
            ])?;
            runs.clear();
            Ok(())
        };
        for (id, mut samples) in series {
            samples.sort_by_key(|s| s.time_ns);
            in_block += samples.len();
            runs.push((id, samples));
            if in_block >= BLOCK_POINTS {
                flush(&mut runs)?;
                in_block = 0;
            }
        }
        flush(&mut runs)?;
        let mut delete = conn.prepare_cached("DELETE FROM metric_blocks WHERE id = ?1")?;
        for id in &ids {
            delete.execute([id])?;
        }
        merged += ids.len() as u64;
    }
    Ok(merged)
}

/// Drops blocks received before `cutoff`, then the oldest received until at most `max_points`
/// are kept, then the series no kept block can hold. Returns the points dropped; reloads
/// `index` when series went.
pub(super) fn retain(
    conn: &Connection,
    index: &mut SeriesIndex,
    cutoff: i64,
    max_points: u64,
) -> Result<u64, StoreError> {
    let mut dropped = drop_where(conn, "received_ns < ?1", cutoff)?;
    while index.points.saturating_sub(dropped) > max_points {
        let oldest: Option<i64> = conn
            .query_row(
                "SELECT received_ns FROM metric_blocks ORDER BY received_ns LIMIT 1 OFFSET ?1",
                [DROP_BLOCKS - 1],
                |r| r.get(0),
            )
            .optional()?;
        let n = match oldest {
            Some(received) => drop_where(conn, "received_ns <= ?1", received)?,
            None => drop_where(conn, "1 = 1 OR ?1", 0)?,
        };
        if n == 0 {
            break;
        }
        dropped += n;
    }
    index.points = index.points.saturating_sub(dropped);
    if dropped > 0 {
        drop_orphan_series(conn, index)?;
    }
    Ok(dropped)
}

/// Drops the blocks received before `received` (the size bound: with the traces received
/// before them); returns the points dropped.
pub(super) fn drop_received_before(
    conn: &Connection,
    index: &mut SeriesIndex,
    received: i64,
) -> Result<u64, StoreError> {
    let dropped = drop_where(conn, "received_ns < ?1", received)?;
    index.points = index.points.saturating_sub(dropped);
    if dropped > 0 {
        drop_orphan_series(conn, index)?;
    }
    Ok(dropped)
}

/// Drops the `blocks` oldest received blocks (the size bound, when no trace is left to drop).
pub(super) fn drop_oldest(
    conn: &Connection,
    index: &mut SeriesIndex,
    blocks: i64,
) -> Result<u64, StoreError> {
    let oldest: Option<i64> = conn
        .query_row(
            "SELECT received_ns FROM metric_blocks ORDER BY received_ns LIMIT 1 OFFSET ?1",
            [blocks.max(1) - 1],
            |r| r.get(0),
        )
        .optional()?;
    let dropped = match oldest {
        Some(r) => drop_where(conn, "received_ns <= ?1", r)?,
        None => drop_where(conn, "1 = 1 OR ?1", 0)?,
    };
    index.points = index.points.saturating_sub(dropped);
    if dropped > 0 {
        drop_orphan_series(conn, index)?;
    }
    Ok(dropped)
}

fn drop_where(conn: &Connection, cond: &str, arg: i64) -> Result<u64, StoreError> {
    let mut stmt =
        conn.prepare_cached(&format!("DELETE FROM metric_blocks WHERE {cond} RETURNING points"))?;
    let mut rows = stmt.query([arg])?;
    let mut n = 0u64;
    while let Some(r) = rows.next()? {
        n += r.get::<_, i64>(0)?.max(0) as u64;
    }
    Ok(n)
}

/// A series' `received_ns` is at most `MARK_EVERY_NS` older than the receipt of any point of
/// it, so one older than that before the oldest kept block has no point left.
fn drop_orphan_series(conn: &Connection, index: &mut SeriesIndex) -> Result<(), StoreError> {
    let oldest: Option<i64> =
        conn.query_row("SELECT MIN(received_ns) FROM metric_blocks", [], |r| r.get(0))?;
    let n = match oldest {
        Some(oldest) => conn.execute(
            "DELETE FROM metric_series WHERE received_ns < ?1",
            [oldest.saturating_sub(MARK_EVERY_NS + 1)],
        )?,
        None => conn.execute("DELETE FROM metric_series", [])?,
    };
    if n > 0 {
        let points = index.points;
        *index = SeriesIndex::load(conn)?;
        index.points = points;
    }
    Ok(())
}

fn left_out(service: &str, q_service: Option<&str>, include_self: bool) -> bool {
    !include_self && q_service.is_none() && SELF_SERVICES.contains(&service)
}

/// The catalogue (see `Store::metric_catalog`).
pub(super) fn catalog(
    conn: &Connection,
    q: &MetricCatalogQuery,
) -> Result<MetricCatalog, StoreError> {
    let needle = q.q.as_deref().map(|s| s.to_lowercase()).filter(|s| !s.is_empty());
    let mut stmt = conn.prepare_cached(
        "SELECT name, kind, unit, MAX(description), MAX(temporality), MAX(monotonic),
                COUNT(*), service
         FROM metric_series WHERE (?1 IS NULL OR service = ?1)
         GROUP BY name, kind, unit, service ORDER BY name, kind, unit",
    )?;
    let mut rows = stmt.query(params![q.service])?;
    let mut metrics: Vec<MetricInfo> = Vec::new();
    let mut truncated = false;
    while let Some(r) = rows.next()? {
        let name: String = r.get(0)?;
        let service: String = r.get(7)?;
        if left_out(&service, q.service.as_deref(), q.include_self) {
            continue;
        }
        if needle.as_ref().is_some_and(|n| !name.to_lowercase().contains(n.as_str())) {
            continue;
        }
        let kind = parse_kind(&r.get::<_, String>(1)?).unwrap_or_default();
        let unit: String = r.get(2)?;
        let series = r.get::<_, i64>(6)? as u64;
        if let Some(last) =
            metrics.last_mut().filter(|m| m.name == name && m.kind == kind && m.unit == unit)
        {
            last.series += series;
            last.services.push(service);
            continue;
        }
        if metrics.len() == q.limit {
            truncated = true;
            break;
        }
        metrics.push(MetricInfo {
            name,
            kind,
            unit,
            description: r.get(3)?,
            temporality: parse_temporality(&r.get::<_, String>(4)?),
            monotonic: r.get::<_, i64>(5)? != 0,
            series,
            points: 0,
            services: vec![service],
            last_seen_ns: 0,
        });
    }
    let mut totals = conn.prepare_cached(
        "SELECT COALESCE(SUM(points), 0), COALESCE(MAX(max_time), 0) FROM metric_blocks
         WHERE name = ?1",
    )?;
    let mut done: HashMap<String, (u64, u64)> = HashMap::new();
    for m in &mut metrics {
        let (points, last) = match done.get(&m.name) {
            Some(v) => *v,
            None => {
                let v = totals.query_row([&m.name], |r| {
                    Ok((r.get::<_, i64>(0)?.max(0) as u64, r.get::<_, i64>(1)?.max(0) as u64))
                })?;
                done.insert(m.name.clone(), v);
                v
            }
        };
        // Blocks are per name: a name with several identities shows its points on each.
        m.points = points;
        m.last_seen_ns = last;
    }
    Ok(MetricCatalog { metrics, truncated })
}

/// The series of one metric with their samples (see `Store::metric_rows`).
pub(super) fn rows(conn: &Connection, q: &MetricRowsQuery) -> Result<MetricRows, StoreError> {
    let max_series = q.max_series.clamp(1, MAX_SERIES_READ);
    let max_samples = q.max_samples.clamp(1, MAX_SAMPLES_READ);
    let mut stmt = conn.prepare_cached(
        "SELECT id, kind, unit, temporality, monotonic, description, service, resource, scope,
                attributes
         FROM metric_series WHERE name = ?1 AND (?2 IS NULL OR service = ?2) ORDER BY id",
    )?;
    let mut all: Vec<SeriesMeta> = Vec::new();
    let mut rows = stmt.query(params![q.name, q.service])?;
    while let Some(r) = rows.next()? {
        let parse = |i: usize| -> rusqlite::Result<String> { r.get(i) };
        let resource: Vec<KeyValue> = serde_json::from_str(&parse(7)?).map_err(corrupt)?;
        let scope: Option<Scope> = serde_json::from_str(&parse(8)?).map_err(corrupt)?;
        let attributes: Vec<KeyValue> = serde_json::from_str(&parse(9)?).map_err(corrupt)?;
        all.push(SeriesMeta {
            id: r.get(0)?,
            name: q.name.clone(),
            kind: parse_kind(&parse(1)?).unwrap_or_default(),
            unit: parse(2)?,
            temporality: parse_temporality(&parse(3)?),
            monotonic: r.get::<_, i64>(4)? != 0,
            description: parse(5)?,
            service: parse(6)?,
            resource,
            scope,
            attributes,
        });
    }
    // The identity read: the one asked, else the one with the most series.
    let mut counts: BTreeMap<(u8, String), usize> = BTreeMap::new();
    for m in &all {
        *counts.entry((m.kind as u8, m.unit.clone())).or_default() += 1;
    }
    let chosen = match (q.kind, &q.unit) {
        (Some(kind), Some(unit)) => Some((kind as u8, unit.clone())),
        (Some(kind), None) => counts
            .iter()
            .filter(|(k, _)| k.0 == kind as u8)
            .max_by_key(|(_, n)| **n)
            .map(|(k, _)| k.clone()),
        (None, Some(unit)) => counts
            .iter()
            .filter(|(k, _)| k.1 == *unit)
            .max_by_key(|(_, n)| **n)
            .map(|(k, _)| k.clone()),
        (None, None) => counts.iter().max_by_key(|(_, n)| **n).map(|(k, _)| k.clone()),
    };
    let mut answer = MetricRows::default();
    let Some(chosen) = chosen else { return Ok(answer) };
    let mut others: Vec<(MetricKind, String)> = Vec::new();
    let mut series: Vec<SeriesMeta> = Vec::new();
    for m in all {
        if (m.kind as u8, m.unit.clone()) != chosen {
            if !others.iter().any(|(k, u)| *k == m.kind && *u == m.unit) {
                others.push((m.kind, m.unit.clone()));
            }
            continue;
        }
        if !q.attrs.iter().all(|(k, v)| m.label(k).as_deref() == Some(v.as_str())) {
            continue;
        }
        if series.len() == max_series {
            answer.truncated = true;
            break;
        }
        series.push(m);
    }
    answer.other_identities = others;
    let wanted: HashMap<i64, usize> = series.iter().enumerate().map(|(i, m)| (m.id, i)).collect();
    let mut samples: Vec<Vec<Sample>> = vec![Vec::new(); series.len()];
    if !wanted.is_empty() {
        // Newest blocks first, so a bounded read keeps the recent end of the range.
        let mut blocks = conn.prepare_cached(
            "SELECT data FROM metric_blocks WHERE name = ?1 AND max_time >= ?2 AND min_time <= ?3
             ORDER BY max_time DESC",
        )?;
        let mut rows = blocks.query(params![
            q.name,
            q.since_ns.min(i64::MAX as u64) as i64,
            q.until_ns.min(i64::MAX as u64) as i64
        ])?;
        let mut held = 0usize;
        while let Some(r) = rows.next()? {
            if held >= max_samples {
                answer.truncated = true;
                break;
            }
            let blob = r.get_ref(0)?.as_blob().map_err(rusqlite::Error::from)?;
            for (id, run) in codec::decode(blob, |id| wanted.contains_key(&id)).map_err(corrupt)? {
                let Some(i) = wanted.get(&id) else { continue };
                let before = samples[*i].len();
                samples[*i].extend(
                    run.into_iter().filter(|s| s.time_ns >= q.since_ns && s.time_ns <= q.until_ns),
                );
                held += samples[*i].len() - before;
            }
        }
    }
    for (meta, mut samples) in series.into_iter().zip(samples) {
        samples.sort_by_key(|s| s.time_ns);
        answer.series.push((meta, samples));
    }
    Ok(answer)
}

/// The names of the catalogue with their point counts, by name: `MetricsAnswer.names`.
fn names(conn: &Connection, q: &MetricQuery) -> Result<MetricsAnswer, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT DISTINCT name FROM metric_series WHERE (?1 IS NULL OR service = ?1) ORDER BY name
         LIMIT ?2",
    )?;
    let fetch = q.limit.saturating_add(1).min(i64::MAX as usize) as i64;
    let list: Vec<String> =
        stmt.query_map(params![q.service, fetch], |r| r.get(0))?.collect::<Result<_, _>>()?;
    let truncated = list.len() > q.limit;
    let mut names = Vec::new();
    for name in list.into_iter().take(q.limit) {
        let points: i64 = match &q.service {
            // Per service, the points are counted from the series' blocks.
            Some(service) => {
                let rows = rows(
                    conn,
                    &MetricRowsQuery {
                        name: name.clone(),
                        service: Some(service.clone()),
                        until_ns: u64::MAX,
                        max_series: MAX_SERIES_READ,
                        max_samples: MAX_SAMPLES_READ,
                        ..MetricRowsQuery::default()
                    },
                )?;
                rows.series.iter().map(|(_, s)| s.len() as i64).sum()
            }
            None => conn.query_row(
                "SELECT COALESCE(SUM(points), 0) FROM metric_blocks WHERE name = ?1",
                [&name],
                |r| r.get(0),
            )?,
        };
        names.push(MetricName { name, points: points.max(0) as u64 });
    }
    Ok(MetricsAnswer { names, series: Vec::new(), truncated })
}

/// `Store::metrics`: the names, or the newest `limit` points of one metric as raw series.
pub(super) fn raw(conn: &Connection, q: &MetricQuery) -> Result<MetricsAnswer, StoreError> {
    let Some(name) = &q.name else { return names(conn, q) };
    let read = rows(
        conn,
        &MetricRowsQuery {
            name: name.clone(),
            service: q.service.clone(),
            since_ns: q.since_ns.unwrap_or(0),
            until_ns: q.until_ns.unwrap_or(u64::MAX),
            max_series: MAX_SERIES_READ,
            max_samples: MAX_SAMPLES_READ,
            ..MetricRowsQuery::default()
        },
    )?;
    // The newest `limit` points over all series.
    let mut times: Vec<u64> =
        read.series.iter().flat_map(|(_, s)| s.iter().map(|p| p.time_ns)).collect();
    let mut truncated = read.truncated;
    let mut from = 0u64;
    if times.len() > q.limit {
        times.sort_unstable();
        from = times[times.len() - q.limit];
        truncated = true;
    }
    let mut taken = 0usize;
    let mut out: BTreeMap<String, MetricSeries> = BTreeMap::new();
    for (meta, samples) in read.series {
        let key = format!(
            "{}\u{0}{}",
            meta.service,
            serde_json::to_string(&meta.attributes).unwrap_or_default()
        );
        let entry = out.entry(key).or_insert_with(|| MetricSeries {
            name: meta.name.clone(),
            kind: meta.kind,
            unit: meta.unit.clone(),
            service: meta.service.clone(),
            attributes: meta.attributes.clone(),
            points: Vec::new(),
        });
        for s in samples.into_iter().filter(|s| s.time_ns >= from) {
            if taken == q.limit {
                break;
            }
            taken += 1;
            let point = to_point(&meta, s);
            if let (Some(step), Some(last)) = (q.step_ns, entry.points.last_mut()) {
                if last.time_ns / step == point.time_ns / step {
                    *last = point;
                    continue;
                }
            }
            entry.points.push(point);
        }
    }
    Ok(MetricsAnswer { names: Vec::new(), series: out.into_values().collect(), truncated })
}

fn to_point(meta: &SeriesMeta, s: Sample) -> MetricPoint {
    let histogram = s.histogram.map(|h| *h);
    let value = match meta.kind {
        MetricKind::Gauge | MetricKind::Sum => Some(s.value).filter(|v| v.is_finite()),
        MetricKind::Summary => histogram.as_ref().and_then(|h| h.sum),
        _ => None,
    };
    MetricPoint {
        name: meta.name.clone(),
        description: meta.description.clone(),
        unit: meta.unit.clone(),
        kind: meta.kind,
        temporality: meta.temporality,
        monotonic: meta.monotonic,
        service: meta.service.clone(),
        attributes: meta.attributes.clone(),
        start_ns: s.start_ns,
        time_ns: s.time_ns,
        value,
        histogram,
        exemplars: s.exemplars,
        resource: meta.resource.clone(),
        scope: meta.scope.clone(),
    }
}

/// Points stored as JSON rows before schema v12 (`metric_points`), moved into series and
/// blocks at open, oldest first, a few thousand per transaction; the rows are then deleted.
pub(super) fn convert_legacy(
    conn: &mut Connection,
    index: &mut SeriesIndex,
) -> Result<u64, StoreError> {
    let mut moved = 0;
    loop {
        let tx = conn.transaction()?;
        let rows: Vec<(i64, i64, Vec<u8>)> = tx
            .prepare("SELECT id, received_ns, point FROM metric_points ORDER BY id LIMIT 5000")?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<Result<_, _>>()?;
        let Some(last) = rows.last().map(|r| r.0) else { break };
        let mut by_receipt: BTreeMap<i64, Vec<MetricPoint>> = BTreeMap::new();
        for (_, received, blob) in rows {
            // A row that no longer parses is dropped with the table, as it could not be read.
            if let Ok(point) = serde_json::from_slice::<MetricPoint>(&blob) {
                by_receipt.entry(received).or_default().push(point);
            }
        }
        let refusals = Refusals::default();
        for (received, points) in by_receipt {
            moved += write(&tx, index, received, &points, &refusals)?;
        }
        tx.execute("DELETE FROM metric_points WHERE id <= ?1", [last])?;
        tx.commit()?;
        index.commit();
    }
    Ok(moved)
}
