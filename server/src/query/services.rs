//! Services in depth (issue 25), pure: the parameters of `/api/v1/services/{name}/red`,
//! `/api/v1/services?since=&until=` and `/api/v1/map`, and the answers made from the store's
//! RED and edge rows (`store::service_rows`): series per step, the operations table with
//! Impact, sparklines, and the map's nodes and edges. Tested without a database.

use std::collections::BTreeMap;

use otelscope_app::model::{
    OperationRed, RedAnswer, RedSeries, RedTotals, ServiceSparkline, ServiceSummary, SpanKind,
};

use super::error::ParamError;
use super::params::{insight_range, insight_step, params, step_param, time};
use crate::store::{Grain, Histogram, RedQuery, RedRow, ROLLUP_BUCKET_NS};

/// The most operations a RED answer lists (the largest Impact first).
pub const MAX_OPERATIONS: usize = 500;
/// The most nodes a map draws (the busiest); edges between the others are left out.
pub const MAX_MAP_NODES: usize = 300;

/// Which span kinds a series counts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KindFilter {
    /// Server and consumer spans when there are any, else every kind.
    Entry,
    /// Every kind (`kind=all`).
    All,
    One(SpanKind),
}

/// The range and step every services route reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Range {
    pub since_ns: u64,
    pub until_ns: u64,
    pub step_ns: u64,
}

impl Range {
    /// The first step's start: `since` rounded down to the step (steps are whole buckets).
    pub fn start(&self) -> u64 {
        self.since_ns - self.since_ns % self.step_ns.max(1)
    }

    /// How many steps cover `[start, until)` (at least one).
    pub fn steps(&self) -> usize {
        let width = self.until_ns.saturating_sub(self.start());
        width.div_ceil(self.step_ns.max(1)).max(1) as usize
    }

    /// The seconds the answer covers, for rates.
    pub(super) fn seconds(&self) -> f64 {
        (self.until_ns.saturating_sub(self.since_ns).max(ROLLUP_BUCKET_NS)) as f64 / 1e9
    }

    /// The store's rows for this range's steps (rows of a minute when the step is whole
    /// minutes: `Grain::Steps`).
    pub fn store_query(&self, service: Option<String>) -> RedQuery {
        RedQuery {
            service,
            since_ns: self.since_ns,
            until_ns: self.until_ns,
            grain: Grain::Steps(self.step_ns),
        }
    }
}

/// `/api/v1/services/{name}/red`'s parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RedParams {
    pub service: String,
    pub range: Range,
    pub operation: Option<String>,
    pub kind: KindFilter,
}

impl RedParams {
    pub fn store_query(&self) -> RedQuery {
        self.range.store_query(Some(self.service.clone()))
    }
}

/// Reads `since`, `until`, `step` (a duration) and passes the other pairs to `other`.
fn range_and(
    raw: &str,
    now_ns: u64,
    mut other: impl FnMut(&str, String) -> Result<(), ParamError>,
) -> Result<Range, ParamError> {
    let (mut since, mut until, mut step) = (None, None, None);
    for (key, value) in params(raw) {
        match key.as_str() {
            "since" => since = Some(time(&key, &value, now_ns)?),
            "until" => until = Some(time(&key, &value, now_ns)?),
            "step" => step = Some(step_param(&value)?),
            _ => other(&key, value)?,
        }
    }
    let (since_ns, until_ns) = insight_range(since, until, now_ns)?;
    Ok(Range { since_ns, until_ns, step_ns: insight_step(until_ns - since_ns, step) })
}

/// `since`, `until`, `step`, `operation`, `kind` (`server`, `client`, …, or `all`).
pub fn parse_red(service: &str, raw: &str, now_ns: u64) -> Result<RedParams, ParamError> {
    let (mut operation, mut kind) = (None, KindFilter::Entry);
    let range = range_and(raw, now_ns, |key, value| {
        match key {
            "operation" => operation = Some(value),
            "kind" => kind = kind_filter(&value)?,
            "include_self" => {}
            other => return Err(ParamError::Unknown(other.to_owned())),
        }
        Ok(())
    })?;
    Ok(RedParams { service: service.to_owned(), range, operation, kind })
}

fn kind_filter(value: &str) -> Result<KindFilter, ParamError> {
    Ok(match value {
        "all" => KindFilter::All,
        "server" => KindFilter::One(SpanKind::Server),
        "client" => KindFilter::One(SpanKind::Client),
        "producer" => KindFilter::One(SpanKind::Producer),
        "consumer" => KindFilter::One(SpanKind::Consumer),
        "internal" => KindFilter::One(SpanKind::Internal),
        "unspecified" => KindFilter::One(SpanKind::Unspecified),
        _ => {
            return Err(ParamError::OneOf {
                key: "kind",
                allowed: "all, server, client, producer, consumer, internal or unspecified",
                value: value.to_owned(),
            })
        }
    })
}

/// `/api/v1/services?since=&until=&step=&sparklines=&include_self=`'s parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServicesParams {
    /// The range the table counts: the last hour unless `since`/`until` say otherwise, as for
    /// every aggregate (the product contract's range rule).
    pub range: Range,
    /// Per service, sparklines over the range: with `sparklines=1`, or any of `since`, `until`,
    /// `step` (a plain `/services`, the status line's and the forms', stays small).
    pub sparklines: bool,
    /// otelscope's own services listed too (`include_self=1`).
    pub include_self: bool,
}

/// Parses `/api/v1/services`' query; other parameters are ignored.
pub fn parse_services(raw: &str, now_ns: u64) -> Result<ServicesParams, ParamError> {
    let (mut include_self, mut wanted) = (false, false);
    let range = range_and(raw, now_ns, |key, value| {
        match key {
            "include_self" => include_self = super::params::flag(key, &value)?,
            "sparklines" => wanted = super::params::flag(key, &value)?,
            _ => {}
        }
        Ok(())
    })?;
    let ranged = params(raw).any(|(k, _)| matches!(k.as_str(), "since" | "until" | "step"));
    Ok(ServicesParams { range, sparklines: wanted || ranged, include_self })
}

/// `/api/v1/map`'s parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MapParams {
    pub range: Range,
    pub service: Option<String>,
    pub trace_id: Option<String>,
    pub include_self: bool,
}

/// `since`, `until`, `service`, `trace_id`, `include_self`.
pub fn parse_map(raw: &str, now_ns: u64) -> Result<MapParams, ParamError> {
    let (mut service, mut trace_id, mut include_self) = (None, None, false);
    let range = range_and(raw, now_ns, |key, value| {
        match key {
            "service" => service = Some(value),
            "trace_id" => {
                if !otelscope_app::model::is_trace_id(&value) {
                    return Err(ParamError::TraceId { key: "trace_id", value });
                }
                trace_id = Some(value.to_ascii_lowercase());
            }
            "include_self" => include_self = super::params::flag(key, &value)?,
            other => return Err(ParamError::Unknown(other.to_owned())),
        }
        Ok(())
    })?;
    Ok(MapParams { range, service, trace_id, include_self })
}

/// Whether a row of `kind` counts under `filter`, given the kinds the rows have (`entry`: some
/// row is a server or consumer span).
fn counts(filter: &KindFilter, kind: SpanKind, entry: bool) -> bool {
    match filter {
        KindFilter::All => true,
        KindFilter::One(k) => *k == kind,
        KindFilter::Entry => !entry || matches!(kind, SpanKind::Server | SpanKind::Consumer),
    }
}

fn is_entry(kind: SpanKind) -> bool {
    matches!(kind, SpanKind::Server | SpanKind::Consumer)
}

/// Sums per step, and over the whole range.
#[derive(Default)]
pub(super) struct Acc {
    pub(super) requests: u64,
    pub(super) errors: u64,
    pub(super) duration_ns: u64,
    pub(super) latency: Histogram,
}

impl Acc {
    pub(super) fn add(&mut self, row: &RedRow) {
        self.requests += row.requests;
        self.errors += row.errors;
        self.duration_ns = self.duration_ns.saturating_add(row.duration_ns);
        self.latency.merge_encoded(&row.latency);
    }

    pub(super) fn totals(&self, seconds: f64) -> RedTotals {
        let [p50_ns, p95_ns, p99_ns] = self.latency.percentiles();
        RedTotals {
            requests: self.requests,
            errors: self.errors,
            rate: self.requests as f64 / seconds,
            error_pct: pct(self.errors, self.requests),
            p50_ns,
            p95_ns,
            p99_ns,
        }
    }
}

pub(super) fn pct(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| 100.0 * part as f64 / whole as f64)
}

/// The series of `rows` (already chosen) over `range`.
fn series<'a>(rows: impl Iterator<Item = &'a RedRow>, range: &Range) -> (RedSeries, Acc) {
    let (start, step, n) = (range.start(), range.step_ns.max(1), range.steps());
    let mut steps: Vec<Acc> = (0..n).map(|_| Acc::default()).collect();
    let mut all = Acc::default();
    for row in rows {
        if row.bucket_ns < start || row.bucket_ns >= range.until_ns {
            continue;
        }
        let i = ((row.bucket_ns - start) / step) as usize;
        if let Some(acc) = steps.get_mut(i) {
            acc.add(row);
            all.add(row);
        }
    }
    let pcts: Vec<[Option<u64>; 3]> = steps.iter().map(|a| a.latency.percentiles()).collect();
    let series = RedSeries {
        since_ns: start,
        step_ns: step,
        requests: steps.iter().map(|a| a.requests).collect(),
        errors: steps.iter().map(|a| a.errors).collect(),
        p50_ns: pcts.iter().map(|p| p[0]).collect(),
        p95_ns: pcts.iter().map(|p| p[1]).collect(),
        p99_ns: pcts.iter().map(|p| p[2]).collect(),
    };
    (series, all)
}

/// The kinds a series counted, in `SpanKind` order.
pub(super) fn kinds_counted(rows: &[&RedRow], filter: &KindFilter) -> Vec<SpanKind> {
    let entry = rows.iter().any(|r| is_entry(r.kind));
    let order = [
        SpanKind::Server,
        SpanKind::Consumer,
        SpanKind::Client,
        SpanKind::Producer,
        SpanKind::Internal,
        SpanKind::Unspecified,
    ];
    match filter {
        KindFilter::One(k) => vec![*k],
        _ => order
            .into_iter()
            .filter(|&k| counts(filter, k, entry) && rows.iter().any(|r| r.kind == k))
            .collect(),
    }
}

/// `/api/v1/services/{name}/red`'s answer from the service's rows.
pub fn red_answer(rows: &[RedRow], p: &RedParams) -> RedAnswer {
    let range = &p.range;
    let chosen: Vec<&RedRow> = rows
        .iter()
        .filter(|r| r.service == p.service)
        .filter(|r| p.operation.as_ref().is_none_or(|op| &r.name == op))
        .collect();
    let kinds = kinds_counted(&chosen, &p.kind);
    let (series, all) = series(chosen.iter().copied().filter(|r| kinds.contains(&r.kind)), range);
    // The operations table: every (name, kind) of the service over the range.
    let mut ops: BTreeMap<(&str, &'static str), (SpanKind, Acc)> = BTreeMap::new();
    for row in rows.iter().filter(|r| r.service == p.service) {
        if row.bucket_ns < range.start() || row.bucket_ns >= range.until_ns {
            continue;
        }
        ops.entry((&row.name, row.kind.name()))
            .or_insert_with(|| (row.kind, Acc::default()))
            .1
            .add(row);
    }
    let minutes = range.seconds() / 60.0;
    let mut operations: Vec<OperationRed> = ops
        .into_iter()
        .map(|((name, _), (kind, acc))| {
            let avg_ns = (acc.requests > 0).then(|| acc.duration_ns / acc.requests);
            let per_min = acc.requests as f64 / minutes;
            let [p50_ns, p95_ns, p99_ns] = acc.latency.percentiles();
            OperationRed {
                name: name.to_owned(),
                kind,
                requests: acc.requests,
                errors: acc.errors,
                per_min,
                error_pct: pct(acc.errors, acc.requests),
                avg_ns,
                p50_ns,
                p95_ns,
                p99_ns,
                impact: avg_ns.unwrap_or(0) as f64 / 1e9 * per_min,
                impact_share: 0.0,
            }
        })
        .collect();
    operations.sort_by(|a, b| {
        b.impact
            .total_cmp(&a.impact)
            .then_with(|| a.name.cmp(&b.name))
            .then_with(|| a.kind.name().cmp(b.kind.name()))
    });
    let top = operations.first().map_or(0.0, |o| o.impact);
    for op in &mut operations {
        op.impact_share = if top > 0.0 { op.impact / top } else { 0.0 };
    }
    let truncated = operations.len() > MAX_OPERATIONS;
    operations.truncate(MAX_OPERATIONS);
    RedAnswer {
        service: p.service.clone(),
        operation: p.operation.clone(),
        kinds,
        since_ns: range.start(),
        until_ns: range.until_ns,
        totals: all.totals(range.seconds()),
        series,
        operations,
        truncated,
    }
}

/// Per service, its entry spans' series (sparklines), by service name.
pub fn sparklines(rows: &[RedRow], range: &Range) -> Vec<ServiceSparkline> {
    let mut by_service: BTreeMap<&str, Vec<&RedRow>> = BTreeMap::new();
    for row in rows {
        by_service.entry(&row.service).or_default().push(row);
    }
    by_service
        .into_iter()
        .map(|(service, rows)| {
            let kinds = kinds_counted(&rows, &KindFilter::Entry);
            let (series, _) = series(rows.into_iter().filter(|r| kinds.contains(&r.kind)), range);
            ServiceSparkline { service: service.to_owned(), series }
        })
        .collect()
}

/// The services table over `range` (issue 26 point 8: aggregates default to the last hour):
/// each listed service's spans of every kind that started in `[since, until)` (from the bucket
/// holding `since`, as every rollup answers), their errors and percentiles, from the RED rows.
/// A service seen but with no span in the range keeps its row, with zeros.
pub fn table_over(services: &mut [ServiceSummary], rows: &[RedRow], range: &Range) {
    let from = range.since_ns - range.since_ns % ROLLUP_BUCKET_NS;
    let mut by_service: BTreeMap<&str, Acc> = BTreeMap::new();
    for row in rows.iter().filter(|r| r.bucket_ns >= from && r.bucket_ns < range.until_ns) {
        by_service.entry(&row.service).or_default().add(row);
    }
    for service in services.iter_mut() {
        let acc = by_service.get(service.name.as_str());
        let [p50_ns, p95_ns, p99_ns] = acc.map_or([None; 3], |a| a.latency.percentiles());
        service.span_count = acc.map_or(0, |a| a.requests);
        service.error_count = acc.map_or(0, |a| a.errors);
        (service.p50_ns, service.p95_ns, service.p99_ns) = (p50_ns, p95_ns, p99_ns);
    }
}

pub(super) fn ms(ns: Option<u64>) -> Option<f64> {
    ns.map(|ns| ns as f64 / 1e6)
}

#[cfg(test)]
#[path = "services_tests.rs"]
mod tests;
