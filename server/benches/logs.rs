//! Logs benchmark of the real `otelscope` binary on loopback (issue 23, item 8, the store and
//! API half). Prints figures; asserts nothing beyond answers being 200s, so it never flakes.
//! Run with `make bench` (or `cargo bench -p otelscope --bench logs`).
//!
//! 1. Span ingest, the baseline of the same run: OTLP/HTTP protobuf batches of 512 spans from 4
//!    clients into the durable store (as `benches/ingest.rs` sends them), spans/s.
//! 2. The history of the last six hours, oldest first, as senders would have sent it.
//! 3. Log ingest the same way as the spans, at the current time: batches of 512 records (4
//!    services, a body from 12 templates with numbers, ids and addresses in it, 4 attributes, a
//!    5-attribute resource, a scope, trace context on 3 of 4), records/s, and the ratio to
//!    spans/s; then bytes per record on disk: the store's files grown by the records, divided
//!    by them.
//! 4. With `BENCH_LOG_RECORDS` (1,000,000) records stored, spread over the last six hours, the
//!    p50/p99 over the last hour of a filtered list, full-text searches (a word, a phrase, a
//!    word with an exclusion), an attribute filter, the histogram and the facets; and a
//!    trace's logs and its error logs (the span panel and the waterfall's marks).
//!
//! Knobs: `BENCH_BATCHES` (200) batches per burst, `BENCH_LOG_RECORDS` (1,000,000) records
//! stored, `BENCH_SERVER_BIN` another binary (a before figure from the same run),
//! `BENCH_LOG_KEEP=1` keeps the store's directory (printed) to look into it afterwards.

use std::time::Instant;

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use prost::Message;

mod support;
use support::{now_ns, percentile, start_server};
const PER_BATCH: u64 = 512;
const CLIENTS: usize = 4;
const SERVICES: [&str; 4] = ["frontend", "checkout", "catalog", "payments"];
const HOUR_NS: u64 = 3_600_000_000_000;

fn text(key: &str, value: String) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue { value: Some(any_value::Value::StringValue(value)) }),
        ..Default::default()
    }
}

fn int(key: &str, value: i64) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue { value: Some(any_value::Value::IntValue(value)) }),
        ..Default::default()
    }
}

fn resource(service: &str) -> Resource {
    Resource {
        attributes: vec![
            text("service.name", service.to_owned()),
            text("service.version", "1.4.2".into()),
            text("telemetry.sdk.name", "opentelemetry".into()),
            text("telemetry.sdk.language", "python".into()),
            text("host.name", format!("{service}-7d9f8b6c5-x2x4q")),
        ],
        ..Default::default()
    }
}

/// Span batch `n`: 8 traces of 64 spans with 10 attributes each (as `benches/ingest.rs`).
fn span_batch(n: u64, now_ns: u64) -> Vec<u8> {
    let mut spans = Vec::with_capacity(PER_BATCH as usize);
    for t in 0..8u64 {
        let trace = n * 8 + t + 1;
        let trace_id = [trace.to_be_bytes(), 0x5eedu64.to_be_bytes()].concat();
        for s in 0..64u64 {
            let start = now_ns - (trace % 2_160) * 10_000_000_000 + s * 1_000;
            spans.push(Span {
                trace_id: trace_id.clone(),
                span_id: (trace << 8 | (s + 1)).to_be_bytes().to_vec(),
                parent_span_id: if s == 0 {
                    vec![]
                } else {
                    (trace << 8 | 1).to_be_bytes().to_vec()
                },
                name: format!("call /api/op{}", s % 16),
                kind: if s == 0 { 2 } else { 1 },
                start_time_unix_nano: start,
                end_time_unix_nano: start + 500_000,
                attributes: (0..10)
                    .map(|a| text(&format!("attr.{a}"), format!("value-{a}-{}", (trace + s) % 50)))
                    .collect(),
                ..Default::default()
            });
        }
    }
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(resource(SERVICES[(n % 4) as usize])),
            scope_spans: vec![ScopeSpans { spans, ..Default::default() }],
            ..Default::default()
        }],
    }
    .encode_to_vec()
}

/// The trace id of records of log batch `n`, group `g` (8 records a trace).
fn log_trace_id(n: u64, g: u64) -> Vec<u8> {
    [(n * 64 + g + 1).to_be_bytes(), 0x106u64.to_be_bytes()].concat()
}

/// Record `i` of log batch `n` at `time_ns`: a body from one of 12 templates, a severity that
/// goes with it, 4 attributes, trace context on 3 records of 4.
fn log_record(n: u64, i: u64, time_ns: u64) -> LogRecord {
    let k = n * PER_BATCH + i;
    let (severity, body) = match k % 12 {
        0 => (9, format!("user {} logged in from 10.{}.{}.{}", k % 9973, k % 7, k % 250, k % 199)),
        1 => (9, format!("GET /api/items/{} 200 in {} ms", k % 5000, k % 97)),
        2 => (5, format!("cache miss for key product:{}", k % 20_000)),
        3 => (5, format!("cache hit for key product:{} (age {} s)", k % 20_000, k % 300)),
        4 => (13, format!("retry {} of 3 after {} ms: upstream timeout", k % 3 + 1, 20 << (k % 3))),
        5 => (
            9,
            format!(
                "order {:08x}-{:04x} placed, total {}.{:02} EUR",
                k * 2_654_435_761 % 0xffff_ffff,
                k % 0xffff,
                k % 500,
                k % 100
            ),
        ),
        6 => (
            17,
            format!(
                "payment declined for order {:08x}: insufficient funds",
                k * 40_503 % 0xffff_ffff
            ),
        ),
        7 => (9, format!("POST /api/cart/{}/items 201 in {} ms", k % 800, k % 61)),
        8 => (
            13,
            format!("slow query on table orders took {} ms (rows {})", 200 + k % 900, k % 10_000),
        ),
        9 => (21, format!("circuit open for upstream price-service after {} failures", 5 + k % 5)),
        10 => (9, format!("session {:016x} refreshed", k.wrapping_mul(0x9e37_79b9_7f4a_7c15))),
        _ => (1, format!("tick {} queue depth {}", k, k % 64)),
    };
    let traced = !k.is_multiple_of(4);
    LogRecord {
        time_unix_nano: time_ns,
        observed_time_unix_nano: time_ns + 1_000,
        severity_number: severity,
        severity_text: [
            "", "TRACE", "", "", "", "DEBUG", "", "", "", "INFO", "", "", "", "WARN", "", "", "",
            "ERROR", "", "", "", "FATAL",
        ][severity as usize]
            .into(),
        body: Some(AnyValue { value: Some(any_value::Value::StringValue(body)) }),
        attributes: vec![
            text("code.function", format!("handler_{}", k % 12)),
            text("code.filepath", format!("app/handlers/h{}.py", k % 12)),
            int("thread.id", (k % 8) as i64 + 1),
            text(
                "http.route",
                ["/api/items", "/api/cart", "/api/orders", "/api/pay"][(k % 4) as usize].into(),
            ),
        ],
        trace_id: if traced { log_trace_id(n, i / 8) } else { vec![] },
        span_id: if traced { (k + 1).to_be_bytes().to_vec() } else { vec![] },
        flags: if traced { 1 } else { 0 },
        ..Default::default()
    }
}

/// Log batch `n`: 512 records of one service, as a service sends them as they happen: at times
/// from `start_ns` on, `gap_ns` apart, a few out of order (jitter up to 50 ms back).
fn log_batch(n: u64, start_ns: u64, gap_ns: u64) -> Vec<u8> {
    let records: Vec<LogRecord> = (0..PER_BATCH)
        .map(|i| {
            let jitter = (n * PER_BATCH + i).wrapping_mul(2_654_435_761) % 50_000_000;
            log_record(n, i, (start_ns + i * gap_ns).saturating_sub(jitter))
        })
        .collect();
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: Some(resource(SERVICES[(n % 4) as usize])),
            scope_logs: vec![ScopeLogs {
                scope: Some(InstrumentationScope {
                    name: "app.handlers".into(),
                    version: "1.4.2".into(),
                    ..Default::default()
                }),
                log_records: records,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
    .encode_to_vec()
}

/// POSTs `payloads` to `url` from CLIENTS concurrent clients; items per second.
async fn burst(url: &str, payloads: Vec<Vec<u8>>) -> f64 {
    let client = reqwest::Client::new();
    let items = payloads.len() as u64 * PER_BATCH;
    let mut per_client: Vec<Vec<Vec<u8>>> = vec![Vec::new(); CLIENTS];
    for (n, payload) in payloads.into_iter().enumerate() {
        per_client[n % CLIENTS].push(payload);
    }
    let start = Instant::now();
    let tasks: Vec<_> = per_client
        .into_iter()
        .map(|payloads| {
            let (client, url) = (client.clone(), url.to_owned());
            tokio::spawn(async move {
                for body in payloads {
                    let response = client
                        .post(&url)
                        .header("content-type", "application/x-protobuf")
                        .body(body)
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
    items as f64 / start.elapsed().as_secs_f64()
}

/// CPU seconds (user + system) process `pid` has used so far.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command's closing parenthesis: utime and stime are the 12th and 13th.
    let rest = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

/// The 1-minute load average.
fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_owned))
        .unwrap_or_default()
}

fn dir_bytes(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().metadata().unwrap().len()).sum()
}

/// p50 and p99 in ms over `urls`, after one warm-up request each kind; also the `matched` of
/// the first answer (when it has one) so the figure says how much it found.
async fn time_queries(client: &reqwest::Client, urls: &[String]) -> (f64, f64, String) {
    let first: serde_json::Value =
        serde_json::from_slice(&client.get(&urls[0]).send().await.unwrap().bytes().await.unwrap())
            .unwrap();
    let found = match (&first["matched"], &first["scanned"], &first["buckets"]) {
        (serde_json::Value::Number(n), _, _) => format!("matched {n}"),
        (_, serde_json::Value::Number(n), _) => format!("scanned {n}"),
        (_, _, serde_json::Value::Array(b)) => format!("{} buckets", b.len()),
        _ => String::new(),
    };
    let mut times = Vec::with_capacity(urls.len());
    for url in urls {
        let start = Instant::now();
        let response = client.get(url).send().await.unwrap();
        assert!(response.status().is_success(), "{url}: {}", response.status());
        let _ = response.bytes().await.unwrap();
        times.push(start.elapsed());
    }
    times.sort();
    (percentile(&times, 0.5), percentile(&times, 0.99), found)
}

#[tokio::main]
async fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo bench -- --list` probes for tests; this binary has none.
    }
    let env = |name: &str, default: u64| {
        std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
    };
    let burst_batches = env("BENCH_BATCHES", 200);
    let records = env("BENCH_LOG_RECORDS", 1_000_000);
    let dir = std::env::temp_dir().join(format!("otelscope-bench-logs-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut server = start_server(
        env!("CARGO_BIN_EXE_otelscope"),
        &dir,
        &["--retention-bytes", "100GiB", "--self-telemetry", "off"],
    )
    .await;

    // 1. Spans, the baseline.
    let t0 = now_ns();
    let payloads = (0..burst_batches).map(|n| span_batch(n, t0)).collect();
    let pid = server.pid();
    let cpu = cpu_seconds(pid);
    let spans_rate = burst(&format!("{}/v1/traces", server.otlp), payloads).await;
    let span_cpu_us = (cpu_seconds(pid) - cpu) * 1e6 / (burst_batches * PER_BATCH) as f64;
    println!(
        "span ingest: {burst_batches} batches x {PER_BATCH} spans, {CLIENTS} clients: {spans_rate:.0} spans/s, \
         server CPU {span_cpu_us:.1} us/span (load {})",
        load()
    );

    // 2. Fill the store with the history of the last six hours, oldest first (as senders
    //    would have sent it), all but the burst measured below.
    let before = dir_bytes(&dir);
    let url = format!("{}/v1/logs", server.otlp);
    let history = records.saturating_sub(burst_batches * PER_BATCH).div_ceil(PER_BATCH);
    let spread = 6 * HOUR_NS;
    let gap = spread / (history.max(1) * PER_BATCH);
    let start = now_ns() - spread;
    let mut sent = 0;
    while sent < history {
        let upto = (sent + 400).min(history);
        let payloads =
            (sent..upto).map(|n| log_batch(n, start + n * PER_BATCH * gap, gap)).collect();
        burst(&url, payloads).await;
        sent = upto;
    }

    // 3. Logs through the same path as the spans, as they happen now.
    let t0 = now_ns();
    let payloads: Vec<Vec<u8>> = (0..burst_batches)
        .map(|b| log_batch(history + b, t0 + b * PER_BATCH * 10_000, 10_000))
        .collect();
    let body_bytes: usize = payloads.iter().map(Vec::len).sum();
    let cpu = cpu_seconds(pid);
    let logs_rate = burst(&url, payloads).await;
    let log_cpu_us = (cpu_seconds(pid) - cpu) * 1e6 / (burst_batches * PER_BATCH) as f64;
    println!(
        "log ingest ({} records stored before): {burst_batches} batches x {PER_BATCH} records ({} B of protobuf a record), \
         {CLIENTS} clients: {logs_rate:.0} records/s = {:.2}x span ingest; server CPU {log_cpu_us:.1} us/record \
         = {:.2}x a span's, {:.0} records/s per core (load {})",
        history * PER_BATCH,
        body_bytes as u64 / (burst_batches * PER_BATCH),
        logs_rate / spans_rate,
        log_cpu_us / span_cpu_us,
        1e6 / log_cpu_us,
        load()
    );
    sent = history + burst_batches;
    let total = sent * PER_BATCH;
    let grown = dir_bytes(&dir).saturating_sub(before);
    println!(
        "log store: {} MiB on disk for {total} records = {:.0} B/record (chunks, index rows, indexes and full-text)",
        grown >> 20,
        grown as f64 / total as f64
    );
    let client = reqwest::Client::new();
    let ui = &server.ui;
    // A trace with logs of each kind, in the last hour or not: the span panel's question.
    let traces: Vec<String> = (0..200u64)
        .map(|i| {
            let n = (i * 7_919) % sent;
            log_trace_id(n, (i * 13) % 64).iter().map(|b| format!("{b:02x}")).collect()
        })
        .collect();
    let kinds: Vec<(&str, Vec<String>)> = vec![
        ("filtered list (service, severity>=warn)", vec!["service=checkout&severity=warn".into()]),
        (
            "filtered list (service, attr)",
            vec!["service=payments&attr=http.route%3D/api/pay".into()],
        ),
        ("full text, a word", vec!["q=declined".into(), "q=timeout".into(), "q=session".into()]),
        ("full text, a phrase", vec!["q=%22cache+miss%22".into(), "q=%22circuit+open%22".into()]),
        ("full text, a word and an exclusion", vec!["q=cache+-hit".into(), "q=api+-items".into()]),
        ("list without a service", vec!["not_service=frontend&severity=warn".into()]),
        ("full text, a rare word", vec!["q=1234".into(), "q=product%3A4242".into()]),
    ];
    let n = 200;
    for (what, queries) in &kinds {
        let urls: Vec<String> = queries
            .iter()
            .cycle()
            .take(n)
            .map(|q| format!("{ui}/api/v1/logs?{q}&since=1h&limit=100"))
            .collect();
        let (p50, p99, found) = time_queries(&client, &urls).await;
        println!("query at {total} records, last hour: {what}: p50 {p50:.2} ms, p99 {p99:.2} ms ({found})");
    }
    for (what, path) in [
        ("histogram (60 steps)", "/api/v1/logs/histogram?since=1h"),
        ("histogram of severity>=warn", "/api/v1/logs/histogram?since=1h&severity=warn"),
        ("histogram of a word", "/api/v1/logs/histogram?since=1h&q=declined"),
        ("histogram of a service", "/api/v1/logs/histogram?since=1h&service=payments"),
        ("histogram of a service left out", "/api/v1/logs/histogram?since=1h&not_service=payments"),
        ("facets", "/api/v1/logs/facets?since=1h"),
        ("facets of a service", "/api/v1/logs/facets?since=1h&service=catalog"),
        ("list, no filter", "/api/v1/logs?since=1h&limit=100"),
    ] {
        let urls = vec![format!("{ui}{path}"); n];
        let (p50, p99, found) = time_queries(&client, &urls).await;
        println!("query at {total} records, last hour: {what}: p50 {p50:.2} ms, p99 {p99:.2} ms ({found})");
    }
    let by_trace: Vec<String> =
        traces.iter().map(|t| format!("{ui}/api/v1/logs?trace_id={t}")).collect();
    let (p50, p99, found) = time_queries(&client, &by_trace).await;
    println!("query at {total} records: a trace's logs (span panel): p50 {p50:.2} ms, p99 {p99:.2} ms ({found})");
    let errors: Vec<String> =
        traces.iter().map(|t| format!("{ui}/api/v1/logs?trace_id={t}&severity=error")).collect();
    let (p50, p99, found) = time_queries(&client, &errors).await;
    println!("query at {total} records: a trace's error logs (waterfall marks): p50 {p50:.2} ms, p99 {p99:.2} ms ({found})");
    server.child.kill().await.unwrap();
    if std::env::var("BENCH_LOG_KEEP").is_ok_and(|v| v == "1") {
        println!("store kept in {}", dir.display());
    } else {
        let _ = std::fs::remove_dir_all(&dir);
    }
}
