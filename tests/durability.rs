//! A 200 means durable: batches acknowledged by `otelscope serve` survive `kill -9` of the
//! server, and a restart on the same data directory serves every one of them.

use opentelemetry_proto::tonic::trace::v1::Span;
use otelscope_e2e::browser::TempDir;
use otelscope_e2e::{now_ns, otlp_traces, Server};

const BATCHES: u32 = 40;
const SPANS_PER_BATCH: u32 = 50;

fn batch(n: u32) -> Vec<u8> {
    let t0 = now_ns() - 60_000_000_000;
    let mut trace_id = [0u8; 16];
    trace_id[..4].copy_from_slice(&n.to_be_bytes());
    trace_id[15] = 1;
    let spans = (0..SPANS_PER_BATCH)
        .map(|i| Span {
            trace_id: trace_id.to_vec(),
            span_id: [(i + 1).to_be_bytes(), n.to_be_bytes()].concat(),
            name: format!("op-{i}"),
            start_time_unix_nano: t0 + u64::from(i),
            end_time_unix_nano: t0 + 1_000 + u64::from(i),
            ..Default::default()
        })
        .collect();
    otlp_traces("durable", spans)
}

fn trace_hex(n: u32) -> String {
    format!("{n:08x}{}01", "0".repeat(22))
}

#[tokio::test(flavor = "multi_thread")]
async fn acknowledged_batches_survive_kill_9() {
    let data = TempDir::new();
    let dir = data.0.to_str().unwrap().to_owned();
    let mut server = Server::start_with(&["--data-dir", &dir]).await;
    for n in 0..BATCHES {
        assert_eq!(server.post_traces("application/x-protobuf", batch(n)).await, 200, "batch {n}");
    }
    // SIGKILL: no shutdown path runs.
    server.child.start_kill().expect("kill -9");
    server.child.wait().await.expect("reap");

    let server = Server::start_with(&["--data-dir", &dir]).await;
    for n in 0..BATCHES {
        let trace = server.get_json(&format!("/api/v1/traces/{}", trace_hex(n))).await;
        assert_eq!(trace["spans"].as_array().unwrap().len(), SPANS_PER_BATCH as usize, "batch {n}");
    }
    let services = server.get_json("/api/v1/services").await;
    assert_eq!(services["services"][0]["span_count"], u64::from(BATCHES * SPANS_PER_BATCH));
}
