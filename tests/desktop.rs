//! The desktop app in a real window: `otelscope desktop` under a private Xvfb display shows a
//! window titled otelscope that draws the app, and closing it ends the process cleanly.

use otelscope_e2e::display::show_and_close;

#[tokio::test]
async fn desktop_window_shows_the_app_and_closes_cleanly() {
    let dom =
        show_and_close(&["--in-memory"], "otelscope", "desktop.png", "data-platform=\"desktop\"")
            .await;
    assert!(dom.contains("class=\"topbar\""), "{dom}");
}
