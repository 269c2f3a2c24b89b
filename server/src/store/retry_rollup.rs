//! Retries in the shapes the retry view understands, turned into rollup deltas (pure);
//! `query::retries` turns the rows back into answers.
//!
//! A *call span* is seen whole: it carries `retry.outcome` (`success`|`exhausted`|
//! `circuit_open`), or `retry` events without being an attempt itself. Its attempts are its own
//! `retry.attempt` + 1, else the highest `retry.attempt` of its children in the batch + 1, else
//! its `retry` events + 1, else 1.
//! An *attempt span* is one try: integer `retry.attempt` (0 = first try), or an HTTP client span
//! (`http.request.method`), whose `http.request.resend_count` is its index (absent = 0, the first
//! try). Attempts whose parent is a call span of the same batch only add to that call. The
//! others are counted one by one under their own (service, name): attempt 0 is a call, attempt
//! 1 a retried call, every attempt past 0 a resend, and `tries[k]` counts attempt `k`, so the
//! calls with exactly `k + 1` attempts are `tries[k] - tries[k + 1]` over any range, however the
//! attempts of one call (siblings under one parent span) were split over export requests.

use std::collections::{BTreeMap, HashMap};

use otelscope_app::model::{Span, SpanKind};

use super::rollup::{
    attr_int, attr_str, bucket_of, RetryDelta, RetryExample, RetryKey, EXAMPLES_PER_BUCKET,
};

/// A batch's retry deltas, one per (bucket, service, name), and its newest examples.
pub(super) fn extract(spans: &[Span]) -> (Vec<(RetryKey, RetryDelta)>, Vec<RetryExample>) {
    let calls: HashMap<(&str, &str), &Span> = spans
        .iter()
        .filter(|s| is_call(s))
        .map(|s| ((s.trace_id.as_str(), s.span_id.as_str()), s))
        .collect();
    let parent_call = |span: &Span| {
        let parent = span.parent_span_id.as_deref()?;
        calls.get(&(span.trace_id.as_str(), parent)).copied()
    };
    // The highest attempt index among each call's children.
    let mut child_max: HashMap<(&str, &str), i64> = HashMap::new();
    for span in spans {
        if let (Some(k), Some(call)) = (attempt_of(span), parent_call(span)) {
            let k = i64::from(k);
            let max = child_max.entry((call.trace_id.as_str(), call.span_id.as_str())).or_insert(k);
            *max = (*max).max(k);
        }
    }
    let mut deltas: BTreeMap<RetryKey, RetryDelta> = BTreeMap::new();
    let mut examples: BTreeMap<(RetryKey, &'static str), Vec<RetryExample>> = BTreeMap::new();
    let mut example = |key: &RetryKey, kind: &'static str, span: &Span| {
        let list = examples.entry((key.clone(), kind)).or_default();
        list.push(RetryExample {
            key: key.clone(),
            kind,
            start_ns: span.start_ns.min(i64::MAX as u64) as i64,
            trace_id: span.trace_id.clone(),
        });
    };
    let key_of = |span: &Span| RetryKey {
        bucket_ns: bucket_of(span.start_ns),
        service: span.service.clone(),
        name: span.name.clone(),
    };
    for span in spans {
        let delays = span.events.iter().filter(|e| e.name == "retry").filter_map(|e| {
            e.attributes.iter().find(|kv| kv.key == "retry.delay_ms").and_then(|kv| {
                match kv.value {
                    otelscope_app::model::AttrValue::Int(ms) => Some(ms as f64),
                    otelscope_app::model::AttrValue::Double(ms) => Some(ms),
                    _ => None,
                }
            })
        });
        let delays: Vec<u64> =
            delays.filter(|ms| ms.is_finite() && *ms >= 0.0).map(|ms| (ms * 1e6) as u64).collect();
        if is_call(span) {
            let key = key_of(span);
            let retry_events = span.events.iter().filter(|e| e.name == "retry").count() as i64;
            let attempts = attr_int(&span.attributes, "retry.attempt")
                .or_else(|| {
                    child_max.get(&(span.trace_id.as_str(), span.span_id.as_str())).copied()
                })
                .map(|k| k.max(0) + 1)
                .unwrap_or(retry_events + 1);
            let outcome = attr_str(&span.attributes, "retry.outcome");
            let delta = deltas.entry(key.clone()).or_default();
            delta.calls += 1;
            delta.attempts.add(attempts.min(u32::MAX as i64) as u32, 1);
            delta.resends += attempts - 1;
            delays.iter().for_each(|&ns| delta.delays.record(ns));
            if attempts > 1 {
                delta.retried += 1;
                example(&key, "retried", span);
            }
            match outcome {
                Some("exhausted") => {
                    delta.give_ups += 1;
                    example(&key, "gave_up", span);
                }
                Some("circuit_open") => {
                    delta.circuit_open += 1;
                    example(&key, "circuit_open", span);
                }
                _ => {}
            }
            continue;
        }
        let key = match parent_call(span) {
            // Folded into its call: only its backoff delays count, for the call's operation.
            Some(call) if attempt_of(span).is_some() || !delays.is_empty() => {
                let delta = deltas.entry(key_of(call)).or_default();
                delays.iter().for_each(|&ns| delta.delays.record(ns));
                continue;
            }
            _ => key_of(span),
        };
        let Some(k) = attempt_of(span) else { continue };
        let delta = deltas.entry(key.clone()).or_default();
        delta.tries.add(k, 1);
        delays.iter().for_each(|&ns| delta.delays.record(ns));
        match k {
            0 => delta.calls += 1,
            _ => {
                delta.resends += 1;
                if k == 1 {
                    delta.retried += 1;
                }
                example(&key, "retried", span);
            }
        }
    }
    let mut kept = Vec::new();
    for (_, mut list) in examples {
        list.sort_by(|a, b| b.start_ns.cmp(&a.start_ns).then_with(|| a.trace_id.cmp(&b.trace_id)));
        let mut seen = std::collections::HashSet::new();
        list.retain(|e| seen.insert(e.trace_id.clone()));
        list.truncate(EXAMPLES_PER_BUCKET);
        kept.extend(list);
    }
    (deltas.into_iter().collect(), kept)
}

/// Whether `span` is a call seen whole: it has an outcome, or `retry` events without being an
/// attempt itself.
fn is_call(span: &Span) -> bool {
    attr_str(&span.attributes, "retry.outcome").is_some()
        || (attempt_of(span).is_none() && span.events.iter().any(|e| e.name == "retry"))
}

/// The attempt index of an attempt span (0 = first try); `None` for other spans.
fn attempt_of(span: &Span) -> Option<u32> {
    if let Some(k) = attr_int(&span.attributes, "retry.attempt") {
        return u32::try_from(k).ok();
    }
    let http_client = span.kind == SpanKind::Client
        && (attr_str(&span.attributes, "http.request.method").is_some()
            || attr_str(&span.attributes, "http.method").is_some());
    if !http_client {
        return None;
    }
    match attr_int(&span.attributes, "http.request.resend_count") {
        Some(k) => u32::try_from(k).ok(),
        None => Some(0),
    }
}
