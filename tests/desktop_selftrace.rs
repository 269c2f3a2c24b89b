//! The desktop window traces itself: opened on `/self` of a running server, it sends `otelscope-ui` spans (`otelscope.platform = desktop`) whose API calls the server's spans continue, and its `/self` page lists its own navigation. Its own test binary, so its WebKit never overlaps another window's.

use otelscope_e2e::display::DesktopWindow;
use otelscope_e2e::selftrace::joined_ui_trace;
use otelscope_e2e::Server;

#[tokio::test(flavor = "multi_thread")]
async fn the_desktop_window_traces_itself_and_shows_it_on_self() {
    let server = Server::start().await;
    let args = ["--server", &server.base_url, "--path", "/self"];
    let window = DesktopWindow::open(&args, "otelscope — itself", "desktop-self").await;
    let spans =
        joined_ui_trace(&server, "desktop", "navigate /self", "GET /api/v1/operations/stats").await;
    assert!(spans.iter().any(|s| s["name"] == "render /self"), "{spans:#?}");
    // The page's live refresh brings its own navigation into the UI's timings.
    let dom = window.dom_containing("<td class=\"op\">navigate /self</td>").await;
    assert!(dom.contains("data-platform=\"desktop\""));
    assert!(dom.contains("data-ui-tracing=\"on\""));
    window.screenshot_when_painted("desktop-self.png").await;
    window.close().await;
}
