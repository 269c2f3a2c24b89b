//! The desktop window traces itself: opened on `/self` of a running server, it sends `otelscope-ui` spans (`otelscope.platform = desktop`) whose API calls the server's spans continue, with its component renders under the navigation (`OTELSCOPE_COMPONENT_SPANS=1`), and its `/self` page lists its own navigation. Its own test binary, so its WebKit never overlaps another window's.

use otelscope_e2e::display::DesktopWindow;
use otelscope_e2e::selftrace::joined_ui_trace;
use otelscope_e2e::Server;

#[tokio::test(flavor = "multi_thread")]
async fn the_desktop_window_traces_itself_and_shows_it_on_self() {
    // The window inherits the switch; this binary's only test, so nothing else sees it.
    std::env::set_var("OTELSCOPE_COMPONENT_SPANS", "1");
    let server = Server::start().await;
    let args = ["--server", &server.base_url, "--path", "/self"];
    let window = DesktopWindow::open(&args, "otelscope — itself", "desktop-self").await;
    let spans =
        joined_ui_trace(&server, "desktop", "navigate /self", "GET /api/v1/operations/stats").await;
    assert!(spans.iter().any(|s| s["name"] == "render /self"), "{spans:#?}");
    // With the switch, dioxus-core's component renders are children of the navigation.
    let navigation = spans.iter().find(|s| s["name"] == "navigate /self").unwrap();
    let components: Vec<&str> = spans
        .iter()
        .filter(|s| s["parent_span_id"] == navigation["span_id"])
        .filter_map(|s| s["name"].as_str()?.strip_prefix("component "))
        .collect();
    assert!(components.contains(&"OperationTable"), "{components:?}");
    // The page's live refresh brings its own navigation into the UI's timings.
    let dom = window.dom_containing("<td class=\"op\">navigate /self</td>").await;
    assert!(dom.contains("data-platform=\"desktop\""));
    assert!(dom.contains("data-ui-tracing=\"on\""));
    window.screenshot_when_painted("desktop-self.png").await;
    window.close().await;
}
