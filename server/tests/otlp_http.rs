//! The OTLP/HTTP receiver against the specification's rules and against hostile input, through
//! `router(state).oneshot(..)`: exact statuses and bodies, and the server still answers after.

mod support;

use std::io::Write;

use axum::http::StatusCode;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceResponse;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use otelscope_server::store::whole_trace;
use prost::Message;
use serde_json::{json, Value};
use support::{post, request_with, span, state, Fault, Posted, WriteGate};

const PROTO: &str = "application/x-protobuf";
const JSON: &str = "application/json";

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

async fn assert_still_answers(state: &otelscope_server::AppState) {
    let ok =
        post(state, PROTO, None, request_with(vec![span("alive", [9; 16])]).encode_to_vec()).await;
    assert_eq!(ok.status, StatusCode::OK, "the server must still take data afterwards");
}

#[tokio::test]
async fn full_success_leaves_partial_success_unset_in_both_encodings() {
    let state = state();
    let proto =
        post(&state, PROTO, None, request_with(vec![span("a", [1; 16])]).encode_to_vec()).await;
    assert_eq!((proto.status, proto.content_type.as_str()), (StatusCode::OK, PROTO));
    let decoded = ExportTraceServiceResponse::decode(&proto.body[..]).unwrap();
    assert_eq!(decoded.partial_success, None);

    let body = serde_json::to_vec(&request_with(vec![span("b", [2; 16])])).unwrap();
    let json = post(&state, "application/json; charset=utf-8", None, body).await;
    assert_eq!((json.status, json.content_type.as_str()), (StatusCode::OK, JSON));
    assert_eq!(json.body, b"{}");
}

#[tokio::test]
async fn bad_spans_are_rejected_alone_with_partial_success() {
    let state = state();
    let request = request_with(vec![
        span("good", [3; 16]),
        span("short-id", [3; 16]).with_trace_id(vec![1; 15]),
    ]);
    let posted = post(&state, PROTO, None, request.encode_to_vec()).await;
    assert_eq!(posted.status, StatusCode::OK);
    let partial =
        ExportTraceServiceResponse::decode(&posted.body[..]).unwrap().partial_success.unwrap();
    assert_eq!(partial.rejected_spans, 1);
    assert_eq!(
        partial.error_message,
        "span \"short-id\" has an invalid trace id (15 bytes; it must be 16 bytes, not all zero)"
    );
    assert_eq!(
        whole_trace(&*state.store, &"03".repeat(16)).unwrap().len(),
        1,
        "the good span is stored"
    );
}

#[tokio::test]
async fn other_content_types_get_415() {
    let state = state();
    for content_type in ["text/plain", "application/grpc", ""] {
        let posted = post(&state, content_type, None, b"hello".to_vec()).await;
        assert_eq!(posted.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{content_type:?}");
    }
    let brotli = post(&state, PROTO, Some("br"), b"x".to_vec()).await;
    assert_eq!(brotli.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

#[tokio::test]
async fn malformed_bodies_get_400_with_a_google_rpc_status() {
    let state = state();
    let proto = post(&state, PROTO, None, vec![0xff, 0xff, 0xff, 0xff]).await;
    assert_eq!((proto.status, proto.content_type.as_str()), (StatusCode::BAD_REQUEST, PROTO));
    let status = tonic_types::Status::decode(&proto.body[..]).unwrap();
    assert_eq!(status.code, 3);
    assert!(status.message.starts_with("invalid protobuf body"), "{}", status.message);

    let json = post(&state, JSON, None, b"{\"resourceSpans\": [".to_vec()).await;
    assert_eq!((json.status, json.content_type.as_str()), (StatusCode::BAD_REQUEST, JSON));
    let value: Value = serde_json::from_slice(&json.body).unwrap();
    assert_eq!(value["code"], 3);
    assert!(value["message"].as_str().unwrap().starts_with("invalid JSON body"), "{value}");

    let not_gzip = post(&state, PROTO, Some("gzip"), b"plain".to_vec()).await;
    assert_eq!(not_gzip.status, StatusCode::BAD_REQUEST);
    assert_still_answers(&state).await;
}

#[tokio::test]
async fn gzip_bodies_are_accepted() {
    let state = state();
    let body = gzip(&request_with(vec![span("zipped", [4; 16])]).encode_to_vec());
    let posted = post(&state, PROTO, Some("gzip"), body).await;
    assert_eq!(posted.status, StatusCode::OK);
    assert_eq!(whole_trace(&*state.store, &"04".repeat(16)).unwrap()[0].name, "zipped");
}

#[tokio::test]
async fn bodies_over_the_cap_get_413_and_gzip_bombs_are_not_inflated() {
    let state = support::state_with_cap(1024 * 1024);
    let big = vec![0u8; 2 * 1024 * 1024];
    let plain = post(&state, PROTO, None, big).await;
    assert_eq!(plain.status, StatusCode::PAYLOAD_TOO_LARGE);

    // 256 MiB of zeros compress to about 256 KiB; the receiver must stop at the 1 MiB cap.
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![0u8; 1024 * 1024];
    for _ in 0..256 {
        encoder.write_all(&zeros).unwrap();
    }
    let bomb = encoder.finish().unwrap();
    assert!(bomb.len() < 1024 * 1024, "the bomb itself fits under the cap ({} bytes)", bomb.len());
    let posted = post(&state, PROTO, Some("gzip"), bomb).await;
    assert_eq!(posted.status, StatusCode::PAYLOAD_TOO_LARGE);
    let status = tonic_types::Status::decode(&posted.body[..]).unwrap();
    assert_eq!(status.message, "request body exceeds 1048576 bytes after decompression");
    assert_still_answers(&state).await;
}

#[tokio::test]
async fn empty_batches_unknown_fields_and_both_int64_forms_are_accepted() {
    let state = state();
    let empty = post(&state, PROTO, None, Vec::new()).await;
    assert_eq!(empty.status, StatusCode::OK);
    let empty_json = post(&state, JSON, None, b"{}".to_vec()).await;
    assert_eq!(empty_json.status, StatusCode::OK);

    let body = json!({
        "resourceSpans": [{
            "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "json-svc"}}]},
            "futureField": {"anything": [1, 2]},
            "scopeSpans": [{"spans": [{
                "traceId": "05050505050505050505050505050505",
                "spanId": "0505050505050505",
                "name": "json span",
                "kind": 2,
                "startTimeUnixNano": "1700000000000000000",
                "endTimeUnixNano": 1700000000000001000u64,
                "attributes": [
                    {"key": "as.string", "value": {"intValue": "42"}},
                    {"key": "as.number", "value": {"intValue": 43}}
                ],
                "status": {"code": 2, "message": "boom"},
                "unknownSpanField": true
            }]}]
        }]
    });
    let posted = post(&state, JSON, None, serde_json::to_vec(&body).unwrap()).await;
    assert_eq!(posted.status, StatusCode::OK, "{}", String::from_utf8_lossy(&posted.body));
    let spans = whole_trace(&*state.store, &"05".repeat(16)).unwrap();
    let span = &spans[0];
    assert_eq!((span.service.as_str(), span.name.as_str()), ("json-svc", "json span"));
    assert_eq!(span.duration_ns(), 1000);
    assert_eq!(span.attribute("as.string"), Some(&otelscope_app::model::AttrValue::Int(42)));
    assert_eq!(span.attribute("as.number"), Some(&otelscope_app::model::AttrValue::Int(43)));
    assert!(span.is_error());
}

#[tokio::test]
async fn hostile_shapes_do_not_crash_or_hang_the_server() {
    let state = state();

    // Nesting thousands deep: protobuf and JSON decoders stop at their recursion limits. The
    // protobuf is written by hand, inside out, because building it as a struct would recurse.
    let mut value = AnyValue { value: Some(any_value::Value::IntValue(1)) }.encode_to_vec();
    for i in 0..5000 {
        value = if i % 2 == 0 {
            length_delimited(5, &length_delimited(1, &value)) // AnyValue.array_value.values
        } else {
            let kv = [length_delimited(1, b"k"), length_delimited(2, &value)].concat();
            length_delimited(6, &length_delimited(1, &kv)) // AnyValue.kvlist_value.values
        };
    }
    let attribute = [length_delimited(1, b"deep"), length_delimited(2, &value)].concat();
    let span_bytes =
        [span("deep", [6; 16]).encode_to_vec(), length_delimited(9, &attribute)].concat();
    let body = length_delimited(1, &length_delimited(2, &length_delimited(2, &span_bytes)));
    let posted = post(&state, PROTO, None, body).await;
    assert_eq!(posted.status, StatusCode::BAD_REQUEST);
    assert!(tonic_types::Status::decode(&posted.body[..])
        .unwrap()
        .message
        .contains("recursion limit"));

    let mut json = String::from("{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"traceId\":\"07070707070707070707070707070707\",\"spanId\":\"0707070707070707\",\"attributes\":[{\"key\":\"d\",\"value\":");
    for _ in 0..5000 {
        json.push_str("{\"arrayValue\":{\"values\":[");
    }
    json.push_str("{\"intValue\":1}");
    for _ in 0..5000 {
        json.push_str("]}}");
    }
    json.push_str("}]}]}]}]}");
    let posted = post(&state, JSON, None, json.into_bytes()).await;
    assert_eq!(posted.status, StatusCode::BAD_REQUEST);

    // 100,000 attributes on one span: accepted, capped, and the cut counted.
    let mut wide = span("wide", [8; 16]);
    wide.attributes = (0..100_000)
        .map(|i| KeyValue {
            key: format!("attr.{i}"),
            value: Some(AnyValue { value: Some(any_value::Value::IntValue(i)) }),
            ..Default::default()
        })
        .collect();
    let posted = post(&state, PROTO, None, request_with(vec![wide]).encode_to_vec()).await;
    assert_eq!(posted.status, StatusCode::OK);
    let stored = &whole_trace(&*state.store, &"08".repeat(16)).unwrap()[0];
    assert_eq!(stored.attributes.len(), 256);
    assert_eq!(stored.dropped_attributes_count, 100_000 - 256);

    assert_still_answers(&state).await;
}

#[tokio::test]
async fn a_full_queue_answers_503_with_retry_after_and_loses_nothing_acknowledged() {
    let gated = WriteGate::new();
    let state = support::state_over(gated.store(), 1);
    let body = |id: u8| request_with(vec![span("queued", [id; 16])]).encode_to_vec();

    // First request: taken by the writer, which blocks inside write().
    let first = tokio::spawn(post_owned(state.clone(), body(0x11)));
    gated.wait_until_writing().await;
    // Second: waits in the queue (capacity 1). Third: refused.
    let second = tokio::spawn(post_owned(state.clone(), body(0x12)));
    gated.wait_until_queued(&state).await;
    let third = post(&state, PROTO, None, body(0x13)).await;
    assert_eq!(third.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(third.retry_after.as_deref(), Some("1"));
    assert_eq!(tonic_types::Status::decode(&third.body[..]).unwrap().code, 14);

    gated.open();
    assert_eq!(first.await.unwrap().status, StatusCode::OK);
    assert_eq!(second.await.unwrap().status, StatusCode::OK);
    for id in [0x11u8, 0x12] {
        assert_eq!(whole_trace(&*state.store, &format!("{id:02x}").repeat(16)).unwrap().len(), 1);
    }
}

#[tokio::test]
async fn a_failing_store_gets_a_stable_503_health_says_so_and_both_recover() {
    let store = WriteGate::opened();
    let state = support::state_over(store.store(), 4);
    let body = |id: u8| request_with(vec![span("faulty", [id; 16])]).encode_to_vec();
    for fault in [Fault::Error, Fault::Panic] {
        store.set_fault(Some(fault));
        let refused = post(&state, PROTO, None, body(0x21)).await;
        assert_eq!(refused.status, StatusCode::SERVICE_UNAVAILABLE, "{fault:?}");
        assert_eq!(refused.retry_after.as_deref(), Some("1"));
        let message = tonic_types::Status::decode(&refused.body[..]).unwrap().message;
        assert_eq!(message, "the store could not write the batch; retry later", "{fault:?}");
        let health = support::get_json(&state, "/api/v1/health").await;
        assert_eq!(health["status"], "degraded", "{fault:?}: {health}");
        assert!(health["writer"].as_str().unwrap().starts_with("failing: "), "{health}");

        store.set_fault(None);
        let taken = post(&state, PROTO, None, body(0x22)).await;
        assert_eq!(taken.status, StatusCode::OK, "{fault:?}: the writer goes on");
        let health = support::get_json(&state, "/api/v1/health").await;
        assert_eq!(
            (health["status"].as_str(), health["writer"].as_str()),
            (Some("ok"), Some("ok"))
        );
    }
    assert!(
        whole_trace(&*state.store, &"21".repeat(16)).unwrap().is_empty(),
        "nothing half-written"
    );
}

async fn post_owned(state: otelscope_server::AppState, body: Vec<u8>) -> Posted {
    post(&state, PROTO, None, body).await
}

trait WithTraceId {
    fn with_trace_id(self, id: Vec<u8>) -> Self;
}

impl WithTraceId for opentelemetry_proto::tonic::trace::v1::Span {
    fn with_trace_id(mut self, id: Vec<u8>) -> Self {
        self.trace_id = id;
        self
    }
}

/// One protobuf field `field` of wire type LEN holding `bytes`.
fn length_delimited(field: u32, bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() + 8);
    prost::encoding::encode_key(field, prost::encoding::WireType::LengthDelimited, &mut out);
    prost::encoding::encode_varint(bytes.len() as u64, &mut out);
    out.extend_from_slice(bytes);
    out
}

#[tokio::test]
async fn nan_values_and_far_future_times_stay_readable() {
    // Review findings: NaN doubles broke JSON storage; times past i64::MAX wrapped in SQLite.
    let state = state();
    let mut odd = span("odd", [0x0a; 16]);
    odd.start_time_unix_nano = u64::MAX - 5;
    odd.end_time_unix_nano = u64::MAX;
    for (key, d) in [("nan", f64::NAN), ("inf", f64::INFINITY)] {
        odd.attributes.push(KeyValue {
            key: key.into(),
            value: Some(AnyValue { value: Some(any_value::Value::DoubleValue(d)) }),
            ..Default::default()
        });
    }
    let posted = post(&state, PROTO, None, request_with(vec![odd]).encode_to_vec()).await;
    assert_eq!(posted.status, StatusCode::OK);
    let stored = &whole_trace(&*state.store, &"0a".repeat(16)).unwrap()[0];
    assert_eq!(
        stored.attribute("nan"),
        Some(&otelscope_app::model::AttrValue::String("NaN".into()))
    );
    assert_eq!(
        stored.attribute("inf"),
        Some(&otelscope_app::model::AttrValue::String("inf".into()))
    );
    assert_eq!(stored.start_ns, i64::MAX as u64);
    let query = otelscope_server::query::params::parse_trace_query("", 0).unwrap();
    assert_eq!(state.store.search_traces(&query).unwrap()[0].duration_ns, 0);
}
