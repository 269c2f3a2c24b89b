//! Cache lookups in the shapes the cache view understands, turned into rollup deltas (pure);
//! `query::cache` turns the rows back into answers.
//!
//! What a lookup span or a cache counter is, and its name and layer, is `model::shapes` (the
//! waterfall's hit and miss marks read lookups so too).

use std::collections::BTreeMap;

use otelscope_app::model::{shapes, CacheSource, MetricPoint, Span, Temporality};

use super::bucket::{bucket_of, EXAMPLES_PER_BUCKET};

/// One row of `cache_rollup`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(in crate::store) struct CacheKey {
    pub bucket_ns: i64,
    pub service: String,
    pub name: String,
    pub layer: String,
    /// `spans` or `metrics`.
    pub source: CacheSource,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(in crate::store) struct CacheDelta {
    pub key: CacheKey,
    pub hits: i64,
    pub misses: i64,
    /// The summed durations of the hit and the miss lookup spans (0 for counters).
    pub hit_ns: i64,
    pub miss_ns: i64,
}

/// A trace with a cache miss (spans only).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(in crate::store) struct CacheExample {
    pub key: CacheKey,
    pub start_ns: i64,
    pub trace_id: String,
}

/// One point of a cumulative cache counter.
#[derive(Clone, Debug, PartialEq)]
pub(in crate::store) struct CounterPoint {
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
pub(in crate::store) struct LastValue {
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
pub(in crate::store) fn counter_delta(
    last: Option<LastValue>,
    point: &CounterPoint,
) -> Option<f64> {
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

/// A batch's hits and misses from spans and delta counters, one per key, the points of its
/// cumulative counters (by series, then time) for the writer to turn into deltas, and the
/// newest few traces with a miss per key.
pub(in crate::store) fn extract(
    spans: &[Span],
    metrics: &[MetricPoint],
) -> (Vec<CacheDelta>, Vec<CounterPoint>, Vec<CacheExample>) {
    // Hits, misses, and their lookup spans' summed durations.
    let mut sums: BTreeMap<CacheKey, (i64, i64, i64, i64)> = BTreeMap::new();
    let mut misses: BTreeMap<CacheKey, Vec<(i64, &str)>> = BTreeMap::new();
    for span in spans {
        let Some(hit) = shapes::cache_hit(span) else { continue };
        let key = CacheKey {
            bucket_ns: bucket_of(span.start_ns),
            service: span.service.clone(),
            name: shapes::cache_name(span).to_owned(),
            layer: shapes::cache_layer(span).to_owned(),
            source: CacheSource::Spans,
        };
        if !hit {
            let start = span.start_ns.min(i64::MAX as u64) as i64;
            misses.entry(key.clone()).or_default().push((start, &span.trace_id));
        }
        let took = span.end_ns.saturating_sub(span.start_ns).min(i64::MAX as u64 / 4) as i64;
        let sum = sums.entry(key).or_default();
        if hit {
            sum.0 += 1;
            sum.2 = sum.2.saturating_add(took);
        } else {
            sum.1 += 1;
            sum.3 = sum.3.saturating_add(took);
        }
    }
    let mut examples = Vec::new();
    for (key, mut list) in misses {
        list.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(b.1)));
        let mut seen = std::collections::HashSet::new();
        list.retain(|(_, trace)| seen.insert(*trace));
        for (start_ns, trace_id) in list.into_iter().take(EXAMPLES_PER_BUCKET) {
            examples.push(CacheExample {
                key: key.clone(),
                start_ns,
                trace_id: trace_id.to_owned(),
            });
        }
    }
    let mut counters = Vec::new();
    for point in metrics {
        let Some((key, hit)) = counter_of(point) else { continue };
        let Some(value) = point.value.filter(|v| v.is_finite() && *v >= 0.0) else { continue };
        if point.temporality == Temporality::Cumulative {
            counters.push(CounterPoint {
                series: format!(
                    "{}\u{0}{}\u{0}{}",
                    point.name,
                    point.service,
                    serde_json::to_string(&point.attributes).unwrap_or_default()
                ),
                start_ns: point.start_ns.min(i64::MAX as u64) as i64,
                time_ns: point.time_ns.min(i64::MAX as u64) as i64,
                value,
                key,
                hit,
            });
        } else {
            // Delta (or unspecified) temporality: each point is what happened since the last.
            let sum = sums.entry(key).or_default();
            let n = value.round() as i64;
            if hit {
                sum.0 += n;
            } else {
                sum.1 += n;
            }
        }
    }
    counters.sort_by(|a, b| (&a.series, a.time_ns).cmp(&(&b.series, b.time_ns)));
    let deltas = sums
        .into_iter()
        .filter(|(_, (hits, misses, _, _))| hits + misses > 0)
        .map(|(key, (hits, misses, hit_ns, miss_ns))| CacheDelta {
            key,
            hits,
            misses,
            hit_ns,
            miss_ns,
        })
        .collect();
    (deltas, counters, examples)
}

/// Which cache a counter point counts for, and whether it counts hits.
fn counter_of(point: &MetricPoint) -> Option<(CacheKey, bool)> {
    let counter = shapes::cache_counter(point)?;
    let key = CacheKey {
        bucket_ns: bucket_of(point.time_ns),
        service: point.service.clone(),
        name: counter.name.to_owned(),
        layer: counter.layer.to_owned(),
        source: CacheSource::Metrics,
    };
    Some((key, counter.hit))
}

/// A monotonic sum point of service `catalog`, as the cache rollup tests write them.
#[cfg(test)]
pub(super) fn counter_point(
    name: &str,
    temporality: Temporality,
    attributes: Vec<otelscope_app::model::KeyValue>,
    start_ns: u64,
    time_ns: u64,
    value: f64,
) -> MetricPoint {
    MetricPoint {
        name: name.into(),
        description: String::new(),
        unit: String::new(),
        kind: otelscope_app::model::MetricKind::Sum,
        temporality,
        monotonic: true,
        service: "catalog".into(),
        attributes,
        start_ns,
        time_ns,
        value: Some(value),
        histogram: None,
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use otelscope_app::model::{AttrValue, KeyValue};

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
                source: CacheSource::Metrics,
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

    fn kv(key: &str, value: AttrValue) -> KeyValue {
        KeyValue { key: key.into(), value }
    }

    fn s(v: &str) -> AttrValue {
        AttrValue::String(v.into())
    }

    fn counter(
        name: &str,
        temporality: Temporality,
        attrs: Vec<KeyValue>,
        t: u64,
        v: f64,
    ) -> MetricPoint {
        super::counter_point(name, temporality, attrs, 1, t, v)
    }

    /// `name/layer/source@bucket_s: hits/misses` per delta.
    fn show(deltas: &[CacheDelta]) -> Vec<String> {
        deltas
            .iter()
            .map(|d| {
                let k = &d.key;
                format!(
                    "{}/{}/{}@{}: {}/{}",
                    k.name,
                    k.layer,
                    k.source,
                    k.bucket_ns / 1_000_000_000,
                    d.hits,
                    d.misses
                )
            })
            .collect()
    }

    #[test]
    fn spans_and_delta_counters_sum_per_cache_layer_and_bucket() {
        let span = |id: u64, start_s: u64, hit: bool, layer: Option<&str>| {
            let mut span = Span::new(format!("{:032x}", 1), format!("{id:016x}"), "lookup");
            span.service = "catalog".into();
            span.start_ns = start_s * 1_000_000_000;
            span.attributes.push(kv("cache.hit", AttrValue::Bool(hit)));
            span.attributes.push(kv("cache.name", s("products")));
            if let Some(layer) = layer {
                span.attributes.push(kv("cache.layer", s(layer)));
            }
            span
        };
        let spans = vec![
            span(1, 1, true, Some("l1")),
            span(2, 2, false, Some("l1")),
            span(3, 3, true, Some("l2")),
            span(4, 12, true, Some("l1")),
            span(5, 13, true, None),
            // Not boolean: not this shape.
            Span {
                attributes: vec![kv("cache.hit", s("true"))],
                ..Span::new(format!("{:032x}", 1), "6".repeat(16), "x")
            },
        ];
        let delta = Temporality::Delta;
        let metrics = vec![
            counter(
                "cache.gets",
                delta,
                vec![kv("result", s("hit")), kv("cache", s("users"))],
                5_000_000_000,
                4.0,
            ),
            counter(
                "cache.gets",
                delta,
                vec![kv("result", s("miss")), kv("cache", s("users"))],
                5_000_000_000,
                1.0,
            ),
            counter("cache.gets", delta, vec![kv("result", s("other"))], 5_000_000_000, 9.0),
            counter("redis.keyspace.misses", delta, vec![], 5_000_000_000, 2.0),
            counter("cache.hits", Temporality::Cumulative, vec![], 5_000_000_000, 2.0),
        ];
        let (deltas, counters, examples) = extract(&spans, &metrics);
        assert_eq!(
            show(&deltas),
            [
                "catalog/redis/metrics@0: 0/2",
                "products/l1/spans@0: 1/1",
                "products/l2/spans@0: 1/0",
                "users//metrics@0: 4/1",
                "products//spans@10: 1/0",
                "products/l1/spans@10: 1/0",
            ]
        );
        let misses: Vec<_> =
            examples.iter().map(|e| (e.key.layer.as_str(), e.trace_id.as_str())).collect();
        assert_eq!(misses, [("l1", format!("{:032x}", 1).as_str())], "one miss, in l1");
        assert_eq!(counters.len(), 1);
        assert_eq!((counters[0].key.name.as_str(), counters[0].hit), ("catalog", true));
    }
}
