//! Log patterns benchmark of the real `otelscope` binary on loopback (issue 23, item 8): with
//! 1,000,000 log records stored (`BENCH_LOG_RECORDS`), spread over the last six hours from 40
//! message templates with variable parts, the p50/p99 of `GET /api/v1/logs/patterns` over the
//! last hour (the goal: p99 ≤ 500 ms), filtered by a service and by a word too, next to a page
//! of `/api/v1/logs` over the same hour in the same run. Prints figures; asserts nothing.
//! Run with `make bench` (or `cargo bench -p otelscope --bench log_patterns`).

use std::time::Instant;

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::resource::v1::Resource;
use prost::Message;

mod support;
use support::{now_ns, percentile, start_server};
const RECORDS_PER_BATCH: u64 = 1_000;
const CLIENTS: usize = 4;
const SERVICES: [&str; 4] = ["frontend", "checkout", "catalog", "payments"];
const SIX_HOURS_NS: u64 = 6 * 3_600 * 1_000_000_000;
/// Queries timed per figure.
const RUNS: usize = 40;

fn text(s: String) -> Option<AnyValue> {
    Some(AnyValue { value: Some(any_value::Value::StringValue(s)) })
}

/// Record `n`'s body and severity: one of 40 templates, its variable parts from `n`.
fn message(n: u64) -> (String, i32) {
    let user = ["ada", "grace", "linus", "barbara", "ken", "margaret"][(n % 6) as usize];
    let ip = format!("10.{}.{}.{}", n % 7, n % 251, n % 13);
    let ms = n % 997;
    let id = format!("{:016x}", n.wrapping_mul(0x9e37_79b9_7f4a_7c15));
    let t = n % 40;
    let (body, severity) = match t {
        0 => (format!("user {user} logged in from {ip}"), 9),
        1 => (format!("user {user} logged out after {ms} s"), 9),
        2 => (format!("GET /api/items/{} took {ms}ms", n % 5000), 9),
        3 => (format!("POST /api/orders/{} answered 201 in {ms} ms", n % 9000), 9),
        4 => (format!("cache miss for key item:{}", n % 10_000), 5),
        5 => (format!("cache hit for key item:{}", n % 10_000), 5),
        6 => (format!("retrying request {id} in {ms} ms (attempt {})", n % 3 + 1), 13),
        7 => (format!("gave up on request {id} after 4 attempts: upstream answered 503"), 17),
        8 => (format!("circuit open: not calling pricing for product {}", n % 777), 17),
        9 => (format!("connection to {ip}:5432 closed by peer"), 13),
        10 => (format!("payment {id} declined: insufficient funds"), 13),
        11 => (format!("payment {id} captured for {}.{:02} EUR", n % 500, n % 100), 9),
        12 => (format!("slow query on table orders took {ms} ms"), 13),
        13 => (format!("worker {} started job {id}", n % 16), 9),
        14 => (format!("worker {} finished job {id} in {ms} ms", n % 16), 9),
        15 => (format!("rate limit hit for tenant {user}: {} requests in 1 s", n % 300), 13),
        16 => (format!("session {id} expired"), 9),
        17 => (format!("invalid token for user {user}: signature mismatch"), 13),
        18 => (format!("disk /dev/sda{} is {}% full", n % 4, 80 + n % 20), 13),
        19 => (format!("config reloaded from /etc/app/{}.toml", user), 9),
        20 => (format!("unhandled error in handler /api/cart/{}: index out of range", n % 99), 17),
        21 => ("health check ok".to_string(), 5),
        22 => (format!("queue depth {} above threshold {}", n % 1000, 500), 13),
        23 => (format!("sent email to {user}@example.com with subject \"order {}\"", n % 9999), 9),
        24 => (
            format!("feature flag new-checkout evaluated to {} for {user}", n.is_multiple_of(2)),
            5,
        ),
        25 => (format!("opened file /var/data/{id}.parquet ({} bytes)", n % 1_000_000), 5),
        26 => (format!("TLS handshake with {ip} failed: certificate expired"), 17),
        27 => (format!("dns lookup for pricing.internal took {ms} ms"), 5),
        28 => (format!("scheduled cleanup removed {} rows", n % 10_000), 9),
        29 => (format!("websocket {id} closed with code {}", 1000 + n % 12), 9),
        30 => (format!("inventory for sku-{} dropped to {}", n % 4000, n % 9), 13),
        31 => (format!("user {user} added item {} to cart {id}", n % 5000), 9),
        32 => (format!("price for product {} is {}", n % 777, n % 10_000), 5),
        33 => (format!("retry budget for pricing at {}%", n % 100), 13),
        34 => (format!("leader election won by node-{}", n % 5), 9),
        35 => (format!("gc pause of {ms} ms"), 13),
        36 => (format!("request {id} from {ip} rejected: missing api key"), 13),
        37 => (format!("exported {} spans to collector in {ms} ms", n % 512), 5),
        38 => (format!("panic recovered in worker {}: called unwrap on None", n % 16), 21),
        _ => (format!("shutting down listener on port {}", 8000 + n % 100), 9),
    };
    (body, severity)
}

/// Batch `b`: `RECORDS_PER_BATCH` records of one service, times spread over six hours.
fn batch(b: u64, now_ns: u64, total: u64) -> Vec<u8> {
    let records = (0..RECORDS_PER_BATCH)
        .map(|i| {
            let n = b * RECORDS_PER_BATCH + i;
            let (body, severity) = message(n);
            // Record n of `total` at its share of the six hours, oldest first.
            let time =
                now_ns - SIX_HOURS_NS + (n as u128 * SIX_HOURS_NS as u128 / total as u128) as u64;
            LogRecord {
                time_unix_nano: time,
                observed_time_unix_nano: time,
                severity_number: severity,
                body: text(body),
                attributes: vec![
                    KeyValue {
                        key: "thread".into(),
                        value: text(format!("t{}", n % 8)),
                        ..Default::default()
                    },
                    KeyValue { key: "n".into(), value: text(n.to_string()), ..Default::default() },
                ],
                trace_id: n.to_be_bytes().repeat(2),
                span_id: n.to_be_bytes().to_vec(),
                ..Default::default()
            }
        })
        .collect();
    let service = SERVICES[(b % 4) as usize];
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: Some(Resource {
                attributes: vec![KeyValue {
                    key: "service.name".into(),
                    value: text(service.into()),
                    ..Default::default()
                }],
                ..Default::default()
            }),
            scope_logs: vec![ScopeLogs { log_records: records, ..Default::default() }],
            ..Default::default()
        }],
    }
    .encode_to_vec()
}

/// p50 and p99 in ms of `RUNS` GETs of `url`, and the last answer.
async fn time_query(client: &reqwest::Client, url: &str) -> (f64, f64, serde_json::Value) {
    let mut times = Vec::with_capacity(RUNS);
    let mut last = serde_json::Value::Null;
    for _ in 0..RUNS {
        let start = Instant::now();
        let response = client.get(url).send().await.unwrap();
        assert!(response.status().is_success(), "{url}: {}", response.status());
        let bytes = response.bytes().await.unwrap();
        times.push(start.elapsed());
        last = serde_json::from_slice(&bytes).unwrap();
    }
    times.sort();
    (percentile(&times, 0.5), percentile(&times, 0.99), last)
}

#[tokio::main]
async fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo bench -- --list` probes for tests; this binary has none.
    }
    let total: u64 = std::env::var("BENCH_LOG_RECORDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000)
        .max(RECORDS_PER_BATCH);
    let dir = std::env::temp_dir().join(format!("otelscope-patterns-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let server = start_server(env!("CARGO_BIN_EXE_otelscope"), &dir, &[]).await;
    let client = reqwest::Client::new();

    let batches = total / RECORDS_PER_BATCH;
    let t0 = now_ns();
    let start = Instant::now();
    let url = format!("{}/v1/logs", server.otlp);
    let tasks: Vec<_> = (0..CLIENTS as u64)
        .map(|c| {
            let (client, url) = (client.clone(), url.clone());
            tokio::spawn(async move {
                for b in (c..batches).step_by(CLIENTS) {
                    let response = client
                        .post(&url)
                        .header("content-type", "application/x-protobuf")
                        .body(batch(b, t0, batches * RECORDS_PER_BATCH))
                        .send()
                        .await
                        .expect("POST");
                    assert_eq!(response.status(), 200);
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let wall = start.elapsed().as_secs_f64();
    println!(
        "stored {} log records over six hours in {wall:.1} s ({:.0} records/s with the bodies made on the client)",
        batches * RECORDS_PER_BATCH,
        (batches * RECORDS_PER_BATCH) as f64 / wall
    );

    let ui = &server.ui;
    let figures = [
        (
            "page of /api/v1/logs, last hour (baseline)",
            format!("{ui}/api/v1/logs?since=1h&limit=100"),
        ),
        ("patterns, last hour", format!("{ui}/api/v1/logs/patterns?since=1h")),
        (
            "patterns, last hour, service=checkout",
            format!("{ui}/api/v1/logs/patterns?since=1h&service=checkout"),
        ),
        ("patterns, last hour, q=payment", format!("{ui}/api/v1/logs/patterns?since=1h&q=payment")),
        ("patterns, last six hours", format!("{ui}/api/v1/logs/patterns?since=6h")),
    ];
    for (what, url) in figures {
        let (p50, p99, answer) = time_query(&client, &url).await;
        let shape = match answer.get("patterns") {
            Some(patterns) => format!(
                "{} patterns, {} of {} records clustered{}",
                patterns.as_array().map_or(0, Vec::len),
                answer["scanned"],
                answer["total"],
                if answer["sampled"] == true { " (sampled)" } else { "" }
            ),
            None => format!("{} matched", answer["matched"]),
        };
        println!("{what}: p50 {p50:.1} ms, p99 {p99:.1} ms ({shape})");
    }
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}
