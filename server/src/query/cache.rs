//! `/api/v1/cache` answers from `cache_rollup` rows (pure): sums per cache, a point per step,
//! hit rates, and the newest miss examples.

use std::collections::BTreeMap;

use otelscope_app::model::{CacheAnswer, CachePoint, CacheStats};

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
    let mut found: BTreeMap<(String, String, String), Vec<String>> = BTreeMap::new();
    for (service, name, layer, trace_id) in examples {
        let list = found.entry((service, name, layer)).or_default();
        if list.len() < q.miss_examples && !list.contains(&trace_id) {
            list.push(trace_id);
        }
    }
    let caches = caches
        .into_iter()
        .map(|((service, name, layer, source), (hits, misses, series))| CacheStats {
            miss_examples: if source == "spans" {
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
            source: "spans".into(),
            hits,
            misses,
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
        assert_eq!(answer.caches[1].hit_rate, None, "no lookups, no rate");
        assert!(answer.caches[1].miss_examples.is_empty());
    }
}
