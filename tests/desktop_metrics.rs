//! The desktop window on a histogram's page fed by the official Python SDK: its DOM
//! (`--dump-dom`) shows the percentiles and bucket counts stated by hand. Its own test binary,
//! so its WebKit processes never overlap another window's.

use otelscope_e2e::display::show_and_close;
use otelscope_e2e::metrics::{
    assert_histogram_page, assert_rate_page, metrics_fixture_server, py_latency,
};

#[tokio::test(flavor = "multi_thread")]
async fn desktop_window_charts_the_sdks_histogram_and_rate() {
    let fixture = metrics_fixture_server().await;
    let rate = fixture.expected_rate("e2e.py.requests").await;
    let server = &fixture.server;
    let path = format!("/metrics/e2e.py.latency?{}", fixture.range);
    let args = ["--server", &server.base_url, "--path", &path];
    // Marker: the bucket table is drawn (after the legend).
    let dom = show_and_close(
        &args,
        "otelscope — e2e.py.latency",
        "desktop-metric-latency.png",
        "data-bucket=\"4\"",
    )
    .await;
    assert!(dom.contains("data-platform=\"desktop\""));
    assert_histogram_page(&dom, &py_latency(), false);
    let path = format!("/metrics/e2e.py.requests?{}", fixture.range);
    let args = ["--server", &server.base_url, "--path", &path];
    let dom = show_and_close(
        &args,
        "otelscope — e2e.py.requests",
        "desktop-metric-rate.png",
        "legend-toggle",
    )
    .await;
    assert_rate_page(&dom, rate);
}
