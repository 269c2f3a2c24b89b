//! Self-telemetry's cost on the server (`make bench`): `SELF_CPU_REQUESTS` (20,000) `GET /api/v1/traces?limit=20` with a `traceparent`, as the UI sends them, four at a time, against `serve --in-memory` with self-telemetry on and, in the same run, off (alternating, `SELF_CPU_ROUNDS` pairs); prints the server's CPU per request (utime + stime from /proc, including storing its own spans). Prints figures; asserts nothing.

use std::time::{Duration, Instant};

use otelscope_e2e::{cpu_seconds, Server};

/// Server CPU µs per request over `requests` calls, once the spans they made are stored.
async fn cpu_per_request(server: &Server, requests: usize) -> f64 {
    let pid = server.child.id().expect("server pid");
    let client = reqwest::Client::new();
    let url = server.url("/api/v1/traces?limit=20");
    let cpu0 = cpu_seconds(pid);
    let mut sent = 0;
    while sent < requests {
        let mut batch = tokio::task::JoinSet::new();
        for i in 0..4 {
            let traceparent = format!("00-{:032x}-{:016x}-01", sent + i + 1, sent + i + 1);
            batch.spawn(client.get(&url).header("traceparent", traceparent).send());
        }
        while let Some(response) = batch.join_next().await {
            assert!(response.expect("task").expect("GET").status().is_success());
        }
        sent += 4;
    }
    // The batching exporter stores spans up to 5 s after they end (its scheduled delay):
    // count that work too. (Polling the stored count would not do: each read makes spans.)
    tokio::time::sleep(Duration::from_secs(7)).await;
    (cpu_seconds(pid) - cpu0) * 1e6 / sent as f64
}

#[tokio::main]
async fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let var = |name: &str, default: usize| {
        std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
    };
    let (requests, rounds) = (var("SELF_CPU_REQUESTS", 20_000), var("SELF_CPU_ROUNDS", 2));
    for round in 1..=rounds {
        for (mode, args) in
            [("on", &["--in-memory"][..]), ("off", &["--in-memory", "--self-telemetry", "off"][..])]
        {
            let server = Server::start_with(args).await;
            let start = Instant::now();
            let us = cpu_per_request(&server, requests).await;
            println!(
                "self-telemetry {mode} (round {round}): {us:.0} µs of server CPU per API request \
                 ({requests} requests, {:.1} s)",
                start.elapsed().as_secs_f64()
            );
        }
    }
}
