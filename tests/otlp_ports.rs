//! Issue 26: the first export must not go nowhere. Against the real binary: a request no OTLP
//! receiver serves (a wrong path, gRPC for a path that is no gRPC method, JSON to a gRPC
//! method's path) is answered with the fix and logged once per kind, however often it comes;
//! and the header says when telemetry last arrived, in the browser and in SSR.
//! (The Rust and Python exporters on the other protocol's port: `otlp.rs`, `signals.rs`,
//! `python_sdk.rs`.)

use std::net::SocketAddr;

use otelscope_e2e::{artifacts_dir, Browser, Server};
use serde_json::Value;

/// The `host:port` of an `http://host:port` URL.
fn addr(url: &str) -> SocketAddr {
    url.trim_start_matches("http://").parse().expect("a socket address")
}

/// One unary gRPC call (an empty trace export) over HTTP/2 to `path`: its `grpc-status` and
/// `grpc-message`.
async fn grpc_call(to: SocketAddr, path: &str) -> (String, String) {
    let stream = tokio::net::TcpStream::connect(to).await.expect("connect");
    let (send, connection) = h2::client::handshake(stream).await.expect("HTTP/2 handshake");
    tokio::spawn(async move {
        let _ = connection.await;
    });
    let mut send = send.ready().await.expect("ready");
    let request = http::Request::post(format!("http://{to}{path}"))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .body(())
        .unwrap();
    let (response, mut stream) = send.send_request(request, false).expect("send");
    // The server may answer a misdirected call before it reads the body and close the
    // stream (RFC 9113 8.1); the frame then has nowhere to go, and the answer is read below.
    let _ = stream.send_data(vec![0u8; 5].into(), true);
    let response = response.await.expect("an answer");
    let header = |headers: &http::HeaderMap, name: &str| {
        headers.get(name).map(|v| v.to_str().unwrap().to_owned())
    };
    if let Some(status) = header(response.headers(), "grpc-status") {
        return (status, header(response.headers(), "grpc-message").unwrap_or_default());
    }
    let mut body = response.into_body();
    while let Some(chunk) = body.data().await {
        let _ = body.flow_control().release_capacity(chunk.expect("data").len());
    }
    let trailers = body.trailers().await.expect("trailers").expect("grpc trailers");
    (
        header(&trailers, "grpc-status").unwrap(),
        header(&trailers, "grpc-message").unwrap_or_default(),
    )
}

/// Percent-decodes a `grpc-message`.
fn decoded(message: &str) -> String {
    let bytes = message.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&message[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_misdirected_request_gets_the_fix_and_one_log_line_per_kind() {
    let log = otelscope_e2e::browser::TempDir::new();
    let log_path = log.0.join("stderr.log");
    let stderr = std::fs::File::create(&log_path).expect("create the log file");
    let server = Server::start_logging_to(&["--in-memory"], &[], stderr).await;
    let client = reqwest::Client::new();

    for _ in 0..3 {
        // A typo'd path, as OTLP/HTTP JSON: 404 with a google.rpc.Status naming the right one.
        let answer = client
            .post(format!("{}/v1/trace", server.otlp_http_url))
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .expect("POST /v1/trace");
        assert_eq!(answer.status(), 404);
        let rpc: Value =
            serde_json::from_str(&answer.text().await.unwrap()).expect("a JSON google.rpc.Status");
        let message = rpc["message"].as_str().unwrap_or_default();
        assert!(
            message.starts_with("no OTLP receiver at POST /v1/trace (did you mean /v1/traces?)"),
            "{rpc}"
        );

        // JSON to a gRPC method's path, on the gRPC port.
        let answer = client
            .post(format!(
                "{}/opentelemetry.proto.collector.trace.v1.TraceService/Export",
                server.otlp_grpc_url
            ))
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .expect("POST JSON to the gRPC path");
        assert_eq!(answer.status(), 415);
        let text = answer.text().await.unwrap();
        assert!(text.contains("gRPC needs content-type application/grpc"), "{text}");

        // gRPC to the OTLP/HTTP path on the OTLP/HTTP port: UNIMPLEMENTED with the fix.
        let (status, message) = grpc_call(addr(&server.otlp_http_url), "/v1/traces").await;
        let message = decoded(&message);
        assert_eq!(status, "12", "{message}");
        assert!(
            message.starts_with("no OTLP/gRPC method /v1/traces: this port takes gRPC"),
            "{message}"
        );
        assert!(message.contains("OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf"), "{message}");
    }
    // The log is written before each answer is sent: every line is in by now.
    let log_text = std::fs::read_to_string(&log_path).expect("read the server's log");
    let lines: Vec<&str> =
        log_text.lines().filter(|l| l.contains("Misdirected OTLP request")).collect();
    assert_eq!(lines.len(), 3, "one line per kind, not per request:\n{log_text}");
    assert!(
        lines.iter().any(|l| l.contains("POST /v1/trace (did you mean /v1/traces?)")),
        "{log_text}"
    );
    assert!(lines.iter().any(|l| l.contains("no OTLP/gRPC method /v1/traces")), "{log_text}");
    // Nothing was received.
    let health = server.get_json("/api/v1/health").await;
    assert_eq!(health["last_received"]["traces"], Value::Null, "{health}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_header_says_when_telemetry_last_arrived() {
    let server = Server::start().await;
    let ssr = server.get_text("/ssr/traces").await;
    assert!(ssr.contains("nothing received yet"), "{ssr}");
    // gRPC, where Python's default exporter sends with the usual endpoint: the OTLP/HTTP port.
    let (status, _) = grpc_call(
        addr(&server.otlp_http_url),
        "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
    )
    .await;
    assert_eq!(status, "0");
    let ssr = server.get_text("/ssr/traces").await;
    assert!(ssr.contains(">last received just now<"), "{ssr}");
    assert!(ssr.contains("traces: just now over grpc"), "{ssr}");

    let browser = Browser::start().await;
    browser.client.goto(&server.url("/traces")).await.expect("open /traces");
    let text = browser.text_of(r#"[data-platform="web"] .last-received"#).await;
    assert!(text.starts_with("last received "), "{text}");
    let title = browser
        .eval(r#"return document.querySelector('[data-platform="web"] .last-received').title"#)
        .await;
    let title = title.as_str().unwrap_or_default();
    assert!(title.contains("over grpc") && title.contains("metrics: never"), "{title}");
    let png = browser.client.screenshot().await.expect("screenshot");
    std::fs::write(artifacts_dir().join("header-last-received.png"), png).expect("save screenshot");
}
