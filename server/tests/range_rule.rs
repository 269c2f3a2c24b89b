//! The product contract's range rule on every route (issue 26, point 8): `since` inclusive,
//! `until` exclusive, so the buckets a window sums hold exactly the spans that start in it
//! (once `/cache` and `/retries` counted the bucket starting at `until`, 10 s too many, and
//! metric reads the sample at `until`); the services table counts its range; aggregates
//! (services included) count the last hour unless asked, searches everything stored; and
//! otelscope's own services left out of every answer unless `include_self=1` or named.

mod support;

use otelscope_app::model::{AttrValue, MetricKind, MetricPoint, Span, SpanKind};
use otelscope_server::store::WriteBatch;
use serde_json::Value;
use support::{get_json, kv, shop_span, state_with_batches};

const S: u64 = 1_000_000_000;
/// The first span's second: a rollup bucket's start.
const T0: u64 = 1_000;

/// Trace `i` (0..60): one `charge` server span of `shop` at `T0 + i` seconds, a retried call
/// and a cache lookup (a hit every third).
fn charge(i: u64) -> Span {
    let attributes = vec![
        kv("retry.outcome", AttrValue::String("success".into())),
        kv("retry.attempt", AttrValue::Int(0)),
        kv("cache.hit", AttrValue::Bool(i.is_multiple_of(3))),
        kv("cache.name", AttrValue::String("catalog".into())),
    ];
    Span { kind: SpanKind::Server, ..shop_span(i as u32 + 1, 1, "charge", T0 + i, attributes) }
}

/// Gauge `queue.depth` of `service` at `T0 + i` seconds.
fn depth(service: &str, i: u64) -> MetricPoint {
    MetricPoint {
        name: "queue.depth".into(),
        kind: MetricKind::Gauge,
        service: service.into(),
        time_ns: (T0 + i) * S,
        value: Some(1.0),
        ..MetricPoint::default()
    }
}

fn sum(values: &Value, key: &str) -> u64 {
    values.as_array().map_or(0, |list| list.iter().filter_map(|v| v[key].as_u64()).sum())
}

#[tokio::test]
async fn a_windows_buckets_sum_to_the_spans_that_start_in_it() {
    let mut spans: Vec<Span> = (0..60).map(charge).collect();
    // otelscope's own retried call, inside the window.
    spans.push(Span { service: "otelscope".into(), ..charge(25) });
    spans.last_mut().unwrap().trace_id = format!("{:032x}", 0xfeed);
    let metrics = (0..60).map(|i| depth("shop", i)).collect();
    let state = state_with_batches(vec![WriteBatch {
        received_ns: 1,
        spans,
        metrics,
        ..Default::default()
    }]);

    // Windows of whole rollup buckets (10 s; a window inside one bucket is answered as its
    // bucket): [1020 s, 1040 s) holds 20 spans of `shop`, not the 21 the bucket starting at
    // `until` once added.
    for (since_s, until_s, want) in [(1_020, 1_040, 20), (1_000, 1_060, 60), (1_050, 1_060, 10)] {
        let range = format!("since={}&until={}", since_s * S, until_s * S);
        let traces = get_json(&state, &format!("/api/v1/traces?{range}&limit=1000")).await;
        assert_eq!(traces["traces"].as_array().map(Vec::len), Some(want as usize), "{range}");
        assert_eq!(traces["matched"], want, "{range}");

        let retries = get_json(&state, &format!("/api/v1/retries?{range}")).await;
        let ops = &retries["operations"];
        assert_eq!(ops.as_array().map(Vec::len), Some(1), "{range}: {retries}");
        assert_eq!(ops[0]["calls"], want, "{range}: {retries}");
        assert_eq!(sum(&ops[0]["series"], "calls"), want, "{range}: the series {retries}");

        let cache = get_json(&state, &format!("/api/v1/cache?{range}")).await;
        let caches = &cache["caches"];
        assert_eq!(sum(caches, "hits") + sum(caches, "misses"), want, "{range}: {cache}");
        let lookups: u64 = caches
            .as_array()
            .unwrap()
            .iter()
            .map(|c| sum(&c["series"], "hits") + sum(&c["series"], "misses"))
            .sum();
        assert_eq!(lookups, want, "{range}: the series {cache}");

        let red = get_json(&state, &format!("/api/v1/services/shop/red?{range}")).await;
        assert_eq!(red["totals"]["requests"], want, "{range}: {red}");
        let per_step: u64 =
            red["series"]["requests"].as_array().unwrap().iter().filter_map(Value::as_u64).sum();
        assert_eq!(per_step, want, "{range}: {red}");

        // The services table counts the range it was asked for, and says which.
        let services = get_json(&state, &format!("/api/v1/services?{range}")).await;
        let listed = services["services"].as_array().unwrap();
        assert_eq!(listed.len(), 1, "{range}: only shop, {services}");
        assert_eq!(listed[0]["span_count"], want, "{range}: {services}");
        assert_eq!(services["range"], serde_json::json!([since_s * S, until_s * S]));

        // Metric samples: the one at `until` is the next window's.
        let points =
            get_json(&state, &format!("/api/v1/metrics?name=queue.depth&{range}&limit=1000")).await;
        assert_eq!(points["series"][0]["points"].as_array().map(Vec::len), Some(want as usize));
    }
    // Before the fix: 40 here, the bucket at `until` (1050 s) counted too.
    let retries =
        get_json(&state, &format!("/api/v1/retries?since={}&until={}", 1_020 * S, 1_050 * S)).await;
    assert_eq!(retries["operations"][0]["calls"], 30, "{retries}");
}

#[tokio::test]
async fn otelscopes_own_services_only_when_asked_or_named() {
    let mine = Span { service: "otelscope".into(), ..charge(5) };
    let state = state_with_batches(vec![WriteBatch {
        received_ns: 1,
        spans: vec![mine],
        metrics: vec![depth("otelscope", 5)],
        ..Default::default()
    }]);
    let range = format!("since={}&until={}", T0 * S, (T0 + 60) * S);
    for route in ["retries", "cache"] {
        let list = if route == "retries" { "operations" } else { "caches" };
        let count = |answer: &Value| answer[list].as_array().map_or(0, Vec::len);
        let plain = get_json(&state, &format!("/api/v1/{route}?{range}")).await;
        assert_eq!(count(&plain), 0, "{route}: {plain}");
        let asked = get_json(&state, &format!("/api/v1/{route}?{range}&include_self=1")).await;
        assert_eq!(count(&asked), 1, "{route}: {asked}");
        let named = get_json(&state, &format!("/api/v1/{route}?{range}&service=otelscope")).await;
        assert_eq!(count(&named), 1, "{route}: {named}");
        let bad = get_json(&state, &format!("/api/v1/{route}?include_self=maybe")).await;
        assert!(bad["error"].as_str().is_some_and(|e| e.contains("include_self")), "{bad}");
    }
    let series = get_json(&state, &format!("/api/v1/metrics/queue.depth/series?{range}")).await;
    assert_eq!(series["groups"].as_array().map(Vec::len), Some(0), "{series}");
    let asked = format!("/api/v1/metrics/queue.depth/series?{range}&include_self=1");
    let series = get_json(&state, &asked).await;
    assert_eq!(series["groups"].as_array().map(Vec::len), Some(1), "{series}");
    let traces = get_json(&state, &format!("/api/v1/traces?{range}")).await;
    assert_eq!(traces["traces"].as_array().map(Vec::len), Some(0), "{traces}");
    let traces = get_json(&state, &format!("/api/v1/traces?{range}&include_self=1")).await;
    assert_eq!(traces["traces"].as_array().map(Vec::len), Some(1), "{traces}");
}

/// `span` moved to start at `at_ns` (its duration kept).
fn starting_at(mut span: Span, at_ns: u64) -> Span {
    let took = span.end_ns - span.start_ns;
    (span.start_ns, span.end_ns) = (at_ns, at_ns + took);
    span
}

#[tokio::test]
async fn aggregates_count_the_last_hour_unless_asked_and_searches_everything() {
    // Trace 1 ten minutes ago, trace 2 two hours ago; a gauge sample at each time.
    let now = otelscope_server::ingest::now_ns();
    let (recent, old) = (now - 600 * S, now - 7_200 * S);
    let spans = vec![starting_at(charge(0), recent), starting_at(charge(1), old)];
    let sample = |at| MetricPoint { time_ns: at, ..depth("shop", 0) };
    let state = state_with_batches(vec![WriteBatch {
        received_ns: 1,
        spans,
        metrics: vec![sample(recent), sample(old)],
        ..Default::default()
    }]);
    let hour = |answer: &Value, what: &str| {
        let (since, until) = (answer["range"][0].as_u64(), answer["range"][1].as_u64());
        assert!(
            since.zip(until).is_some_and(|(s, u)| u >= now && u - s == 3_600 * S),
            "{what} says its range, the last hour: {answer}"
        );
    };

    // Before: a plain /services counted everything stored (2) and said no range.
    let services = get_json(&state, "/api/v1/services").await;
    assert_eq!(services["services"][0]["span_count"], 1, "{services}");
    hour(&services, "/services");
    assert!(services.get("sparklines").is_none(), "a plain ask stays small: {services}");
    let everything = get_json(&state, "/api/v1/services?since=0").await;
    assert_eq!(everything["services"][0]["span_count"], 2, "{everything}");

    let retries = get_json(&state, "/api/v1/retries").await;
    assert_eq!(retries["operations"][0]["calls"], 1, "{retries}");
    let cache = get_json(&state, "/api/v1/cache").await;
    assert_eq!(sum(&cache["caches"], "hits") + sum(&cache["caches"], "misses"), 1, "{cache}");
    let red = get_json(&state, "/api/v1/services/shop/red").await;
    assert_eq!(red["totals"]["requests"], 1, "{red}");
    let series = get_json(&state, "/api/v1/metrics/queue.depth/series").await;
    let covered = series["until_ns"].as_u64().zip(series["since_ns"].as_u64());
    assert!(covered.is_some_and(|(u, s)| u >= now && u - s == 3_600 * S), "{series}");
    let raw = get_json(&state, "/api/v1/metrics?name=queue.depth").await;
    // Not yet by the rule: the raw series (`name=` without `since`) reads everything stored.
    assert_eq!(raw["series"][0]["points"].as_array().map(Vec::len), Some(2), "{raw}");

    // The trace search: everything stored, newest first.
    let traces = get_json(&state, "/api/v1/traces").await;
    assert_eq!(traces["matched"], 2, "{traces}");
    assert_eq!(traces["traces"][0]["start_ns"], recent, "{traces}");
}
