//! The demo's logs end to end (issue 23, item 5): `otelscope serve --demo` emits its log
//! records through the OpenTelemetry logs SDK to its own OTLP port, and `/api/v1/logs` answers
//! each kind (the startup line at info, cache misses at debug, retries with their delay at warn,
//! give-ups and circuit-open refusals at error, the upstream's injected faults), the ones made
//! under a span with that span's trace and span ids, which `/api/v1/traces/ID` then holds; and
//! `/api/v1/logs/patterns` folds the cache misses of both layers into one template.

use std::ops::RangeInclusive;
use std::time::Duration;

use otelscope_e2e::demo::FAST_DEMO;
use otelscope_e2e::{eventually, Server};
use serde_json::Value;

/// Longest wait for a kind of record (the outage that opens the circuit comes every 6 s).
const WAIT: Duration = Duration::from_secs(60);

struct Kind {
    what: &'static str,
    service: &'static str,
    /// Full-text words that find it (`q=`).
    q: &'static str,
    severity: RangeInclusive<i64>,
    body_starts: &'static str,
    /// The name of the span it was made under; `None`: made under no span.
    span: Option<&'static str>,
}

const KINDS: &[Kind] = &[
    Kind {
        what: "the startup line",
        service: "catalog-api",
        q: "started",
        severity: 9..=12,
        body_starts: "catalog-api started: 40 requests/s",
        span: None,
    },
    Kind {
        what: "a cache miss",
        service: "catalog-api",
        q: "\"cache miss\"",
        severity: 5..=8,
        body_starts: "cache miss in l1 for key catalog:product:",
        span: Some("cache.get"),
    },
    Kind {
        what: "a retry with its delay",
        service: "catalog-api",
        q: "retrying",
        severity: 13..=16,
        body_starts: "retrying the price of product ",
        span: Some("fetch price"),
    },
    Kind {
        what: "a give-up",
        service: "catalog-api",
        q: "\"gave up\"",
        severity: 17..=20,
        body_starts: "gave up on the price of product ",
        span: Some("fetch price"),
    },
    Kind {
        what: "a circuit-open refusal",
        service: "catalog-api",
        q: "\"circuit open\"",
        severity: 17..=20,
        body_starts: "circuit open: not asking the upstream",
        span: Some("fetch price"),
    },
    Kind {
        what: "an injected outage on the upstream",
        service: "pricing-upstream",
        q: "outage",
        severity: 17..=20,
        body_starts: "outage: answering 503 for product ",
        span: Some("GET /prices/{id}"),
    },
];

/// GETs `path`; `None` unless 200.
async fn get(server: &Server, path: &str) -> Option<Value> {
    let response = reqwest::get(server.url(path)).await.ok()?;
    if !response.status().is_success() {
        return None;
    }
    serde_json::from_slice(&response.bytes().await.ok()?).ok()
}

/// `text` as a query-string value (spaces as `+`, the rest percent-encoded).
fn query(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            b' ' => "+".to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn is_hex(value: &Value, len: usize) -> bool {
    value.as_str().is_some_and(|s| s.len() == len && s.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[tokio::test(flavor = "multi_thread")]
async fn the_demo_logs_each_kind_of_record_under_its_span() {
    let server = Server::start_with(&[&["--in-memory", "--demo"], FAST_DEMO].concat()).await;
    for kind in KINDS {
        let path =
            format!("/api/v1/logs?service={}&q={}&limit=100", query(kind.service), query(kind.q));
        let record = eventually(kind.what, WAIT, async || {
            let page = get(&server, &path).await.ok_or("no answer")?;
            let logs = page["logs"].as_array().cloned().unwrap_or_default();
            logs.into_iter()
                .find(|r| {
                    r["body"]["string"].as_str().is_some_and(|b| b.starts_with(kind.body_starts))
                })
                .ok_or_else(|| format!("none yet in {page}"))
        })
        .await;
        let severity = record["severity_number"].as_i64().unwrap_or(0);
        assert!(kind.severity.contains(&severity), "{}: {record}", kind.what);
        assert_eq!(record["service"], kind.service, "{record}");
        let Some(span_name) = kind.span else {
            assert!(record.get("trace_id").is_none_or(Value::is_null), "{}: {record}", kind.what);
            continue;
        };
        assert!(is_hex(&record["trace_id"], 32), "{}: {record}", kind.what);
        assert!(is_hex(&record["span_id"], 16), "{}: {record}", kind.what);
        // The ids are those of a real span of the demo's trace, the one the record is about.
        let trace_path = format!("/api/v1/traces/{}", record["trace_id"].as_str().unwrap());
        let what = format!("{}: its span {span_name:?} is stored", kind.what);
        eventually(&what, WAIT, async || {
            let trace = get(&server, &trace_path).await.ok_or("trace not stored yet")?;
            let spans = trace["spans"].as_array().cloned().unwrap_or_default();
            match spans.iter().find(|s| s["span_id"] == record["span_id"]) {
                Some(span) if span["name"] == span_name => Ok(()),
                Some(span) => Err(format!("the record's span is {}", span["name"])),
                None => Err(format!("no span {} yet", record["span_id"])),
            }
        })
        .await;
    }
    // The retries say how long they wait.
    let retry = get(&server, "/api/v1/logs?service=catalog-api&q=retrying&limit=1").await.unwrap();
    let attributes = retry["logs"][0]["attributes"].as_array().cloned().unwrap_or_default();
    let delay = attributes.iter().find(|a| a["key"] == "retry.delay_ms");
    assert!(delay.is_some(), "{retry}");

    // The cache misses are one pattern, whatever the product and the layer.
    let patterns = eventually("the cache-miss pattern", WAIT, async || {
        let answer = get(&server, "/api/v1/logs/patterns?service=catalog-api")
            .await
            .ok_or("no patterns answer")?;
        let found = answer["patterns"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .find(|p| p["template"] == "cache miss in <*> for key catalog:product:<*>");
        found.ok_or_else(|| format!("not among {answer}"))
    })
    .await;
    assert!(patterns["count"].as_u64().unwrap() > 1, "{patterns}");
    assert!(is_hex(&patterns["example"]["trace_id"], 32), "{patterns}");
}
