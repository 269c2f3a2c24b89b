//! Cache lookups in the shapes the cache view understands, turned into rollup deltas (pure),
//! and rollup rows turned back into `/api/v1/cache` answers (pure).
//!
//! Spans: boolean `cache.hit`, named by `cache.name` (else the span's name), layer `cache.layer`.
//! Metrics (sums): `cache.gets` with `result` = `hit`|`miss`, `cache.hits`/`cache.misses`,
//! `redis.keyspace.hits`/`redis.keyspace.misses`; named by `cache.name`, else `cache`, else the
//! service; layer `cache.layer`, else `redis` for the keyspace counters, else empty.

use std::collections::BTreeMap;

use otelscope_app::model::{
    AttrValue, CacheAnswer, CachePoint, CacheStats, MetricKind, MetricPoint, Span, Temporality,
};

use super::rollup::{attr_str, bucket_of, CacheDelta, CacheKey, CounterPoint};

/// A batch's hits and misses from spans and delta counters, one per key, and the points of its
/// cumulative counters (by series, then time) for the writer to turn into deltas.
pub(super) fn extract(
    spans: &[Span],
    metrics: &[MetricPoint],
) -> (Vec<CacheDelta>, Vec<CounterPoint>) {
    let mut sums: BTreeMap<CacheKey, (i64, i64)> = BTreeMap::new();
    for span in spans {
        let Some(AttrValue::Bool(hit)) =
            span.attributes.iter().find(|kv| kv.key == "cache.hit").map(|kv| &kv.value)
        else {
            continue;
        };
        let key = CacheKey {
            bucket_ns: bucket_of(span.start_ns),
            service: span.service.clone(),
            name: attr_str(&span.attributes, "cache.name").unwrap_or(&span.name).to_owned(),
            layer: attr_str(&span.attributes, "cache.layer").unwrap_or_default().to_owned(),
            source: "spans",
        };
        let sum = sums.entry(key).or_default();
        if *hit {
            sum.0 += 1;
        } else {
            sum.1 += 1;
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
        .filter(|(_, (hits, misses))| hits + misses > 0)
        .map(|(key, (hits, misses))| CacheDelta { key, hits, misses })
        .collect();
    (deltas, counters)
}

/// Which cache a counter point counts for, and whether it counts hits.
fn counter_of(point: &MetricPoint) -> Option<(CacheKey, bool)> {
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
    let key = CacheKey {
        bucket_ns: bucket_of(point.time_ns),
        service: point.service.clone(),
        name: name.to_owned(),
        layer: attr_str(attrs, "cache.layer").unwrap_or(layer).to_owned(),
        source: "metrics",
    };
    Some((key, hit))
}

/// One `cache_rollup` row as read back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct CacheRow {
    pub bucket_ns: u64,
    pub service: String,
    pub name: String,
    pub layer: String,
    pub source: String,
    pub hits: u64,
    pub misses: u64,
}

/// Sums rows into one entry per cache (service, name, layer, source), sorted by those, each
/// with a point per `step_ns` that saw lookups.
pub(super) fn answer(
    rows: Vec<CacheRow>,
    since_ns: u64,
    until_ns: u64,
    step_ns: u64,
) -> CacheAnswer {
    /// (service, name, layer, source).
    type Key = (String, String, String, String);
    /// Hits, misses, and (hits, misses) per step start.
    type Totals = (u64, u64, BTreeMap<u64, (u64, u64)>);
    let mut caches: BTreeMap<Key, Totals> = BTreeMap::new();
    for row in rows {
        let entry = caches.entry((row.service, row.name, row.layer, row.source)).or_default();
        entry.0 += row.hits;
        entry.1 += row.misses;
        let point = entry.2.entry(row.bucket_ns - row.bucket_ns % step_ns.max(1)).or_default();
        point.0 += row.hits;
        point.1 += row.misses;
    }
    let caches = caches
        .into_iter()
        .map(|((service, name, layer, source), (hits, misses, series))| CacheStats {
            name,
            layer,
            service,
            source,
            hits,
            misses,
            hit_rate: rate(hits, misses),
            series: series
                .into_iter()
                .map(|(time_ns, (hits, misses))| CachePoint {
                    time_ns,
                    hits,
                    misses,
                    hit_rate: rate(hits, misses),
                })
                .collect(),
            // Filled by the server once it keeps miss examples.
            miss_examples: Vec::new(),
        })
        .collect();
    CacheAnswer { since_ns, until_ns, step_ns, caches }
}

fn rate(hits: u64, misses: u64) -> Option<f64> {
    (hits + misses > 0).then(|| hits as f64 / (hits + misses) as f64)
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
        kind: MetricKind::Sum,
        temporality,
        monotonic: true,
        service: "catalog".into(),
        attributes,
        start_ns,
        time_ns,
        value: Some(value),
        histogram: None,
    }
}

#[cfg(test)]
mod tests {
    use otelscope_app::model::KeyValue;

    use super::*;

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
        let (deltas, counters) = extract(&spans, &metrics);
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
        assert_eq!(counters.len(), 1);
        assert_eq!((counters[0].key.name.as_str(), counters[0].hit), ("catalog", true));
    }

    #[test]
    fn answer_groups_rows_into_steps_with_rates() {
        let row = |bucket_s: u64, layer: &str, hits, misses| CacheRow {
            bucket_ns: bucket_s * 1_000_000_000,
            service: "catalog".into(),
            name: "products".into(),
            layer: layer.into(),
            source: "spans".into(),
            hits,
            misses,
        };
        let answer = answer(
            vec![row(0, "l1", 3, 1), row(10, "l1", 1, 3), row(60, "l1", 2, 0), row(0, "l2", 0, 0)],
            0,
            90_000_000_000,
            30_000_000_000,
        );
        let l1 = &answer.caches[0];
        assert_eq!((l1.layer.as_str(), l1.hits, l1.misses, l1.hit_rate), ("l1", 6, 4, Some(0.6)));
        assert_eq!(
            l1.series,
            vec![
                CachePoint { time_ns: 0, hits: 4, misses: 4, hit_rate: Some(0.5) },
                CachePoint { time_ns: 60_000_000_000, hits: 2, misses: 0, hit_rate: Some(1.0) },
            ]
        );
        assert_eq!(answer.caches[1].hit_rate, None, "no lookups, no rate");
    }
}
