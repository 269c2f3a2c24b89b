//! Issue 26 point 11: `otelscope desktop --otlp-http-listen/--otlp-grpc-listen` pins the
//! in-process server's OTLP ports (the window's empty state names them, a span sent there
//! appears, the document is titled), a pinned port that is taken stops the app with the
//! address in the error, and `--help` names the defaults. Its own test binary, so its WebKit
//! processes never overlap another window's.

use std::net::TcpListener;
use std::process::Stdio;

use otelscope_e2e::display::DesktopWindow;
use otelscope_e2e::{otelscope_bin, root_span_trace};
use tokio::process::Command;

/// A loopback address that was free a moment ago (bound, noted, released).
fn free_addr() -> String {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().to_string()
}

#[tokio::test]
async fn pinned_otlp_ports_are_used_and_shown_and_the_document_is_titled() {
    let (http, grpc) = (free_addr(), free_addr());
    let args = ["--in-memory", "--otlp-http-listen", &http, "--otlp-grpc-listen", &grpc];
    let window = DesktopWindow::open(&args, "otelscope — Traces", "desktop-pinned").await;
    assert_eq!(window.otlp_http_url, Some(format!("http://{http}")), "the ready line");
    assert_eq!(window.otlp_grpc_url, Some(format!("http://{grpc}")), "the ready line");
    let dom =
        window.dom_containing(&format!("OTEL_EXPORTER_OTLP_ENDPOINT=http://{http}</code>")).await;
    assert!(dom.contains(&format!("<code>http://{grpc}</code>")), "{dom}");
    // The webview's own document, not only the window, says what it shows.
    assert!(dom.contains("<title>otelscope — Traces</title>"), "{dom}");
    assert!(!dom.contains("Dioxus app"), "{dom}");

    // gRPC's port takes OTLP/HTTP too (point 1): a span sent to the pinned gRPC port appears.
    let status = reqwest::Client::new()
        .post(format!("http://{grpc}/v1/traces"))
        .header("content-type", "application/x-protobuf")
        .body(root_span_trace("desk-pinned", 0x93, "sent-to-the-pinned-port"))
        .send()
        .await
        .expect("POST to the pinned port")
        .status();
    assert_eq!(status, 200);
    let dom = window.dom_containing(">sent-to-the-pinned-port</span>").await;
    assert!(dom.contains("<title>otelscope — Traces</title>"), "{dom}");
    window.screenshot_when_painted("desktop-pinned.png").await;
    window.close().await;
}

#[tokio::test]
async fn a_taken_pinned_port_stops_the_app_with_its_address() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    // No window is opened: the server fails before, so no display is needed.
    let output = Command::new(otelscope_bin())
        .args(["desktop", "--in-memory", "--otlp-http-listen", &addr])
        .args(["--otlp-grpc-listen", &free_addr()])
        .env_remove("DISPLAY")
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .expect("run otelscope desktop");
    assert!(!output.status.success(), "a taken pinned port must not be replaced");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(&format!("cannot listen on {addr}")), "{stderr}");
    assert!(!String::from_utf8_lossy(&output.stdout).contains("OTLP on"), "never ready");
    drop(taken);
}

#[tokio::test]
async fn desktop_help_names_where_otlp_is_received() {
    let output = Command::new(otelscope_bin())
        .args(["desktop", "--help"])
        .output()
        .await
        .expect("run otelscope desktop --help");
    assert!(output.status.success());
    let help = String::from_utf8_lossy(&output.stdout);
    for wanted in [
        "--otlp-http-listen <ADDR>",
        "--otlp-grpc-listen <ADDR>",
        "127.0.0.1:4318",
        "127.0.0.1:4317",
    ] {
        assert!(help.contains(wanted), "{wanted:?} missing from {help}");
    }
}
