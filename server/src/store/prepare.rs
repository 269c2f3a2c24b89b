//! A batch's spans made ready for the writer on the thread that received them: grouped by
//! trace, each chunk encoded and compressed, the trace summaries, per-operation and per-service
//! counts and histograms computed. The single writer thread then only runs SQL (and waits for
//! the fsync), so many receivers share the CPU work instead of queueing behind it.

use std::collections::BTreeMap;

use otelscope_app::model::{trace_facts, Span};

use super::chunk;
use super::latency::Histogram;
use super::StoreError;

/// Bytes a chunk row and its index entries take beyond the blob, for `traces.stored_bytes`.
const CHUNK_OVERHEAD: usize = 96;

/// The spans of one batch, ready to write.
#[derive(Debug, Default)]
pub struct PreparedSpans {
    pub(super) traces: Vec<PreparedTrace>,
    pub(super) services: Vec<ServiceDelta>,
    pub(super) span_count: u64,
    /// One row per span link, for "which spans link to this one" (`span_links`).
    pub(super) links: Vec<LinkRow>,
}

/// A span link as `span_links` indexes it: the linked span (`target_*`) and the span whose
/// link it is. A span keeps at most `Limits::max_links` (128) links, so a batch adds at most
/// 128 rows per span, and none for spans without links.
#[derive(Debug)]
pub(super) struct LinkRow {
    pub target_trace: String,
    pub target_span: String,
    pub trace_id: String,
    pub span_id: String,
    pub service: String,
    pub name: String,
    pub start_ns: i64,
}

/// One trace's spans of a batch: its chunk and what the summary tables learn from it.
#[derive(Debug)]
pub(super) struct PreparedTrace {
    pub trace_id: String,
    pub span_count: i64,
    pub blob: Vec<u8>,
    /// The blob plus the row's overhead.
    pub stored_bytes: u64,
    pub start_ns: i64,
    pub end_ns: i64,
    pub errors: i64,
    /// The root span's (or, until the root arrives, the earliest span's) service and name, as
    /// `model::trace_facts` picks it among this batch's spans.
    pub root_service: String,
    pub root_name: String,
    pub has_root: bool,
    pub ops: Vec<OpDelta>,
}

/// What a chunk adds to one `trace_ops` row.
#[derive(Debug)]
pub(super) struct OpDelta {
    pub service: String,
    pub name: String,
    pub spans: i64,
    pub errors: i64,
    pub latency: Vec<u8>,
}

/// What a write adds to (or retention takes from) one service's `service_stats` row.
#[derive(Debug, Default)]
pub(super) struct ServiceDelta {
    pub service: String,
    pub spans: i64,
    pub errors: i64,
    pub latency: Histogram,
}

/// Prepares `spans` (all of one batch) for the store.
pub fn prepare(spans: &[Span]) -> Result<PreparedSpans, StoreError> {
    let mut by_trace: BTreeMap<&str, Vec<&Span>> = BTreeMap::new();
    for span in spans {
        by_trace.entry(span.trace_id.as_str()).or_default().push(span);
    }
    let mut per_service: BTreeMap<&str, ServiceDelta> = BTreeMap::new();
    let mut traces = Vec::with_capacity(by_trace.len());
    for (trace_id, spans) in by_trace {
        let blob = chunk::encode(&spans)?;
        let mut ops: BTreeMap<(&str, &str), (i64, i64, Histogram)> = BTreeMap::new();
        for span in &spans {
            let error = i64::from(span.is_error());
            let op = ops.entry((&span.service, &span.name)).or_default();
            op.0 += 1;
            op.1 += error;
            op.2.record(span.duration_ns());
            let service = per_service.entry(&span.service).or_default();
            service.spans += 1;
            service.errors += error;
            service.latency.record(span.duration_ns());
        }
        // Grouping made every list non-empty.
        let Some(facts) = trace_facts(spans.iter().copied()) else { continue };
        traces.push(PreparedTrace {
            trace_id: trace_id.to_owned(),
            span_count: facts.span_count as i64,
            stored_bytes: (blob.len() + CHUNK_OVERHEAD) as u64,
            blob,
            start_ns: facts.start_ns as i64,
            end_ns: facts.end_ns as i64,
            errors: facts.error_count as i64,
            root_service: facts.head.service.clone(),
            root_name: facts.head.name.clone(),
            has_root: facts.has_root,
            ops: ops
                .into_iter()
                .map(|((service, name), (spans, errors, latency))| OpDelta {
                    service: service.to_owned(),
                    name: name.to_owned(),
                    spans,
                    errors,
                    latency: latency.encode(),
                })
                .collect(),
        });
    }
    let services = per_service
        .into_iter()
        .map(|(service, delta)| ServiceDelta { service: service.to_owned(), ..delta })
        .collect();
    let links = spans
        .iter()
        .flat_map(|span| {
            span.links.iter().map(move |link| LinkRow {
                target_trace: link.trace_id.to_ascii_lowercase(),
                target_span: link.span_id.to_ascii_lowercase(),
                trace_id: span.trace_id.clone(),
                span_id: span.span_id.clone(),
                service: span.service.clone(),
                name: span.name.clone(),
                start_ns: span.start_ns.min(i64::MAX as u64) as i64,
            })
        })
        .collect();
    Ok(PreparedSpans { traces, services, span_count: spans.len() as u64, links })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_trace_is_named_as_the_trace_page_names_it_whatever_the_order() {
        let span = |id: &str, start_ns| Span {
            parent_span_id: Some("ff".repeat(8)),
            start_ns,
            end_ns: start_ns + 1,
            ..Span::new("ab".repeat(16), id, format!("op {id}"))
        };
        let spans = vec![span("0000000000000002", 5), span("0000000000000001", 5)];
        let reversed: Vec<Span> = spans.iter().rev().cloned().collect();
        for batch in [spans, reversed] {
            let prepared = prepare(&batch).unwrap();
            let trace = &prepared.traces[0];
            let page = otelscope_app::model::trace_facts(&batch).unwrap();
            assert_eq!((trace.root_name.as_str(), trace.has_root), ("op 0000000000000001", false));
            assert_eq!(trace.root_name, page.head.name);
        }
    }
}
