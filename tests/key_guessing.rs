//! The real binary against someone guessing `--api-key`: wrong keys on the UI, OTLP/HTTP and
//! gRPC ports count towards one throttle, which slows the guesser without locking out the
//! right key (from another client at once, from the same one after its delay), believes
//! `X-Forwarded-For` only from `--trusted-proxy`, and short keys are refused at startup.

use std::net::IpAddr;
use std::process::Stdio;
use std::time::Duration;

use opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use otelscope_e2e::{eventually, otelscope_bin, root_span_trace, Server};
use prost::Message;
use tokio::time::Instant;

const KEY: &str = "guess-me-if-you-can-0123456789";

fn client_from(last: u8) -> reqwest::Client {
    let from = IpAddr::from([127, 0, 0, last]);
    let client = reqwest::Client::builder().local_address(from);
    client.timeout(Duration::from_secs(5)).build().expect("client")
}

/// `GET /api/v1/health` on the UI port with `key` as a bearer token; the status.
async fn ui_status(server: &Server, client: &reqwest::Client, key: &str, forwarded: &str) -> u16 {
    let mut request = client.get(server.url("/api/v1/health")).bearer_auth(key);
    if !forwarded.is_empty() {
        request = request.header("x-forwarded-for", forwarded);
    }
    request.send().await.expect("GET").status().as_u16()
}

/// An OTLP/HTTP export with `key`; the status.
async fn otlp_status(server: &Server, client: &reqwest::Client, key: &str) -> u16 {
    let answer = client
        .post(format!("{}/v1/traces", server.otlp_http_url))
        .header("content-type", "application/x-protobuf")
        .header("x-otlp-api-key", key)
        .body(root_span_trace("guess", 4, "guess"))
        .send()
        .await
        .expect("POST");
    answer.status().as_u16()
}

/// A gRPC export from 127.0.0.1 with `key`; the gRPC code.
async fn grpc_code(server: &Server, key: &str) -> tonic::Code {
    let mut client = TraceServiceClient::connect(server.otlp_grpc_url.clone()).await.unwrap();
    let body =
        ExportTraceServiceRequest::decode(&root_span_trace("guess", 5, "guess")[..]).unwrap();
    let mut request = tonic::Request::new(body);
    request.metadata_mut().insert("x-otlp-api-key", key.parse().unwrap());
    match client.export(request).await {
        Ok(_) => tonic::Code::Ok,
        Err(status) => status.code(),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_keys_on_every_port_count_towards_one_throttle() {
    let server = Server::start_with(&["--in-memory", "--api-key", KEY]).await;
    let local = client_from(1);
    // Five wrong keys spread over the three ports (the free ones)...
    assert_eq!(ui_status(&server, &local, "wrong-1", "").await, 401);
    assert_eq!(ui_status(&server, &local, "wrong-2", "").await, 401);
    assert_eq!(otlp_status(&server, &local, "wrong-3").await, 401);
    assert_eq!(otlp_status(&server, &local, "wrong-4").await, 401);
    assert_eq!(grpc_code(&server, "wrong-5").await, tonic::Code::Unauthenticated);
    // ...and the next one waits, whichever port it is tried on.
    assert_eq!(grpc_code(&server, "wrong-6").await, tonic::Code::ResourceExhausted);
    assert_eq!(otlp_status(&server, &local, "wrong-7").await, 429);
    assert_eq!(ui_status(&server, &local, "wrong-8", "").await, 429);
    // OTLP/HTTP and gRPC guessing is throttled on its own too.
    let server = Server::start_with(&["--in-memory", "--api-key", KEY]).await;
    let mut answers = Vec::new();
    for i in 0..20 {
        answers.push(otlp_status(&server, &local, &format!("guess-{i}")).await);
    }
    assert!(answers.ends_with(&[429; 10]), "{answers:?}");
    let mut codes = Vec::new();
    for i in 0..10 {
        codes.push(grpc_code(&server, &format!("guess-{i}")).await);
    }
    assert!(codes.iter().all(|c| *c == tonic::Code::ResourceExhausted), "{codes:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn guessing_does_not_lock_out_the_right_key() {
    let server = Server::start_with(&["--in-memory", "--api-key", KEY]).await;
    let guesser = client_from(2);
    // Guess until throttled (the old throttle: after 10, for 60 s).
    let mut guesses = 0;
    while ui_status(&server, &guesser, "guess", "").await != 429 {
        guesses += 1;
        assert!(guesses < 20, "never throttled");
    }
    // Another client's right key works at once, on every port.
    let other = client_from(3);
    assert_eq!(ui_status(&server, &other, KEY, "").await, 200);
    assert_eq!(otlp_status(&server, &other, KEY).await, 200);
    // The guesser's own right key works once its (short) delay has passed.
    let start = Instant::now();
    let what = "the guesser's right key works (not locked out for 5 s)";
    eventually(what, Duration::from_secs(5), async || {
        match ui_status(&server, &guesser, KEY, "").await {
            200 => Ok(()),
            429 => Err(429),
            other => panic!("{other}"),
        }
    })
    .await;
    eprintln!("figure: the guesser's right key worked {:?} after its throttle", start.elapsed());
}

#[tokio::test(flavor = "multi_thread")]
async fn forwarded_for_is_believed_only_from_a_trusted_proxy() {
    let server =
        Server::start_with(&["--in-memory", "--api-key", KEY, "--trusted-proxy", "127.0.0.1"])
            .await;
    let proxy = client_from(1);
    // A guesser behind the proxy is throttled as itself...
    let mut guesses = 0;
    while ui_status(&server, &proxy, "guess", "203.0.113.5").await != 429 {
        guesses += 1;
        assert!(guesses < 20, "never throttled");
    }
    // ...not every user behind the same proxy.
    assert_eq!(ui_status(&server, &proxy, KEY, "203.0.113.6").await, 200);
    assert_eq!(ui_status(&server, &proxy, "wrong", "6.6.6.6, 203.0.113.7").await, 401);
    // A client that is not a proxy cannot dodge its throttle by naming other addresses.
    let direct = client_from(4);
    let mut answers = Vec::new();
    for i in 0..8 {
        answers.push(ui_status(&server, &direct, "guess", &format!("198.51.100.{i}")).await);
    }
    assert_eq!(answers.last(), Some(&429), "{answers:?}");
}

#[tokio::test]
async fn short_keys_are_refused_at_startup_and_a_key_can_be_generated() {
    let refused = tokio::process::Command::new(otelscope_bin())
        .args(["serve", "--in-memory", "--api-key", "s3cret"])
        .args(["--ui-listen", "127.0.0.1:0", "--otlp-http-listen", "127.0.0.1:0"])
        .args(["--otlp-grpc-listen", "127.0.0.1:0"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn");
    let output = tokio::time::timeout(Duration::from_secs(10), refused.wait_with_output())
        .await
        .expect("a short key ends the server at once")
        .expect("output");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("the API key has 6 characters; use at least 20"), "{stderr}");

    // `--api-key generate` prints a fresh key once, and that key is the one required.
    let mut child = tokio::process::Command::new(otelscope_bin())
        .args(["serve", "--in-memory", "--api-key", "generate"])
        .args(["--ui-listen", "127.0.0.1:0", "--otlp-http-listen", "127.0.0.1:0"])
        .args(["--otlp-grpc-listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = tokio::io::AsyncBufReadExt::lines(tokio::io::BufReader::new(stdout));
    let key_line = next_line(&mut lines).await;
    assert!(key_line.starts_with("otelscope API key (shown once"), "{key_line}");
    let key = key_line.rsplit(' ').next().unwrap().to_owned();
    assert_eq!(key.len(), 64, "{key_line}");
    let ready = next_line(&mut lines).await;
    assert!(!ready.contains(&key), "the key is printed once: {ready}");
    let ui = ready.rsplit(' ').find(|w| w.starts_with("http://")).expect("UI URL").to_owned();
    let health = format!("{ui}/api/v1/health");
    let http = reqwest::Client::new();
    let with = |key: &str| http.get(&health).bearer_auth(key).send();
    assert_eq!(with(&key).await.unwrap().status(), 200);
    assert_eq!(with("generate").await.unwrap().status(), 401);
    let _ = child.kill().await;
}

async fn next_line(
    lines: &mut tokio::io::Lines<tokio::io::BufReader<tokio::process::ChildStdout>>,
) -> String {
    let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line()).await;
    line.expect("a line in time").expect("stdout").expect("a line")
}
