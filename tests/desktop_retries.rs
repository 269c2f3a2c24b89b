//! The desktop window on the retries page of a running server fed by the official exporter: its
//! DOM (`--dump-dom`) shows exactly the numbers of `/api/v1/retries`, the hostile name as text.
//! Its own test binary, so its WebKit processes never overlap another window's.

use otelscope_e2e::display::show_and_close;
use otelscope_e2e::insights::{
    assert_retries_page_matches, assert_text_not_markup, fixture_server, HOSTILE_OP,
};

#[tokio::test(flavor = "multi_thread")]
async fn desktop_window_shows_the_apis_retries_numbers() {
    let (server, range, _, retries) = fixture_server().await;
    let path = format!("/retries?{range}");
    let args = ["--server", &server.base_url, "--path", &path];
    // Marker: the table and the chart are drawn.
    let dom =
        show_and_close(&args, "otelscope — Retries", "desktop-retries.png", "attempts-chart").await;
    assert!(dom.contains("data-platform=\"desktop\""));
    assert_retries_page_matches(&dom, &retries);
    assert_text_not_markup(&dom, &[HOSTILE_OP]);
}
