//! A load generator for the OTLP receivers (HTTP and gRPC at once) that keeps count of every
//! span the server acknowledged, and times the query API while the load runs. Used by the short
//! overload test in `faults.rs` and by the long run in `benches/load.rs`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;

use crate::{now_ns, otlp_traces, Server};

/// What to send.
#[derive(Clone, Copy, Debug)]
pub struct Load {
    /// Export requests per second, spread over HTTP and gRPC (open loop: sent on schedule
    /// whether or not earlier ones were answered).
    pub requests_per_second: f64,
    pub duration: Duration,
    pub spans_per_request: u32,
    /// Requests in flight at most; a send that finds this many waiting is counted as not sent.
    pub max_in_flight: u64,
}

/// What happened.
#[derive(Debug, Default)]
pub struct Report {
    pub sent: u64,
    pub acknowledged_spans: u64,
    /// 429/503 (HTTP) or UNAVAILABLE/RESOURCE_EXHAUSTED (gRPC): told to retry.
    pub refused: u64,
    /// Refusals over HTTP without a `Retry-After` header (must stay 0).
    pub refused_without_retry_after: u64,
    /// Anything else: errors the load must never cause.
    pub failed: u64,
    pub not_sent: u64,
    pub elapsed: Duration,
    /// `GET /api/v1/traces?limit=20` and the `/traces` page, timed while the load ran.
    pub query_times: Vec<Duration>,
    pub page_times: Vec<Duration>,
    pub failed_queries: u64,
}

impl Report {
    /// The `p`th percentile of `times`, in milliseconds.
    pub fn percentile_ms(times: &[Duration], p: f64) -> f64 {
        let mut sorted = times.to_vec();
        sorted.sort();
        match sorted.len() {
            0 => f64::NAN,
            n => sorted[((n - 1) as f64 * p).round() as usize].as_secs_f64() * 1e3,
        }
    }
}

#[derive(Default)]
struct Counters {
    acknowledged_spans: AtomicU64,
    refused: AtomicU64,
    refused_without_retry_after: AtomicU64,
    failed: AtomicU64,
    in_flight: AtomicU64,
}

/// Distinct payloads a run cycles through (the store counts a re-sent span again).
const PAYLOADS: u64 = 32;

/// One export: trace `n`, `spans` spans of ~1 KB each.
pub fn batch(n: u64, spans: u32) -> Vec<Span> {
    let end = now_ns();
    let trace_id = [n.to_be_bytes(), 0x10adu64.to_be_bytes()].concat();
    (0..spans)
        .map(|i| Span {
            trace_id: trace_id.clone(),
            span_id: ((n << 16) | u64::from(i + 1)).to_be_bytes().to_vec(),
            parent_span_id: if i == 0 { vec![] } else { ((n << 16) | 1).to_be_bytes().to_vec() },
            name: format!("load op {}", i % 8),
            start_time_unix_nano: end - 5_000_000,
            end_time_unix_nano: end - u64::from(i) * 1_000,
            attributes: (0..8)
                .map(|a| {
                    crate::string_attr(
                        &format!("load.attr.{a}"),
                        &format!("{n:x}-{i}-{a}-{}", "v".repeat(80)),
                    )
                })
                .collect(),
            ..Default::default()
        })
        .collect()
}

/// Runs `load` against `server` and reports.
pub async fn run(server: &Server, load: Load) -> Report {
    let counters = Arc::new(Counters::default());
    let http = reqwest::Client::new();
    let grpc = TraceServiceClient::connect(server.otlp_grpc_url.clone())
        .await
        .expect("gRPC connect")
        .max_encoding_message_size(usize::MAX);
    // Built once and sent round-robin, so the load generator spends its CPU on sending.
    let bodies: Arc<Vec<bytes::Bytes>> = Arc::new(
        (0..PAYLOADS)
            .map(|n| otlp_traces("load", batch(n, load.spans_per_request)).into())
            .collect(),
    );
    let requests: Arc<Vec<ExportTraceServiceRequest>> = Arc::new(
        bodies
            .iter()
            .map(|b| ExportTraceServiceRequest::decode(&b[..]).expect("own encoding"))
            .collect(),
    );
    let started = Instant::now();
    let stop = started + load.duration;
    let prober = tokio::spawn(probe(server.base_url.clone(), stop));
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / load.requests_per_second));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let (mut sent, mut not_sent) = (0u64, 0u64);
    let mut tasks = tokio::task::JoinSet::new();
    while Instant::now() < stop {
        ticker.tick().await;
        if counters.in_flight.load(Ordering::Relaxed) >= load.max_in_flight {
            not_sent += 1;
            continue;
        }
        sent += 1;
        counters.in_flight.fetch_add(1, Ordering::Relaxed);
        let (counters, spans) = (counters.clone(), load.spans_per_request);
        let n = sent;
        let pick = (n / 2 % PAYLOADS) as usize;
        if n % 2 == 0 {
            let (http, url) = (http.clone(), format!("{}/v1/traces", server.otlp_http_url));
            let body = bodies[pick].clone();
            tasks.spawn(async move { send_http(&http, &url, body, spans, &counters).await });
        } else {
            let (grpc, request) = (grpc.clone(), requests[pick].clone());
            tasks.spawn(async move { send_grpc(grpc, request, spans, &counters).await });
        }
        while tasks.try_join_next().is_some() {}
    }
    while tasks.join_next().await.is_some() {}
    let (query_times, page_times, failed_queries) = prober.await.expect("prober");
    Report {
        sent,
        acknowledged_spans: counters.acknowledged_spans.load(Ordering::Relaxed),
        refused: counters.refused.load(Ordering::Relaxed),
        refused_without_retry_after: counters.refused_without_retry_after.load(Ordering::Relaxed),
        failed: counters.failed.load(Ordering::Relaxed),
        not_sent,
        elapsed: started.elapsed(),
        query_times,
        page_times,
        failed_queries,
    }
}

async fn send_http(
    http: &reqwest::Client,
    url: &str,
    body: bytes::Bytes,
    spans: u32,
    counters: &Counters,
) {
    let answer =
        http.post(url).header("content-type", "application/x-protobuf").body(body).send().await;
    match answer {
        Ok(response) if response.status() == 200 => {
            counters.acknowledged_spans.fetch_add(u64::from(spans), Ordering::Relaxed);
        }
        Ok(response) if matches!(response.status().as_u16(), 429 | 503) => {
            counters.refused.fetch_add(1, Ordering::Relaxed);
            if response.headers().get("retry-after").is_none() {
                counters.refused_without_retry_after.fetch_add(1, Ordering::Relaxed);
            }
        }
        Ok(response) => {
            eprintln!("load: HTTP {}", response.status());
            counters.failed.fetch_add(1, Ordering::Relaxed);
        }
        Err(error) => {
            eprintln!("load: HTTP request failed: {error}");
            counters.failed.fetch_add(1, Ordering::Relaxed);
        }
    }
    counters.in_flight.fetch_sub(1, Ordering::Relaxed);
}

async fn send_grpc(
    mut client: TraceServiceClient<tonic::transport::Channel>,
    request: ExportTraceServiceRequest,
    spans: u32,
    counters: &Counters,
) {
    match client.export(request).await {
        Ok(_) => {
            counters.acknowledged_spans.fetch_add(u64::from(spans), Ordering::Relaxed);
        }
        Err(status)
            if matches!(
                status.code(),
                tonic::Code::Unavailable | tonic::Code::ResourceExhausted
            ) =>
        {
            counters.refused.fetch_add(1, Ordering::Relaxed);
        }
        Err(status) => {
            eprintln!("load: gRPC request: {status:?}");
            counters.failed.fetch_add(1, Ordering::Relaxed);
        }
    }
    counters.in_flight.fetch_sub(1, Ordering::Relaxed);
}

/// Times the trace search API and the trace list page every 100 ms until `stop`.
async fn probe(base_url: String, stop: Instant) -> (Vec<Duration>, Vec<Duration>, u64) {
    let client = reqwest::Client::new();
    let (mut queries, mut pages, mut failed) = (Vec::new(), Vec::new(), 0);
    let mut ticker = tokio::time::interval(Duration::from_millis(100));
    while Instant::now() < stop {
        ticker.tick().await;
        for (path, times) in
            [("/api/v1/traces?limit=20", &mut queries), ("/ssr/traces", &mut pages)]
        {
            let start = Instant::now();
            match client.get(format!("{base_url}{path}")).send().await {
                Ok(response) if response.status().is_success() => {
                    let _ = response.bytes().await;
                    times.push(start.elapsed());
                }
                _ => failed += 1,
            }
        }
    }
    (queries, pages, failed)
}

/// Spans the server has stored for the load's service (`/api/v1/services`).
pub async fn stored_spans(server: &Server) -> u64 {
    let services = server.get_json("/api/v1/services").await;
    services["services"]
        .as_array()
        .expect("services")
        .iter()
        .find(|s| s["name"] == "load")
        .map_or(0, |s| s["span_count"].as_u64().expect("span_count"))
}
