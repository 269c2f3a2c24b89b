//! Overload for minutes (`make soak`): measures what the real binary takes, then sends twice
//! that over OTLP/HTTP and gRPC at once, and prints what it refused (429/503 with Retry-After,
//! or UNAVAILABLE), the query API's and a page's latency under that load, the server's peak
//! RSS, and whether every acknowledged span is in the store. Prints figures; asserts only that
//! nothing acknowledged was lost.

use std::time::Duration;

use otelscope_e2e::browser::TempDir;
use otelscope_e2e::load::{self, Load, Report};
use otelscope_e2e::{peak_rss_mib, Server};

const SPANS_PER_REQUEST: u32 = 512;

fn describe(name: &str, report: &Report, pid: u32) {
    let secs = report.elapsed.as_secs_f64();
    println!(
        "{name}: {} requests in {secs:.0} s ({:.0}/s offered), {} not sent (client at its in-flight cap); \
         acknowledged {:.0} spans/s; refused {} ({} without Retry-After); failed {}",
        report.sent,
        report.sent as f64 / secs,
        report.not_sent,
        report.acknowledged_spans as f64 / secs,
        report.refused,
        report.refused_without_retry_after,
        report.failed,
    );
    println!(
        "{name}: under load, /api/v1/traces p50 {:.1} ms p99 {:.1} ms ({} probes), /ssr/traces p50 {:.1} ms p99 {:.1} ms, {} probes failed; server peak RSS {} MiB",
        Report::percentile_ms(&report.query_times, 0.5),
        Report::percentile_ms(&report.query_times, 0.99),
        report.query_times.len(),
        Report::percentile_ms(&report.page_times, 0.5),
        Report::percentile_ms(&report.page_times, 0.99),
        report.failed_queries,
        peak_rss_mib(pid),
    );
}

#[tokio::main]
async fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let seconds: u64 =
        std::env::var("LOAD_SECONDS").ok().and_then(|v| v.parse().ok()).unwrap_or(120);
    let data = TempDir::new();
    // Retention must not drop what the count at the end looks for.
    let server = Server::start_with(&[
        "--data-dir",
        data.0.to_str().unwrap(),
        "--retention-spans",
        "1000000000",
        "--retention-bytes",
        "40GiB",
    ])
    .await;
    let pid = server.child.id().unwrap();

    // Capacity: offer far more than it can take for a short while; what it acknowledged is it.
    let probe = load::run(
        &server,
        Load {
            requests_per_second: 1_000.0,
            duration: Duration::from_secs(10),
            spans_per_request: SPANS_PER_REQUEST,
            max_in_flight: 512,
        },
    )
    .await;
    describe("capacity probe", &probe, pid);
    let capacity = probe.acknowledged_spans as f64 / probe.elapsed.as_secs_f64();
    println!("measured capacity: {capacity:.0} spans/s");

    let rate = 2.0 * capacity / f64::from(SPANS_PER_REQUEST);
    let report = load::run(
        &server,
        Load {
            requests_per_second: rate,
            duration: Duration::from_secs(seconds),
            spans_per_request: SPANS_PER_REQUEST,
            max_in_flight: 4_096,
        },
    )
    .await;
    describe(
        &format!("2x capacity ({rate:.0} requests/s of {SPANS_PER_REQUEST} spans)"),
        &report,
        pid,
    );

    let stored = load::stored_spans(&server).await;
    let acknowledged = probe.acknowledged_spans + report.acknowledged_spans;
    println!(
        "stored {stored} spans of {acknowledged} acknowledged: {} lost",
        acknowledged.saturating_sub(stored)
    );
    assert_eq!(stored, acknowledged, "every acknowledged span is in the store");
}
