//! Retries in the shapes the retry view understands, turned into rollup deltas (pure);
//! `query::retries` turns the rows back into answers.
//!
//! A *call span* is seen whole: it carries `retry.outcome` (`success`|`exhausted`|
//! `circuit_open`), or `retry` events without being an attempt itself. Its attempts are its own
//! `retry.attempt` + 1, else the highest `retry.attempt` of its children in the batch + 1, else
//! its `retry` events + 1, else 1. A call the open circuit refused (`circuit_open`) made no
//! attempt with the refused try: its own `retry.attempt` (the refused try's index), else its
//! children's highest + 1 (tries made before the circuit opened), else its `retry` events, so a
//! call refused outright counts as a call with 0 attempts and no resend.
//! An *attempt span* is one try, as `model::shapes::attempt_index` reads it (the waterfall's
//! marks read it so too): integer `retry.attempt` (0 = first try), or an HTTP client span
//! (`http.request.method` or `http.method`), whose `http.request.resend_count` is its index
//! (absent = 0, the first try). Backoff delays are `model::shapes::retry_delay_ms`. Attempts whose parent is a call span of the same batch only add to that call. The
//! others are counted one by one under their own (service, name): attempt 0 is a call, attempt
//! 1 a retried call, every attempt past 0 a resend, and `tries[k]` counts attempt `k`, so the
//! calls with exactly `k + 1` attempts are `tries[k] - tries[k + 1]` over any range, however the
//! attempts of one call (siblings under one parent span) were split over export requests.

use std::collections::{BTreeMap, HashMap};

use otelscope_app::model::shapes::{attempt_index as attempt_of, is_retry_event, retry_delay_ms};
use otelscope_app::model::{RetryExampleKind, Span};

use super::bucket::{bucket_of, EXAMPLES_PER_BUCKET};
use super::counts::Counts;
use crate::store::latency::Histogram;
use otelscope_app::model::shapes::{attr_int, attr_str};

/// One row of `retry_rollup`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(in crate::store) struct RetryKey {
    pub bucket_ns: i64,
    pub service: String,
    pub name: String,
}

/// What a batch adds to one `retry_rollup` row.
#[derive(Clone, Debug, Default, PartialEq)]
pub(in crate::store) struct RetryDelta {
    pub calls: i64,
    pub retried: i64,
    pub resends: i64,
    pub give_ups: i64,
    pub circuit_open: i64,
    /// Calls seen whole (a span with `retry.outcome` or `retry` events): attempts → calls.
    pub attempts: Counts,
    /// Attempt spans seen one by one (`retry.attempt`, `http.request.resend_count`): attempt
    /// index (0 = first try) → spans. The calls with exactly `k + 1` attempts are
    /// `tries[k] - tries[k + 1]`, so attempts of one call may arrive in any batches.
    pub tries: Counts,
    /// Backoff delays in ns.
    pub delays: Histogram,
}

/// A trace that shows one kind of retry behaviour.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(in crate::store) struct RetryExample {
    pub key: RetryKey,
    pub kind: RetryExampleKind,
    pub start_ns: i64,
    pub trace_id: String,
    /// The span's duration (the call's, or the attempt's when counted one by one).
    pub duration_ns: i64,
    /// `retry.outcome`, else `error`/`ok` from the span's status.
    pub outcome: String,
}

/// A batch's retry deltas, one per (bucket, service, name), and its newest examples.
pub(in crate::store) fn extract(
    spans: &[Span],
) -> (Vec<(RetryKey, RetryDelta)>, Vec<RetryExample>) {
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
    let mut examples: BTreeMap<(RetryKey, RetryExampleKind), Vec<RetryExample>> = BTreeMap::new();
    let mut example = |key: &RetryKey, kind: RetryExampleKind, span: &Span| {
        let list = examples.entry((key.clone(), kind)).or_default();
        list.push(RetryExample {
            key: key.clone(),
            kind,
            start_ns: span.start_ns.min(i64::MAX as u64) as i64,
            trace_id: span.trace_id.clone(),
            duration_ns: span.end_ns.saturating_sub(span.start_ns).min(i64::MAX as u64) as i64,
            outcome: outcome_of(span).to_owned(),
        });
    };
    let key_of = |span: &Span| RetryKey {
        bucket_ns: bucket_of(span.start_ns),
        service: span.service.clone(),
        name: span.name.clone(),
    };
    for span in spans {
        let delays: Vec<u64> =
            span.events.iter().filter_map(retry_delay_ms).map(|ms| (ms * 1e6) as u64).collect();
        if is_call(span) {
            let key = key_of(span);
            let retry_events = span.events.iter().filter(|e| is_retry_event(e)).count() as i64;
            let outcome = attr_str(&span.attributes, "retry.outcome");
            let own = attr_int(&span.attributes, "retry.attempt").map(|k| k.max(0));
            let children =
                child_max.get(&(span.trace_id.as_str(), span.span_id.as_str())).map(|&k| k.max(0));
            let attempts = match (outcome, own, children) {
                (Some("circuit_open"), Some(k), _) => k,
                (_, Some(k), _) | (_, None, Some(k)) => k + 1,
                (Some("circuit_open"), None, None) => retry_events,
                (_, None, None) => retry_events + 1,
            };
            let delta = deltas.entry(key.clone()).or_default();
            delta.calls += 1;
            delta.attempts.add(attempts.min(u32::MAX as i64) as u32, 1);
            delta.resends += (attempts - 1).max(0);
            delays.iter().for_each(|&ns| delta.delays.record(ns));
            if attempts > 1 {
                delta.retried += 1;
                example(&key, RetryExampleKind::Retried, span);
            }
            match outcome {
                Some("exhausted") => {
                    delta.give_ups += 1;
                    example(&key, RetryExampleKind::GaveUp, span);
                }
                Some("circuit_open") => {
                    delta.circuit_open += 1;
                    example(&key, RetryExampleKind::CircuitOpen, span);
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
                example(&key, RetryExampleKind::Retried, span);
            }
        }
    }
    let mut kept = Vec::new();
    for (_, mut list) in examples {
        // One per trace: its earliest span (a call's first resend when attempts are counted one
        // by one), as the store keeps it whatever the exports' split (`rollup::sql`).
        list.sort_by(|a, b| a.trace_id.cmp(&b.trace_id).then(a.start_ns.cmp(&b.start_ns)));
        list.dedup_by(|later, first| later.trace_id == first.trace_id);
        list.sort_by(|a, b| b.start_ns.cmp(&a.start_ns).then_with(|| a.trace_id.cmp(&b.trace_id)));
        list.truncate(EXAMPLES_PER_BUCKET);
        kept.extend(list);
    }
    (deltas.into_iter().collect(), kept)
}

/// How `span` ended, as its example says: `retry.outcome`, else `error` or `ok` by its status.
fn outcome_of(span: &Span) -> &str {
    match attr_str(&span.attributes, "retry.outcome") {
        Some(outcome) => outcome,
        None if span.status.code == otelscope_app::model::StatusCode::Error => "error",
        None => "ok",
    }
}

/// Whether `span` is a call seen whole: it has an outcome, or `retry` events without being an
/// attempt itself.
fn is_call(span: &Span) -> bool {
    attr_str(&span.attributes, "retry.outcome").is_some()
        || (attempt_of(span).is_none() && span.events.iter().any(is_retry_event))
}
