//! Metrics benchmark of the real `otelscope` binary on loopback. Prints figures; it asserts
//! nothing, so it never flakes. Run with `make bench` (or `cargo bench -p otelscope --bench
//! metrics`); `BENCH_METRIC_POINTS` (1,000,000) shrinks it for a quick check.
//!
//! 1. Ingest: OTLP/HTTP protobuf exports of 550 points (one resource; 10 cumulative monotonic
//!    sums and gauges × 50 series, one explicit-bucket histogram × 50 series, 3 attributes a
//!    point), one export per 12 s of sender time spread over the last six hours, from 32
//!    concurrent clients into the durable store (enough for the writer to commit groups), points/s.
//! 2. Queries with that store (1,000,000 points): the catalogue, a rate over 6 h (50 series
//!    summed), a histogram's p99 over 6 h (50 series merged), a group-by of the 50 series of a
//!    counter over 6 h: p50/p99 of 40 runs each.
//! 3. Bytes per point: the database's pages in use (page count minus SQLite's free pages, after
//!    the server stopped and its WAL was checkpointed), over the points stored.
//!
//! The machine is shared: beside each rate and latency the bench prints the server's CPU time
//! per point (all threads, and the writer thread alone) and per query, and the load average;
//! those hold on a busy machine where wall-clock figures do not.

use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::metrics::v1::{
    metric::Data, number_data_point, AggregationTemporality, Exemplar, Gauge, Histogram,
    HistogramDataPoint, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use prost::Message;

mod support;
use support::{now_ns, percentile, start_server};
const SERIES: u64 = 50;
const COUNTERS: u64 = 5;
const GAUGES: u64 = 5;
const POINTS_PER_EXPORT: u64 = (COUNTERS + GAUGES + 1) * SERIES;
const CLIENTS: usize = 32;
const SIX_HOURS_NS: u64 = 6 * 3_600_000_000_000;

fn text(key: &str, value: String) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue { value: Some(any_value::Value::StringValue(value)) }),
        ..Default::default()
    }
}

fn attrs(s: u64) -> Vec<KeyValue> {
    vec![
        text("http.route", format!("/api/route{s}")),
        text("http.request.method", "GET".into()),
        text("host", format!("host-{}", s % 5)),
    ]
}

/// Export `n` of `exports`, at its place in the six hours before `end_ns`.
fn export(n: u64, exports: u64, start_ns: u64, end_ns: u64) -> Vec<u8> {
    let time = end_ns - SIX_HOURS_NS + n * (SIX_HOURS_NS / exports.max(1));
    let number = |value: f64, s: u64| NumberDataPoint {
        attributes: attrs(s),
        start_time_unix_nano: start_ns,
        time_unix_nano: time,
        value: Some(number_data_point::Value::AsDouble(value)),
        ..Default::default()
    };
    let mut metrics = Vec::new();
    for c in 0..COUNTERS {
        metrics.push(Metric {
            name: format!("bench.requests.{c}"),
            unit: "{request}".into(),
            data: Some(Data::Sum(Sum {
                data_points: (0..SERIES).map(|s| number((n * (s + 1) * 3) as f64, s)).collect(),
                aggregation_temporality: AggregationTemporality::Cumulative as i32,
                is_monotonic: true,
            })),
            ..Default::default()
        });
    }
    for g in 0..GAUGES {
        metrics.push(Metric {
            name: format!("bench.memory.{g}"),
            unit: "By".into(),
            data: Some(Data::Gauge(Gauge {
                data_points: (0..SERIES)
                    .map(|s| number(1e6 + ((n * 7919 + s * 104_729) % 65_536) as f64, s))
                    .collect(),
            })),
            ..Default::default()
        });
    }
    let bounds = vec![0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];
    metrics.push(Metric {
        name: "bench.duration".into(),
        unit: "s".into(),
        data: Some(Data::Histogram(Histogram {
            data_points: (0..SERIES)
                .map(|s| {
                    let counts: Vec<u64> =
                        (0..=bounds.len() as u64).map(|b| n * ((b * 7 + s) % 11 + 1)).collect();
                    HistogramDataPoint {
                        attributes: attrs(s),
                        start_time_unix_nano: start_ns,
                        time_unix_nano: time,
                        count: counts.iter().sum(),
                        sum: Some(n as f64 * 12.5),
                        bucket_counts: counts,
                        explicit_bounds: bounds.clone(),
                        exemplars: if s == 0 {
                            vec![Exemplar {
                                time_unix_nano: time,
                                trace_id: vec![0xab; 16],
                                span_id: vec![0xcd; 8],
                                value: Some(
                                    opentelemetry_proto::tonic::metrics::v1::exemplar::Value::AsDouble(0.2),
                                ),
                                ..Default::default()
                            }]
                        } else {
                            Vec::new()
                        },
                        ..Default::default()
                    }
                })
                .collect(),
            aggregation_temporality: AggregationTemporality::Cumulative as i32,
        })),
        ..Default::default()
    });
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(Resource {
                attributes: vec![text("service.name", "bench-api".into())],
                ..Default::default()
            }),
            scope_metrics: vec![ScopeMetrics { metrics, ..Default::default() }],
            ..Default::default()
        }],
    }
    .encode_to_vec()
}

async fn time_query(client: &reqwest::Client, url: &str, runs: usize) -> (f64, f64, usize) {
    let mut times = Vec::with_capacity(runs);
    let mut size = 0;
    for _ in 0..runs {
        let start = Instant::now();
        let response = client.get(url).send().await.unwrap();
        assert!(response.status().is_success(), "{url}: {}", response.status());
        size = response.bytes().await.unwrap().len();
        times.push(start.elapsed());
    }
    times.sort();
    (percentile(&times, 0.5), percentile(&times, 0.99), size)
}

/// utime + stime of `pid` in seconds.
fn process_cpu(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat.rsplit(')').next().unwrap_or("").split_whitespace().collect();
    let tick = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
    (tick(11) + tick(12)) / 100.0
}

/// CPU seconds of the threads of `pid` whose name starts with `prefix`.
fn thread_cpu(pid: u32, prefix: &str) -> f64 {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else { return 0.0 };
    let mut ticks = 0.0;
    for task in tasks.flatten() {
        let Ok(stat) = std::fs::read_to_string(task.path().join("stat")) else { continue };
        let Some((name, rest)) = stat.split_once('(').and_then(|(_, r)| r.rsplit_once(')')) else {
            continue;
        };
        if name.starts_with(prefix) {
            let fields: Vec<&str> = rest.split_whitespace().collect();
            ticks +=
                fields[11].parse::<f64>().unwrap_or(0.0) + fields[12].parse::<f64>().unwrap_or(0.0);
        }
    }
    ticks / 100.0
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// Pages in use × page size of the stopped server's store. What its WAL still holds is
/// checkpointed into the file first: the server does not always do it on the way out, and a
/// store written with few rewrites may never reach SQLite's automatic checkpoint, so the file
/// alone could hold almost nothing.
fn used_bytes(db: &std::path::Path) -> u64 {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())).unwrap();
    let pragma =
        |name: &str| conn.query_row(&format!("PRAGMA {name}"), [], |r| r.get::<_, i64>(0)).unwrap();
    ((pragma("page_count") - pragma("freelist_count")) * pragma("page_size")).max(0) as u64
}

#[tokio::main]
async fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let points: u64 =
        std::env::var("BENCH_METRIC_POINTS").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let exports = points.div_ceil(POINTS_PER_EXPORT);
    let dir = std::env::temp_dir().join(format!("otelscope-metrics-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let bin = env!("CARGO_BIN_EXE_otelscope");
    let mut server =
        start_server(bin, &dir, &["--retention-age", "30d", "--self-telemetry", "off"]).await;
    let end = now_ns();
    let start_ns = end - SIX_HOURS_NS - 1_000_000_000;
    let mut per_client: Vec<Vec<Vec<u8>>> = vec![Vec::new(); CLIENTS];
    for n in 0..exports {
        per_client[n as usize % CLIENTS].push(export(n, exports, start_ns, end));
    }
    let body_bytes: usize = per_client.iter().flatten().map(Vec::len).sum();
    let client = reqwest::Client::new();
    let url = format!("{}/v1/metrics", server.otlp);
    let pid = server.pid();
    let (cpu0, writer0) = (process_cpu(pid), thread_cpu(pid, "otelscope-write"));
    let started = Instant::now();
    let tasks: Vec<_> = per_client
        .into_iter()
        .map(|payloads| {
            let (client, url) = (client.clone(), url.clone());
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
                    let answer = response.bytes().await.unwrap();
                    assert!(answer.is_empty() || answer.len() < 8, "partial success: {answer:?}");
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let wall = started.elapsed().as_secs_f64();
    let (cpu, writer) = (process_cpu(pid) - cpu0, thread_cpu(pid, "otelscope-write") - writer0);
    let stored = exports * POINTS_PER_EXPORT;
    println!(
        "metric ingest: {stored} points in {exports} OTLP/HTTP exports ({} B a point on the wire) in {wall:.1} s: {:.0} points/s (goal >= 200,000); load average {}",
        body_bytes as u64 / stored,
        stored as f64 / wall,
        load_average()
    );
    println!(
        "metric ingest CPU per point: {:.2} µs in all ({:.0} points/s a core), {:.2} µs on the writer thread",
        cpu / stored as f64 * 1e6,
        stored as f64 / cpu.max(1e-9),
        writer / stored as f64 * 1e6
    );

    let ui = &server.ui;
    let runs = 40;
    let queries = [
        ("catalogue", format!("{ui}/api/v1/metrics")),
        (
            "rate over 6 h (50 series)",
            format!("{ui}/api/v1/metrics/bench.requests.0/series?since=6h&agg=rate"),
        ),
        (
            "histogram p99 over 6 h",
            format!("{ui}/api/v1/metrics/bench.duration/series?since=6h&agg=p99"),
        ),
        (
            "group-by of 50 series over 6 h",
            format!(
                "{ui}/api/v1/metrics/bench.requests.1/series?since=6h&group_by=http.route&limit=50"
            ),
        ),
    ];
    for (label, url) in &queries {
        let cpu0 = process_cpu(pid);
        let (p50, p99, size) = time_query(&client, url, runs).await;
        let cpu = (process_cpu(pid) - cpu0) / runs as f64 * 1e3;
        println!("query at {stored} points: {label}: p50 {p50:.1} ms, p99 {p99:.1} ms, server CPU {cpu:.1} ms a query ({size} B; load average {}) (goal p99 <= 30 ms)", load_average());
    }
    // Stopped, so its store can be opened here and what its WAL holds counted in.
    let _ = std::process::Command::new("kill").args(["-TERM", &pid.to_string()]).status();
    let _ = tokio::time::timeout(Duration::from_secs(60), server.child.wait()).await;
    let used = used_bytes(&dir.join("otelscope.db"));
    println!(
        "bytes per point: {:.1} ({} KB of database pages in use for {stored} points; goal <= 24 for gauges and sums)",
        used as f64 / stored as f64,
        used / 1024
    );
    let _ = std::fs::remove_dir_all(&dir);
}
