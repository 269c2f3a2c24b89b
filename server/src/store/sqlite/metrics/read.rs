//! The metric reads: the catalogue, a metric's series with samples, and the raw `name=` answer.

use std::collections::{BTreeMap, HashMap};

use otelscope_app::model::{
    KeyValue, MetricCatalog, MetricInfo, MetricKind, MetricName, MetricPoint, MetricSeries,
    MetricsAnswer, Scope, Temporality, SELF_SERVICES,
};
use rusqlite::{params, Connection};

use super::super::super::metrics::codec::{self, Arena, Slot, Take};
use super::super::super::metrics::thin::Thin;
use super::super::super::metrics::{
    parse_kind, parse_temporality, MetricCatalogQuery, MetricRows, MetricRowsQuery, Sample,
    SeriesMeta, MAX_SAMPLES_READ, MAX_SERIES_READ,
};
use super::super::super::request::MetricQuery;
use super::super::super::StoreError;
use super::*;

fn left_out(service: &str, q_service: Option<&str>, include_self: bool) -> bool {
    !include_self && q_service.is_none() && SELF_SERVICES.contains(&service)
}

/// The catalogue (see `Store::metric_catalog`).
pub(in crate::store::sqlite) fn catalog(
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
pub(in crate::store::sqlite) fn rows(
    conn: &Connection,
    q: &MetricRowsQuery,
) -> Result<MetricRows, StoreError> {
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
    // A chart of a cumulative histogram reads it lean and makes whole only what it needs.
    let thin = q.chart_steps.map(|(since_ns, step_ns)| Thin {
        since_ns,
        step_ns,
        lo_ns: q.since_ns,
        hi_ns: q.until_ns,
    });
    let lean = |m: &SeriesMeta| {
        thin.is_some()
            && m.kind == MetricKind::Histogram
            && m.temporality == Temporality::Cumulative
    };
    let wanted: HashMap<i64, (usize, Take)> = series
        .iter()
        .enumerate()
        .map(|(i, m)| (m.id, (i, if lean(m) { Take::Lean } else { Take::All })))
        .collect();
    let mut arena = Arena::default();
    // Per series, its runs as read (newest block first), joined once at the end.
    let mut parts: Vec<Vec<(Vec<Sample>, Vec<Slot>)>> = vec![Vec::new(); series.len()];
    if !wanted.is_empty() {
        // Newest blocks first, so a bounded read keeps the recent end of the range.
        let mut blocks = conn.prepare_cached(
            "SELECT data FROM metric_blocks WHERE name = ?1 AND max_time >= ?2 AND min_time < ?3
             ORDER BY max_time DESC",
        )?;
        let mut rows = blocks.query(params![
            q.name,
            q.since_ns.min(i64::MAX as u64) as i64,
            q.until_ns.min(i64::MAX as u64) as i64
        ])?;
        let mut held = 0usize;
        let inside = |s: &Sample| s.time_ns >= q.since_ns && s.time_ns < q.until_ns;
        while let Some(r) = rows.next()? {
            if held >= max_samples {
                answer.truncated = true;
                break;
            }
            let blob = r.get_ref(0)?.as_blob().map_err(rusqlite::Error::from)?;
            let how = |id: i64| wanted.get(&id).map_or(Take::Skip, |w| w.1);
            for (id, mut run, mut slots) in
                codec::decode_runs(blob, how, &mut arena).map_err(corrupt)?
            {
                let Some((i, _)) = wanted.get(&id) else { continue };
                if !run.iter().all(inside) {
                    if slots.is_empty() {
                        run.retain(inside);
                    } else {
                        (run, slots) =
                            run.into_iter().zip(slots).filter(|(s, _)| inside(s)).unzip();
                    }
                }
                held += run.len();
                if !run.is_empty() {
                    parts[*i].push((run, slots));
                }
            }
        }
    }
    for (meta, mut runs) in series.into_iter().zip(parts) {
        runs.reverse();
        let n: usize = runs.iter().map(|r| r.0.len()).sum();
        let mut samples = Vec::with_capacity(n);
        let mut slots = Vec::with_capacity(if lean(&meta) { n } else { 0 });
        for (run, run_slots) in runs {
            samples.extend(run);
            slots.extend(run_slots);
        }
        if !samples.is_sorted_by_key(|s| s.time_ns) {
            if slots.len() == samples.len() {
                // The same stable order as sorting the samples alone, slots alongside.
                let mut order: Vec<usize> = (0..samples.len()).collect();
                order.sort_by_key(|i| samples[*i].time_ns);
                slots = order.iter().map(|i| slots[*i]).collect();
                samples = order.iter().map(|i| std::mem::take(&mut samples[*i])).collect();
            } else {
                samples.sort_by_key(|s| s.time_ns);
            }
        }
        if let (Some(thin), true) = (&thin, slots.len() == samples.len() && lean(&meta)) {
            thin.apply(&mut samples, &slots, &arena);
        }
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
pub(in crate::store::sqlite) fn raw(
    conn: &Connection,
    q: &MetricQuery,
) -> Result<MetricsAnswer, StoreError> {
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
