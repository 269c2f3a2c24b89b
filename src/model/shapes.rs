//! The telemetry shapes behind `/cache`, `/retries` and the waterfall's row marks, read in one
//! place: the server's rollups and the app's waterfall call these, so they cannot disagree.
//!
//! - An *attempt* is one try of an operation: integer `retry.attempt` (0 = first try), else an
//!   HTTP client span (kind client with `http.request.method`, or the legacy `http.method`)
//!   whose `http.request.resend_count` is the index. Absent, the span is the first try (0):
//!   the semantic conventions set the resend count only on resends, so an HTTP client span
//!   without one *is* attempt 0, and `/retries` counts it as a call.
//! - A *backoff delay* is `retry.delay_ms` (int or double) of an event named `retry`; NaN,
//!   infinities and negative values are no delay (a sender's bug, never a wait to draw or sum).
//! - A *cache lookup* span has boolean `cache.hit` (a string `"true"` is not this shape); it is
//!   named by `cache.name`, else the span's name, and its layer is `cache.layer`, else empty.
//! - A *cache counter* is a sum point: `cache.gets` with `result` = `hit`|`miss`,
//!   `cache.hits`/`cache.misses`, `redis.keyspace.hits`/`redis.keyspace.misses`; named by
//!   `cache.name`, else `cache`, else the service; layer `cache.layer`, else `redis` for the
//!   keyspace counters, else empty.
//!
//! The readers are `#[inline]`: the store calls them per span at ingest, across the crate
//! boundary, and the release build has no LTO.

use super::{AttrValue, KeyValue, MetricKind, MetricPoint, Span, SpanEvent, SpanKind};

/// The string attribute `key` of `attrs` (`None` when absent or of another type).
#[inline]
pub fn attr_str<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a str> {
    attrs.iter().find(|kv| kv.key == key).and_then(|kv| match &kv.value {
        AttrValue::String(s) => Some(s.as_str()),
        _ => None,
    })
}

/// The integer attribute `key` of `attrs` (`None` when absent or of another type).
#[inline]
pub fn attr_int(attrs: &[KeyValue], key: &str) -> Option<i64> {
    attrs.iter().find(|kv| kv.key == key).and_then(|kv| match kv.value {
        AttrValue::Int(i) => Some(i),
        _ => None,
    })
}

/// The attempt index of an attempt span (0 = first try); `None` for any other span. A
/// negative or overlong `retry.attempt` or resend count makes the span no attempt (it is not
/// read as some other index).
#[inline]
pub fn attempt_index(span: &Span) -> Option<u32> {
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

/// Whether `event` is a retry's backoff event (named `retry`).
#[inline]
pub fn is_retry_event(event: &SpanEvent) -> bool {
    event.name == "retry"
}

/// The backoff `event` names, in milliseconds: `retry.delay_ms` of a `retry` event, when it is
/// a finite, non-negative number.
#[inline]
pub fn retry_delay_ms(event: &SpanEvent) -> Option<f64> {
    if !is_retry_event(event) {
        return None;
    }
    let ms = match event.attributes.iter().find(|kv| kv.key == "retry.delay_ms")?.value {
        AttrValue::Int(ms) => ms as f64,
        AttrValue::Double(ms) => ms,
        _ => return None,
    };
    (ms.is_finite() && ms >= 0.0).then_some(ms)
}

/// `cache.hit` of a cache lookup span: hit (`true`) or miss; `None` when it is no lookup.
#[inline]
pub fn cache_hit(span: &Span) -> Option<bool> {
    match span.attribute("cache.hit") {
        Some(AttrValue::Bool(hit)) => Some(*hit),
        _ => None,
    }
}

/// The cache a lookup span reads: `cache.name`, else the span's name.
#[inline]
pub fn cache_name(span: &Span) -> &str {
    attr_str(&span.attributes, "cache.name").unwrap_or(&span.name)
}

/// The layer of a lookup span's cache: `cache.layer` (e.g. `l1`, `redis`), else empty.
#[inline]
pub fn cache_layer(span: &Span) -> &str {
    attr_str(&span.attributes, "cache.layer").unwrap_or_default()
}

/// What one cache counter point counts: hits or misses of which cache, in which layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CacheCounter<'a> {
    pub hit: bool,
    pub name: &'a str,
    pub layer: &'a str,
}

/// The cache counter `point` is, if it is one (sums only).
pub fn cache_counter(point: &MetricPoint) -> Option<CacheCounter<'_>> {
    if point.kind != MetricKind::Sum {
        return None;
    }
    let attrs = &point.attributes;
    let (hit, layer) = match point.name.as_str() {
        "cache.gets" => match attr_str(attrs, "result")? {
            "hit" => (true, ""),
            "miss" => (false, ""),
            _ => return None,
        },
        "cache.hits" => (true, ""),
        "cache.misses" => (false, ""),
        "redis.keyspace.hits" => (true, "redis"),
        "redis.keyspace.misses" => (false, "redis"),
        _ => return None,
    };
    let name = attr_str(attrs, "cache.name")
        .or_else(|| attr_str(attrs, "cache"))
        .unwrap_or(&point.service);
    Some(CacheCounter { hit, name, layer: attr_str(attrs, "cache.layer").unwrap_or(layer) })
}

#[cfg(test)]
#[path = "shapes_tests.rs"]
mod tests;
