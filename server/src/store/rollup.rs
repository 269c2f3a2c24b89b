//! Rollups the writer keeps per 10 s bucket for `/api/v1/cache` and `/api/v1/retries`. What a
//! batch adds to them is computed here, by pure functions that run in the prepare step on the
//! receiving thread (`cache_rollup`, `retry_rollup`); the writer only upserts the rows
//! (`rollup_sql`), so no query decodes span chunks.

use std::collections::BTreeMap;

use otelscope_app::model::{AttrValue, KeyValue, MetricPoint, Span};

use super::latency::Histogram;
use super::{cache_rollup, retry_rollup};

/// The width of a rollup bucket; query steps are whole multiples of it.
pub const BUCKET_NS: u64 = 10_000_000_000;

/// The bucket (its start, Unix ns) holding time `ns`.
pub fn bucket_of(ns: u64) -> i64 {
    (ns - ns % BUCKET_NS).min(i64::MAX as u64) as i64
}

/// What one batch adds to the rollup tables.
#[derive(Debug, Default)]
pub struct PreparedRollups {
    /// Hits and misses known without the store's help (spans, delta counters), one per key.
    pub(super) cache: Vec<CacheDelta>,
    /// Points of cumulative counters, by series then time: the writer turns them into deltas
    /// against the last value it kept (`counter_delta`).
    pub(super) counters: Vec<CounterPoint>,
    pub(super) retries: Vec<(RetryKey, RetryDelta)>,
    pub(super) examples: Vec<RetryExample>,
    pub(super) cache_examples: Vec<CacheExample>,
}

impl PreparedRollups {
    pub fn is_empty(&self) -> bool {
        self.cache.is_empty()
            && self.counters.is_empty()
            && self.retries.is_empty()
            && self.examples.is_empty()
            && self.cache_examples.is_empty()
    }
}

/// Computes a batch's rollup deltas (pure).
pub fn prepare(spans: &[Span], metrics: &[MetricPoint]) -> PreparedRollups {
    let (cache, counters, cache_examples) = cache_rollup::extract(spans, metrics);
    let (retries, examples) = retry_rollup::extract(spans);
    PreparedRollups { cache, counters, retries, examples, cache_examples }
}

/// One row of `cache_rollup`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct CacheKey {
    pub bucket_ns: i64,
    pub service: String,
    pub name: String,
    pub layer: String,
    pub source: otelscope_app::model::CacheSource,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct CacheDelta {
    pub key: CacheKey,
    pub hits: i64,
    pub misses: i64,
}

/// A trace with a cache miss (spans only).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct CacheExample {
    pub key: CacheKey,
    pub start_ns: i64,
    pub trace_id: String,
}

/// One point of a cumulative cache counter.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct CounterPoint {
    /// Metric name, service and attribute set: the stream whose last value the store keeps.
    pub series: String,
    pub start_ns: i64,
    pub time_ns: i64,
    pub value: f64,
    pub key: CacheKey,
    pub hit: bool,
}

/// The last value the store kept of a cumulative series.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct LastValue {
    pub start_ns: i64,
    pub time_ns: i64,
    pub value: f64,
}

/// What a cumulative point adds, given the series' last kept value; `None` when the point is
/// stale (not newer than the last, or from an older start) and must be ignored.
/// - A series' first point counts from its start: the delta is its value when it has a start
///   time; without one (`start_ns` 0) it is only the baseline (delta 0).
/// - A new (later) `start_ns`, or a value lower than the last, is a reset: the delta is the
///   new value.
pub(super) fn counter_delta(last: Option<LastValue>, point: &CounterPoint) -> Option<f64> {
    let Some(last) = last else {
        return Some(if point.start_ns > 0 { point.value } else { 0.0 });
    };
    if point.start_ns < last.start_ns {
        return None;
    }
    if point.start_ns > last.start_ns {
        return Some(point.value);
    }
    if point.time_ns <= last.time_ns {
        return None;
    }
    Some(if point.value < last.value { point.value } else { point.value - last.value })
}

/// One row of `retry_rollup`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct RetryKey {
    pub bucket_ns: i64,
    pub service: String,
    pub name: String,
}

/// What a batch adds to one `retry_rollup` row.
#[derive(Clone, Debug, Default, PartialEq)]
pub(super) struct RetryDelta {
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
pub(super) struct RetryExample {
    pub key: RetryKey,
    pub kind: otelscope_app::model::RetryExampleKind,
    pub start_ns: i64,
    pub trace_id: String,
}

/// Example trace ids kept per bucket, operation and kind.
pub const EXAMPLES_PER_BUCKET: usize = 3;

/// Small exact counts by key, stored as sorted `(key: u32 LE, count: u64 LE)` pairs and summed
/// in SQL by `counts_merge`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counts(pub BTreeMap<u32, u64>);

const COUNT_PAIR: usize = 12;

impl Counts {
    pub fn add(&mut self, key: u32, n: u64) {
        *self.0.entry(key).or_default() += n;
    }

    pub fn merge_encoded(&mut self, bytes: &[u8]) {
        for pair in bytes.chunks_exact(COUNT_PAIR) {
            let key = u32::from_le_bytes(pair[..4].try_into().expect("4 bytes"));
            let n = u64::from_le_bytes(pair[4..].try_into().expect("8 bytes"));
            self.add(key, n);
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.0.len() * COUNT_PAIR);
        for (key, n) in &self.0 {
            out.extend_from_slice(&key.to_le_bytes());
            out.extend_from_slice(&n.to_le_bytes());
        }
        out
    }
}

/// `counts_merge(a, b)`: the stored form of the sum of two stored `Counts` (NULL = empty).
pub fn merge_counts(a: Option<&[u8]>, b: Option<&[u8]>) -> Vec<u8> {
    let mut sum = Counts::default();
    sum.merge_encoded(a.unwrap_or_default());
    sum.merge_encoded(b.unwrap_or_default());
    sum.encode()
}

/// A string attribute of `attrs`.
pub(super) fn attr_str<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a str> {
    attrs.iter().find(|kv| kv.key == key).and_then(|kv| match &kv.value {
        AttrValue::String(s) => Some(s.as_str()),
        _ => None,
    })
}

/// An integer attribute of `attrs`.
pub(super) fn attr_int(attrs: &[KeyValue], key: &str) -> Option<i64> {
    attrs.iter().find(|kv| kv.key == key).and_then(|kv| match kv.value {
        AttrValue::Int(i) => Some(i),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(start_ns: i64, time_ns: i64, value: f64) -> CounterPoint {
        CounterPoint {
            series: "s".into(),
            start_ns,
            time_ns,
            value,
            key: CacheKey {
                bucket_ns: 0,
                service: String::new(),
                name: String::new(),
                layer: String::new(),
                source: otelscope_app::model::CacheSource::Metrics,
            },
            hit: true,
        }
    }

    fn last(start_ns: i64, time_ns: i64, value: f64) -> Option<LastValue> {
        Some(LastValue { start_ns, time_ns, value })
    }

    #[test]
    fn cumulative_points_become_deltas() {
        // First point: counts from its start when it has one; a baseline otherwise.
        assert_eq!(counter_delta(None, &point(5, 10, 7.0)), Some(7.0));
        assert_eq!(counter_delta(None, &point(0, 10, 7.0)), Some(0.0));
        // Growth, a reset (lower value), a new start time.
        assert_eq!(counter_delta(last(5, 10, 7.0), &point(5, 20, 10.0)), Some(3.0));
        assert_eq!(counter_delta(last(5, 20, 10.0), &point(5, 30, 4.0)), Some(4.0));
        assert_eq!(counter_delta(last(5, 20, 10.0), &point(25, 30, 12.0)), Some(12.0));
        // A repeated or late point, or one of an older start, adds nothing.
        assert_eq!(counter_delta(last(5, 20, 10.0), &point(5, 20, 10.0)), None);
        assert_eq!(counter_delta(last(5, 20, 10.0), &point(5, 15, 8.0)), None);
        assert_eq!(counter_delta(last(25, 30, 12.0), &point(5, 40, 50.0)), None);
    }

    #[test]
    fn counts_round_trip_and_merge() {
        let mut a = Counts::default();
        a.add(1, 3);
        a.add(70_000, u64::from(u32::MAX) + 1);
        let mut b = Counts::default();
        b.add(1, 2);
        let mut sum = Counts::default();
        sum.merge_encoded(&merge_counts(Some(&a.encode()), Some(&b.encode())));
        assert_eq!(sum.0, BTreeMap::from([(1, 5), (70_000, u64::from(u32::MAX) + 1)]));
        assert_eq!(merge_counts(None, None), Vec::<u8>::new());
        assert_eq!(bucket_of(25_000_000_001), 20_000_000_000);
    }
}
