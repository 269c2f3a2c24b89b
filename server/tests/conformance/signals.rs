//! Cases on the other signals and what is derived from spans: metrics (logs: `logs.rs`), the cache and
//! retry rollups, flame graph stacks, and kept profiles.

use otelscope_app::model::fixture::span;
use otelscope_app::model::{
    AttrValue, MetricKind, MetricName, MetricPoint, ProfileSummary, Span, Temporality,
};
use otelscope_server::store::{
    CacheQuery, CacheRow, Counts, MetricQuery, OperationQuery, RetryQuery, Store, StoredProfile,
    WriteBatch, SETTLE_NS,
};

use super::{store_batch, store_spans, text, tid, MS, T};

fn point(name: &str, service: &str, at: u64, value: f64) -> MetricPoint {
    MetricPoint {
        name: name.into(),
        description: String::new(),
        unit: "1".into(),
        kind: MetricKind::Gauge,
        temporality: Temporality::Unspecified,
        monotonic: false,
        service: service.into(),
        attributes: Vec::new(),
        start_ns: 0,
        time_ns: T + at,
        value: Some(value),
        histogram: None,
        ..Default::default()
    }
}

pub fn metrics_catalog_and_series(store: &dyn Store) {
    let metrics = vec![
        point("queue.depth", "web", 1, 1.0),
        point("queue.depth", "web", 2, 2.0),
        point("queue.depth", "web", 3, 3.0),
        point("pool.size", "db", 1, 8.0),
    ];
    store_batch(store, WriteBatch { received_ns: T, metrics, ..WriteBatch::default() });
    let catalog = MetricQuery { limit: 10, ..MetricQuery::default() };
    let names = |answer: otelscope_app::model::MetricsAnswer| {
        answer.names.iter().map(|n| (n.name.clone(), n.points)).collect::<Vec<_>>()
    };
    assert_eq!(
        names(store.metrics(&catalog).unwrap()),
        [("pool.size".to_string(), 1), ("queue.depth".to_string(), 3)]
    );
    let one = store.metrics(&MetricQuery { limit: 1, ..catalog.clone() }).unwrap();
    assert_eq!(one.names, [MetricName { name: "pool.size".into(), points: 1 }]);

    let series = MetricQuery { name: Some("queue.depth".into()), ..catalog.clone() };
    let answer = store.metrics(&series).unwrap();
    assert_eq!(answer.series.len(), 1);
    assert_eq!(
        (answer.series[0].service.as_str(), answer.series[0].name.as_str()),
        ("web", "queue.depth")
    );
    assert_eq!(
        answer.series[0].points,
        [
            point("queue.depth", "web", 1, 1.0),
            point("queue.depth", "web", 2, 2.0),
            point("queue.depth", "web", 3, 3.0)
        ]
    );
    assert!(!answer.truncated);
    // The newest `limit` points, still in time order.
    let newest = store.metrics(&MetricQuery { limit: 2, ..series.clone() }).unwrap();
    let values: Vec<f64> = newest.series[0].points.iter().filter_map(|p| p.value).collect();
    assert_eq!((values, newest.truncated), (vec![2.0, 3.0], true));
    let db = MetricQuery { service: Some("db".into()), ..series.clone() };
    assert!(store.metrics(&db).unwrap().series.is_empty());
    // `until` exclusive: [T + 2, T + 3) holds the one point at T + 2.
    let late = MetricQuery { since_ns: Some(T + 2), until_ns: Some(T + 3), ..series.clone() };
    let values: Vec<f64> =
        store.metrics(&late).unwrap().series[0].points.iter().filter_map(|p| p.value).collect();
    assert_eq!(values, [2.0]);
    let unknown = MetricQuery { name: Some("nothing".into()), ..catalog };
    assert!(store.metrics(&unknown).unwrap().series.is_empty());
}

/// A lookup of cache `catalog` (layer `l2`) by service `shop` in trace `trace`.
fn lookup(trace: u32, at: u64, hit: bool) -> Span {
    span(trace, 1u32, "redis GET")
        .service("shop")
        .ns(T + at, T + at + 1)
        .attr("cache.hit", AttrValue::Bool(hit))
        .attr("cache.name", text("catalog"))
        .attr("cache.layer", text("l2"))
        .build()
}

const BUCKET: u64 = 10_000_000_000;

pub fn cache_rows_and_miss_examples(store: &dyn Store) {
    store_spans(store, T, vec![lookup(6, 1, true), lookup(7, 2, false), lookup(8, 3, false)]);
    let query = CacheQuery {
        since_ns: T,
        until_ns: T + BUCKET - 1,
        step_ns: BUCKET,
        service: None,
        miss_examples: 5,
    };
    let rows = store.cache(&query).unwrap();
    let row = |source: &str| CacheRow {
        bucket_ns: T,
        service: "shop".into(),
        name: "catalog".into(),
        layer: "l2".into(),
        source: source.parse().expect("a cache source"),
        hits: 1,
        misses: 2,
        // Each lookup took 1 ns: the sums of the hits' and the misses' durations.
        hit_ns: 1,
        miss_ns: 2,
        timed_hits: 1,
        timed_misses: 2,
    };
    assert_eq!(rows.rows, [row("spans")]);
    let example = |trace: u32| ("shop".into(), "catalog".into(), "l2".into(), tid(trace));
    assert_eq!(rows.miss_examples, [example(8), example(7)], "newest first");
    let later = CacheQuery { since_ns: T + BUCKET, until_ns: T + 2 * BUCKET - 1, ..query.clone() };
    assert!(store.cache(&later).unwrap().rows.is_empty());
    let other = CacheQuery { service: Some("web".into()), ..query };
    let other = store.cache(&other).unwrap();
    assert!(other.rows.is_empty() && other.miss_examples.is_empty());
}

/// A call of `fetch price` by `shop` in trace `trace` with this outcome and attempt count.
fn call(trace: u32, at: u64, outcome: &str, attempts: i64) -> Span {
    span(trace, 1u32, "fetch price")
        .service("shop")
        .ns(T + at, T + at + 1)
        .attr("retry.outcome", text(outcome))
        .attr("retry.attempt", AttrValue::Int(attempts - 1))
        .build()
}

pub fn retry_rows_and_examples(store: &dyn Store) {
    let calls =
        vec![call(9, 1, "exhausted", 3), call(10, 2, "success", 1), call(11, 3, "circuit_open", 1)];
    store_spans(store, T, calls);
    let query = RetryQuery {
        since_ns: T,
        until_ns: T + BUCKET - 1,
        step_ns: BUCKET,
        service: None,
        examples_per_kind: 5,
    };
    let rows = store.retries(&query).unwrap();
    assert_eq!(rows.rows.len(), 1, "{rows:?}");
    let row = &rows.rows[0];
    assert_eq!((row.service.as_str(), row.name.as_str()), ("shop", "fetch price"));
    assert_eq!(
        (row.calls, row.retried, row.resends, row.give_ups, row.circuit_open),
        (3, 1, 2, 1, 1)
    );
    // The circuit-open call names its refused try 0 (`retry.attempt` = 0): it made no attempt.
    assert_eq!(row.attempts, Counts([(0, 1), (1, 1), (3, 1)].into()));
    assert_eq!(row.bucket_ns, T - T % BUCKET);
    assert_eq!(row.tries, Counts::default());
    let mut examples: Vec<(String, String)> =
        rows.examples.iter().map(|e| (e.kind.as_str().to_owned(), e.trace_id.clone())).collect();
    examples.sort();
    assert_eq!(
        examples,
        [("circuit_open".into(), tid(11)), ("gave_up".into(), tid(9)), ("retried".into(), tid(9))]
    );
    // Each example keeps its call's start, duration and outcome (schema v16).
    let gave_up = rows.examples.iter().find(|e| e.kind.as_str() == "gave_up").unwrap();
    assert_eq!(
        (gave_up.start_ns, gave_up.duration_ns, gave_up.outcome.as_str()),
        (T + 1, Some(1), "exhausted")
    );
    let other = RetryQuery { service: Some("web".into()), ..query.clone() };
    assert!(store.retries(&other).unwrap().rows.is_empty());
    let later = RetryQuery { since_ns: T + BUCKET, until_ns: T + 2 * BUCKET - 1, ..query };
    assert!(store.retries(&later).unwrap().rows.is_empty());
}

/// One trace's flame graph: its spans' stacks, each frame's self time (the rollup's fold is
/// `flames_fold_once_settled_and_answer_alike`).
pub fn a_trace_flame_is_its_spans_stacks(store: &dyn Store) {
    let root = span(1u32, 1u32, "GET /a").service("web").ns(T, T + 10 * MS).build();
    let child =
        span(1u32, 2u32, "SELECT").parent(1u32).service("db").ns(T + 2 * MS, T + 7 * MS).build();
    // The child arrives first, and once more in a later batch (sent twice: counted once).
    store_spans(store, T, vec![child.clone()]);
    store_spans(store, T + 1, vec![root, child]);
    let trace = store.flame_trace(&tid(1)).unwrap();
    let expected = "web GET /a 5000\nweb GET /a;db SELECT 5000\n";
    assert_eq!((trace.to_text().as_str(), trace.traces), (expected, 1));
    let unknown = store.flame_trace(&tid(99)).unwrap();
    assert_eq!(unknown.to_text(), "", "no stacks for an unknown trace");
}

pub fn flames_fold_once_settled_and_answer_alike(store: &dyn Store) {
    let root = span(1u32, 1u32, "GET /a").service("web").ns(T, T + 10 * MS).build();
    let child =
        span(1u32, 2u32, "SELECT").parent(1u32).service("db").ns(T + 2 * MS, T + 7 * MS).build();
    store_spans(store, T, vec![root, child]);
    let expected = "web GET /a 5000\nweb GET /a;db SELECT 5000\n";
    let trace = store.flame_trace(&tid(1)).unwrap();
    assert_eq!((trace.to_text().as_str(), trace.traces), (expected, 1));
    let unknown = store.flame_trace(&tid(99)).unwrap();
    assert_eq!(unknown.to_text(), "", "no stacks for an unknown trace");
    let op = OperationQuery {
        service: "web".into(),
        name: Some("GET /a".into()),
        root_only: true,
        since_ns: T,
        until_ns: T + 1_000 * MS,
    };
    let answer = |q: &OperationQuery| {
        let tree = store.flame_operation(q).unwrap();
        (tree.to_text(), tree.traces)
    };
    // Not folded yet: the recent trace is folded by the query itself.
    assert_eq!(answer(&op), (expected.to_string(), 1));
    assert_eq!(store.fold_flames(T + SETTLE_NS - 1).unwrap(), 0, "not settled");
    assert_eq!(store.fold_flames(T + SETTLE_NS).unwrap(), 1);
    assert_eq!(store.fold_flames(T + SETTLE_NS).unwrap(), 0, "nothing waits");
    assert_eq!(answer(&op), (expected.to_string(), 1));
    // `match=any` on the child: its subtree.
    let any = OperationQuery {
        service: "db".into(),
        name: Some("SELECT".into()),
        root_only: false,
        ..op.clone()
    };
    assert_eq!(answer(&any), ("db SELECT 5000\n".to_string(), 1));
    let nobody = OperationQuery { service: "nobody".into(), ..op };
    assert_eq!(answer(&nobody), (String::new(), 0));
}

fn profile(id: &str, created_ns: u64) -> ProfileSummary {
    ProfileSummary {
        id: id.into(),
        source: otelscope_app::model::ProfileSource::Pprof,
        name: format!("profile {id}"),
        created_ns,
        stacks: 2,
        total: 30,
        unit: "samples".into(),
        nodes: None,
        duration_ns: None,
    }
}

pub fn profiles_are_kept_listed_read_and_deleted(store: &dyn Store) {
    assert!(store.profiles().unwrap().is_empty());
    let folded = "main;work 20\nmain 10\n";
    store.put_profile(&profile("a", T), folded).unwrap();
    store.put_profile(&profile("b", T + 1), "main 30\n").unwrap();
    assert_eq!(store.profiles().unwrap(), [profile("b", T + 1), profile("a", T)]);
    assert_eq!(
        store.profile("a").unwrap(),
        Some(StoredProfile { summary: profile("a", T), folded: folded.into() })
    );
    assert_eq!(store.profile("nothing").unwrap(), None);
    assert!(store.delete_profile("a").unwrap());
    assert!(!store.delete_profile("a").unwrap());
    assert!(!store.delete_profile("nothing").unwrap());
    assert_eq!(store.profile("a").unwrap(), None);
    assert_eq!(store.profiles().unwrap(), [profile("b", T + 1)]);
}
