//! Services in depth (issue 25), pure: the parameters of `/api/v1/services/{name}/red`,
//! `/api/v1/services?since=&until=` and `/api/v1/map`, and the answers made from the store's
//! RED and edge rows (`store::service_rows`): series per step, the operations table with
//! Impact, sparklines, and the map's nodes and edges. Tested without a database.

use std::collections::{BTreeMap, BTreeSet};

use otelscope_app::model::{
    EdgeKind, K8sGroup, MapEdge, MapNode, NodeKind, OperationRed, RedAnswer, RedSeries, RedTotals,
    ServiceMap, ServiceSparkline, Span, SpanKind, SELF_SERVICES,
};

use super::error::ParamError;
use super::params::{insight_range, insight_step, params, time};
use crate::store::{node_id, Histogram, MapRows, RedQuery, RedRow, ROLLUP_BUCKET_NS};

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
    fn seconds(&self) -> f64 {
        (self.until_ns.saturating_sub(self.since_ns).max(ROLLUP_BUCKET_NS)) as f64 / 1e9
    }

    fn store_query(&self, service: Option<String>) -> RedQuery {
        RedQuery { service, since_ns: self.since_ns, until_ns: self.until_ns }
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
            "step" => {
                let d = humantime::parse_duration(&value).map_err(|_| ParamError::Duration {
                    key: "step",
                    example: "1m",
                    value: value.clone(),
                })?;
                step = Some(d.as_nanos().min(u128::from(u64::MAX)) as u64);
            }
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

/// `/api/v1/services?since=&until=&step=&sparklines=&include_self=`: whether otelscope's own
/// services are listed, and the range of the sparklines when they are asked for (`sparklines=1`,
/// or any of `since`, `until`, `step`: the status line's plain `/services` stays cheap). Other
/// parameters are ignored, as before.
pub fn parse_services(raw: &str, now_ns: u64) -> Result<(Option<Range>, bool), ParamError> {
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
    Ok(((wanted || ranged).then_some(range), include_self))
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
struct Acc {
    requests: u64,
    errors: u64,
    duration_ns: u64,
    latency: Dense,
}

/// Counts per latency bucket, dense: adding a stored histogram (`latency.rs`'s form, `(bucket:
/// u16 LE, count: u32 LE)` pairs) is an index add per pair rather than a tree insert, which the
/// 6 h answers (tens of thousands of rows) need. Made a `Histogram` only for percentiles.
#[derive(Clone, Default)]
struct Dense(Vec<u64>);

impl Dense {
    fn merge_encoded(&mut self, bytes: &[u8]) {
        if self.0.is_empty() {
            self.0 = vec![0; 512];
        }
        for pair in bytes.chunks_exact(6) {
            let bucket = usize::from(u16::from_le_bytes([pair[0], pair[1]]));
            let count = u32::from_le_bytes([pair[2], pair[3], pair[4], pair[5]]);
            if let Some(slot) = self.0.get_mut(bucket) {
                *slot += u64::from(count);
            }
        }
    }

    fn add(&mut self, other: &Dense) {
        if other.0.is_empty() {
            return;
        }
        if self.0.is_empty() {
            self.0 = vec![0; 512];
        }
        self.0.iter_mut().zip(&other.0).for_each(|(a, b)| *a += b);
    }

    /// The histogram, for its percentiles (buckets no duration falls in are dropped by it).
    fn histogram(&self) -> Histogram {
        let mut bytes = Vec::new();
        for (bucket, &count) in self.0.iter().enumerate().filter(|(_, c)| **c > 0) {
            let mut left = count;
            while left > 0 {
                let part = left.min(u64::from(u32::MAX));
                bytes.extend_from_slice(&(bucket as u16).to_le_bytes());
                bytes.extend_from_slice(&(part as u32).to_le_bytes());
                left -= part;
            }
        }
        let mut h = Histogram::default();
        h.merge_encoded(&bytes);
        h
    }

    /// p50, p95, p99.
    fn percentiles(&self) -> [Option<u64>; 3] {
        let h = self.histogram();
        [h.quantile(0.5), h.quantile(0.95), h.quantile(0.99)]
    }
}

impl Acc {
    fn add(&mut self, row: &RedRow) {
        self.requests += row.requests;
        self.errors += row.errors;
        self.duration_ns = self.duration_ns.saturating_add(row.duration_ns);
        self.latency.merge_encoded(&row.latency);
    }

    fn totals(&self, seconds: f64) -> RedTotals {
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

fn pct(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| 100.0 * part as f64 / whole as f64)
}

/// The series of `rows` (already chosen) over `range`.
fn series<'a>(rows: impl Iterator<Item = &'a RedRow>, range: &Range) -> (RedSeries, Acc) {
    let (start, step, n) = (range.start(), range.step_ns.max(1), range.steps());
    let mut steps: Vec<Acc> = (0..n).map(|_| Acc::default()).collect();
    let mut all = Acc::default();
    for row in rows {
        if row.bucket_ns < start || row.bucket_ns > range.until_ns {
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
fn kinds_counted(rows: &[&RedRow], filter: &KindFilter) -> Vec<SpanKind> {
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
        if row.bucket_ns < range.start() || row.bucket_ns > range.until_ns {
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

fn ms(ns: Option<u64>) -> Option<f64> {
    ns.map(|ns| ns as f64 / 1e6)
}

/// `/api/v1/map`'s answer from the edge rows and every service's RED rows of the range.
pub fn map_answer(found: MapRows, red: &[RedRow], p: &MapParams) -> ServiceMap {
    let range = &p.range;
    let seconds = range.seconds();
    let hidden = |id: &str| {
        !p.include_self
            && SELF_SERVICES
                .iter()
                .any(|s| id == node_id(NodeKind::Service, s) && p.service.as_deref() != Some(s))
    };
    // Edges, summed over the range.
    let mut edges: BTreeMap<(String, String, EdgeKind), Acc> = BTreeMap::new();
    for row in found.edges {
        if hidden(&row.source) || hidden(&row.target) {
            continue;
        }
        let acc = edges.entry((row.source, row.target, row.kind)).or_default();
        acc.requests += row.calls;
        acc.errors += row.errors;
        acc.latency.merge_encoded(&row.latency);
    }
    if let Some(service) = &p.service {
        let me = node_id(NodeKind::Service, service);
        edges.retain(|(s, t, _), _| *s == me || *t == me);
    }
    // Nodes: every service with spans, every node an edge names.
    let mut nodes: BTreeMap<String, MapNode> = BTreeMap::new();
    let mut by_service: BTreeMap<&str, Vec<&RedRow>> = BTreeMap::new();
    for row in red {
        by_service.entry(&row.service).or_default().push(row);
    }
    for (service, rows) in by_service {
        let id = node_id(NodeKind::Service, service);
        if hidden(&id) {
            continue;
        }
        let kinds = kinds_counted(&rows, &KindFilter::Entry);
        let mut acc = Acc::default();
        rows.into_iter().filter(|r| kinds.contains(&r.kind)).for_each(|r| acc.add(r));
        nodes.insert(id.clone(), node(id, NodeKind::Service, service, &acc, seconds));
    }
    let mut incoming: BTreeMap<&str, Acc> = BTreeMap::new();
    let mut outgoing: BTreeMap<&str, u64> = BTreeMap::new();
    for ((source, target, _), acc) in &edges {
        let into = incoming.entry(target).or_default();
        into.requests += acc.requests;
        into.errors += acc.errors;
        into.latency.add(&acc.latency);
        *outgoing.entry(source).or_default() += acc.requests;
    }
    let meta: BTreeMap<&str, &crate::store::NodeRow> =
        found.nodes.iter().map(|n| (n.id.as_str(), n)).collect();
    for id in edges.keys().flat_map(|(s, t, _)| [s, t]) {
        if nodes.contains_key(id) {
            continue;
        }
        let (kind, name) = match meta.get(id.as_str()) {
            Some(m) => (m.kind, m.name.clone()),
            None => match id.split_once(':') {
                Some((kind, name)) => (kind.parse().unwrap_or_default(), name.to_owned()),
                None => (NodeKind::User, id.clone()),
            },
        };
        let acc = match kind {
            // `user` calls, it is not called: its numbers are its calls.
            NodeKind::User => {
                let mut acc = Acc::default();
                for ((source, _, _), e) in &edges {
                    if source == id {
                        acc.requests += e.requests;
                        acc.errors += e.errors;
                        acc.latency.add(&e.latency);
                    }
                }
                acc
            }
            _ => incoming.remove(id.as_str()).unwrap_or_default(),
        };
        nodes.insert(id.clone(), node(id.clone(), kind, &name, &acc, seconds));
    }
    for (id, node) in nodes.iter_mut() {
        if let Some(m) = meta.get(id.as_str()) {
            node.system = m.system.clone();
            if m.namespace.is_some() || m.deployment.is_some() {
                node.k8s = Some(K8sGroup {
                    namespace: m.namespace.clone(),
                    deployment: m.deployment.clone(),
                    pods: Vec::new(),
                });
            }
        }
    }
    if let Some(service) = &p.service {
        let me = node_id(NodeKind::Service, service);
        let near: BTreeSet<&String> = edges.keys().flat_map(|(s, t, _)| [s, t]).collect();
        let keep: BTreeSet<String> =
            nodes.keys().filter(|id| **id == me || near.contains(id)).cloned().collect();
        nodes.retain(|id, _| keep.contains(id));
    }
    let mut truncated = false;
    if nodes.len() > MAX_MAP_NODES {
        let mut busiest: Vec<(&String, u64)> = nodes
            .iter()
            .map(|(id, n)| (id, n.requests + outgoing.get(id.as_str()).copied().unwrap_or(0)))
            .collect();
        busiest.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        let keep: BTreeSet<String> =
            busiest.into_iter().take(MAX_MAP_NODES).map(|(id, _)| id.clone()).collect();
        nodes.retain(|id, _| keep.contains(id));
        truncated = true;
    }
    let edges = edges
        .into_iter()
        .filter(|((s, t, _), _)| nodes.contains_key(s) && nodes.contains_key(t))
        .map(|((source, target, kind), acc)| {
            let [p50, p95, p99] = acc.latency.percentiles();
            MapEdge {
                source,
                target,
                kind,
                calls: acc.requests,
                errors: acc.errors,
                p50_ms: ms(p50),
                p95_ms: ms(p95),
                p99_ms: ms(p99),
            }
        })
        .collect();
    ServiceMap {
        since_ns: range.start(),
        until_ns: range.until_ns,
        trace_id: None,
        service: p.service.clone(),
        nodes: nodes.into_values().collect(),
        edges,
        pending: found.pending,
        truncated,
    }
}

fn node(id: String, kind: NodeKind, name: &str, acc: &Acc, seconds: f64) -> MapNode {
    MapNode {
        id,
        name: name.to_owned(),
        kind,
        system: None,
        requests: acc.requests,
        errors: acc.errors,
        rate: acc.requests as f64 / seconds,
        error_pct: pct(acc.errors, acc.requests),
        p95_ms: ms(acc.latency.percentiles()[1]),
        k8s: None,
    }
}

/// One trace's map: its spans paired whole (`store::trace_edges`), every service it crossed
/// with its entry spans' numbers; rates are 0.
pub fn trace_map(trace_id: &str, spans: &[Span]) -> ServiceMap {
    let deltas = crate::store::trace_edges(spans);
    let mut edges = Vec::new();
    for (key, delta) in &deltas.edges {
        edges.push(crate::store::EdgeRow {
            bucket_ns: 0,
            source: key.source.clone(),
            target: key.target.clone(),
            kind: key.kind,
            calls: delta.calls.max(0) as u64,
            errors: delta.errors.max(0) as u64,
            latency: delta.latency.encode(),
        });
    }
    let nodes = deltas
        .nodes
        .iter()
        .map(|(id, m)| crate::store::NodeRow {
            id: id.clone(),
            kind: m.kind,
            name: m.name.clone(),
            system: m.system.clone(),
            namespace: m.namespace.clone(),
            deployment: m.deployment.clone(),
        })
        .collect();
    let red: Vec<RedRow> = crate::store::red_deltas(spans)
        .into_iter()
        .map(|(k, d)| RedRow {
            service: k.service,
            bucket_ns: 0,
            name: k.name,
            kind: crate::store::service_rows::span_kind(k.kind),
            requests: d.requests.max(0) as u64,
            errors: d.errors.max(0) as u64,
            duration_ns: d.duration_ns.max(0) as u64,
            latency: d.latency.encode(),
        })
        .collect();
    let start = spans.iter().map(|s| s.start_ns).min().unwrap_or(0);
    let end = spans.iter().map(|s| s.end_ns).max().unwrap_or(start);
    let p = MapParams {
        range: Range { since_ns: 0, until_ns: 0, step_ns: ROLLUP_BUCKET_NS },
        service: None,
        trace_id: Some(trace_id.to_owned()),
        include_self: true,
    };
    let mut map = map_answer(MapRows { edges, nodes, pending: 0 }, &red, &p);
    for node in &mut map.nodes {
        node.rate = 0.0;
    }
    map.since_ns = start;
    map.until_ns = end;
    map.trace_id = Some(trace_id.to_owned());
    map
}

#[cfg(test)]
#[path = "services_tests.rs"]
mod tests;
