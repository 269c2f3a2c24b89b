//! Issue 8, "reads without bound": a trace of 1,000,000 spans is answered by the real binary
//! as a stream. Every span arrives once, and the server's peak memory while it answers grows
//! by less than the bound ARCHITECTURE.md states (it used to build the whole ~1 GB answer).

use std::time::Instant;

use opentelemetry_proto::tonic::trace::v1::Span;
use otelscope_e2e::{now_ns, otlp_traces, peak_rss_mib, string_attr, Server};

const SPANS: u64 = 1_000_000;
const PER_REQUEST: u64 = 5_000;
const TRACE: [u8; 16] = [0x7e; 16];
/// "One trace answer holds at most 64 MiB in the server" (ARCHITECTURE.md).
const ANSWER_BOUND_MIB: u64 = 64;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_million_span_trace_streams_whole_in_bounded_memory() {
    let started = Instant::now();
    let server = Server::start().await;
    let pid = server.child.id().expect("server pid");
    send_trace(&server).await;
    let sent = started.elapsed();
    let trace_id = "7e".repeat(16);
    let summary = server.get_json("/api/v1/traces?limit=1").await;
    assert_eq!(summary["traces"][0]["span_count"], SPANS, "{summary}");

    // Peak memory from here on: ingest's own peak is not this test's business.
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5").expect("reset the server's VmHWM");
    let before = rss_mib(pid);
    let mut response =
        reqwest::get(server.url(&format!("/api/v1/traces/{trace_id}"))).await.expect("GET trace");
    assert_eq!(response.status(), 200);
    let mut ids = SpanIds::default();
    let mut head = Vec::new();
    let mut tail = Vec::new();
    while let Some(piece) = response.chunk().await.expect("body piece") {
        if head.len() < 64 {
            head.extend_from_slice(&piece[..piece.len().min(64 - head.len())]);
        }
        tail = piece[piece.len().saturating_sub(2)..].to_vec();
        ids.scan(&piece);
    }
    let peak = peak_rss_mib(pid);
    let read = started.elapsed() - sent;

    let opening = format!("{{\"trace_id\":\"{trace_id}\",\"spans\":[");
    assert!(head.starts_with(opening.as_bytes()), "{}", String::from_utf8_lossy(&head));
    assert_eq!(tail, b"]}");
    assert_eq!(ids.count, SPANS, "spans in the answer");
    assert!(ids.seen.iter().skip(1).all(|&s| s), "every span id 1..=1,000,000 arrived once");
    eprintln!(
        "1M spans: sent in {sent:.1?}, read in {read:.1?}; server RSS {before} MiB before the answer, peak {peak} MiB while sending it"
    );
    assert!(
        peak.saturating_sub(before) < ANSWER_BOUND_MIB,
        "the answer took {} MiB (peak {peak} MiB, {before} MiB before)",
        peak.saturating_sub(before)
    );
}

/// The trace in OTLP/HTTP requests of 5,000 spans (about 300 KB each), two at a time.
async fn send_trace(server: &Server) {
    let start = now_ns() - 60_000_000_000;
    let client = reqwest::Client::new();
    let url = format!("{}/v1/traces", server.otlp_http_url);
    for pair in (0..SPANS / PER_REQUEST).collect::<Vec<_>>().chunks(2) {
        let sends = pair.iter().map(|&request| {
            let first = request * PER_REQUEST + 1;
            let spans: Vec<Span> = (first..first + PER_REQUEST)
                .map(|id| Span {
                    trace_id: TRACE.to_vec(),
                    span_id: id.to_be_bytes().to_vec(),
                    parent_span_id: if id == 1 { Vec::new() } else { 1u64.to_be_bytes().to_vec() },
                    name: format!("op {}", id % 100),
                    kind: 1,
                    start_time_unix_nano: start + id * 1_000,
                    end_time_unix_nano: start + id * 1_000 + 500,
                    attributes: vec![string_attr("n", &(id % 7).to_string())],
                    ..Default::default()
                })
                .collect();
            let body = otlp_traces("huge", spans);
            let request =
                client.post(&url).header("content-type", "application/x-protobuf").body(body);
            async move { request.send().await.expect("POST /v1/traces").status().as_u16() }
        });
        for status in futures_join(sends).await {
            assert_eq!(status, 200);
        }
    }
}

/// Awaits all of `futures` concurrently, in order.
async fn futures_join<F: std::future::Future<Output = u16> + Send + 'static>(
    futures: impl Iterator<Item = F>,
) -> Vec<u16> {
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for handle in handles {
        out.push(handle.await.expect("send task"));
    }
    out
}

/// Finds `"span_id":"<16 hex>"` in a body read piece by piece (a match may straddle pieces)
/// and marks each id, without keeping the body.
struct SpanIds {
    /// How much of `"span_id":"` matched so far, then how many hex digits were read.
    matched: usize,
    digits: usize,
    value: u64,
    count: u64,
    seen: Vec<bool>,
}

const KEY: &[u8] = br#""span_id":""#;

impl Default for SpanIds {
    fn default() -> SpanIds {
        SpanIds { matched: 0, digits: 0, value: 0, count: 0, seen: vec![false; SPANS as usize + 1] }
    }
}

impl SpanIds {
    fn scan(&mut self, piece: &[u8]) {
        for &b in piece {
            if self.matched == KEY.len() {
                let digit = (b as char).to_digit(16).expect("hex span id");
                self.value = self.value << 4 | u64::from(digit);
                self.digits += 1;
                if self.digits == 16 {
                    let id = self.value as usize;
                    assert!(
                        id <= SPANS as usize && !self.seen[id],
                        "span {id} unexpected or twice"
                    );
                    self.seen[id] = true;
                    self.count += 1;
                    (self.matched, self.digits, self.value) = (0, 0, 0);
                }
            } else if b == KEY[self.matched] {
                self.matched += 1;
            } else {
                self.matched = usize::from(b == KEY[0]);
            }
        }
    }
}

/// Resident memory of process `pid` now (VmRSS), in MiB.
fn rss_mib(pid: u32) -> u64 {
    otelscope_e2e::proc_status_mib(pid, "VmRSS")
}
