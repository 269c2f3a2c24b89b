//! `GET /api/v1/traces/{id}` as a stream (issue 8): every stored chunk is read, retried spans
//! come once, a large answer arrives in pieces and is never cached, a small one is.

mod support;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::trace::v1::Span;
use otelscope_server::{router, AppState};
use prost::Message;
use support::{post, request_with, span};
use tower::ServiceExt;

/// `count` spans of trace `trace`, ids from `first`, each with a `filler`-byte attribute.
fn spans(trace: [u8; 16], first: u64, count: u64, filler: usize) -> Vec<Span> {
    (first..first + count)
        .map(|i| {
            let mut s = span(&format!("op {i}"), trace);
            s.span_id = (i + 1).to_be_bytes().to_vec();
            s.parent_span_id = 1u64.to_be_bytes().to_vec();
            s.start_time_unix_nano += i;
            s.attributes.push(KeyValue {
                key: "filler".into(),
                value: Some(AnyValue {
                    value: Some(any_value::Value::StringValue("x".repeat(filler))),
                }),
                ..Default::default()
            });
            s
        })
        .collect()
}

async fn send(state: &AppState, spans: Vec<Span>) {
    let body = request_with(spans).encode_to_vec();
    assert_eq!(post(state, "application/x-protobuf", None, body).await.status, StatusCode::OK);
}

/// The answer's status, its body pieces as they came, and the body parsed.
async fn get(state: &AppState, trace_id: &str) -> (StatusCode, usize, serde_json::Value) {
    let request = Request::get(format!("/api/v1/traces/{trace_id}")).body(Body::empty()).unwrap();
    let response = router(state.clone()).oneshot(request).await.unwrap();
    let status = response.status();
    let mut body = response.into_body();
    let (mut pieces, mut bytes) = (0, Vec::new());
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame.unwrap().into_data() {
            pieces += 1;
            bytes.extend_from_slice(&data);
        }
    }
    (status, pieces, serde_json::from_slice(&bytes).expect("whole JSON"))
}

#[tokio::test]
async fn every_chunk_is_read_and_retried_spans_come_once() {
    let state = support::state();
    let trace = [0x51; 16];
    let first = spans(trace, 0, 3, 8);
    send(&state, first.clone()).await;
    // A retry of the same export, then a second export of the same trace.
    send(&state, first).await;
    send(&state, spans(trace, 3, 2, 8)).await;
    let id = "51".repeat(16);
    let (status, _, answer) = get(&state, &id).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(answer["trace_id"], id.as_str());
    let mut names: Vec<&str> =
        answer["spans"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    names.sort_unstable();
    assert_eq!(names, ["op 0", "op 1", "op 2", "op 3", "op 4"]);
    let (status, _, missing) = get(&state, &"52".repeat(16)).await;
    assert_eq!((status, missing["error"].as_str().is_some()), (StatusCode::NOT_FOUND, true));
}

/// Before issue 8 every answer was built whole in memory and cached whole, so a 1M-span trace
/// took about 1 GB twice over.
#[tokio::test]
async fn a_large_answer_comes_in_pieces_and_is_not_cached_while_a_small_one_is() {
    let state = support::state();
    let (large, small) = ([0x61; 16], [0x62; 16]);
    // About 6 MiB of JSON: over the 4 MiB a cached answer may take.
    for part in 0..2 {
        send(&state, spans(large, part * 5_000, 5_000, 500)).await;
    }
    send(&state, spans(small, 0, 10, 8)).await;

    let large_id = "61".repeat(16);
    let (status, pieces, answer) = get(&state, &large_id).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(answer["spans"].as_array().unwrap().len(), 10_000);
    assert!(pieces > 10, "streamed in pieces, not one buffer: {pieces}");
    assert!(!state.trace_cache.holds(&large_id, 10_000).await, "a large answer was cached");

    let small_id = "62".repeat(16);
    let (_, _, first) = get(&state, &small_id).await;
    assert!(state.trace_cache.holds(&small_id, 10).await, "a small answer is cached");
    let (_, _, again) = get(&state, &small_id).await;
    assert_eq!(first, again);
}
