//! `otelscope serve --store clickhouse://…` over a real ClickHouse 18.16 (started by the test,
//! `support/clickhouse.rs`): the official Rust exporter sends a two-span trace over OTLP/HTTP;
//! the 200 means ClickHouse holds it, so the search, the trace's API answer and its SSR page,
//! and the services list show it at once; health names the store; what the ClickHouse store
//! does not answer yet is a clear 503 JSON error, not an empty answer. A second otelscope over
//! the same database (the first stopped) answers the same. ClickHouse killed mid-run: senders
//! get 503 with `Retry-After`, health says degraded, and the same otelscope takes data again
//! once ClickHouse is back.

use std::time::{Duration, SystemTime};

use opentelemetry::trace::{Span as _, SpanKind, Status, TraceContextExt, Tracer, TracerProvider};
use opentelemetry::{Context, KeyValue};
use opentelemetry_otlp::{Protocol, SpanExporter, WithExportConfig};
use opentelemetry_sdk::trace::SdkTracerProvider;
use opentelemetry_sdk::Resource;
use otelscope_e2e::clickhouse::ClickHouse;
use otelscope_e2e::{eventually, root_span_trace, Server};

/// Sends `checkout` (server, an error) with its child `SELECT orders` through the SDK's
/// OTLP/HTTP protobuf exporter; returns the trace id.
fn send_trace(otlp_http_url: &str, service: &str) -> String {
    let exporter = SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(format!("{otlp_http_url}/v1/traces"))
        .build()
        .expect("HTTP exporter");
    let resource = Resource::builder().with_service_name(service.to_owned()).build();
    let provider =
        SdkTracerProvider::builder().with_simple_exporter(exporter).with_resource(resource).build();
    let tracer = provider.tracer("e2e-clickhouse");
    let start = SystemTime::now() - Duration::from_secs(60);
    let root = tracer
        .span_builder("checkout")
        .with_kind(SpanKind::Server)
        .with_start_time(start)
        .with_attributes([KeyValue::new("http.route", "/checkout")])
        .start(&tracer);
    let cx = Context::current_with_span(root);
    let root = cx.span();
    root.set_status(Status::error("payment declined"));
    let trace_id = root.span_context().trace_id().to_string();
    let mut child = tracer
        .span_builder("SELECT orders")
        .with_kind(SpanKind::Client)
        .with_start_time(start + Duration::from_millis(2))
        .start_with_context(&tracer, &cx);
    child.end_with_timestamp(start + Duration::from_millis(5));
    root.end_with_timestamp(start + Duration::from_millis(10));
    provider.force_flush().expect("flush: every export answered 200");
    provider.shutdown().expect("shutdown");
    trace_id
}

async fn check_answers(server: &Server, service: &str, trace_id: &str, url: &str) {
    let health = server.get_json("/api/v1/health").await;
    assert_eq!(health["store"]["kind"], "clickhouse", "{health}");
    assert_eq!(health["store"]["state"], "ok", "{health}");
    assert_eq!(health["store"]["server_version"], "18.16", "{health}");
    let location = url.trim_start_matches("clickhouse://");
    assert_eq!(health["store"]["location"], location, "{health}");

    let list = server.get_json(&format!("/api/v1/traces?service={service}")).await;
    let traces = list["traces"].as_array().expect("traces");
    assert_eq!(traces.len(), 1, "{list}");
    assert_eq!(traces[0]["trace_id"], trace_id);
    assert_eq!(traces[0]["root_name"], "checkout");
    assert_eq!(traces[0]["span_count"], 2);
    assert_eq!(traces[0]["error_count"], 1);
    assert_eq!(traces[0]["duration_ns"], 10_000_000);

    let trace = server.get_json(&format!("/api/v1/traces/{trace_id}")).await;
    let mut names: Vec<&str> =
        trace["spans"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    names.sort();
    assert_eq!(names, ["SELECT orders", "checkout"], "{trace}");

    let page = server.get_text(&format!("/ssr/traces/{trace_id}")).await;
    assert!(page.contains("SELECT orders") && page.contains("checkout"), "{page}");

    let services = server.get_json("/api/v1/services").await;
    let ours = services["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == service)
        .unwrap_or_else(|| panic!("{service} in {services}"))
        .clone();
    assert_eq!(ours["span_count"], 2, "{ours}");
    assert_eq!(ours["error_count"], 1, "{ours}");

    // Not built yet on ClickHouse: a 503 with a JSON error, never an empty 200.
    let response = reqwest::get(server.url("/api/v1/logs")).await.expect("GET /api/v1/logs");
    assert_eq!(response.status().as_u16(), 503);
    let body: serde_json::Value =
        serde_json::from_str(&response.text().await.expect("a body")).expect("a JSON error");
    assert!(body["error"].is_string(), "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn spans_round_trip_through_clickhouse() {
    let clickhouse = ClickHouse::start();
    let url = clickhouse.url("otelscope_e2e");
    let service = "shop-on-clickhouse";
    let server = Server::start_with(&["--store", &url]).await;
    let endpoint = server.otlp_http_url.clone();
    let trace_id =
        tokio::task::spawn_blocking(move || send_trace(&endpoint, service)).await.unwrap();
    check_answers(&server, service, &trace_id, &url).await;
    drop(server);

    // Another otelscope over the same database (by the environment variable) answers the same.
    let again = Server::start_with_env(&[], &[("OTELSCOPE_STORE", &url)]).await;
    check_answers(&again, service, &trace_id, &url).await;
}

#[tokio::test]
async fn a_bad_store_url_is_refused_in_words() {
    let output = tokio::process::Command::new(otelscope_e2e::otelscope_bin())
        .args(["serve", "--store", "clickhouse://localhost/otel"])
        .output()
        .await
        .expect("run otelscope");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--store") && stderr.contains("host:port"), "{stderr}");
}

/// POSTs trace `id` (one root span of `service`) over OTLP/HTTP: the status and `Retry-After`.
async fn post_root(server: &Server, service: &str, id: u8) -> (u16, Option<String>) {
    let response = reqwest::Client::new()
        .post(format!("{}/v1/traces", server.otlp_http_url))
        .header("content-type", "application/x-protobuf")
        .body(root_span_trace(service, id, "tick"))
        .send()
        .await
        .expect("POST /v1/traces");
    let retry = response.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned());
    (response.status().as_u16(), retry)
}

#[tokio::test(flavor = "multi_thread")]
async fn clickhouse_away_is_503_with_retry_after_and_recovery_needs_no_restart() {
    let clickhouse = ClickHouse::start();
    let url = clickhouse.url("otelscope_outage");
    let server = Server::start_with(&["--store", &url]).await;
    let service = "outage";
    assert_eq!(post_root(&server, service, 1).await, (200, None));

    clickhouse.stop();
    // Senders are told to come back; nothing is acknowledged that ClickHouse did not take.
    assert_eq!(post_root(&server, service, 2).await, (503, Some("1".to_owned())));
    let health = server.get_json("/api/v1/health").await;
    assert_eq!(health["status"], "degraded", "{health}");
    let state = health["store"]["state"].as_str().unwrap();
    assert!(state.starts_with("unreachable"), "{health}");
    let services = reqwest::get(server.url("/api/v1/services")).await.expect("GET services");
    assert_eq!(services.status().as_u16(), 503, "reads say the store is away");

    // The same otelscope takes data again once ClickHouse is back.
    clickhouse.restart();
    eventually("a batch taken after ClickHouse came back", Duration::from_secs(30), async || {
        match post_root(&server, service, 3).await {
            (200, _) => Ok(()),
            other => Err(format!("{other:?}")),
        }
    })
    .await;
    let health = server.get_json("/api/v1/health").await;
    assert_eq!((health["status"].as_str(), health["writer"].as_str()), (Some("ok"), Some("ok")));
    assert_eq!(health["store"]["state"], "ok", "{health}");
    let list = server.get_json(&format!("/api/v1/traces?service={service}")).await;
    let mut ids: Vec<&str> = list["traces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["trace_id"].as_str().unwrap())
        .collect();
    ids.sort();
    assert_eq!(ids, ["01".repeat(16), "03".repeat(16)], "the acknowledged batches, only those");
}
