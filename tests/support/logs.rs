//! The logs pages' fixture: a trace of two spans from `shop` and nine log records sent as
//! OTLP/JSON (`/v1/logs`) that a test can count by hand: per service, per severity, by text,
//! records linked to each span and one to the trace alone, one long body that folds, one
//! hostile body and attribute.

use serde_json::{json, Value};

use crate::{now_ns, Server};

/// The trace the records point into.
pub const TRACE: &str = "10c5a11010c5a11010c5a11010c5a110";
/// Its root span (`GET /checkout`) and the child (`charge card`) with the error log.
pub const ROOT: &str = "00000000000000a1";
pub const CHILD: &str = "00000000000000a2";
/// A body that must stay text in every renderer.
pub const HOSTILE_BODY: &str = "<script>alert(1)</script></svg><img src=x onerror=alert(1)>";
pub const HOSTILE_ATTR: &str = "<b>bold</b>";
/// How many records `send` stores: 8 from `shop`, 1 from `billing`.
pub const RECORDS: usize = 9;

/// What `send` sent, for the assertions.
pub struct LogsFixture {
    /// When the newest record happened (Unix ns); the others are older, a second apart.
    pub newest_ns: u64,
}

/// One record as OTLP/JSON: `age_s` seconds before `now`; `span` `Some("")` is in the trace
/// without a span.
pub fn record(
    now: u64,
    age_s: u64,
    severity: (i32, &str),
    body: &str,
    span: Option<&str>,
    attrs: Value,
) -> Value {
    let mut r = json!({
        "timeUnixNano": (now - age_s * 1_000_000_000).to_string(),
        "observedTimeUnixNano": (now - age_s * 1_000_000_000 + 1_000).to_string(),
        "severityNumber": severity.0,
        "severityText": severity.1,
        "body": {"stringValue": body},
        "attributes": attrs,
    });
    if let Some(span) = span {
        r["traceId"] = json!(TRACE);
        if !span.is_empty() {
            r["spanId"] = json!(span);
        }
    }
    r
}

/// A `/v1/logs` export of `records` from `service` (scope `fixture.logger` 1.0).
pub fn export(service: &str, records: Vec<Value>) -> Value {
    json!({"resourceLogs": [{
        "resource": {"attributes": [
            {"key": "service.name", "value": {"stringValue": service}},
            {"key": "host.name", "value": {"stringValue": "box-1"}},
        ]},
        "scopeLogs": [{"scope": {"name": "fixture.logger", "version": "1.0"}, "logRecords": records}]
    }]})
}

/// POSTs a `/v1/logs` export as JSON; panics unless 200.
pub async fn post_logs(server: &Server, body: &Value) {
    let status = reqwest::Client::new()
        .post(format!("{}/v1/logs", server.otlp_http_url))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .expect("POST /v1/logs")
        .status();
    assert_eq!(status, 200, "POST /v1/logs");
}

fn attr(key: &str, value: &str) -> Value {
    json!({"key": key, "value": {"stringValue": value}})
}

/// Sends the trace and the records; returns once the API lists all of them.
pub async fn send(server: &Server) -> LogsFixture {
    let now = now_ns();
    let span = |id: &str, parent: &str, name: &str, start_s: u64, end_s: u64| {
        json!({"traceId": TRACE, "spanId": id, "parentSpanId": parent, "name": name, "kind": 2,
            "startTimeUnixNano": (now - start_s * 1_000_000_000).to_string(),
            "endTimeUnixNano": (now - end_s * 1_000_000_000).to_string()})
    };
    let trace = json!({"resourceSpans": [{
        "resource": {"attributes": [attr("service.name", "shop")]},
        "scopeSpans": [{"spans": [
            span(ROOT, "", "GET /checkout", 20, 0),
            span(CHILD, ROOT, "charge card", 15, 5),
        ]}]
    }]});
    assert_eq!(server.post_traces("application/json", trace.to_string().into_bytes()).await, 200);
    let long = format!("dump {}", "abcdefghij".repeat(60));
    let shop = vec![
        record(now, 18, (9, "INFO"), "checkout started", Some(""), json!([])),
        record(
            now,
            16,
            (9, "INFO"),
            "user 42 logged in from 10.0.0.1",
            Some(ROOT),
            json!([attr("http.route", "/login")]),
        ),
        record(
            now,
            14,
            (9, "INFO"),
            "user 43 logged in from 10.0.0.2",
            None,
            json!([attr("http.route", "/login")]),
        ),
        record(now, 12, (13, "WARN"), "retry 1 after 200 ms", Some(CHILD), json!([])),
        record(
            now,
            10,
            (17, "ERROR"),
            "payment failed: card declined",
            Some(CHILD),
            json!([attr("payment.provider", "acme")]),
        ),
        record(now, 8, (9, "INFO"), &long, None, json!([])),
        record(now, 6, (17, "ERROR"), HOSTILE_BODY, None, json!([attr("note", HOSTILE_ATTR)])),
        record(now, 1, (9, ""), "cart saved", Some(ROOT), json!([])),
    ];
    post_logs(server, &export("shop", shop)).await;
    let billing = vec![record(now, 4, (5, "DEBUG"), "cache miss for key 7", None, json!([]))];
    post_logs(server, &export("billing", billing)).await;
    crate::eventually(
        "the fixture's records are listed",
        std::time::Duration::from_secs(30),
        async || {
            let page = server.get_json("/api/v1/logs").await;
            match page["logs"].as_array().map(Vec::len) {
                Some(RECORDS) => Ok(()),
                other => Err(format!("{other:?} records")),
            }
        },
    )
    .await;
    LogsFixture { newest_ns: now - 1_000_000_000 }
}
