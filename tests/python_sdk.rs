//! The official OpenTelemetry Python SDK (with its OTLP/HTTP and OTLP/gRPC exporters, installed
//! from PyPI by scripts/setup.sh) sends a trace, logs through Python's `logging` and the SDK's
//! `LoggingHandler` (one record in each span, one outside), and a counter; the query API shows
//! them, each log record with the trace and span ids of the span it was logged in.
//! Its default, gRPC, sent to the OTLP/HTTP port (the usual `:4318` endpoint) arrives too.

use std::path::PathBuf;

use otelscope_e2e::Server;
use serde_json::{json, Value};

/// The Python of the venv that `scripts/setup.sh` made, or `$OTELSCOPE_PYTHON`.
fn python() -> PathBuf {
    if let Some(python) = std::env::var_os("OTELSCOPE_PYTHON") {
        return python.into();
    }
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/py-venv/bin/python");
    assert!(
        venv.exists(),
        "{} is missing: run `make test` (scripts/setup.sh makes it)",
        venv.display()
    );
    venv
}

async fn send(transport: &str, endpoint: &str, service: &str) -> String {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("python/send.py");
    let output = tokio::process::Command::new(python())
        .arg(script)
        .args([transport, endpoint, service])
        // Read by the `default` case only (the others pass the endpoint to the exporters).
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)
        .env_remove("OTEL_EXPORTER_OTLP_PROTOCOL")
        .output()
        .await
        .expect("run python");
    assert!(output.status.success(), "send.py failed: {}", String::from_utf8_lossy(&output.stderr));
    let printed: Value = serde_json::from_slice(&output.stdout).expect("send.py prints JSON");
    printed["trace_id"].as_str().expect("trace_id").to_owned()
}

async fn round_trip(transport: &str) {
    let server = Server::start().await;
    let service = format!("python-{transport}");
    // `default` (gRPC) goes where the usual endpoint points: the OTLP/HTTP port (4318).
    let endpoint = if transport == "grpc" { &server.otlp_grpc_url } else { &server.otlp_http_url };
    let trace_id = send(transport, endpoint, &service).await;

    let list = server.get_json(&format!("/api/v1/traces?service={service}")).await;
    let summary = &list["traces"][0];
    assert_eq!(summary["trace_id"], trace_id);
    assert_eq!(summary["root_name"], "GET /items");
    assert_eq!(summary["span_count"], 2);
    assert_eq!(summary["error_count"], 1);

    let trace = server.get_json(&format!("/api/v1/traces/{trace_id}")).await;
    // In arrival order (the SDK exports the child first, as it ends first): find each by parent.
    let spans = trace["spans"].as_array().unwrap();
    let root = spans.iter().find(|s| s.get("parent_span_id").is_none()).expect("root span");
    let child = spans.iter().find(|s| s.get("parent_span_id").is_some()).expect("child span");
    assert_eq!(root["name"], "GET /items");
    assert_eq!(root["kind"], "server");
    assert_eq!(root["status"], json!({"code": "error", "message": "upstream failed"}));
    assert_eq!(root["scope"], json!({"name": "e2e.python", "version": "4.5.6"}));
    let attrs = &root["attributes"];
    assert!(attrs
        .as_array()
        .unwrap()
        .contains(&json!({"key": "http.route", "value": {"string": "/items"}})));
    assert!(attrs
        .as_array()
        .unwrap()
        .contains(&json!({"key": "http.response.status_code", "value": {"int": 500}})));
    assert!(root["resource"]
        .as_array()
        .unwrap()
        .contains(&json!({"key": "deployment.environment", "value": {"string": "e2e"}})));
    assert_eq!(child["name"], "redis GET");
    assert_eq!(child["kind"], "client");
    assert_eq!(child["parent_span_id"], root["span_id"]);
    assert_eq!(child["attributes"], json!([{"key": "cache.hit", "value": {"bool": true}}]));
    assert_eq!(child["events"][0]["name"], "retry");
    assert_eq!(
        child["events"][0]["attributes"],
        json!([{"key": "retry.delay_ms", "value": {"int": 20}}])
    );

    // The trace's logs: one in each span, with that span's ids (Python logging's levels as
    // OTel severities: WARNING 13, INFO 9).
    let logs = server.get_json(&format!("/api/v1/logs?trace_id={trace_id}")).await;
    let in_trace = logs["logs"].as_array().unwrap();
    assert_eq!(in_trace.len(), 2, "{logs}");
    let by_body = |body: &str| -> &Value {
        in_trace
            .iter()
            .find(|r| r["body"] == json!({"string": body}))
            .unwrap_or_else(|| panic!("no record {body:?} in {logs}"))
    };
    let record = by_body("upstream slow");
    assert_eq!(record["severity_text"], "WARN");
    assert_eq!(record["severity_number"], 13);
    assert_eq!(record["trace_id"], trace_id);
    assert_eq!(record["span_id"], root["span_id"]);
    assert_eq!(record["service"], service);
    let record = by_body("cache hit for key item:42");
    assert_eq!(record["severity_text"], "INFO");
    assert_eq!(record["severity_number"], 9);
    assert_eq!(record["trace_id"], trace_id);
    assert_eq!(record["span_id"], child["span_id"]);
    assert!(
        record["attributes"]
            .as_array()
            .unwrap()
            .contains(&json!({"key": "cache.key", "value": {"string": "item:42"}})),
        "{record}"
    );
    // `span_id=` finds the child's record alone.
    let span_id = child["span_id"].as_str().unwrap();
    let of_span = server.get_json(&format!("/api/v1/logs?span_id={span_id}")).await;
    assert_eq!(of_span["logs"].as_array().unwrap().len(), 1, "{of_span}");
    assert_eq!(of_span["logs"][0]["span_id"], child["span_id"]);
    // Logged outside any span: the service's third record, with no trace.
    let all = server.get_json(&format!("/api/v1/logs?service={service}")).await;
    let outside = all["logs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["body"] == json!({"string": "request finished outside any span"}))
        .unwrap_or_else(|| panic!("no record outside a span in {all}"));
    assert_eq!(outside["severity_number"], 17);
    assert!(outside.get("trace_id").is_none() && outside.get("span_id").is_none(), "{outside}");

    let hits = server.get_json("/api/v1/metrics?name=cache.hits").await;
    let series = &hits["series"][0];
    assert_eq!(
        series["attributes"],
        json!([{"key": "cache.name", "value": {"string": "catalog"}}])
    );
    assert_eq!(series["points"].as_array().unwrap().last().unwrap()["value"], 5.0);
}

#[tokio::test(flavor = "multi_thread")]
async fn python_over_http() {
    round_trip("http").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn python_over_grpc() {
    round_trip("grpc").await;
}

/// Issue 26: Python's default exporter is gRPC, and the endpoint people set is `:4318`.
#[tokio::test(flavor = "multi_thread")]
async fn python_default_grpc_to_the_otlp_http_port() {
    round_trip("default").await;
}
