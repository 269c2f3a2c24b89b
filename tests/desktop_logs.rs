//! The desktop window on `/logs`: `otelscope desktop --server URL --path /logs` lists the logs
//! fixture's records (`support/logs.rs`) with hostile bodies as text in the window's DOM
//! (screenshot and DOM kept as artefacts). Its own test binary, so its WebKit processes never
//! overlap another window's.

use otelscope_e2e::display::show_and_close;
use otelscope_e2e::logs::{self, RECORDS};
use otelscope_e2e::Server;

#[tokio::test(flavor = "multi_thread")]
async fn desktop_window_lists_logs_from_a_running_server() {
    let server = Server::start().await;
    logs::send(&server).await;
    let args = ["--server", &server.base_url, "--path", "/logs"];
    // Marker: the hostile row is drawn (as text, escaped by the DOM serializer).
    let dom =
        show_and_close(&args, "otelscope — Logs", "desktop-logs.png", "&lt;script&gt;alert(1)")
            .await;
    let start = dom.find("id=\"app\"").expect("the app's root in the DOM");
    let end = start + dom[start..].find("</main>").expect("the page's end");
    let app = &dom[start..end];
    assert_eq!(app.matches("class=\"log-row").count(), RECORDS, "{app}");
    assert!(
        app.contains(
            "&lt;script&gt;alert(1)&lt;/script&gt;&lt;/svg&gt;&lt;img src=x onerror=alert(1)&gt;"
        ),
        "{app}"
    );
    assert!(!app.contains("<img"), "an img element was created");
    assert!(!app.contains("<script"), "a script element was created");
    assert!(app.contains("payment failed: card declined"));
    assert!(app.contains("class=\"log-histogram"), "the histogram's place");
}
