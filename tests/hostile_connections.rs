//! The real binary against clients that hold connection places without credentials: sign-in
//! forms trickled a byte at a time, HTTP/2 connections that never open a stream, a client that
//! pipelines big answers and never reads them, and one address opening more connections than
//! its share. Each port must stay usable for everyone else. (Client sockets are bound to
//! 127.0.0.2 / 127.0.0.3 to act as other addresses: all of 127.0.0.0/8 is loopback on Linux.)

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use otelscope_e2e::{eventually, root_span_trace, Server};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::time::Instant;

const KEY: &str = "hostile-connections-key-0123456789";
/// More than a port serves at once (512).
const MANY: usize = 515;

fn ip(last: u8) -> IpAddr {
    IpAddr::from([127, 0, 0, last])
}

fn addr_of(url: &str) -> SocketAddr {
    url.trim_start_matches("http://").parse().expect("host:port")
}

/// A TCP connection to `to` from address `from`.
async fn connect_from(from: IpAddr, to: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(from, 0))?;
    socket.connect(to).await
}

/// A reqwest client whose connections come from `from`, giving up after `timeout`.
fn client_from(from: IpAddr, timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder().local_address(from).timeout(timeout).build().expect("client")
}

#[tokio::test(flavor = "multi_thread")]
async fn trickled_sign_in_forms_cannot_fill_the_ui_port() {
    let server =
        Server::start_with(&["--in-memory", "--api-key", KEY, "--body-timeout", "2s"]).await;
    let ui = addr_of(&server.base_url);
    // Each sends the form's headers and one byte of a 100-byte body, then nothing.
    let mut tricklers = Vec::new();
    for _ in 0..MANY {
        let mut stream = TcpStream::connect(ui).await.expect("connect");
        let head = format!(
            "POST /login HTTP/1.1\r\nhost: {ui}\r\ncontent-type: application/x-www-form-urlencoded\r\n\
             content-length: 100\r\n\r\nk"
        );
        // Connections past the address's share may be closed already: that is fine.
        let _ = stream.write_all(head.as_bytes()).await;
        tricklers.push(stream);
    }
    // Someone else can use the UI port at once, and so can this address once the forms'
    // deadline has passed.
    let health = format!("{}/api/v1/health", server.base_url);
    let other = client_from(ip(2), Duration::from_secs(2));
    let ok = other.get(&health).bearer_auth(KEY).send().await.map(|r| r.status().as_u16());
    assert_eq!(ok.ok(), Some(200), "another address is served while the forms trickle");
    let same = client_from(ip(1), Duration::from_secs(1));
    let start = Instant::now();
    eventually("the UI port serves 127.0.0.1 again", Duration::from_secs(8), async || {
        match same.get(&health).bearer_auth(KEY).send().await {
            Ok(r) if r.status() == 200 => Ok(()),
            Ok(r) => Err(r.status().to_string()),
            Err(e) => Err(e.to_string()),
        }
    })
    .await;
    let took = start.elapsed();
    // The first trickled forms were answered 408 at their body deadline, and closed.
    for mut stream in tricklers.into_iter().take(3) {
        let mut answer = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer));
        read.await.expect("answered and closed within the body deadline").expect("read");
        let answer = String::from_utf8_lossy(&answer);
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    }
    eprintln!("figure: 515 trickled sign-in forms; 127.0.0.1 served again after {took:?}");
}

/// Opens an HTTP/2 connection from `from` that answers pings and opens no stream; returns a
/// task that ends when the server closes the connection.
async fn idle_h2(from: IpAddr, to: SocketAddr) -> Option<tokio::task::JoinHandle<()>> {
    let stream = connect_from(from, to).await.ok()?;
    let (send, connection) = h2::client::handshake(stream).await.ok()?;
    Some(tokio::spawn(async move {
        let _keep = send;
        let _ = connection.await;
    }))
}

/// One OTLP/gRPC trace export over a fresh HTTP/2 connection from `from`; its `grpc-status`.
async fn grpc_export_from(from: IpAddr, to: SocketAddr, key: Option<&str>) -> Option<String> {
    let stream = connect_from(from, to).await.ok()?;
    let (send, connection) = h2::client::handshake(stream).await.ok()?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    let mut send = send.ready().await.ok()?;
    let mut request = http::Request::post(format!(
        "http://{to}/opentelemetry.proto.collector.trace.v1.TraceService/Export"
    ))
    .header("content-type", "application/grpc")
    .header("te", "trailers");
    if let Some(key) = key {
        request = request.header("x-otlp-api-key", key);
    }
    let message = root_span_trace("grpc-probe", 9, "probe");
    let mut body = vec![0u8];
    body.extend_from_slice(&(message.len() as u32).to_be_bytes());
    body.extend_from_slice(&message);
    let (response, mut stream) = send.send_request(request.body(()).ok()?, false).ok()?;
    stream.send_data(body.into(), true).ok()?;
    let response = response.await.ok()?;
    if let Some(status) = response.headers().get("grpc-status") {
        return status.to_str().ok().map(str::to_owned);
    }
    let mut body = response.into_body();
    while let Some(chunk) = body.data().await {
        let _ = body.flow_control().release_capacity(chunk.ok()?.len());
    }
    let trailers = body.trailers().await.ok()??;
    trailers.get("grpc-status")?.to_str().ok().map(str::to_owned)
}

#[tokio::test(flavor = "multi_thread")]
async fn idle_http2_connections_are_closed_and_cannot_fill_the_grpc_port() {
    let server = Server::start_with(&["--in-memory", "--header-timeout", "1s"]).await;
    let grpc = addr_of(&server.otlp_grpc_url);
    let started = Instant::now();
    let mut idle = Vec::new();
    for _ in 0..MANY {
        if let Some(task) = idle_h2(ip(1), grpc).await {
            idle.push(task);
        }
    }
    // Every idle connection ends (refused past the address's share, or closed for opening no
    // stream within the header deadline), and an export gets through after them.
    for task in idle {
        let left = Duration::from_secs(10).saturating_sub(started.elapsed());
        tokio::time::timeout(left, task)
            .await
            .expect("an HTTP/2 connection without a stream is still open after 10 s")
            .expect("task");
    }
    let closed_after = started.elapsed();
    let export = tokio::time::timeout(Duration::from_secs(5), grpc_export_from(ip(1), grpc, None));
    assert_eq!(export.await.expect("export in time").as_deref(), Some("0"));
    eprintln!("figure: 515 idle HTTP/2 connections all closed after {closed_after:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_that_never_reads_loses_its_connection() {
    let server = Server::start_with(&["--in-memory", "--write-timeout", "2s"]).await;
    let ui = addr_of(&server.base_url);
    let wasm = reqwest::get(format!("{}/pkg/otelscope_app_bg.wasm", server.base_url))
        .await
        .expect("GET the bundle")
        .bytes()
        .await
        .expect("bundle")
        .len();
    assert!(wasm > 100_000, "this binary has no web bundle: build it with `make build`");
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut stream = socket.connect(ui).await.unwrap();
    let requests = 40;
    let one = format!("GET /pkg/otelscope_app_bg.wasm HTTP/1.1\r\nhost: {ui}\r\n\r\n");
    stream.write_all(one.repeat(requests).as_bytes()).await.unwrap();
    // Read nothing for longer than the write deadline; then the connection must be gone: what
    // is left to read ends well short of the answers asked for.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let mut got = 0usize;
    let mut buf = vec![0u8; 1 << 16];
    let end = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => got += n,
            }
        }
    })
    .await;
    assert!(end.is_ok(), "the connection is still open after 15 s ({got} bytes read)");
    assert!(
        got < requests * wasm / 2,
        "the server wrote {got} of {} bytes: it kept the connection for a client that did not read",
        requests * wasm
    );
    eprintln!(
        "figure: a non-reading client got {got} of {} bytes before its connection was cut",
        requests * wasm
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn one_address_cannot_hold_every_connection_of_a_port() {
    let server = Server::start_with(&["--in-memory"]).await;
    let (ui, otlp, grpc) =
        (addr_of(&server.base_url), addr_of(&server.otlp_http_url), addr_of(&server.otlp_grpc_url));
    // 127.0.0.2 opens more connections than a port serves, on every port, each with a request
    // begun (held until the 10 s header deadline) or an HTTP/2 preface and no stream.
    let mut held = Vec::new();
    let mut refused = [0usize; 2];
    for (i, port) in [ui, otlp].into_iter().enumerate() {
        for _ in 0..MANY {
            let mut stream = connect_from(ip(2), port).await.expect("connect");
            let _ = stream.write_all(b"GET /api/v1/health HTTP/1.1\r\n").await;
            held.push(stream);
        }
        // Those past the share are told so (or just closed) at once; the others wait for
        // their headers' deadline.
        let deadline = Instant::now() + Duration::from_secs(2);
        for stream in held.iter_mut().rev().take(MANY - 256) {
            let mut answer = [0u8; 12];
            match tokio::time::timeout_at(deadline, stream.read(&mut answer)).await {
                Ok(Ok(n)) if n == 0 || answer[..n].starts_with(b"HTTP/1.1 503") => refused[i] += 1,
                Ok(Err(_)) => refused[i] += 1,
                _ => {}
            }
        }
    }
    let mut idle = Vec::new();
    for _ in 0..MANY {
        if let Some(task) = idle_h2(ip(2), grpc).await {
            idle.push(task);
        }
    }
    // Another address is served at once on each port.
    let other = client_from(ip(3), Duration::from_secs(3));
    let health = other.get(format!("{}/api/v1/health", server.base_url)).send().await;
    assert_eq!(health.map(|r| r.status().as_u16()).ok(), Some(200), "UI port full");
    let export = other
        .post(format!("{}/v1/traces", server.otlp_http_url))
        .header("content-type", "application/x-protobuf")
        .body(root_span_trace("other", 3, "other"))
        .send()
        .await;
    assert_eq!(export.map(|r| r.status().as_u16()).ok(), Some(200), "OTLP/HTTP port full");
    let export = tokio::time::timeout(Duration::from_secs(3), grpc_export_from(ip(3), grpc, None));
    assert_eq!(export.await.ok().flatten().as_deref(), Some("0"), "gRPC port full");
    assert_eq!(refused, [MANY - 256, MANY - 256], "refused past the share of 256");
    eprintln!("figure: one address holds at most 256 connections per port ({refused:?} refused)");
    drop((held, idle));
}
