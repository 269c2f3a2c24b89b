//! Logs and metrics from the official OpenTelemetry Rust SDK and exporters, over OTLP/HTTP
//! protobuf, OTLP/HTTP JSON and OTLP/gRPC, read back through `/api/v1/logs` and
//! `/api/v1/metrics`.

use std::time::{Duration, SystemTime};

use opentelemetry::logs::{AnyValue, LogRecord as _, Logger as _, LoggerProvider as _, Severity};
use opentelemetry::metrics::MeterProvider as _;
use opentelemetry::trace::{SpanId, TraceFlags, TraceId};
use opentelemetry::KeyValue;
use opentelemetry_otlp::{LogExporter, MetricExporter, Protocol, WithExportConfig};
use opentelemetry_sdk::logs::SdkLoggerProvider;
use opentelemetry_sdk::metrics::periodic_reader_with_async_runtime::PeriodicReader;
use opentelemetry_sdk::metrics::SdkMeterProvider;
use opentelemetry_sdk::Resource;
use otelscope_e2e::Server;
use serde_json::{json, Value};

#[derive(Clone, Copy, Debug)]
enum Transport {
    HttpProtobuf,
    HttpJson,
    Grpc,
}

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const SPAN_ID: &str = "00f067aa0ba902b7";

fn recent() -> SystemTime {
    let ms = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap().as_millis() as u64;
    SystemTime::UNIX_EPOCH + Duration::from_millis(ms - 30_000)
}

fn resource(service: &str) -> Resource {
    Resource::builder().with_service_name(service.to_owned()).build()
}

/// Emits one log record correlated with a span.
fn send_log(transport: Transport, http: &str, grpc: &str, service: &str, at: SystemTime) {
    let exporter = match transport {
        Transport::Grpc => LogExporter::builder().with_tonic().with_endpoint(grpc).build(),
        Transport::HttpProtobuf | Transport::HttpJson => LogExporter::builder()
            .with_http()
            .with_protocol(protocol(transport))
            .with_endpoint(format!("{http}/v1/logs"))
            .build(),
    }
    .expect("log exporter");
    let provider = SdkLoggerProvider::builder()
        .with_simple_exporter(exporter)
        .with_resource(resource(service))
        .build();
    let logger = provider.logger("e2e-logs");
    let mut record = logger.create_log_record();
    record.set_timestamp(at);
    record.set_observed_timestamp(at);
    record.set_severity_number(Severity::Error);
    record.set_severity_text("ERROR");
    record.set_body(AnyValue::String("payment declined <script>alert(1)</script>".into()));
    record.add_attribute("order.id", 1234i64);
    record.set_trace_context(
        TraceId::from_hex(TRACE_ID).unwrap(),
        SpanId::from_hex(SPAN_ID).unwrap(),
        Some(TraceFlags::SAMPLED),
    );
    logger.emit(record);
    provider.force_flush().expect("flush logs");
    provider.shutdown().expect("shutdown logs");
}

/// Records a counter (`cache.gets`, hit 3 / miss 1) and a histogram, then flushes.
async fn send_metrics(transport: Transport, http: &str, grpc: &str, service: &str) {
    let exporter = match transport {
        Transport::Grpc => MetricExporter::builder().with_tonic().with_endpoint(grpc).build(),
        Transport::HttpProtobuf | Transport::HttpJson => MetricExporter::builder()
            .with_http()
            .with_protocol(protocol(transport))
            .with_endpoint(format!("{http}/v1/metrics"))
            .build(),
    }
    .expect("metric exporter");
    let reader = PeriodicReader::builder(exporter, opentelemetry_sdk::runtime::Tokio).build();
    let provider =
        SdkMeterProvider::builder().with_reader(reader).with_resource(resource(service)).build();
    let meter = provider.meter("e2e-metrics");
    let gets = meter.u64_counter("cache.gets").with_unit("{get}").build();
    gets.add(3, &[KeyValue::new("result", "hit")]);
    gets.add(1, &[KeyValue::new("result", "miss")]);
    let latency = meter
        .f64_histogram("lookup.duration")
        .with_unit("ms")
        .with_boundaries(vec![1.0, 10.0])
        .build();
    latency.record(0.5, &[]);
    latency.record(5.0, &[]);
    latency.record(50.0, &[]);
    let provider_for_flush = provider.clone();
    tokio::task::spawn_blocking(move || provider_for_flush.force_flush().expect("flush metrics"))
        .await
        .unwrap();
    tokio::task::spawn_blocking(move || provider.shutdown().expect("shutdown metrics"))
        .await
        .unwrap();
}

fn protocol(transport: Transport) -> Protocol {
    match transport {
        Transport::HttpJson => Protocol::HttpJson,
        _ => Protocol::HttpBinary,
    }
}

async fn round_trip(transport: Transport) {
    round_trip_on(transport, false).await;
}

/// Sends logs and metrics over `transport`; `crossed`, to the other protocol's port (issue 26:
/// each OTLP port takes both), then checks health's `last_received` names the protocol.
async fn round_trip_on(transport: Transport, crossed: bool) {
    let server = Server::start().await;
    let service = format!("signals-{transport:?}").to_lowercase();
    let (http, grpc) = (server.otlp_http_url.clone(), server.otlp_grpc_url.clone());
    let (http, grpc) = if crossed { (grpc, http) } else { (http, grpc) };
    let at = recent();
    let (h, g, s) = (http.clone(), grpc.clone(), service.clone());
    tokio::task::spawn_blocking(move || send_log(transport, &h, &g, &s, at)).await.unwrap();
    send_metrics(transport, &http, &grpc, &service).await;

    let at_ns = at.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_nanos() as u64;
    // A page (`LogPage`): each record flattened beside its opaque id, and how many matched.
    let logs = server.get_json(&format!("/api/v1/logs?trace_id={TRACE_ID}")).await;
    assert!(logs["logs"][0]["id"].is_string(), "{logs}");
    assert_eq!(
        logs,
        json!({"matched": 1, "logs": [{
            "id": logs["logs"][0]["id"].clone(),
            "time_ns": at_ns,
            "observed_time_ns": at_ns,
            "severity_number": 17,
            "severity_text": "ERROR",
            "body": {"string": "payment declined <script>alert(1)</script>"},
            "attributes": [{"key": "order.id", "value": {"int": 1234}}],
            "trace_id": TRACE_ID,
            "span_id": SPAN_ID,
            "service": service,
            "resource": logs["logs"][0]["resource"].clone(),
            "scope": {"name": "e2e-logs"},
        }]}),
        "{transport:?}"
    );

    // The SDK exports once on flush and again on shutdown (cumulative, same values), so each
    // stream has one or two points; the last one is checked.
    let catalog = server.get_json("/api/v1/metrics").await;
    let names: Vec<&str> =
        catalog["names"].as_array().unwrap().iter().map(|n| n["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["cache.gets", "lookup.duration"], "{transport:?}");
    let gets = server.get_json("/api/v1/metrics?name=cache.gets").await;
    let mut by_result: Vec<(String, f64, Value)> = gets["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let point = s["points"].as_array().unwrap().last().unwrap();
            (
                s["attributes"][0]["value"]["string"].as_str().unwrap().to_owned(),
                point["value"].as_f64().unwrap(),
                point["kind"].clone(),
            )
        })
        .collect();
    by_result.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        by_result,
        vec![("hit".to_owned(), 3.0, json!("sum")), ("miss".to_owned(), 1.0, json!("sum"))],
        "{transport:?}"
    );
    assert_eq!(gets["series"][0]["points"][0]["monotonic"], true);
    assert_eq!(gets["series"][0]["points"][0]["temporality"], "cumulative");
    let histogram = server.get_json("/api/v1/metrics?name=lookup.duration").await;
    let h = &histogram["series"][0]["points"].as_array().unwrap().last().unwrap()["histogram"];
    assert_eq!(h["count"], 3, "{histogram}");
    assert_eq!(h["sum"], 55.5);
    assert_eq!(h["bounds"], json!([1.0, 10.0]));
    assert_eq!(h["bucket_counts"], json!([1, 1, 1]));

    let last = &server.get_json("/api/v1/health").await["last_received"];
    let protocol = match transport {
        Transport::Grpc => "grpc",
        Transport::HttpProtobuf => "http/protobuf",
        Transport::HttpJson => "http/json",
    };
    for signal in ["logs", "metrics"] {
        assert_eq!(last[signal]["protocol"], protocol, "{transport:?}: {last}");
        assert!(last[signal]["at_ns"].as_u64().is_some_and(|at| at >= at_ns), "{last}");
    }
    assert_eq!(last["traces"], Value::Null, "{last}");
}

#[tokio::test(flavor = "multi_thread")]
async fn http_protobuf_logs_and_metrics() {
    round_trip(Transport::HttpProtobuf).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn http_json_logs_and_metrics() {
    round_trip(Transport::HttpJson).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn grpc_logs_and_metrics() {
    round_trip(Transport::Grpc).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn grpc_logs_and_metrics_to_the_otlp_http_port() {
    round_trip_on(Transport::Grpc, true).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn http_protobuf_logs_and_metrics_to_the_grpc_port() {
    round_trip_on(Transport::HttpProtobuf, true).await;
}
