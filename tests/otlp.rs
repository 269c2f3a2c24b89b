//! The official OpenTelemetry Rust exporter (opentelemetry-otlp) sends traces over OTLP/HTTP
//! protobuf, OTLP/HTTP JSON and OTLP/gRPC (each also gzipped) to a running `otelscope serve`;
//! the query API gives back every field.

use std::time::{Duration, SystemTime};

use opentelemetry::trace::{
    Link, SpanContext, SpanKind, Status, TraceContextExt, TraceState, Tracer, TracerProvider,
};
use opentelemetry::{Array, Context, KeyValue, SpanId, StringValue, TraceFlags, TraceId, Value};
use opentelemetry_otlp::{
    Compression, Protocol, SpanExporter, WithExportConfig, WithHttpConfig, WithTonicConfig,
};
use opentelemetry_sdk::trace::SdkTracerProvider;
use opentelemetry_sdk::Resource;
use otelscope_e2e::Server;
use serde_json::{json, Value as Json};

#[derive(Clone, Copy, Debug)]
enum Transport {
    HttpProtobuf,
    HttpJson,
    Grpc,
}

/// The start of the test trace: a minute ago, whole milliseconds, so retention (7 days by
/// default, by span time) keeps it.
fn t0() -> u64 {
    static T0: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *T0.get_or_init(|| {
        let now =
            SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap().as_millis() as u64;
        (now - 60_000) * 1_000_000
    })
}

fn at(ns: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_nanos(ns)
}

/// Builds an exporter for `transport`, sends one two-span trace through the SDK, and returns
/// the root's trace id and span id as the SDK saw them.
fn send_trace(
    endpoints: (String, String),
    transport: Transport,
    gzip: bool,
    service: &str,
) -> (String, String) {
    send_trace_with_key(endpoints, transport, gzip, service, None)
}

/// As `send_trace`, sending `api_key` in `x-otlp-api-key` when given.
fn send_trace_with_key(
    endpoints: (String, String),
    transport: Transport,
    gzip: bool,
    service: &str,
    api_key: Option<&str>,
) -> (String, String) {
    let (http_url, grpc_url) = endpoints;
    let compression = if gzip { Some(Compression::Gzip) } else { None };
    let exporter = match transport {
        Transport::HttpProtobuf | Transport::HttpJson => {
            let protocol = if matches!(transport, Transport::HttpJson) {
                Protocol::HttpJson
            } else {
                Protocol::HttpBinary
            };
            let mut builder = SpanExporter::builder()
                .with_http()
                .with_protocol(protocol)
                .with_endpoint(format!("{http_url}/v1/traces"));
            if let Some(key) = api_key {
                builder =
                    builder.with_headers([("x-otlp-api-key".to_owned(), key.to_owned())].into());
            }
            if let Some(c) = compression {
                builder = builder.with_compression(c);
            }
            builder.build().expect("HTTP exporter")
        }
        Transport::Grpc => {
            let mut builder = SpanExporter::builder().with_tonic().with_endpoint(grpc_url);
            if let Some(key) = api_key {
                let mut metadata = tonic::metadata::MetadataMap::new();
                metadata.insert("x-otlp-api-key", key.parse().unwrap());
                builder = builder.with_metadata(metadata);
            }
            if let Some(c) = compression {
                builder = builder.with_compression(c);
            }
            builder.build().expect("gRPC exporter")
        }
    };
    let resource = Resource::builder()
        .with_service_name(service.to_owned())
        .with_attribute(KeyValue::new("service.version", "9.8.7"))
        .build();
    let provider =
        SdkTracerProvider::builder().with_simple_exporter(exporter).with_resource(resource).build();
    let tracer = provider.tracer_with_scope(
        opentelemetry::InstrumentationScope::builder("e2e-scope").with_version("1.2.3").build(),
    );

    let linked = SpanContext::new(
        TraceId::from_hex("0af7651916cd43dd8448eb211c80319c").unwrap(),
        SpanId::from_hex("b7ad6b7169203331").unwrap(),
        TraceFlags::SAMPLED,
        true,
        TraceState::default(),
    );
    let root = tracer
        .span_builder("checkout")
        .with_kind(SpanKind::Server)
        .with_start_time(at(t0()))
        .with_attributes([
            KeyValue::new("http.route", "/checkout"),
            KeyValue::new("cache.hit", false),
            KeyValue::new("retry.attempt", 2i64),
            KeyValue::new("ratio", 0.25f64),
            KeyValue::new(
                "tags",
                Value::Array(Array::String(vec![StringValue::from("a"), StringValue::from("b")])),
            ),
        ])
        .start(&tracer);
    let root_cx = Context::current_with_span(root);
    let root_span = root_cx.span();
    root_span.add_event_with_timestamp(
        "cache miss",
        at(t0() + 1_000),
        vec![KeyValue::new("cache.name", "catalog")],
    );
    root_span.set_status(Status::error("payment declined"));
    let ids = (
        root_span.span_context().trace_id().to_string(),
        root_span.span_context().span_id().to_string(),
    );

    let mut child = tracer
        .span_builder("SELECT orders")
        .with_kind(SpanKind::Client)
        .with_start_time(at(t0() + 2_000))
        .with_links(vec![Link::with_context(linked)])
        .start_with_context(&tracer, &root_cx);
    use opentelemetry::trace::Span as _;
    child.end_with_timestamp(at(t0() + 5_000));
    root_span.end_with_timestamp(at(t0() + 10_000));
    provider.force_flush().expect("flush");
    provider.shutdown().expect("shutdown");
    ids
}

fn expected_trace(trace_id: &str, root_id: &str, service: &str, child_id: &str) -> Json {
    // Sorted by key (see `normalize`); the SDK adds telemetry.sdk.* itself.
    let resource = json!([
        {"key": "service.name", "value": {"string": service}},
        {"key": "service.version", "value": {"string": "9.8.7"}},
        {"key": "telemetry.sdk.language", "value": {"string": "rust"}},
        {"key": "telemetry.sdk.name", "value": {"string": "opentelemetry"}},
        {"key": "telemetry.sdk.version", "value": {"string": "(any)"}},
    ]);
    json!({
        "trace_id": trace_id,
        "spans": [
            {
                "trace_id": trace_id,
                "span_id": root_id,
                "name": "checkout",
                "kind": "server",
                "service": service,
                "start_ns": t0(),
                "end_ns": t0() + 10_000,
                "status": {"code": "error", "message": "payment declined"},
                "attributes": [
                    {"key": "http.route", "value": {"string": "/checkout"}},
                    {"key": "cache.hit", "value": {"bool": false}},
                    {"key": "retry.attempt", "value": {"int": 2}},
                    {"key": "ratio", "value": {"double": 0.25}},
                    {"key": "tags", "value": {"array": [{"string": "a"}, {"string": "b"}]}},
                ],
                "events": [{"time_ns": t0() + 1_000, "name": "cache miss",
                            "attributes": [{"key": "cache.name", "value": {"string": "catalog"}}]}],
                "links": [],
                "resource": resource,
                "scope": {"name": "e2e-scope", "version": "1.2.3"},
            },
            {
                "trace_id": trace_id,
                "span_id": child_id,
                "parent_span_id": root_id,
                "name": "SELECT orders",
                "kind": "client",
                "service": service,
                "start_ns": t0() + 2_000,
                "end_ns": t0() + 5_000,
                "status": {"code": "unset"},
                "attributes": [],
                "events": [],
                "links": [{"trace_id": "0af7651916cd43dd8448eb211c80319c", "span_id": "b7ad6b7169203331", "attributes": []}],
                "resource": resource,
                "scope": {"name": "e2e-scope", "version": "1.2.3"},
            },
        ]
    })
}

async fn round_trip(transport: Transport, gzip: bool) {
    round_trip_on(transport, gzip, false).await;
}

/// Sends a trace over `transport`; `crossed`, to the other protocol's port (issue 26: each
/// OTLP port takes both, told apart by content type).
async fn round_trip_on(transport: Transport, gzip: bool, crossed: bool) {
    let server = Server::start().await;
    let service =
        format!("e2e-{transport:?}-{}", if gzip { "gzip" } else { "plain" }).to_lowercase();
    let endpoints = (server.otlp_http_url.clone(), server.otlp_grpc_url.clone());
    let endpoints = if crossed { (endpoints.1, endpoints.0) } else { endpoints };
    let before = otelscope_e2e::now_ns();
    let name = service.clone();
    // The SDK's simple processor blocks on each export: run it off the async workers.
    let (trace_id, root_id) =
        tokio::task::spawn_blocking(move || send_trace(endpoints, transport, gzip, &name))
            .await
            .unwrap();

    let list = server.get_json(&format!("/api/v1/traces?service={service}")).await;
    assert_eq!(
        list,
        json!({"matched": 1, "traces": [{
            "trace_id": trace_id, "root_service": service, "root_name": "checkout",
            "start_ns": t0(), "duration_ns": 10_000, "span_count": 2, "error_count": 1,
            "services": [{"service": service, "spans": 2}],
            "root": {"kind": "server", "status": "error", "summary": "checkout",
                     "error": "payment declined"},
        }]}),
        "{transport:?}"
    );
    let mut trace = server.get_json(&format!("/api/v1/traces/{trace_id}")).await;
    normalize(&mut trace);
    let child_id = trace["spans"][1]["span_id"].as_str().expect("child span id").to_owned();
    assert_eq!(trace, expected_trace(&trace_id, &root_id, &service, &child_id), "{transport:?}");
    let mut services = server.get_json("/api/v1/services").await;
    // Counted over the last hour, which the answer says.
    let range = services.as_object_mut().and_then(|s| s.remove("range"));
    assert!(range.is_some_and(|r| r[0].as_u64() < Some(t0())), "{services}");
    // One failing span; percentiles are histogram bucket midpoints of 3 µs and 10 µs.
    assert_eq!(
        services,
        json!({"services": [{"name": service, "span_count": 2, "error_count": 1,
            "p50_ns": 2_992, "p95_ns": 10_048, "p99_ns": 10_048}]})
    );
    // Health says when traces last arrived, and how.
    let last = &server.get_json("/api/v1/health").await["last_received"];
    let protocol = match transport {
        Transport::Grpc => "grpc",
        Transport::HttpProtobuf => "http/protobuf",
        Transport::HttpJson => "http/json",
    };
    assert_eq!(last["traces"]["protocol"], protocol, "{last}");
    assert!(last["traces"]["at_ns"].as_u64().is_some_and(|at| at >= before), "{last}");
    assert_eq!((&last["metrics"], &last["logs"]), (&Json::Null, &Json::Null), "{last}");
}

#[tokio::test(flavor = "multi_thread")]
async fn grpc_to_the_otlp_http_port() {
    round_trip_on(Transport::Grpc, false, true).await;
    round_trip_on(Transport::Grpc, true, true).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn otlp_http_to_the_grpc_port() {
    round_trip_on(Transport::HttpProtobuf, false, true).await;
    round_trip_on(Transport::HttpJson, true, true).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn http_protobuf_round_trip() {
    round_trip(Transport::HttpProtobuf, false).await;
    round_trip(Transport::HttpProtobuf, true).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn http_json_round_trip() {
    round_trip(Transport::HttpJson, false).await;
    round_trip(Transport::HttpJson, true).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn grpc_round_trip() {
    round_trip(Transport::Grpc, false).await;
    round_trip(Transport::Grpc, true).await;
}

/// Sorts the spans by start (the API gives them in arrival order; the app orders its rows) and
/// each span's resource attributes by key (the SDK keeps them in a hash map), and blanks the
/// SDK's version after checking it is there.
fn normalize(trace: &mut Json) {
    let spans = trace["spans"].as_array_mut().expect("spans");
    spans.sort_by_key(|s| (s["start_ns"].as_u64(), s["span_id"].as_str().map(str::to_owned)));
    for span in spans {
        let resource = span["resource"].as_array_mut().expect("resource");
        resource.sort_by(|a, b| a["key"].as_str().cmp(&b["key"].as_str()));
        for kv in resource.iter_mut().filter(|kv| kv["key"] == "telemetry.sdk.version") {
            assert!(kv["value"]["string"].as_str().is_some_and(|v| !v.is_empty()), "{kv}");
            kv["value"]["string"] = json!("(any)");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn api_key_is_required_from_exporters() {
    let server =
        Server::start_with(&["--in-memory", "--api-key", "e2e-key-0123456789abcdef"]).await;
    for transport in [Transport::HttpProtobuf, Transport::Grpc] {
        for key in [None, Some("wrong"), Some("e2e-key-0123456789abcdef")] {
            let endpoints = (server.otlp_http_url.clone(), server.otlp_grpc_url.clone());
            let service = format!("keyed-{transport:?}-{}", key.unwrap_or("none")).to_lowercase();
            let name = service.clone();
            tokio::task::spawn_blocking(move || {
                send_trace_with_key(endpoints, transport, false, &name, key)
            })
            .await
            .unwrap();
            let found = server.get_json(&format!("/api/v1/traces?service={service}")).await;
            let expected = if key == Some("e2e-key-0123456789abcdef") { 1 } else { 0 };
            assert_eq!(
                found["traces"].as_array().unwrap().len(),
                expected,
                "{transport:?} with key {key:?}"
            );
        }
    }
}
