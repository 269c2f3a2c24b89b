//! The desktop app in a real window: `otelscope desktop` under a private Xvfb display shows a
//! window titled otelscope that draws the app, its empty trace list names the OTLP endpoint its
//! in-process server really listens on (4318, or a free port when that is taken), a span sent
//! there shows up, and closing the window ends the process cleanly.

use otelscope_e2e::display::DesktopWindow;
use otelscope_e2e::root_span_trace;

/// Issue 9: the in-process server listened on random ports while the empty page said 4318.
#[tokio::test]
async fn desktop_window_shows_the_app_and_where_to_send_and_closes_cleanly() {
    let window = DesktopWindow::open(&["--in-memory"], "otelscope — Traces", "desktop").await;
    let http = window.otlp_http_url.clone().expect("the in-process server's OTLP/HTTP URL");
    let grpc = window.otlp_grpc_url.clone().expect("the in-process server's OTLP/gRPC URL");
    // 4318 and 4317 unless something else holds them; either way, what the server really got.
    let hint = format!("OTEL_EXPORTER_OTLP_ENDPOINT={http}</code>");
    let dom = window.dom_containing(&hint).await;
    assert!(dom.contains("data-platform=\"desktop\""), "{dom}");
    assert!(dom.contains("class=\"topbar\""), "{dom}");
    assert!(dom.contains(&format!("<code>{grpc}</code>")), "{dom}");
    window.screenshot_when_painted("desktop.png").await;

    // The endpoint shown is the one that receives: a span sent there appears in the window.
    let status = reqwest::Client::new()
        .post(format!("{http}/v1/traces"))
        .header("content-type", "application/x-protobuf")
        .body(root_span_trace("desk-first-run", 0x91, "sent-where-shown"))
        .send()
        .await
        .expect("POST to the endpoint the window shows")
        .status();
    assert_eq!(status, 200);
    window.dom_containing(">sent-where-shown</span>").await;
    window.close().await;
}
