//! The real binary against what users and attackers really send: bodies built to balloon in
//! memory (HTTP and gRPC), senders that trickle, data stamped 2018 or 2262, a second server on
//! the same directory, and databases that are not what they should be.

use std::io::Write as _;
use std::time::Duration;

use opentelemetry_proto::tonic::collector::logs::v1::logs_service_client::LogsServiceClient;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::metrics::v1::{
    metric, Gauge, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics,
};
use otelscope_e2e::browser::TempDir;
use otelscope_e2e::{otelscope_bin, peak_rss_mib, root_span_trace, Server};
use prost::Message;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

fn empty_log_records(n: usize) -> ExportLogsServiceRequest {
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            scope_logs: vec![ScopeLogs {
                log_records: vec![LogRecord::default(); n],
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

fn dir_bytes(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().metadata().unwrap().len()).sum()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_one_kilobyte_metrics_body_stays_small_in_memory_and_on_disk() {
    // One metric with a 1 MiB description and 2,000 empty gauge points: 1 KB gzipped. It used
    // to be answered after 35 s with the server at 2.1 GB and 4 GB on disk.
    let request = ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            scope_metrics: vec![ScopeMetrics {
                metrics: vec![Metric {
                    name: "balloon".into(),
                    description: "d".repeat(1 << 20),
                    data: Some(metric::Data::Gauge(Gauge {
                        data_points: vec![NumberDataPoint::default(); 2_000],
                    })),
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    let body = gzip(&request.encode_to_vec());
    assert!(body.len() < 2_000, "{} bytes", body.len());
    let data = TempDir::new();
    let server = Server::start_with(&["--data-dir", data.0.to_str().unwrap()]).await;
    let response = reqwest::Client::new()
        .post(format!("{}/v1/metrics", server.otlp_http_url))
        .header("content-type", "application/json")
        .header("content-encoding", "gzip")
        .body(gzip(&serde_json::to_vec(&request).unwrap()))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let answer: serde_json::Value =
        serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
    assert_eq!(status, 200, "{answer}");
    let rejected = answer["partialSuccess"]["rejectedDataPoints"].as_i64().unwrap_or(0);
    assert!(rejected > 1_000, "most points are over the request's budget: {answer}");
    let pid = server.child.id().unwrap();
    assert!(peak_rss_mib(pid) < 300, "peak RSS {} MiB", peak_rss_mib(pid));
    assert!(dir_bytes(&data.0) < 64 << 20, "{} bytes on disk", dir_bytes(&data.0));
    // And the protobuf form of the same.
    let response = reqwest::Client::new()
        .post(format!("{}/v1/metrics", server.otlp_http_url))
        .header("content-type", "application/x-protobuf")
        .header("content-encoding", "gzip")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(peak_rss_mib(pid) < 300, "peak RSS {} MiB", peak_rss_mib(pid));
    assert!(dir_bytes(&data.0) < 64 << 20, "{} bytes on disk", dir_bytes(&data.0));
}

#[tokio::test(flavor = "multi_thread")]
async fn millions_of_empty_log_records_are_refused_before_decoding_on_both_ports() {
    // 32 MiB of two-byte records: 16 million LogRecord structs (gigabytes) if decoded.
    let request = empty_log_records(16 << 20);
    let body = request.encode_to_vec();
    let server = Server::start().await;
    let pid = server.child.id().unwrap();

    let response = reqwest::Client::new()
        .post(format!("{}/v1/logs", server.otlp_http_url))
        .header("content-type", "application/x-protobuf")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    let status =
        tonic_types::Status::decode(response.bytes().await.unwrap()).expect("a google.rpc.Status");
    assert!(status.message.contains("more than the ingest budget"), "{}", status.message);
    assert!(peak_rss_mib(pid) < 400, "HTTP: peak RSS {} MiB", peak_rss_mib(pid));

    let mut client = LogsServiceClient::connect(server.otlp_grpc_url.clone())
        .await
        .unwrap()
        .max_encoding_message_size(usize::MAX);
    let refused = client.export(request).await.expect_err("refused");
    assert_eq!(refused.code(), tonic::Code::ResourceExhausted, "{refused:?}");
    assert!(peak_rss_mib(pid) < 400, "gRPC: peak RSS {} MiB", peak_rss_mib(pid));

    // Ordinary exports still go through on both ports.
    let fine = client.export(empty_log_records(10)).await.expect("small export");
    assert_eq!(fine.into_inner().partial_success, None);
    assert_eq!(server.post_traces("application/x-protobuf", trace("after", 1)).await, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn grpc_without_the_key_is_refused_before_its_body_is_read() {
    let server = Server::start_with(&["--in-memory", "--api-key", "hostile-key-0123456789"]).await;
    let pid = server.child.id().unwrap();
    let mut client = LogsServiceClient::connect(server.otlp_grpc_url.clone())
        .await
        .unwrap()
        .max_encoding_message_size(usize::MAX);
    let refused = client.export(empty_log_records(16 << 20)).await.expect_err("no key");
    assert_eq!(refused.code(), tonic::Code::Unauthenticated, "{refused:?}");
    assert!(peak_rss_mib(pid) < 200, "peak RSS {} MiB", peak_rss_mib(pid));
}

fn trace(name: &str, id: u8) -> Vec<u8> {
    root_span_trace("well-behaved", id, name)
}

#[tokio::test(flavor = "multi_thread")]
async fn trickling_senders_do_not_starve_a_well_behaved_one() {
    let server = Server::start_with(&["--in-memory", "--body-timeout", "2s"]).await;
    let addr = server.otlp_http_url.trim_start_matches("http://").to_owned();
    // 200 senders that send their headers and a tenth of their body, then stall.
    let mut stalled = Vec::new();
    for _ in 0..200 {
        let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
        let head = format!(
            "POST /v1/traces HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/x-protobuf\r\ncontent-length: 10000\r\n\r\n"
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        stream.write_all(&[0u8; 1000]).await.unwrap();
        stalled.push(stream);
    }
    // A normal export, while they hold their connections open.
    assert_eq!(server.post_traces("application/x-protobuf", trace("normal", 7)).await, 200);
    let stored = server.get_json(&format!("/api/v1/traces/{}", "07".repeat(16))).await;
    assert_eq!(stored["spans"][0]["name"], "normal");
    // Each stalled sender is answered 408 once its body deadline passes.
    for mut stream in stalled.into_iter().take(5) {
        let mut answer = Vec::new();
        tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut answer))
            .await
            .expect("answered and closed within the deadline")
            .unwrap();
        let answer = String::from_utf8_lossy(&answer);
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn silent_and_idle_connections_are_closed_and_cannot_fill_a_port() {
    let server = Server::start_with(&[
        "--in-memory",
        "--header-timeout",
        "1s",
        // One address may fill the port here: this is about the port's total.
        "--max-connections-per-ip",
        "512",
    ])
    .await;
    let addr = server.otlp_http_url.trim_start_matches("http://").to_owned();
    // More silent connections than a port serves at once (512).
    let mut silent = Vec::new();
    for _ in 0..600 {
        silent.push(tokio::net::TcpStream::connect(&addr).await.unwrap());
    }
    // Those past the cap wait in the backlog until the first ones are dropped at 1 s.
    assert_eq!(
        server.post_traces("application/x-protobuf", trace("past the silent", 8)).await,
        200
    );
    for mut stream in silent.into_iter().take(3) {
        let mut rest = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut rest));
        assert_eq!(read.await.expect("closed by the server").unwrap(), 0);
    }
    // A kept-alive connection that goes quiet after a request is closed too.
    let mut kept = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let request = format!(
        "POST /v1/traces HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{{}}"
    );
    kept.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(30), kept.read_to_end(&mut answer));
    read.await.expect("closed once idle").unwrap();
    assert!(String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 200"), "{answer:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn spans_stamped_2018_or_2262_are_kept_as_received() {
    let data = TempDir::new();
    let server =
        Server::start_with(&["--data-dir", data.0.to_str().unwrap(), "--retention-age", "1h"])
            .await;
    // Like the OTLP example files: 2018 timestamps, sent as JSON.
    let json = serde_json::json!({"resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "replay"}}]},
        "scopeSpans": [{"scope": {"name": "my.library", "version": "1.0.0"}, "spans": [
            {"traceId": "5b8efff798038103d269b633813fc60c", "spanId": "eee19b7ec3c1b174",
             "name": "I'm a server span", "kind": 2,
             "startTimeUnixNano": "1544712660000000000", "endTimeUnixNano": "1544712661000000000"},
            {"traceId": "7b8efff798038103d269b633813fc60c", "spanId": "fee19b7ec3c1b174",
             "name": "from 2262", "kind": 1,
             "startTimeUnixNano": "9223372036000000000", "endTimeUnixNano": "9223372036000000001"}
        ]}]
    }]});
    let status = server.post_traces("application/json", serde_json::to_vec(&json).unwrap()).await;
    assert_eq!(status, 200);
    // Another export runs a retention pass after its commit.
    assert_eq!(server.post_traces("application/x-protobuf", trace("later", 3)).await, 200);
    for id in ["5b8efff798038103d269b633813fc60c", "7b8efff798038103d269b633813fc60c"] {
        let stored = server.get_json(&format!("/api/v1/traces/{id}")).await;
        assert_eq!(stored["spans"].as_array().unwrap().len(), 1, "{id} kept");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_server_on_the_same_directory_refuses_before_touching_it() {
    let data = TempDir::new();
    let dir = data.0.to_str().unwrap();
    let _first = Server::start_with(&["--data-dir", dir]).await;
    let mut second = tokio::process::Command::new(otelscope_bin())
        .args(["serve", "--data-dir", dir, "--ui-listen", "127.0.0.1:0"])
        .args(["--otlp-http-listen", "127.0.0.1:0", "--otlp-grpc-listen", "127.0.0.1:0"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    // It must exit; a second server that starts prints its ready line instead.
    let mut lines = tokio::io::BufReader::new(second.stdout.take().unwrap()).lines();
    while let Some(line) = lines.next_line().await.unwrap() {
        assert!(!line.contains("open http://"), "a second server started on the same directory");
    }
    let mut stderr = String::new();
    second.stderr.take().unwrap().read_to_string(&mut stderr).await.unwrap();
    assert!(!second.wait().await.unwrap().success());
    assert!(stderr.contains("in use by another otelscope"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_damaged_database_is_refused_at_start_and_left_as_it_was() {
    let data = TempDir::new();
    let db = data.0.join("otelscope.db");
    let garbage = b"not a database at all ".repeat(500);
    std::fs::write(&db, &garbage).unwrap();
    let run = tokio::process::Command::new(otelscope_bin())
        .args(["serve", "--data-dir", data.0.to_str().unwrap(), "--ui-listen", "127.0.0.1:0"])
        .args(["--otlp-http-listen", "127.0.0.1:0", "--otlp-grpc-listen", "127.0.0.1:0"])
        .output()
        .await
        .unwrap();
    assert_eq!(run.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(stderr.contains("not a SQLite database"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(std::fs::read(&db).unwrap(), garbage, "untouched");
}
