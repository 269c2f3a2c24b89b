//! The desktop window on a trace: `otelscope desktop --server URL --path /traces/ID` shows the
//! waterfall of a trace stored by a running server (screenshot kept as an artefact). Its own
//! test binary, so its WebKit processes never overlap another window's.

use otelscope_e2e::display::show_and_close;
use otelscope_e2e::Server;

#[tokio::test(flavor = "multi_thread")]
async fn desktop_window_shows_a_trace_from_a_running_server() {
    let server = Server::start().await;
    let now = otelscope_e2e::now_ns();
    let span = |id: &str, parent: &str, name: &str, start: u64, end: u64| {
        serde_json::json!({"traceId": "d35c7000d35c7000d35c7000d35c7000", "spanId": id, "parentSpanId": parent,
            "name": name, "kind": 2, "startTimeUnixNano": (now - start).to_string(), "endTimeUnixNano": (now - end).to_string()})
    };
    let body = serde_json::json!({"resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "desk"}}]},
        "scopeSpans": [{"spans": [
            span("0000000000000001", "", "GET /checkout", 9_000_000, 1_000_000),
            span("0000000000000002", "0000000000000001", "SELECT cart", 8_000_000, 6_000_000),
            span("0000000000000003", "0000000000000001", "<img src=x onerror=alert(1)>", 5_000_000, 2_000_000),
        ]}]
    }]});
    assert_eq!(server.post_traces("application/json", body.to_string().into_bytes()).await, 200);
    let path = "/traces/d35c7000d35c7000d35c7000d35c7000";
    let title = "otelscope — desk GET /checkout";
    show_and_close(&["--server", &server.base_url, "--path", path], title, "desktop-trace.png")
        .await;
}
