//! Times and durations past `i64::MAX` nanoseconds (issue 21, item 8): the store keeps them as
//! SQLite integers, where `since=u64::MAX` once wrapped to a negative number and found every
//! trace; now such a value is a 400 naming the field, and the largest valid one finds nothing.

mod support;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use otelscope_server::router;
use prost::Message;
use support::{post, request_with, span};
use tower::ServiceExt;

async fn get(state: &otelscope_server::AppState, path: &str) -> (StatusCode, serde_json::Value) {
    let request = Request::get(path).body(Body::empty()).unwrap();
    let response = router(state.clone()).oneshot(request).await.unwrap();
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&body).unwrap_or_else(|e| panic!("{path}: {e}")))
}

fn trace_count(answer: &serde_json::Value) -> usize {
    answer["traces"].as_array().map_or(0, Vec::len)
}

#[tokio::test]
async fn times_past_i64_are_refused_not_wrapped_into_every_trace() {
    let state = support::state();
    let body = request_with(vec![span("checkout", [0x21; 16])]).encode_to_vec();
    assert_eq!(post(&state, "application/x-protobuf", None, body).await.status, StatusCode::OK);
    let (status, all) = get(&state, "/api/v1/traces?since=0").await;
    assert_eq!((status, trace_count(&all)), (StatusCode::OK, 1), "{all}");

    for (query, field) in [
        ("since=18446744073709551615", "since"),
        ("since=9223372036854775808", "since"),
        ("until=18446744073709551615", "until"),
        ("min_duration_ms=18446744073709551615", "min_duration_ms"),
        ("max_duration_ms=1e300", "max_duration_ms"),
    ] {
        let (status, answer) = get(&state, &format!("/api/v1/traces?{query}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {answer}");
        let error = answer["error"].as_str().unwrap_or_default();
        assert!(error.starts_with(field), "{query}: {answer}");
    }
    // The largest time the store holds is after every span: nothing, not everything.
    let (status, none) = get(&state, "/api/v1/traces?since=9223372036854775807").await;
    assert_eq!((status, trace_count(&none)), (StatusCode::OK, 0), "{none}");
    let (status, none) = get(&state, "/api/v1/traces?min_duration_ms=9223372036854").await;
    assert_eq!((status, trace_count(&none)), (StatusCode::OK, 0), "{none}");
    // The other readers share the parser.
    for path in
        ["/api/v1/logs?since=18446744073709551615", "/api/v1/cache?until=18446744073709551615"]
    {
        assert_eq!(get(&state, path).await.0, StatusCode::BAD_REQUEST, "{path}");
    }
}
