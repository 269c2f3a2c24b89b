//! The desktop window on a trace's flame graph from a running server fed by the official
//! exporter: its DOM (`--dump-dom`) draws exactly the frames of `/api/v1/flamegraph`, the
//! hostile span names as text. Its own test binary, so its WebKit never overlaps another's.

use otelscope_e2e::display::show_and_close;
use otelscope_e2e::flame::{api_frames, flame_fixture_server, frames, HOSTILE_IMG, HOSTILE_SCRIPT};
use otelscope_e2e::insights::assert_text_not_markup;

#[tokio::test(flavor = "multi_thread")]
async fn desktop_window_draws_the_apis_frames() {
    let (server, trace_id) = flame_fixture_server().await;
    let api = server.get_json(&format!("/api/v1/flamegraph?trace_id={trace_id}&format=json")).await;
    let path = format!("/flamegraph?trace_id={trace_id}");
    let args = ["--server", &server.base_url, "--path", &path];
    // Marker: the details line comes with the chart.
    let dom = show_and_close(
        &args,
        "otelscope — Flame graphs",
        "desktop-flame.png",
        "class=\"fl-details\"",
    )
    .await;
    assert!(dom.contains("data-platform=\"desktop\""));
    assert_eq!(frames(&dom, "main"), api_frames(&api));
    assert_text_not_markup(&dom, &[HOSTILE_IMG, HOSTILE_SCRIPT]);
}
