//! The desktop window's live refresh (tokio timers): the trace list picks up a trace sent
//! after the window opened. Its own test binary, so its WebKit processes never overlap
//! another window's.

use otelscope_e2e::display::DesktopWindow;
use otelscope_e2e::{root_span_trace, Server};

fn root_span(id: u8, name: &str) -> Vec<u8> {
    root_span_trace("desk-live", id, name)
}

#[tokio::test(flavor = "multi_thread")]
async fn desktop_trace_list_refreshes_while_data_arrives() {
    let server = Server::start().await;
    assert_eq!(server.post_traces("application/x-protobuf", root_span(0x71, "before")).await, 200);
    let args = ["--server", &server.base_url, "--path", "/traces"];
    let window = DesktopWindow::open(&args, "otelscope — Traces", "desktop-live").await;
    let dom = window.dom_containing(">before</span>").await;
    assert!(dom.contains("data-platform=\"desktop\""));
    assert!(!dom.contains(">after</span>"));

    assert_eq!(server.post_traces("application/x-protobuf", root_span(0x72, "after")).await, 200);
    let dom = window.dom_containing(">after</span>").await;
    assert!(dom.contains("data changed"), "the live indicator saw the change");
    window.screenshot_when_painted("desktop-live.png").await;
    window.close().await;
}
