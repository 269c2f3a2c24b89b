//! Ingest and query benchmark of the real `otelscope` binary on loopback. Prints figures; it
//! asserts nothing, so it never flakes. Run with `make bench` (or `cargo bench -p otelscope`).
//!
//! 1. Baseline: decoding the same OTLP payloads with prost alone, one thread.
//! 2. Burst: OTLP/HTTP protobuf batches of 512 spans (8 traces x 64 spans, 10 attributes each)
//!    from concurrent clients into the durable store: spans/s, server CPU, peak RSS.
//! 3. Sustained: 10,000 spans/s for a while: server CPU (% of one core) and RSS.
//! 4. Queries with 1,000,000 spans stored: trace by id, trace search, `/api/v1/cache` and
//!    `/api/v1/retries` over the last hour and six hours, and the flame graph of one operation
//!    (match any and root, and a diff) once the rollup folded every trace, p50/p99.
//!
//! `BENCH_BATCHES` (400) and `BENCH_QUERY_SPANS` (1,000,000) shrink it for a quick check.
//!
//! Traces start over the last six hours (so the rollups hold 2,160 ten-second buckets), and
//! carry the shapes the cache and retry views read: 4 spans of 64 are cache lookups (`cache.hit`,
//! 2 caches x 2 layers), 2 are HTTP client attempts (`http.request.resend_count` 0 and 1).

use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use prost::Message;

mod support;
use support::{now_ns, percentile, start_server, Server};
const TRACES_PER_BATCH: u64 = 8;
const SPANS_PER_TRACE: u64 = 64;
const SPANS_PER_BATCH: u64 = TRACES_PER_BATCH * SPANS_PER_TRACE;
const CLIENTS: usize = 4;

fn attr(key: String, value: String) -> KeyValue {
    typed(&key, any_value::Value::StringValue(value))
}

fn typed(key: &str, value: any_value::Value) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue { value: Some(value) }),
        ..Default::default()
    }
}

/// What span `s` of trace `trace` adds for the cache and retry views: spans 1–4 are cache
/// lookups, 5 and 6 the two attempts of one HTTP call.
fn insight_attributes(trace: u64, s: u64) -> (Vec<KeyValue>, Option<SpanKind>) {
    use any_value::Value::{BoolValue, IntValue, StringValue};
    match s {
        1..=4 => (
            vec![
                typed("cache.hit", BoolValue(!(trace + s).is_multiple_of(5))),
                typed("cache.name", StringValue(format!("cache-{}", s % 2))),
                typed("cache.layer", StringValue(if s <= 2 { "l1" } else { "l2" }.into())),
            ],
            None,
        ),
        5 | 6 => (
            vec![
                typed("http.request.method", StringValue("GET".into())),
                typed("http.request.resend_count", IntValue(s as i64 - 5)),
            ],
            Some(SpanKind::Client),
        ),
        _ => (Vec::new(), None),
    }
}

/// Batch `n`: 8 new traces of 64 spans, a root and children, 10 string attributes each.
fn batch(n: u64, now_ns: u64) -> Vec<u8> {
    let services = ["frontend", "checkout", "catalog", "payments"];
    let mut spans = Vec::with_capacity(SPANS_PER_BATCH as usize);
    for t in 0..TRACES_PER_BATCH {
        let trace = n * TRACES_PER_BATCH + t + 1;
        let trace_id = [trace.to_be_bytes(), 0xabcdu64.to_be_bytes()].concat();
        // Spread over the last six hours, in ten-second steps.
        let base = now_ns - (trace % 2_160) * 10_000_000_000;
        for s in 0..SPANS_PER_TRACE {
            let start = base + s * 1_000;
            let (mut insights, kind) = insight_attributes(trace, s);
            let mut attributes: Vec<KeyValue> = (0..10)
                .map(|a| attr(format!("attr.{a}"), format!("value-{a}-{}", (trace + s) % 50)))
                .collect();
            attributes.append(&mut insights);
            spans.push(Span {
                trace_id: trace_id.clone(),
                span_id: (trace << 8 | (s + 1)).to_be_bytes().to_vec(),
                parent_span_id: if s == 0 {
                    vec![]
                } else {
                    (trace << 8 | 1).to_be_bytes().to_vec()
                },
                name: match s {
                    0 => "GET /api/op0".to_owned(),
                    // The two attempts of one call share its name.
                    5 | 6 => "GET /upstream/price".to_owned(),
                    _ => format!("call /api/op{}", s % 16),
                },
                kind: kind.map_or(if s == 0 { 2 } else { 1 }, |k| k as i32),
                start_time_unix_nano: start,
                end_time_unix_nano: start + 500_000 + (trace % 100) * 100_000,
                attributes,
                ..Default::default()
            });
        }
    }
    let service = services[(n % 4) as usize];
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![attr("service.name".into(), service.into())],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans { spans, ..Default::default() }],
            ..Default::default()
        }],
    }
    .encode_to_vec()
}

/// utime + stime of `pid` in seconds, and its peak RSS in KiB.
fn cpu_and_peak_rss(pid: u32) -> (f64, u64) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let fields: Vec<&str> = stat.rsplit(')').next().unwrap().split_whitespace().collect();
    let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kib = |key: &str| {
        status
            .lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .unwrap()
            .parse::<u64>()
            .unwrap()
    };
    (ticks / 100.0, kib("VmHWM:"))
}

/// CPU seconds (utime + stime) of the threads of `pid` whose name starts with `prefix`: what
/// the flame fold thread (`otelscope-flames`, shown as `otelscope-flame`) costs.
fn thread_cpu(pid: u32, prefix: &str) -> f64 {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else { return 0.0 };
    let mut ticks = 0.0;
    for task in tasks.flatten() {
        let Ok(stat) = std::fs::read_to_string(task.path().join("stat")) else { continue };
        let name = stat.split_once('(').and_then(|(_, rest)| rest.rsplit_once(')'));
        let Some((name, rest)) = name else { continue };
        if name.starts_with(prefix) {
            let fields: Vec<&str> = rest.split_whitespace().collect();
            ticks +=
                fields[11].parse::<f64>().unwrap_or(0.0) + fields[12].parse::<f64>().unwrap_or(0.0);
        }
    }
    ticks / 100.0
}

fn current_rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .unwrap()
        .parse()
        .unwrap()
}

async fn post_all(client: &reqwest::Client, url: &str, payloads: Vec<Vec<u8>>) {
    for body in payloads {
        let response = client
            .post(url)
            .header("content-type", "application/x-protobuf")
            .body(body)
            .send()
            .await
            .expect("POST");
        assert_eq!(response.status(), 200);
    }
}

/// Sends `batches` starting at batch number `first` from CLIENTS concurrent clients.
async fn burst(server: &Server, first: u64, batches: u64) -> Burst {
    let client = reqwest::Client::new();
    let url = format!("{}/v1/traces", server.otlp);
    let t0 = now_ns();
    let mut per_client: Vec<Vec<Vec<u8>>> = vec![Vec::new(); CLIENTS];
    for n in 0..batches {
        per_client[n as usize % CLIENTS].push(batch(first + n, t0 + n * 1_000_000));
    }
    let pid = server.child.id().unwrap();
    let (cpu0, _) = cpu_and_peak_rss(pid);
    let writer0 = thread_cpu(pid, "otelscope-write");
    let start = Instant::now();
    let tasks: Vec<_> = per_client
        .into_iter()
        .map(|payloads| {
            let (client, url) = (client.clone(), url.clone());
            tokio::spawn(async move { post_all(&client, &url, payloads).await })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let wall = start.elapsed().as_secs_f64();
    let (cpu1, peak) = cpu_and_peak_rss(pid);
    let writer = thread_cpu(pid, "otelscope-write") - writer0;
    let spans = (batches * SPANS_PER_BATCH) as f64;
    Burst {
        rate: spans / wall,
        cores: (cpu1 - cpu0) / wall,
        cpu_us_per_span: (cpu1 - cpu0) / spans * 1e6,
        writer_us_per_span: writer / spans * 1e6,
        peak,
    }
}

/// What one burst measured. CPU per span is the figure to compare on a busy machine: the
/// rate also depends on what else runs.
struct Burst {
    rate: f64,
    cores: f64,
    cpu_us_per_span: f64,
    /// The writer thread's share: one thread, so it bounds the rate.
    writer_us_per_span: f64,
    peak: u64,
}

/// Waits until the flame rollup holds every trace: answers stop changing and are not
/// truncated (queries fold at most 1,000 unfolded traces themselves). Returns the trace count
/// of the frontend's root operation over seven hours (0 for a build without the route).
async fn wait_for_folds(client: &reqwest::Client, ui: &str) -> u64 {
    let url = format!(
        "{ui}/api/v1/flamegraph?service=frontend&name=GET%20/api/op0&match=root&since=7h&format=json"
    );
    let mut last = None;
    for _ in 0..120 {
        tokio::time::sleep(Duration::from_secs(2)).await;
        let Ok(response) = client.get(&url).send().await else { return 0 };
        if !response.status().is_success() {
            return 0;
        }
        let body: serde_json::Value =
            serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
        let traces = body["traces"].as_u64().unwrap_or(0);
        if body["truncated"] == false && last == Some(traces) {
            return traces;
        }
        last = Some(traces);
    }
    last.unwrap_or(0)
}

/// As `time_queries`, or `None` when the build does not answer the path (an older baseline).
async fn time_queries_if_served(client: &reqwest::Client, urls: &[String]) -> Option<(f64, f64)> {
    let probe = client.get(&urls[0]).send().await.ok()?;
    if !probe.status().is_success() {
        return None;
    }
    Some(time_queries(client, urls).await)
}

async fn time_queries(client: &reqwest::Client, urls: &[String]) -> (f64, f64) {
    let mut times = Vec::with_capacity(urls.len());
    for url in urls {
        let start = Instant::now();
        let response = client.get(url).send().await.unwrap();
        assert!(response.status().is_success(), "{url}: {}", response.status());
        let _ = response.bytes().await.unwrap();
        times.push(start.elapsed());
    }
    times.sort();
    (percentile(&times, 0.5), percentile(&times, 0.99))
}

#[tokio::main]
async fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo bench -- --list` probes for tests; this binary has none.
    }
    let burst_batches: u64 =
        std::env::var("BENCH_BATCHES").ok().and_then(|v| v.parse().ok()).unwrap_or(400);
    let query_spans: u64 =
        std::env::var("BENCH_QUERY_SPANS").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);

    // 1. Baseline.
    let payloads: Vec<Vec<u8>> = (0..burst_batches.min(200)).map(|n| batch(n, now_ns())).collect();
    let bytes: usize = payloads.iter().map(Vec::len).sum();
    let start = Instant::now();
    for p in &payloads {
        let decoded = ExportTraceServiceRequest::decode(&p[..]).unwrap();
        std::hint::black_box(decoded);
    }
    let decode_rate =
        (payloads.len() as u64 * SPANS_PER_BATCH) as f64 / start.elapsed().as_secs_f64();
    println!(
        "baseline: prost decode only: {:.0} spans/s ({} KB per 512-span batch)",
        decode_rate,
        bytes / payloads.len() / 1024
    );
    drop(payloads);

    // The binary of this build, and optionally an older one measured in the same run (e.g.
    // the previous release: OTELSCOPE_BASELINE_BIN=path), so figures compare like for like.
    let mut bins = vec![("this build".to_owned(), env!("CARGO_BIN_EXE_otelscope").to_owned())];
    // The second binary measured runs a few % slower on a 2-core machine (an A/A run of one
    // binary in both places gave 0.95-0.97x), so BENCH_BASELINE_LAST=1 swaps the order.
    if let Ok(baseline) = std::env::var("OTELSCOPE_BASELINE_BIN") {
        let at = if std::env::var_os("BENCH_BASELINE_LAST").is_some() { 1 } else { 0 };
        bins.insert(at, (format!("baseline {baseline}"), baseline));
    }
    for (label, bin) in bins {
        println!("--- {label}");
        measure(&bin, burst_batches, query_spans, decode_rate).await;
    }
}

async fn measure(bin: &str, burst_batches: u64, query_spans: u64, decode_rate: f64) {
    let dir = std::env::temp_dir().join(format!("otelscope-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut server = start_server(bin, &dir, &[]).await;
    let pid = server.child.id().unwrap();

    // 2. Burst.
    let b = burst(&server, 0, burst_batches).await;
    println!(
        "ingest burst: {burst_batches} batches x {SPANS_PER_BATCH} spans, {CLIENTS} clients: {:.0} spans/s \
         = {:.2}x of decode-only; server CPU {:.0}% of one core; peak RSS {} MiB",
        b.rate,
        b.rate / decode_rate,
        b.cores * 100.0,
        b.peak / 1024
    );
    println!(
        "ingest burst CPU per span: {:.2} µs in all, {:.2} µs on the writer thread",
        b.cpu_us_per_span, b.writer_us_per_span
    );

    // 3. Sustained 10,000 spans/s: one 512-span batch every 51.2 ms for 15 s.
    let client = reqwest::Client::new();
    let url = format!("{}/v1/traces", server.otlp);
    let batches = 15_000 / 51;
    let mut interval = tokio::time::interval(Duration::from_micros(51_200));
    let (cpu0, _) = cpu_and_peak_rss(pid);
    let fold0 = thread_cpu(pid, "otelscope-flame");
    let start = Instant::now();
    let mut max_rss = 0;
    for n in 0..batches {
        interval.tick().await;
        post_all(&client, &url, vec![batch(100_000 + n, now_ns())]).await;
        max_rss = max_rss.max(current_rss(pid));
    }
    let wall = start.elapsed().as_secs_f64();
    let (cpu1, _) = cpu_and_peak_rss(pid);
    println!(
        "ingest sustained: {:.0} spans/s for {wall:.0} s: server CPU {:.1}% of one core; RSS up to {} MiB",
        (batches * SPANS_PER_BATCH) as f64 / wall,
        (cpu1 - cpu0) / wall * 100.0,
        max_rss / 1024
    );
    // The fold pass takes a trace 5 s after its last part: let it catch up before reading.
    tokio::time::sleep(Duration::from_secs(8)).await;
    println!(
        "flame fold thread during sustained ingest (+8 s to catch up): {:.1}% of one core",
        (thread_cpu(pid, "otelscope-flame") - fold0) / wall * 100.0
    );

    // 4. Queries at `query_spans` stored spans.
    let stored = (burst_batches + batches) * SPANS_PER_BATCH;
    let more = query_spans.saturating_sub(stored).div_ceil(SPANS_PER_BATCH);
    burst(&server, 200_000, more).await;
    let total = stored + more * SPANS_PER_BATCH;
    let client = reqwest::Client::new();
    let ids: Vec<String> = (0..500u64)
        .map(|i| {
            let trace = (i * 7919) % ((burst_batches) * TRACES_PER_BATCH) + 1;
            format!("{}/api/v1/traces/{trace:016x}{:016x}", server.ui, 0xabcdu64)
        })
        .collect();
    let (p50, p99) = time_queries(&client, &ids).await;
    println!("query at {total} spans: trace by id (64 spans): p50 {p50:.2} ms, p99 {p99:.2} ms");
    let searches: Vec<String> = [
        "limit=20",
        "service=checkout&limit=20",
        "service=catalog&name=call%20/api/op3&limit=20",
        "min_duration_ms=9&limit=20",
        "service=payments&min_duration_ms=5&max_duration_ms=8&limit=20",
        "since=10m&limit=50",
        "attr=attr.3%3Dvalue-3-7&limit=20",
    ]
    .iter()
    .cycle()
    .take(350)
    .map(|q| format!("{}/api/v1/traces?{q}", server.ui))
    .collect();
    let (p50, p99) = time_queries(&client, &searches).await;
    println!("query at {total} spans: trace search with filters (7 kinds): p50 {p50:.2} ms, p99 {p99:.2} ms");
    for (what, path) in [
        ("cache, last hour", "/api/v1/cache?since=1h"),
        ("cache, last 6 hours", "/api/v1/cache?since=6h"),
        ("retries, last hour", "/api/v1/retries?since=1h"),
        ("retries, last 6 hours", "/api/v1/retries?since=6h"),
    ] {
        let urls = vec![format!("{}{path}", server.ui); 200];
        match time_queries_if_served(&client, &urls).await {
            Some((p50, p99)) => {
                println!("query at {total} spans: {what}: p50 {p50:.2} ms, p99 {p99:.2} ms")
            }
            None => println!("query at {total} spans: {what}: not served by this build"),
        }
    }
    // Flame graphs of one operation, from the rollup: first wait until the fold pass took every
    // trace (it folds a trace 5 s after its last part arrived).
    let waited = Instant::now();
    let traces = wait_for_folds(&client, &server.ui).await;
    println!(
        "flame rollup: all {traces} frontend root traces folded {:.1} s after the last query above; \
         the fold thread used {:.1} CPU s in all ({:.2} s per million spans)",
        waited.elapsed().as_secs_f64(),
        thread_cpu(pid, "otelscope-flame"),
        thread_cpu(pid, "otelscope-flame") / (total as f64 / 1e6)
    );
    for (what, path) in [
        (
            "flame graph of one operation (match=any), last hour",
            "service=catalog&name=call%20/api/op3&since=1h&format=json",
        ),
        (
            "flame graph of one operation (match=any), last 6 hours",
            "service=catalog&name=call%20/api/op3&since=6h&format=json",
        ),
        (
            "flame graph of a root operation (match=root), last hour",
            "service=frontend&name=GET%20/api/op0&match=root&since=1h&format=json",
        ),
        (
            "flame graph of a root operation (match=root), last 6 hours",
            "service=frontend&name=GET%20/api/op0&match=root&since=6h&format=json",
        ),
        (
            "flame graph diff, last hour against the 5 before (folded text)",
            "service=catalog&name=call%20/api/op3&since=1h&base_since=6h",
        ),
    ] {
        let urls = vec![format!("{}/api/v1/flamegraph?{path}", server.ui); 200];
        match time_queries_if_served(&client, &urls).await {
            Some((p50, p99)) => {
                println!("query at {total} spans: {what}: p50 {p50:.2} ms, p99 {p99:.2} ms")
            }
            None => println!("query at {total} spans: {what}: not served by this build"),
        }
    }
    let (_, peak) = cpu_and_peak_rss(pid);
    let db_bytes: u64 =
        std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().metadata().unwrap().len()).sum();
    println!(
        "store: {} MiB on disk for {total} spans = {:.0} B/span; server peak RSS {} MiB",
        db_bytes >> 20,
        db_bytes as f64 / total as f64,
        peak / 1024
    );
    print_histogram_sizes(&dir.join("otelscope.db"));
    server.child.kill().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

/// The stored latency histograms' mean size per row of each table that keeps one (read while
/// the server runs: the store is in WAL mode).
fn print_histogram_sizes(db: &std::path::Path) {
    let Ok(conn) =
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
    else {
        return;
    };
    let mut figures = Vec::new();
    for (table, column) in [
        ("trace_ops", "latency"),
        ("service_stats", "latency"),
        ("red_rollup", "latency"),
        ("edge_rollup", "latency"),
        ("retry_rollup", "delays"),
    ] {
        let sql = format!("SELECT count(*), avg(length({column})) FROM {table}");
        if let Ok((rows, mean)) =
            conn.query_row(&sql, [], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Option<f64>>(1)?)))
        {
            figures.push(format!("{table} {:.1} B ({rows} rows)", mean.unwrap_or(0.0)));
        }
    }
    println!("store: latency histogram bytes per row: {}", figures.join(", "));
}
