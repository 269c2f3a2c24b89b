//! Issue 21's smaller points against the real binary: times past `i64::MAX` are refused, not
//! wrapped into "every trace"; the store's folder and files are the owner's only; links that
//! name no valid span are dropped and counted.

use std::os::unix::fs::PermissionsExt;

use opentelemetry_proto::tonic::trace::v1::span::Link;
use opentelemetry_proto::tonic::trace::v1::Span;
use otelscope_e2e::browser::TempDir;
use otelscope_e2e::{now_ns, otlp_traces, root_span_trace, Server};

#[tokio::test]
async fn times_past_i64_are_refused_not_wrapped_into_every_trace() {
    let server = Server::start().await;
    let body = root_span_trace("shop", 3, "GET /cart");
    assert_eq!(server.post_traces("application/x-protobuf", body).await, 200);
    let client = reqwest::Client::new();
    for query in [
        "since=18446744073709551615",
        "until=18446744073709551615",
        "min_duration_ms=18446744073709551615",
    ] {
        let answer =
            client.get(server.url(&format!("/api/v1/traces?{query}"))).send().await.unwrap();
        let status = answer.status();
        let text = answer.text().await.unwrap();
        assert_eq!(status, 400, "{query} answered {text}");
        let field = query.split('=').next().unwrap();
        assert!(text.contains(field), "the error names {field}: {text}");
    }
}

#[tokio::test]
async fn the_store_is_readable_by_its_owner_only() {
    let dir = TempDir::new();
    let data = dir.0.join("data");
    let server = Server::start_with(&["--data-dir", data.to_str().unwrap()]).await;
    let body = root_span_trace("shop", 4, "GET /cart");
    assert_eq!(server.post_traces("application/x-protobuf", body).await, 200);
    let mode =
        |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&data), 0o700, "{}", data.display());
    let files: Vec<_> = std::fs::read_dir(&data).unwrap().map(|e| e.unwrap().path()).collect();
    assert!(files.iter().any(|f| f.extension().is_some_and(|e| e == "db")), "{files:?}");
    for file in files {
        assert_eq!(mode(&file), 0o600, "{}", file.display());
    }
}

#[tokio::test]
async fn links_that_name_no_span_are_dropped_and_counted() {
    let server = Server::start().await;
    let end = now_ns();
    let link =
        |trace_id: Vec<u8>, span_id: Vec<u8>| Link { trace_id, span_id, ..Default::default() };
    let span = Span {
        trace_id: vec![5; 16],
        span_id: vec![5; 8],
        name: "GET /linked".into(),
        start_time_unix_nano: end - 1_000_000,
        end_time_unix_nano: end,
        links: vec![
            link(vec![9; 16], vec![9; 8]),
            link(vec![0; 16], vec![9; 8]),
            link(vec![9; 3], vec![9; 8]),
            link(vec![9; 16], Vec::new()),
        ],
        ..Default::default()
    };
    let body = otlp_traces("shop", vec![span]);
    assert_eq!(server.post_traces("application/x-protobuf", body).await, 200);
    let trace = server.get_json(&format!("/api/v1/traces/{}", "05".repeat(16))).await;
    let span = &trace["spans"][0];
    let links = span["links"].as_array().unwrap();
    assert_eq!(links.len(), 1, "{span}");
    assert_eq!(links[0]["trace_id"], "09".repeat(16));
    assert_eq!(span["dropped_links_count"], 3, "{span}");
}
