//! Bad log records through the real OTLP path (issue 23, item 6): a 1 MB body, 10,000
//! attributes, invalid UTF-8 in `bytes` values, severities 0 and 99, bodies that are a map or an
//! array, and hostile markup are accepted and stored within the ingest `Limits` (16 KiB per
//! value, 256 attributes) and answered by `/api/v1/logs` and `/api/v1/logs/patterns` as data;
//! what OTLP forbids (invalid UTF-8 in a string, a 5-byte trace id) is refused as OTLP says:
//! the request with a 400, the one record through `partial_success`.

use opentelemetry_proto::tonic::collector::logs::v1::logs_service_client::LogsServiceClient;
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{
    any_value, AnyValue, ArrayValue, KeyValue, KeyValueList,
};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::resource::v1::Resource;
use otelscope_e2e::{now_ns, Server};
use prost::Message;
use serde_json::{json, Value};

const SERVICE: &str = "hostile-logs";
/// `Limits::max_value_bytes` and `Limits::max_attributes` (server/src/ingest/convert/common.rs).
const MAX_VALUE_BYTES: usize = 16 * 1024;
const MAX_ATTRIBUTES: usize = 256;
const SCRIPT: &str = "<script>alert(1)</script>";
const SVG: &str = "</svg><img src=x onerror=alert(2)>";

fn value(v: any_value::Value) -> Option<AnyValue> {
    Some(AnyValue { value: Some(v) })
}

fn text(s: &str) -> Option<AnyValue> {
    value(any_value::Value::StringValue(s.to_owned()))
}

fn kv(key: &str, v: Option<AnyValue>) -> KeyValue {
    KeyValue { key: key.to_owned(), value: v, ..Default::default() }
}

/// A record of test case `case` (its first attribute, so it survives the attribute cap).
fn record(case: &str, body: Option<AnyValue>) -> LogRecord {
    LogRecord {
        time_unix_nano: now_ns(),
        severity_number: 9,
        body,
        attributes: vec![kv("case", text(case))],
        ..Default::default()
    }
}

fn request(records: Vec<LogRecord>) -> ExportLogsServiceRequest {
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: Some(Resource {
                attributes: vec![kv("service.name", text(SERVICE))],
                ..Default::default()
            }),
            scope_logs: vec![ScopeLogs { log_records: records, ..Default::default() }],
            ..Default::default()
        }],
    }
}

async fn post(server: &Server, body: Vec<u8>) -> (u16, bytes::Bytes) {
    let response = reqwest::Client::new()
        .post(format!("{}/v1/logs", server.otlp_http_url))
        .header("content-type", "application/x-protobuf")
        .body(body)
        .send()
        .await
        .expect("POST /v1/logs");
    (response.status().as_u16(), response.bytes().await.unwrap())
}

/// The stored records of `SERVICE`, by their `case` attribute.
async fn stored(server: &Server) -> Vec<Value> {
    let page = server.get_json(&format!("/api/v1/logs?service={SERVICE}&limit=1000")).await;
    page["logs"].as_array().cloned().unwrap_or_default()
}

fn case<'a>(records: &'a [Value], name: &str) -> &'a Value {
    records
        .iter()
        .find(|r| r["attributes"][0] == json!({"key": "case", "value": {"string": name}}))
        .unwrap_or_else(|| panic!("no stored record {name:?}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_log_records_are_stored_within_the_limits_and_answered_as_data() {
    let server = Server::start().await;
    let big = format!("BIG {}", "x".repeat(1 << 20));
    let mut many = record("many attributes", text("ten thousand attributes"));
    many.attributes.extend((0..10_000).map(|i| kv(&format!("k{i}"), text(&format!("v{i}")))));
    let mut raw =
        record("bytes", value(any_value::Value::BytesValue(vec![0xff, 0xfe, 0, 0xc3, 0x28])));
    raw.attributes.push(kv("raw", value(any_value::Value::BytesValue(vec![0xc0, 0x80, 0xff]))));
    let mut zero = record("severity 0", text("no severity"));
    zero.severity_number = 0;
    let mut ninety_nine = record("severity 99", text("off the scale"));
    ninety_nine.severity_number = 99;
    let map = record(
        "map body",
        value(any_value::Value::KvlistValue(KeyValueList {
            values: vec![kv("user", text("ada")), kv("n", value(any_value::Value::IntValue(3)))],
        })),
    );
    let array = record(
        "array body",
        value(any_value::Value::ArrayValue(ArrayValue {
            values: vec![value(any_value::Value::IntValue(1)).unwrap(), text("two").unwrap()],
        })),
    );
    let mut script = record("script", text(SCRIPT));
    script.severity_text = "<b>WARN</b>".into();
    script.attributes.push(kv("<i>key</i>", text(SVG)));
    let svg = record("svg", text(SVG));
    let body = request(vec![
        record("huge body", text(&big)),
        many,
        raw,
        zero,
        ninety_nine,
        map,
        array,
        script,
        svg,
    ])
    .encode_to_vec();
    let (status, answer) = post(&server, body).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&answer));
    let answer = ExportLogsServiceResponse::decode(answer).expect("an OTLP answer");
    assert_eq!(answer.partial_success, None, "every record was taken");

    let records = stored(&server).await;
    assert_eq!(records.len(), 9);
    // The 1 MB body is kept up to the value limit.
    let huge = case(&records, "huge body")["body"]["string"].as_str().unwrap().to_owned();
    assert_eq!(huge.len(), MAX_VALUE_BYTES);
    assert!(huge.starts_with("BIG xxx"));
    // 10,000 attributes: the first 256 kept, in order.
    let many = case(&records, "many attributes")["attributes"].as_array().unwrap().clone();
    assert_eq!(many.len(), MAX_ATTRIBUTES);
    assert_eq!(many[1], json!({"key": "k0", "value": {"string": "v0"}}));
    // Bytes that are no UTF-8 come back as their base64.
    let raw = case(&records, "bytes");
    assert_eq!(raw["body"], json!({"bytes": "//4Awyg="}));
    assert_eq!(raw["attributes"][1], json!({"key": "raw", "value": {"bytes": "wID/"}}));
    // Severities outside the OTel range are kept as sent.
    assert_eq!(case(&records, "severity 0")["severity_number"], 0);
    assert_eq!(case(&records, "severity 99")["severity_number"], 99);
    // Map and array bodies keep their structure.
    assert_eq!(
        case(&records, "map body")["body"],
        json!({"kvlist": [
            {"key": "user", "value": {"string": "ada"}},
            {"key": "n", "value": {"int": 3}},
        ]})
    );
    assert_eq!(
        case(&records, "array body")["body"],
        json!({"array": [{"int": 1}, {"string": "two"}]})
    );
    // Markup is data: the exact strings, in JSON.
    let script = case(&records, "script");
    assert_eq!(script["body"], json!({"string": SCRIPT}));
    assert_eq!(script["severity_text"], "<b>WARN</b>");
    assert_eq!(script["attributes"][1], json!({"key": "<i>key</i>", "value": {"string": SVG}}));
    assert_eq!(case(&records, "svg")["body"], json!({"string": SVG}));
    let response =
        reqwest::get(server.url(&format!("/api/v1/logs?service={SERVICE}"))).await.unwrap();
    let content_type = response.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(content_type.starts_with("application/json"), "{content_type}");
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");

    // Patterns of all of it: text templates, with the map, array and markup bodies as text.
    let patterns = server.get_json(&format!("/api/v1/logs/patterns?service={SERVICE}")).await;
    assert_eq!(patterns["total"], 9, "{patterns}");
    let templates: Vec<&str> = patterns["patterns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["template"].as_str().unwrap())
        .collect();
    assert!(templates.contains(&"{user: ada, n: <*>}"), "{templates:?}");
    assert!(templates.contains(&"[<*>, two]"), "{templates:?}");
    assert!(templates.iter().any(|t| t.starts_with("BIG x")), "{templates:?}");
    let script = patterns["patterns"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["example"]["body"] == json!({"string": SCRIPT}))
        .unwrap_or_else(|| panic!("no pattern for the script body in {patterns}"));
    assert!(script["template"].as_str().unwrap().contains("<script>"), "{script}");
    assert_eq!(
        patterns["patterns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["count"].as_u64().unwrap())
            .sum::<u64>(),
        9
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn what_otlp_forbids_is_refused_as_otlp_says() {
    let server = Server::start().await;
    // A string that is not UTF-8 makes the protobuf itself invalid: the request is refused.
    let mut body = request(vec![record("not utf-8", text("PLACEHOLDER"))]).encode_to_vec();
    let at = body.windows(11).position(|w| w == b"PLACEHOLDER").unwrap();
    body[at..at + 4].copy_from_slice(&[0xff, 0xfe, 0xc3, 0x28]);
    let (status, answer) = post(&server, body).await;
    assert_eq!(status, 400, "{}", String::from_utf8_lossy(&answer));
    let why = tonic_types::Status::decode(answer).expect("a google.rpc.Status");
    assert!(!why.message.is_empty());

    // A 5-byte trace id: that record is rejected, the others in its request are stored.
    let mut bad = record("short trace id", text("bad id"));
    bad.trace_id = vec![1, 2, 3, 4, 5];
    let good = record("fine", text("fine"));
    let (status, answer) = post(&server, request(vec![bad, good]).encode_to_vec()).await;
    assert_eq!(status, 200);
    let answer = ExportLogsServiceResponse::decode(answer).unwrap();
    let partial = answer.partial_success.expect("partial_success");
    assert_eq!(partial.rejected_log_records, 1);
    assert!(partial.error_message.contains("trace id"), "{}", partial.error_message);

    // The same over gRPC, with a hostile body that stays data.
    let mut client = LogsServiceClient::connect(server.otlp_grpc_url.clone()).await.unwrap();
    let mut bad = record("short span id", text(SCRIPT));
    bad.span_id = vec![9; 3];
    let answer = client
        .export(request(vec![bad, record("grpc script", text(SCRIPT))]))
        .await
        .expect("exported")
        .into_inner();
    assert_eq!(answer.partial_success.map(|p| p.rejected_log_records), Some(1));

    let records = stored(&server).await;
    let cases: Vec<&Value> =
        records.iter().map(|r| &r["attributes"][0]["value"]["string"]).collect();
    assert_eq!(cases, [&json!("grpc script"), &json!("fine")], "newest first");
    assert_eq!(case(&records, "grpc script")["body"], json!({"string": SCRIPT}));
    assert_eq!(server.get_json("/api/v1/health").await["status"], "ok");
}
