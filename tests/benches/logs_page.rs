//! First paint of `/logs` with 1,000 records listed, in headless Chromium against the WASM
//! app: 1,000 records (a tenth with long bodies that fold, a few services and severities) are
//! sent, then `/logs?limit=1000` is opened cold and again; also the script-free page. Prints
//! figures; asserts only that the page works. Run with `make bench`.

use std::time::{Duration, Instant};

use fantoccini::Locator;
use otelscope_e2e::logs::{export, post_logs, record};
use otelscope_e2e::{now_ns, Browser, Server};
use serde_json::json;

const RECORDS: u64 = 1_000;

#[tokio::main]
async fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let server = Server::start().await;
    let now = now_ns();
    for service in ["checkout", "billing", "search", "users"] {
        let records: Vec<_> = (0..RECORDS / 4)
            .map(|i| {
                let severity =
                    [(5, "DEBUG"), (9, "INFO"), (9, "INFO"), (13, "WARN"), (17, "ERROR")]
                        [i as usize % 5];
                let body = if i % 10 == 0 {
                    format!(
                        "request {i} failed: {}",
                        "stack frame at module.function (file.rs:42)\n".repeat(8)
                    )
                } else {
                    format!("user {i} fetched item {} in {} ms", i * 7, i % 90)
                };
                let attrs = json!([{"key": "http.route", "value": {"stringValue": "/items/{id}"}}]);
                record(now, 1 + i, severity, &body, None, attrs)
            })
            .collect();
        post_logs(&server, &export(service, records)).await;
    }
    let browser = Browser::start().await;
    let client = &browser.client;
    client.set_window_rect(0, 0, 1400, 1000).await.unwrap();

    let start = Instant::now();
    let ssr = reqwest::get(server.url("/ssr/logs?limit=1000")).await.unwrap();
    assert!(ssr.status().is_success());
    let ssr_bytes = ssr.bytes().await.unwrap().len();
    let ssr_ms = start.elapsed().as_secs_f64() * 1e3;

    let mut paints = Vec::new();
    for _ in 0..3 {
        let start = Instant::now();
        client.goto(&server.url("/logs?limit=1000")).await.unwrap();
        client
            .wait()
            .at_most(Duration::from_secs(120))
            .for_element(Locator::Css(
                r#"[data-platform="web"] .log-list tbody tr:nth-child(1000)"#,
            ))
            .await
            .expect("1,000 records listed");
        paints.push(start.elapsed().as_secs_f64() * 1e3);
        client.goto("about:blank").await.unwrap();
    }
    client.goto(&server.url("/logs")).await.unwrap();
    let start = Instant::now();
    client.goto(&server.url("/logs")).await.unwrap();
    client
        .wait()
        .at_most(Duration::from_secs(60))
        .for_element(Locator::Css(r#"[data-platform="web"] .log-list tbody tr:nth-child(100)"#))
        .await
        .expect("100 records listed");
    let default_page = start.elapsed().as_secs_f64() * 1e3;
    println!(
        "logs page, 1,000 records listed: first paint {:.0} ms cold, then {:.0} ms and {:.0} ms \
         (navigation, WASM start, split_logs.wasm, fetch of page + histogram + facets, draw); \
         the default 100-record page {default_page:.0} ms; SSR /ssr/logs?limit=1000 {ssr_ms:.0} ms ({} KB)",
        paints[0],
        paints[1],
        paints[2],
        ssr_bytes / 1024
    );
}
