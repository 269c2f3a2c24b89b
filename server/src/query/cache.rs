//! `/api/v1/cache` answers from the cache rollup rows (pure): sums per cache, a point per step,
//! hit rates, and the newest miss examples.

use std::collections::BTreeMap;

use otelscope_app::model::{CacheAnswer, CachePoint, CacheSource, CacheStats};

use crate::store::{CacheQuery, CacheRows};

/// Miss examples an answer gives per cache (the parser puts it in `CacheQuery::miss_examples`).
pub const MISS_EXAMPLES: usize = 5;

/// Sums rows into one entry per cache (service, name, layer, source), sorted by those, each
/// with a point per `step_ns` that saw lookups, and adds the miss examples
/// (`(service, name, layer, trace_id)`, newest first) to the rows of source `spans`.
pub fn answer(found: CacheRows, q: &CacheQuery) -> CacheAnswer {
    let CacheRows { rows, miss_examples: examples } = found;
    let (since_ns, until_ns, step_ns) = (q.since_ns, q.until_ns, q.step_ns);
    /// (service, name, layer, source).
    type Key = (String, String, String, CacheSource);
    /// Hits, misses, (hits, misses) per step start, and the lookups' timing.
    type Totals = (u64, u64, BTreeMap<u64, (u64, u64)>, Timing);
    let mut caches: BTreeMap<Key, Totals> = BTreeMap::new();
    for row in rows {
        let timing = Timing {
            hit_ns: row.hit_ns,
            miss_ns: row.miss_ns,
            hits: row.timed_hits,
            misses: row.timed_misses,
        };
        let entry = caches.entry((row.service, row.name, row.layer, row.source)).or_default();
        entry.0 += row.hits;
        entry.1 += row.misses;
        entry.3.add(&timing);
        let point = entry.2.entry(row.bucket_ns - row.bucket_ns % step_ns.max(1)).or_default();
        point.0 += row.hits;
        point.1 += row.misses;
    }
    let mut found: BTreeMap<(String, String, String), Vec<String>> = BTreeMap::new();
    for (service, name, layer, trace_id) in examples {
        let list = found.entry((service, name, layer)).or_default();
        if list.len() < q.miss_examples && !list.contains(&trace_id) {
            list.push(trace_id);
        }
    }
    let caches = caches
        .into_iter()
        .map(|((service, name, layer, source), (hits, misses, series, timing))| CacheStats {
            hit_mean_ns: mean(timing.hit_ns, timing.hits),
            miss_mean_ns: mean(timing.miss_ns, timing.misses),
            miss_examples: if source == CacheSource::Spans {
                found
                    .get(&(service.clone(), name.clone(), layer.clone()))
                    .cloned()
                    .unwrap_or_default()
            } else {
                Vec::new()
            },
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
        })
        .collect();
    CacheAnswer { since_ns, until_ns, step_ns, caches }
}

fn rate(hits: u64, misses: u64) -> Option<f64> {
    (hits + misses > 0).then(|| hits as f64 / (hits + misses) as f64)
}

/// The summed durations of a cache's timed hits and misses, and how many each covers.
#[derive(Clone, Copy, Debug, Default)]
struct Timing {
    hit_ns: u64,
    miss_ns: u64,
    hits: u64,
    misses: u64,
}

impl Timing {
    fn add(&mut self, other: &Timing) {
        self.hit_ns = self.hit_ns.saturating_add(other.hit_ns);
        self.miss_ns = self.miss_ns.saturating_add(other.miss_ns);
        self.hits += other.hits;
        self.misses += other.misses;
    }
}

/// `sum / count`, rounded; none without a timed lookup.
fn mean(sum_ns: u64, count: u64) -> Option<u64> {
    (count > 0).then(|| (sum_ns as f64 / count as f64).round() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::CacheRow;

    #[test]
    fn answer_groups_rows_into_steps_with_rates() {
        let row = |bucket_s: u64, layer: &str, hits, misses| CacheRow {
            bucket_ns: bucket_s * 1_000_000_000,
            service: "catalog".into(),
            name: "products".into(),
            layer: layer.into(),
            source: CacheSource::Spans,
            hits,
            misses,
            // Hits take 1 ms each, misses 5 ms; the 60 s bucket's were not timed (before v16).
            hit_ns: if bucket_s == 60 { 0 } else { hits * 1_000_000 },
            miss_ns: if bucket_s == 60 { 0 } else { misses * 5_000_000 },
            timed_hits: if bucket_s == 60 { 0 } else { hits },
            timed_misses: if bucket_s == 60 { 0 } else { misses },
        };
        let example = |layer: &str, trace: &str| {
            ("catalog".into(), "products".into(), layer.into(), trace.to_owned())
        };
        let found = CacheRows {
            rows: vec![
                row(0, "l1", 3, 1),
                row(10, "l1", 1, 3),
                row(60, "l1", 2, 0),
                row(0, "l2", 0, 0),
            ],
            miss_examples: vec![
                example("l1", "b"),
                example("l1", "a"),
                example("l1", "b"),
                example("l3", "c"),
            ],
        };
        let query = CacheQuery {
            since_ns: 0,
            until_ns: 90_000_000_000,
            step_ns: 30_000_000_000,
            service: None,
            miss_examples: MISS_EXAMPLES,
        };
        let answer = answer(found, &query);
        let l1 = &answer.caches[0];
        assert_eq!((l1.layer.as_str(), l1.hits, l1.misses, l1.hit_rate), ("l1", 6, 4, Some(0.6)));
        assert_eq!(
            l1.series,
            vec![
                CachePoint { time_ns: 0, hits: 4, misses: 4, hit_rate: Some(0.5) },
                CachePoint { time_ns: 60_000_000_000, hits: 2, misses: 0, hit_rate: Some(1.0) },
            ]
        );
        assert_eq!(l1.miss_examples, ["b", "a"], "newest first, each trace once");
        assert_eq!(
            (l1.hit_mean_ns, l1.miss_mean_ns),
            (Some(1_000_000), Some(5_000_000)),
            "means over the timed lookups only"
        );
        assert_eq!((answer.caches[1].hit_mean_ns, answer.caches[1].miss_mean_ns), (None, None));
        assert_eq!(answer.caches[1].hit_rate, None, "no lookups, no rate");
        assert!(answer.caches[1].miss_examples.is_empty());
    }
}
