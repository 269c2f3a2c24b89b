//! The `/cache` and `/retries` answers over a real (in-memory) `SqliteStore`'s rollups: cache
//! spans and counters (cumulative with a reset, delta) and retry fixtures of both shapes give
//! exact answers; retention drops the rollups of the data it drops.

use otelscope_app::model::{
    AttrValue, CachePoint, KeyValue, MetricKind, MetricPoint, Span, Temporality,
};

use otelscope_app::model::{CacheAnswer, RetriesAnswer};

use super::params::{parse_cache_query, parse_retry_query};
use super::retries::tests::{check, fixture};
use crate::store::{CacheQuery, Retention, RetryQuery, SqliteStore, Store, WriteBatch};

/// The store's rows for `q`, answered by the query layer (as the API does).
fn cache_answer(store: &SqliteStore, q: &CacheQuery) -> CacheAnswer {
    super::cache::answer(store.cache(q).unwrap(), q)
}

fn retries_answer(store: &SqliteStore, q: &RetryQuery) -> RetriesAnswer {
    super::retries::answer(store.retries(q).unwrap(), q)
}

const S: u64 = 1_000_000_000;

fn kv(key: &str, value: &str) -> KeyValue {
    KeyValue { key: key.into(), value: AttrValue::String(value.into()) }
}

fn cache_span(id: u32, start_s: u64, hit: bool, name: &str, layer: &str) -> Span {
    let mut span = Span::new(format!("{id:032x}"), format!("{id:016x}"), "cache.get");
    span.service = "catalog".into();
    span.start_ns = start_s * S;
    span.end_ns = start_s * S + 1;
    span.attributes = vec![
        KeyValue { key: "cache.hit".into(), value: AttrValue::Bool(hit) },
        kv("cache.name", name),
        kv("cache.layer", layer),
    ];
    span
}

fn counter(
    name: &str,
    temporality: Temporality,
    attrs: Vec<KeyValue>,
    start_ns: u64,
    t_s: u64,
    v: f64,
) -> MetricPoint {
    MetricPoint {
        name: name.into(),
        description: String::new(),
        unit: String::new(),
        kind: MetricKind::Sum,
        temporality,
        monotonic: true,
        service: "catalog".into(),
        attributes: attrs,
        start_ns,
        time_ns: t_s * S,
        value: Some(v),
        histogram: None,
        ..Default::default()
    }
}

/// Prepared as a receiver would (so the writer only upserts), then written.
fn write(store: &SqliteStore, received_ns: u64, spans: Vec<Span>, metrics: Vec<MetricPoint>) {
    let mut batch = WriteBatch { received_ns, spans, metrics, ..WriteBatch::default() };
    batch.prepare().unwrap();
    for result in store.write(&[batch]).unwrap() {
        result.unwrap();
    }
}

fn cache_fixture(store: &SqliteStore) {
    use Temporality::{Cumulative, Delta};
    let hit = || vec![kv("result", "hit"), kv("cache", "users")];
    let miss = || vec![kv("result", "miss"), kv("cache", "users")];
    let sessions = || vec![kv("cache.name", "sessions"), kv("cache.layer", "l2")];
    write(
        store,
        1_000,
        vec![
            cache_span(1, 1, true, "products", "l1"),
            cache_span(2, 2, true, "products", "l1"),
            cache_span(3, 3, false, "products", "l1"),
            cache_span(4, 12, true, "products", "l2"),
        ],
        vec![
            // Cumulative with a start time: the first point counts whole (10).
            counter("cache.gets", Cumulative, hit(), 1, 5, 10.0),
            counter("cache.gets", Cumulative, hit(), 1, 15, 15.0),
            // Cumulative without a start time: the first point is a baseline.
            counter("cache.gets", Cumulative, miss(), 0, 5, 4.0),
            counter("cache.gets", Cumulative, miss(), 0, 15, 6.0),
            counter("cache.hits", Delta, sessions(), 1, 5, 7.0),
            counter("cache.misses", Delta, sessions(), 1, 5, 3.0),
        ],
    );
    write(
        store,
        2_000,
        vec![cache_span(5, 13, true, "products", "l1"), cache_span(6, 14, false, "products", "l2")],
        vec![
            // A repeat of the last point adds nothing; 3 < 15 is a reset (adds 3), then +5.
            counter("cache.gets", Cumulative, hit(), 1, 35, 8.0),
            counter("cache.gets", Cumulative, hit(), 1, 15, 15.0),
            counter("cache.gets", Cumulative, hit(), 1, 25, 3.0),
            // A new start time is a reset: its value counts whole.
            counter("cache.gets", Cumulative, miss(), 20 * S, 25, 1.0),
            counter("cache.hits", Delta, sessions(), 1, 12, 3.0),
        ],
    );
}

/// `service/name/layer/source: hits/misses rate` per cache.
fn summary(answer: &otelscope_app::model::CacheAnswer) -> Vec<String> {
    answer
        .caches
        .iter()
        .map(|c| {
            let rate = c.hit_rate.map_or("-".into(), |r| format!("{r:.3}"));
            format!(
                "{}/{}/{}/{}: {}/{} {rate}",
                c.service, c.name, c.layer, c.source, c.hits, c.misses
            )
        })
        .collect()
}

#[test]
fn cache_spans_and_counters_give_exact_hits_misses_and_buckets() {
    let store = SqliteStore::in_memory().unwrap();
    cache_fixture(&store);
    let answer =
        cache_answer(&store, &parse_cache_query("since=0&until=60000000000&step=20s", 0).unwrap());
    assert_eq!(
        summary(&answer),
        [
            "catalog/products/l1/spans: 3/1 0.750",
            "catalog/products/l2/spans: 1/1 0.500",
            "catalog/sessions/l2/metrics: 10/3 0.769",
            "catalog/users//metrics: 23/3 0.885",
        ]
    );
    let point = |t: u64, hits, misses| CachePoint {
        time_ns: t * S,
        hits,
        misses,
        hit_rate: Some(hits as f64 / (hits + misses) as f64),
    };
    // users: hits 10 (t 5 s) + 5 (15 s) | 3 (25 s) + 5 (35 s); misses 2 (15 s) | 1 (25 s).
    assert_eq!(answer.caches[3].series, vec![point(0, 15, 2), point(20, 8, 1)]);
    assert_eq!(answer.caches[0].series, vec![point(0, 3, 1)]);
    assert_eq!(answer.step_ns, 20 * S);

    // Ten-second buckets, a range and a service filter.
    let answer = cache_answer(
        &store,
        &parse_cache_query("since=10000000000&until=19999999999&step=1s", 0).unwrap(),
    );
    assert_eq!(
        summary(&answer),
        [
            "catalog/products/l1/spans: 1/0 1.000",
            "catalog/products/l2/spans: 1/1 0.500",
            "catalog/sessions/l2/metrics: 3/0 1.000",
            "catalog/users//metrics: 5/2 0.714",
        ]
    );
    assert!(cache_answer(&store, &parse_cache_query("since=0&service=other", 0).unwrap())
        .caches
        .is_empty());
}

#[test]
fn cache_misses_keep_the_newest_example_traces_per_bucket() {
    let store = SqliteStore::in_memory().unwrap();
    // Bucket 0 s: misses in traces 1..=5 over two batches (only the 3 newest stay), one hit;
    // bucket 10 s: misses in traces 6 and 7, trace 7 twice (8 misses, 7 traces).
    write(&store, 1, (1..=3).map(|i| cache_span(i, i as u64, false, "p", "l1")).collect(), vec![]);
    write(
        &store,
        2,
        vec![
            cache_span(4, 4, false, "p", "l1"),
            cache_span(5, 5, false, "p", "l1"),
            cache_span(9, 9, true, "p", "l1"),
            cache_span(6, 11, false, "p", "l1"),
            cache_span(7, 12, false, "p", "l1"),
            Span { span_id: "8".repeat(16), ..cache_span(7, 13, false, "p", "l1") },
        ],
        vec![],
    );
    let answer = cache_answer(&store, &parse_cache_query("since=0&until=60000000000", 0).unwrap());
    let trace = |i: u32| format!("{i:032x}");
    assert_eq!(answer.caches[0].misses, 8);
    assert_eq!(answer.caches[0].miss_examples, [trace(7), trace(6), trace(5), trace(4), trace(3)]);
    let first_bucket =
        cache_answer(&store, &parse_cache_query("since=0&until=9999999999", 0).unwrap());
    assert_eq!(first_bucket.caches[0].miss_examples, [trace(5), trace(4), trace(3)]);
}

#[test]
fn retry_fixtures_give_exact_numbers_through_the_store() {
    let store = SqliteStore::in_memory().unwrap();
    let spans = fixture();
    // Two exports: the second carries E's last try (13 s) and G's resend (16 s).
    let (late, early): (Vec<Span>, Vec<Span>) = spans
        .into_iter()
        .partition(|s| s.service == "web" && (s.start_ns == 13 * S || s.start_ns == 16 * S));
    write(&store, 1_000, early, Vec::new());
    write(&store, 2_000, late, Vec::new());
    let answer =
        retries_answer(&store, &parse_retry_query("since=0&until=100000000000", 0).unwrap());
    // Split over two exports, the sums are those of one export of everything.
    let whole = check(&[&fixture()]);
    assert_eq!(answer.operations, whole.operations);
    let web = &answer.operations[1];
    assert_eq!((web.name.as_str(), web.calls, web.retried_calls, web.resends), ("GET", 3, 2, 3));
    let catalog = &answer.operations[0];
    assert_eq!(
        (catalog.calls, catalog.give_ups, catalog.circuit_open, catalog.resends),
        (4, 1, 1, 5)
    );
    assert_eq!(catalog.examples.gave_up, vec![format!("{:032x}", 0xb)]);
    // A range of one bucket (20-29 s) holds B alone; its attempt children count only for it.
    let answer = retries_answer(
        &store,
        &parse_retry_query("since=20000000000&until=29999999999&service=catalog", 0).unwrap(),
    );
    let only = &answer.operations[..];
    assert_eq!(only.len(), 1, "{only:?}");
    assert_eq!((only[0].name.as_str(), only[0].calls, only[0].give_ups), ("upstream.fetch", 1, 1));
    assert_eq!(
        only[0].attempts,
        vec![otelscope_app::model::AttemptCount { attempts: 4, calls: 1 }]
    );
}

#[test]
fn retention_drops_the_rollups_of_the_data_it_drops() {
    let store = SqliteStore::in_memory().unwrap();
    cache_fixture(&store);
    let everything = parse_cache_query("since=0&until=60000000000", 0).unwrap();
    assert_eq!(cache_answer(&store, &everything).caches.len(), 4);
    // Keep what was received at 2,000 and later: the rows only the first batch wrote go; a
    // bucket both batches wrote to (products/l2 at 10 s) stays whole with the newer data.
    let retention = Retention { max_age_ns: 500, ..Retention::UNBOUNDED };
    store.enforce_retention(retention, 2_500, 50_000).unwrap();
    let left = cache_answer(&store, &everything);
    assert_eq!(
        summary(&left),
        [
            "catalog/products/l1/spans: 1/0 1.000",
            "catalog/products/l2/spans: 1/1 0.500",
            "catalog/sessions/l2/metrics: 3/0 1.000",
            "catalog/users//metrics: 8/1 0.889",
        ]
    );
    store
        .enforce_retention(Retention { max_age_ns: 0, ..Retention::UNBOUNDED }, 10_000, 50_000)
        .unwrap();
    assert!(cache_answer(&store, &everything).caches.is_empty());
}
