//! Span reads: a trace's version and chunks (by the `span_chunks` key, trace id then chunk id),
//! the services, their operations and operation stats, trace search and its count (the
//! `traces` aggregates merged at query time, so answers never wait for ClickHouse's merges),
//! the spans linking to a span (`span_links`) and a trace's flame graph (its chunks, folded).

use std::collections::HashMap;

use otelscope_app::model::{
    has_attr_text, LinkingSpan, OperationStats, ServiceSummary, Span, TraceSummary, SELF_SERVICES,
};

use super::super::latency::Histogram;
use super::super::request::TraceQuery;
use super::super::rows::TraceRowInfo;
use super::super::{whole_trace, SpanChunk, StoreError};
use super::http::{quote, Reader};
use super::ClickHouseStore;
use crate::stacks::StackTree;

/// Candidate traces an attribute filter may decode before search gives up (as SQLite's).
const ATTR_SCAN_LIMIT: usize = 5_000;
/// Candidates whose chunks are read in one statement while checking attribute filters.
const ATTR_PAGE: usize = 50;

/// See `Store::trace_version`.
pub(super) fn trace_version(
    store: &ClickHouseStore,
    trace_id: &str,
) -> Result<Option<u64>, StoreError> {
    let answer = store.http.query(&format!(
        "SELECT toUInt64(sum(span_count)), count() FROM {}.span_chunks WHERE trace_id = {} FORMAT RowBinary",
        store.config.database,
        quote(trace_id)
    ))?;
    let mut r = Reader::new(&answer);
    let (spans, chunks) = (r.u64()?, r.u64()?);
    Ok((chunks > 0).then_some(spans))
}

/// See `Store::trace_chunk`.
pub(super) fn trace_chunk(
    store: &ClickHouseStore,
    trace_id: &str,
    after: i64,
) -> Result<Option<SpanChunk>, StoreError> {
    let answer = store.http.query(&format!(
        "SELECT id, spans FROM {}.span_chunks WHERE trace_id = {} AND id > {after}
         ORDER BY id LIMIT 1 FORMAT RowBinary",
        store.config.database,
        quote(trace_id)
    ))?;
    let mut r = Reader::new(&answer);
    if r.done() {
        return Ok(None);
    }
    Ok(Some(SpanChunk { id: r.i64()?, blob: r.bytes()?.to_vec() }))
}

/// See `Store::services`: the summed `service_ops` and `service_latency` rows.
pub(super) fn services(store: &ClickHouseStore) -> Result<Vec<ServiceSummary>, StoreError> {
    let db = &store.config.database;
    let counts = store.http.query(&format!(
        "SELECT service, sum(span_count), sum(error_count) FROM {db}.service_ops
         GROUP BY service ORDER BY service FORMAT RowBinary"
    ))?;
    let latency = store.http.query(&format!(
        "SELECT service, bucket, sum(count) FROM {db}.service_latency
         GROUP BY service, bucket FORMAT RowBinary"
    ))?;
    let mut histograms: HashMap<String, Histogram> = HashMap::new();
    let mut r = Reader::new(&latency);
    while !r.done() {
        let service = r.string()?;
        let (bucket, count) = (r.u16()?, r.u64()?);
        histograms.entry(service).or_default().add_bucket(bucket, count);
    }
    let mut services = Vec::new();
    let mut r = Reader::new(&counts);
    while !r.done() {
        let name = r.string()?;
        let (spans, errors) = (r.u64()?, r.u64()?);
        let durations = histograms.remove(&name).unwrap_or_default();
        services.push(ServiceSummary {
            span_count: spans,
            error_count: errors,
            p50_ns: durations.quantile(0.50),
            p95_ns: durations.quantile(0.95),
            p99_ns: durations.quantile(0.99),
            ..ServiceSummary::new(name)
        });
    }
    Ok(services)
}

/// See `Store::operations`: the service's names in `service_ops` (rows per name, once merged).
pub(super) fn operations(
    store: &ClickHouseStore,
    service: &str,
    limit: usize,
) -> Result<Vec<String>, StoreError> {
    let answer = store.http.query(&format!(
        "SELECT name FROM {}.service_ops WHERE service = {} GROUP BY name ORDER BY name
         LIMIT {limit} FORMAT RowBinary",
        store.config.database,
        quote(service)
    ))?;
    let mut r = Reader::new(&answer);
    let mut names = Vec::new();
    while !r.done() {
        names.push(r.string()?);
    }
    Ok(names)
}

/// See `Store::operation_stats`: the service's `trace_ops` rows of traces started since
/// `since_ns`, one per (trace, name), newest trace first. A trace's start here is the earliest
/// start of its parts that carry spans of the service (SQLite's is the whole trace's).
pub(super) fn operation_stats(
    store: &ClickHouseStore,
    service: &str,
    since_ns: u64,
    max_rows: usize,
) -> Result<(Vec<OperationStats>, bool), StoreError> {
    let answer = store.http.query(&format!(
        "SELECT name, trace_id, sum(span_count), sum(error_count), groupArray(latency),
                min(start_ns) AS started
         FROM {}.trace_ops WHERE service = {} AND start_ns >= {}
         GROUP BY trace_id, name ORDER BY started DESC, trace_id DESC LIMIT {} FORMAT RowBinary",
        store.config.database,
        quote(service),
        since_ns.min(i64::MAX as u64),
        max_rows.saturating_add(1)
    ))?;
    let mut r = Reader::new(&answer);
    let mut by_name: HashMap<String, (OperationStats, Histogram, u64)> = HashMap::new();
    let mut read = 0;
    while !r.done() {
        let (name, trace_id) = (r.string()?, r.string()?);
        let (spans, errors) = (r.u64()?, r.u64()?);
        let mut this_trace = Histogram::default();
        for latency in r.strings()? {
            this_trace.merge_encoded(latency);
        }
        r.i64()?;
        read += 1;
        if read > max_rows {
            break;
        }
        let entry = by_name.entry(name.clone()).or_insert_with(|| {
            (OperationStats { name, ..OperationStats::default() }, Histogram::default(), 0)
        });
        entry.0.span_count += spans;
        entry.0.error_count += errors;
        for (bucket, count) in this_trace.buckets() {
            entry.1.add_bucket(bucket, count);
        }
        let slowest = this_trace.quantile(1.0).unwrap_or(0);
        if slowest > entry.2 || entry.0.slowest_trace_id.is_none() {
            entry.2 = slowest;
            entry.0.slowest_trace_id = Some(trace_id);
        }
    }
    let mut stats: Vec<OperationStats> = by_name
        .into_values()
        .map(|(stats, durations, _)| OperationStats {
            p50_ns: durations.quantile(0.50),
            p95_ns: durations.quantile(0.95),
            max_ns: durations.quantile(1.0),
            ..stats
        })
        .collect();
    stats.sort_by(|a, b| b.p95_ns.cmp(&a.p95_ns).then_with(|| a.name.cmp(&b.name)));
    Ok((stats, read > max_rows))
}

/// The statement listing the summaries of the traces matching `q` (attribute filters aside),
/// newest start first, at most `limit`: the `traces` aggregates grouped by trace, the service
/// and name filters as a set of trace ids from `trace_ops` (whose key starts with them).
fn search_sql(store: &ClickHouseStore, q: &TraceQuery, limit: usize) -> String {
    let db = &store.config.database;
    let mut ops = Vec::new();
    if let Some(service) = &q.service {
        ops.push(format!("service = {}", quote(service)));
    }
    if let Some(name) = &q.name {
        ops.push(format!("name = {}", quote(name)));
    }
    // A trace that started at or after `since` has every part starting there too.
    if let (false, Some(since)) = (ops.is_empty(), q.since_ns) {
        ops.push(format!("start_ns >= {}", since.min(i64::MAX as u64)));
    }
    let mut having = vec!["1 = 1".to_owned()];
    let ns = |v: u64| v.min(i64::MAX as u64);
    if let Some(since) = q.since_ns {
        having.push(format!("started >= {}", ns(since)));
    }
    if let Some(until) = q.until_ns {
        having.push(format!("started < {}", ns(until)));
    }
    if let Some(min) = q.min_duration_ns {
        having.push(format!("ended - started >= {}", ns(min)));
    }
    if let Some(max) = q.max_duration_ns {
        having.push(format!("ended - started <= {}", ns(max)));
    }
    match q.error {
        Some(true) => having.push("errors > 0".into()),
        Some(false) => having.push("errors = 0".into()),
        None => {}
    }
    let names_self = q.service.as_deref().is_some_and(|s| SELF_SERVICES.contains(&s));
    if !q.include_self && !names_self {
        let own: Vec<String> = SELF_SERVICES.iter().map(|s| quote(s)).collect();
        having.push(format!("tupleElement(head, 1) NOT IN ({})", own.join(", ")));
    }
    let filter = if ops.is_empty() {
        String::new()
    } else {
        format!(
            " WHERE trace_id IN (SELECT trace_id FROM {db}.trace_ops WHERE {})",
            ops.join(" AND ")
        )
    };
    format!(
        "SELECT trace_id, argMinMerge(root) AS head, minMerge(start_ns) AS started,
                maxMerge(end_ns) AS ended, sumMerge(span_count) AS spans,
                sumMerge(error_count) AS errors, minMerge(root_missing) AS waiting
         FROM {db}.traces{filter}
         GROUP BY trace_id HAVING {}
         ORDER BY started DESC, trace_id DESC LIMIT {limit}",
        having.join(" AND ")
    )
}

/// See `Store::search_traces`.
pub(super) fn search(
    store: &ClickHouseStore,
    q: &TraceQuery,
) -> Result<Vec<TraceSummary>, StoreError> {
    let limit = if q.attrs.is_empty() { q.limit } else { ATTR_SCAN_LIMIT };
    let answer = store.http.query(&format!("{} FORMAT RowBinary", search_sql(store, q, limit)))?;
    let mut r = Reader::new(&answer);
    let mut candidates = Vec::new();
    while !r.done() {
        let trace_id = r.string()?;
        let (root_service, root_name) = (r.string()?, r.string()?);
        let (start, end) = (r.i64()?, r.i64()?);
        let (spans, errors) = (r.u64()?, r.u64()?);
        let root_missing = r.u8()? == 1;
        candidates.push(TraceSummary {
            trace_id,
            root_service,
            root_name,
            start_ns: start.max(0) as u64,
            duration_ns: end.saturating_sub(start).max(0) as u64,
            span_count: spans,
            error_count: errors,
            root_missing,
            ..TraceSummary::default()
        });
    }
    if q.attrs.is_empty() {
        return Ok(candidates);
    }
    let mut found = Vec::new();
    for page in candidates.chunks(ATTR_PAGE) {
        let matching = with_attrs(store, page, &q.attrs)?;
        for summary in page {
            if matching.contains(&summary.trace_id) {
                found.push(summary.clone());
                if found.len() >= q.limit {
                    return Ok(found);
                }
            }
        }
    }
    Ok(found)
}

/// The ids among `page` with a span that carries every `KEY=VALUE` of `attrs` (values compared
/// as the details panel shows them, `model::has_attr_text`).
fn with_attrs(
    store: &ClickHouseStore,
    page: &[TraceSummary],
    attrs: &[(String, String)],
) -> Result<std::collections::HashSet<String>, StoreError> {
    let ids: Vec<String> = page.iter().map(|s| quote(&s.trace_id)).collect();
    let answer = store.http.query(&format!(
        "SELECT trace_id, spans FROM {}.span_chunks WHERE trace_id IN ({}) FORMAT RowBinary",
        store.config.database,
        ids.join(", ")
    ))?;
    let mut r = Reader::new(&answer);
    let mut matching = std::collections::HashSet::new();
    while !r.done() {
        let trace_id = r.string()?;
        let chunk = SpanChunk { id: 0, blob: r.bytes()?.to_vec() };
        if matching.contains(&trace_id) {
            continue;
        }
        let mut matched = false;
        chunk.for_each_span(&mut |span: Span| {
            matched = attrs.iter().all(|(key, want)| has_attr_text(&span, key, want));
            !matched
        })?;
        if matched {
            matching.insert(trace_id);
        }
    }
    Ok(matching)
}

/// See `Store::count_traces`.
pub(super) fn count(
    store: &ClickHouseStore,
    q: &TraceQuery,
    cap: usize,
) -> Result<Option<u64>, StoreError> {
    if !q.attrs.is_empty() {
        return Ok(None);
    }
    let answer = store
        .http
        .query(&format!("SELECT count() FROM ({}) FORMAT RowBinary", search_sql(store, q, cap)))?;
    Ok(Some(Reader::new(&answer).u64()?))
}

/// `Store::trace_rows` over `trace_chunk`: each trace is read whole (a search page's rows, at
/// most `TRACE_ROW_DETAILS` of them) for its spans per service and its root. A per-service
/// count table would save the decode; not built yet.
pub(super) fn trace_rows(
    store: &ClickHouseStore,
    trace_ids: &[String],
) -> Result<Vec<TraceRowInfo>, StoreError> {
    let mut rows = Vec::with_capacity(trace_ids.len());
    for trace_id in trace_ids {
        let spans = whole_trace(store, trace_id)?;
        if spans.is_empty() {
            continue;
        }
        let mut per_service: std::collections::BTreeMap<&str, u64> = Default::default();
        for span in &spans {
            *per_service.entry(span.service.as_str()).or_default() += 1;
        }
        let mut services: Vec<(String, u64)> =
            per_service.into_iter().map(|(s, n)| (s.to_owned(), n)).collect();
        services.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let root = spans.iter().find(|s| s.parent_span_id.is_none()).cloned();
        rows.push(TraceRowInfo { trace_id: trace_id.clone(), services, root });
    }
    Ok(rows)
}

/// See `Store::linking_spans`: the `span_links` rows of the linked span (its key), each
/// linking span once (a retried insert may have stored its row twice). A link row lives in the
/// day partition of the chunk holding its span, so retention drops them together.
pub(super) fn linking_spans(
    store: &ClickHouseStore,
    trace_id: &str,
    span_id: &str,
    limit: usize,
) -> Result<Vec<LinkingSpan>, StoreError> {
    let answer = store.http.query(&format!(
        "SELECT trace_id, span_id, any(service), any(name), min(start_ns) AS started
         FROM {}.span_links WHERE target_trace = {} AND target_span = {}
         GROUP BY trace_id, span_id ORDER BY started, trace_id, span_id LIMIT {limit}
         FORMAT RowBinary",
        store.config.database,
        quote(&trace_id.to_ascii_lowercase()),
        quote(&span_id.to_ascii_lowercase())
    ))?;
    let mut r = Reader::new(&answer);
    let mut spans = Vec::new();
    while !r.done() {
        spans.push(LinkingSpan {
            trace_id: r.string()?,
            span_id: r.string()?,
            service: r.string()?,
            name: r.string()?,
            start_ns: r.i64()?.max(0) as u64,
        });
    }
    Ok(spans)
}

/// See `Store::flame_trace`: the trace's spans (each once) folded as SQLite folds them.
pub(super) fn flame_trace(
    store: &ClickHouseStore,
    trace_id: &str,
) -> Result<StackTree, StoreError> {
    Ok(StackTree::from_trace(&whole_trace(store, trace_id)?))
}
