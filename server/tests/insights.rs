//! `GET /api/v1/cache` and `GET /api/v1/retries` through `router(state).oneshot(..)`: exact
//! JSON from prepared batches, hostile names returned verbatim, bad parameters refused.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use otelscope_app::model::{AttrValue, MetricKind, MetricPoint, Span, SpanKind, Temporality};
use otelscope_server::store::WriteBatch;
use otelscope_server::{router, AppState};
use support::{kv, shop_span, state_with_batches};

mod support;
use serde_json::{json, Value};
use tower::ServiceExt;

const S: u64 = 1_000_000_000;
const HOSTILE: &str = "<img src=x onerror=alert(1)>";

async fn get(state: &AppState, uri: &str) -> (StatusCode, Value) {
    let request = Request::get(uri).body(Body::empty()).unwrap();
    let response = router(state.clone()).oneshot(request).await.unwrap();
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&body).unwrap())
}

fn text(value: &str) -> AttrValue {
    AttrValue::String(value.into())
}

#[tokio::test]
async fn cache_answers_hits_misses_rates_and_steps_and_keeps_hostile_names_verbatim() {
    let lookup = |id, start_s, hit| {
        shop_span(
            1,
            id,
            "get",
            start_s,
            vec![
                kv("cache.hit", AttrValue::Bool(hit)),
                kv("cache.name", text(HOSTILE)),
                kv("cache.layer", text("l1")),
            ],
        )
    };
    let cumulative = |t_s: u64, value: f64| MetricPoint {
        name: "redis.keyspace.hits".into(),
        description: String::new(),
        unit: String::new(),
        kind: MetricKind::Sum,
        temporality: Temporality::Cumulative,
        monotonic: true,
        service: "shop".into(),
        attributes: Vec::new(),
        start_ns: S,
        time_ns: t_s * S,
        value: Some(value),
        histogram: None,
        ..Default::default()
    };
    let state = state_with_batches(vec![
        WriteBatch {
            received_ns: 1,
            spans: vec![lookup(1, 1, true), lookup(2, 2, false), lookup(3, 31, true)],
            metrics: vec![cumulative(5, 4.0), cumulative(35, 9.0)],
            ..WriteBatch::default()
        },
        // The counter restarted: 2 < 9 counts as 2.
        WriteBatch { received_ns: 2, metrics: vec![cumulative(45, 2.0)], ..WriteBatch::default() },
    ]);
    let (status, body) = get(&state, "/api/v1/cache?since=0&until=59000000000&step=30s").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body,
        json!({
            "since_ns": 0, "until_ns": 59_000_000_000u64, "step_ns": 30_000_000_000u64,
            "caches": [
                {"name": HOSTILE, "layer": "l1", "service": "shop", "source": "spans",
                 "hits": 2, "misses": 1, "hit_rate": 2.0 / 3.0,
                 "series": [
                     {"time_ns": 0, "hits": 1, "misses": 1, "hit_rate": 0.5},
                     {"time_ns": 30_000_000_000u64, "hits": 1, "misses": 0, "hit_rate": 1.0},
                 ],
                 "miss_examples": [format!("{:032x}", 1)],
                 "hit_mean_ns": 1, "miss_mean_ns": 1},
                {"name": "shop", "layer": "redis", "service": "shop", "source": "metrics",
                 "hits": 11, "misses": 0, "hit_rate": 1.0,
                 "series": [
                     {"time_ns": 0, "hits": 4, "misses": 0, "hit_rate": 1.0},
                     {"time_ns": 30_000_000_000u64, "hits": 7, "misses": 0, "hit_rate": 1.0},
                 ],
                 "miss_examples": [], "hit_mean_ns": null, "miss_mean_ns": null},
            ]
        })
    );
    let (status, body) = get(&state, "/api/v1/cache?step=often").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body, json!({"error": "step must be a duration like 1m, not \"often\""}));
}

#[tokio::test]
async fn retries_answers_calls_resends_attempts_outcomes_and_examples() {
    let outcome = |trace, start_s, outcome: &str, attempt: i64| {
        shop_span(
            trace,
            1,
            "charge",
            start_s,
            vec![kv("retry.outcome", text(outcome)), kv("retry.attempt", AttrValue::Int(attempt))],
        )
    };
    let http = |trace, id, start_s, resend: Option<i64>| {
        let mut attributes = vec![kv("http.request.method", text("POST"))];
        if let Some(n) = resend {
            attributes.push(kv("http.request.resend_count", AttrValue::Int(n)));
        }
        Span {
            kind: SpanKind::Client,
            parent_span_id: Some("00000000000000ff".into()),
            ..shop_span(trace, id, "POST", start_s, attributes)
        }
    };
    let state = state_with_batches(vec![WriteBatch {
        received_ns: 1,
        spans: vec![
            outcome(1, 1, "success", 0),
            outcome(2, 2, "success", 2),
            outcome(3, 3, "exhausted", 4),
            outcome(4, 4, "circuit_open", 0),
            http(5, 1, 5, None),
            http(5, 2, 6, Some(1)),
            http(6, 1, 7, None),
        ],
        ..WriteBatch::default()
    }]);
    let (status, body) =
        get(&state, "/api/v1/retries?since=0&until=59000000000&service=shop").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let trace = |n: u32| format!("{n:032x}");
    let none = Value::Null;
    assert_eq!(
        body,
        json!({
            "since_ns": 0, "until_ns": 59_000_000_000u64, "step_ns": 10_000_000_000u64,
            "operations": [
                {"service": "shop", "name": "POST", "calls": 2, "retried_calls": 1, "resends": 1,
                 "attempts": [{"attempts": 1, "calls": 1}, {"attempts": 2, "calls": 1}],
                 "give_ups": 0, "circuit_open": 0, "delays": 0,
                 "delay_p50_ns": none, "delay_p95_ns": none, "delay_p99_ns": none,
                 "examples": {"retried": [trace(5)], "gave_up": [], "circuit_open": []},
                 "example_calls": [
                     {"kind": "retried", "trace_id": trace(5), "start_ns": 6_000_000_000u64, "duration_ns": 1, "outcome": "ok"}],
                 "series": [{"time_ns": 0, "calls": 2, "resends": 1, "give_ups": 0, "circuit_open": 0}]},
                {"service": "shop", "name": "charge", "calls": 4, "retried_calls": 2, "resends": 6,
                 // The circuit-open call made no attempt.
                 "attempts": [{"attempts": 0, "calls": 1}, {"attempts": 1, "calls": 1}, {"attempts": 3, "calls": 1}, {"attempts": 5, "calls": 1}],
                 "give_ups": 1, "circuit_open": 1, "delays": 0,
                 "delay_p50_ns": none, "delay_p95_ns": none, "delay_p99_ns": none,
                 "examples": {"retried": [trace(3), trace(2)], "gave_up": [trace(3)], "circuit_open": [trace(4)]},
                 "example_calls": [
                     {"kind": "retried", "trace_id": trace(3), "start_ns": 3_000_000_000u64, "duration_ns": 1, "outcome": "exhausted"},
                     {"kind": "retried", "trace_id": trace(2), "start_ns": 2_000_000_000u64, "duration_ns": 1, "outcome": "success"},
                     {"kind": "gave_up", "trace_id": trace(3), "start_ns": 3_000_000_000u64, "duration_ns": 1, "outcome": "exhausted"},
                     {"kind": "circuit_open", "trace_id": trace(4), "start_ns": 4_000_000_000u64, "duration_ns": 1, "outcome": "circuit_open"}],
                 "series": [{"time_ns": 0, "calls": 4, "resends": 6, "give_ups": 1, "circuit_open": 1}]},
            ]
        })
    );
    let (_, body) = get(&state, "/api/v1/retries?service=nobody&since=0").await;
    assert_eq!(body["operations"], json!([]));
    let (status, _) = get(&state, "/api/v1/retries?since=soon").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}
