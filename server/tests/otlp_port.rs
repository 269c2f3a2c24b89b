//! One OTLP port, both protocols (issue 26): `ingest::port::router` driven with `oneshot`, no
//! socket. gRPC and OTLP/HTTP are told apart by content type, each keeps its own key check and
//! the loopback `Host` check, and misdirected requests are answered with the fix.

mod support;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use otelscope_server::auth::ApiKey;
use otelscope_server::ingest::port::router;
use otelscope_server::{api_router, AppState};
use prost::Message;
use serde_json::Value;
use tower::ServiceExt;

const KEY: &str = "port-key-0123456789abcdef";
const GRPC_TRACES: &str = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";

/// A unary gRPC request body: one uncompressed frame.
fn grpc_frame(message: &[u8]) -> Vec<u8> {
    let mut framed = vec![0];
    framed.extend_from_slice(&(message.len() as u32).to_be_bytes());
    framed.extend_from_slice(message);
    framed
}

fn trace_body(name: &str, id: u8) -> Vec<u8> {
    support::request_with(vec![support::span(name, [id; 16])]).encode_to_vec()
}

/// What a gRPC call got: the HTTP status and the gRPC status (from the trailers, or the
/// headers of a trailers-only answer).
async fn grpc_call(
    state: &AppState,
    path: &str,
    extra: &[(&str, &str)],
) -> (StatusCode, tonic::Status) {
    let mut request = Request::post(path).header("content-type", "application/grpc");
    for (name, value) in extra {
        request = request.header(*name, *value);
    }
    let body = Body::from(grpc_frame(&trace_body("over-grpc", 7)));
    let response = router(state.clone()).oneshot(request.body(body).unwrap()).await.unwrap();
    let (parts, body) = response.into_parts();
    let collected = body.collect().await.unwrap();
    let trailers = collected.trailers().cloned().unwrap_or_default();
    let status = tonic::Status::from_header_map(&parts.headers)
        .or_else(|| tonic::Status::from_header_map(&trailers))
        .expect("a grpc-status");
    (parts.status, status)
}

/// An OTLP/HTTP POST: the status and the body as text.
async fn http_post(
    state: &AppState,
    uri: &str,
    content_type: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> (StatusCode, Vec<u8>) {
    let mut request = Request::post(uri).header("content-type", content_type);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response =
        router(state.clone()).oneshot(request.body(Body::from(body)).unwrap()).await.unwrap();
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, body.to_vec())
}

/// `/api/v1/...` without the UI port's sign-in (`api_router`), parsed.
async fn api_json(state: &AppState, path: &str) -> Value {
    let request = Request::get(path).body(Body::empty()).unwrap();
    let response = api_router(state.clone()).oneshot(request).await.unwrap();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    serde_json::from_slice(&body).unwrap_or_else(|e| panic!("{path}: {e}"))
}

async fn names(state: &AppState) -> Vec<String> {
    let list = api_json(state, "/api/v1/traces?service=test-svc").await;
    list["traces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["root_name"].as_str().unwrap().into())
        .collect()
}

#[tokio::test]
async fn grpc_and_otlp_http_share_a_port_told_apart_by_content_type() {
    let state = support::state();
    let health = api_json(&state, "/api/v1/health").await;
    assert_eq!(
        health["last_received"],
        serde_json::json!({"traces": null, "metrics": null, "logs": null})
    );

    let (http_status, status) = grpc_call(&state, GRPC_TRACES, &[]).await;
    assert_eq!((http_status, status.code()), (StatusCode::OK, tonic::Code::Ok), "{status:?}");
    let after_grpc = api_json(&state, "/api/v1/health").await["last_received"].clone();
    assert_eq!(after_grpc["traces"]["protocol"], "grpc");
    assert_eq!(after_grpc["metrics"], Value::Null);

    let protobuf = trace_body("over-http", 8);
    let (status, _) =
        http_post(&state, "/v1/traces", "application/x-protobuf", &[], protobuf).await;
    assert_eq!(status, StatusCode::OK);
    let after_http = api_json(&state, "/api/v1/health").await["last_received"].clone();
    assert_eq!(after_http["traces"]["protocol"], "http/protobuf");
    assert!(after_http["traces"]["at_ns"].as_u64() >= after_grpc["traces"]["at_ns"].as_u64());

    let mut stored = names(&state).await;
    stored.sort();
    assert_eq!(stored, ["over-grpc", "over-http"]);
}

#[tokio::test]
async fn the_key_is_required_from_grpc_and_otlp_http_alike() {
    let state = support::state().with_api_key(ApiKey::new(Some(KEY.into())));
    let (_, refused) = grpc_call(&state, GRPC_TRACES, &[]).await;
    assert_eq!(refused.code(), tonic::Code::Unauthenticated, "{refused:?}");
    let (_, wrong) = grpc_call(&state, GRPC_TRACES, &[("x-otlp-api-key", "wrong")]).await;
    assert_eq!(wrong.code(), tonic::Code::Unauthenticated, "{wrong:?}");
    let body = trace_body("keyless-http", 9);
    let (status, _) = http_post(&state, "/v1/traces", "application/x-protobuf", &[], body).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(names(&state).await.is_empty(), "nothing stored without the key");
    let health = api_json(&state, "/api/v1/health").await;
    assert_eq!(health["last_received"]["traces"], Value::Null);

    let (_, keyed) = grpc_call(&state, GRPC_TRACES, &[("x-otlp-api-key", KEY)]).await;
    assert_eq!(keyed.code(), tonic::Code::Ok, "{keyed:?}");
    assert_eq!(names(&state).await, ["over-grpc"]);
}

#[tokio::test]
async fn grpc_on_a_loopback_port_answers_loopback_host_names_only() {
    let state = AppState { loopback_host_only: true, ..support::state() };
    let (_, local) = grpc_call(&state, GRPC_TRACES, &[("host", "127.0.0.1:4318")]).await;
    assert_eq!(local.code(), tonic::Code::Ok, "{local:?}");
    for (uri, host) in [
        // HTTP/1.1 names the host in `Host`, HTTP/2 in `:authority` (the URI).
        (GRPC_TRACES.to_owned(), Some("evil.example:4318")),
        (format!("http://evil.example:4318{GRPC_TRACES}"), None),
    ] {
        let mut request = Request::post(&uri).header("content-type", "application/grpc");
        if let Some(host) = host {
            request = request.header("host", host);
        }
        let body = Body::from(grpc_frame(&trace_body("rebound", 3)));
        let response = router(state.clone()).oneshot(request.body(body).unwrap()).await.unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{uri} {host:?}");
    }
    // OTLP/HTTP over HTTP/2 too.
    let request = Request::post("http://evil.example:4318/v1/traces")
        .header("content-type", "application/x-protobuf")
        .body(Body::from(trace_body("rebound", 4)))
        .unwrap();
    let response = router(state.clone()).oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(names(&state).await, ["over-grpc"]);
}

#[tokio::test]
async fn misdirected_requests_are_answered_with_the_fix() {
    let state = support::state();
    for (uri, meant) in [("/v1/trace", "/v1/traces"), ("/api/v1/traces", "/v1/traces"), ("/", "")] {
        let (status, body) = http_post(&state, uri, "application/json", &[], b"{}".to_vec()).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{uri}");
        let rpc: Value = serde_json::from_slice(&body).expect("a google.rpc.Status in JSON");
        assert_eq!(rpc["code"], 5, "{rpc}");
        let message = rpc["message"].as_str().unwrap();
        assert!(message.starts_with(&format!("no OTLP receiver at POST {uri}")), "{message}");
        assert!(message.contains("POST /v1/traces, /v1/metrics and /v1/logs"), "{message}");
        assert!(message.contains("OTEL_EXPORTER_OTLP_PROTOCOL=grpc"), "{message}");
        if !meant.is_empty() {
            assert!(message.contains(&format!("(did you mean {meant}?)")), "{message}");
        }
    }
    // Protobuf asked, protobuf answered (a google.rpc.Status message).
    let (status, body) =
        http_post(&state, "/v1/trace", "application/x-protobuf", &[], Vec::new()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let rpc = tonic_types::Status::decode(&body[..]).expect("google.rpc.Status");
    assert!(rpc.message.contains("did you mean /v1/traces?"), "{}", rpc.message);

    let (status, body) =
        http_post(&state, GRPC_TRACES, "application/json", &[], b"{}".to_vec()).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let body = String::from_utf8(body).unwrap();
    assert!(body.contains("gRPC needs content-type application/grpc"), "{body}");

    for path in ["/v1/traces", "/opentelemetry.proto.collector.trace.v1.TraceService/Exprot"] {
        let (http_status, status) = grpc_call(&state, path, &[]).await;
        assert_eq!(http_status, StatusCode::OK);
        assert_eq!(status.code(), tonic::Code::Unimplemented, "{path}: {status:?}");
        let expected = format!("no OTLP/gRPC method {path}: this port takes gRPC at");
        assert!(status.message().starts_with(&expected), "{}", status.message());
        assert!(status.message().contains("OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf"));
    }
    assert!(names(&state).await.is_empty());
}

/// The UI's own spans (the UI port's same-origin `/v1/traces`) are stored but are not the
/// user's telemetry: "last received" stays as it was, so an open dashboard never reports its
/// own export as data arriving (nor as "data changed" on every live tick).
#[tokio::test]
async fn the_uis_own_spans_are_not_last_received() {
    let state = support::state();
    let request = Request::post("/v1/traces")
        .header("content-type", "application/x-protobuf")
        .body(Body::from(trace_body("ui-own", 10)))
        .unwrap();
    let response = otelscope_server::router(state.clone()).oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(names(&state).await, ["ui-own"], "stored all the same");
    let health = api_json(&state, "/api/v1/health").await;
    assert_eq!(
        health["last_received"],
        serde_json::json!({"traces": null, "metrics": null, "logs": null})
    );
}

#[tokio::test]
async fn another_method_on_an_otlp_path_is_405_with_allow_post_and_says_where_to_look() {
    let state = support::state();
    for path in ["/v1/traces", "/v1/metrics", "/v1/logs"] {
        let request = Request::get(path).body(Body::empty()).unwrap();
        let response = router(state.clone()).oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED, "{path}");
        assert_eq!(response.headers()["allow"], "POST", "{path}");
        let body = response.into_body().collect().await.unwrap().to_bytes();
        let body: Value = serde_json::from_slice(&body).unwrap();
        let error = body["error"].as_str().unwrap();
        assert!(
            error.starts_with(&format!("GET {path}: this is otelscope's OTLP/HTTP")),
            "{error}"
        );
        assert!(error.contains("dashboard on the UI port"), "{error}");
    }
    // POST still reaches the receiver.
    let (status, _) =
        http_post(&state, "/v1/traces", "application/x-protobuf", &[], trace_body("posted", 9))
            .await;
    assert_eq!(status, StatusCode::OK);
}
