//! The desktop window on the cache and retries pages of a running server fed by the official
//! exporter: the window's DOM (`--dump-dom`) shows exactly the API's numbers, hostile cache and
//! operation names as text. Its own test binary, so its WebKit processes never overlap another
//! window's; the two windows open one after the other.

use otelscope_e2e::display::show_and_close;
use otelscope_e2e::insights::{
    assert_pages_match_api, assert_text_not_markup, send_fixture, HOSTILE_CACHE, HOSTILE_OP,
};
use otelscope_e2e::{now_ns, Server};
use serde_json::Value;

#[tokio::test(flavor = "multi_thread")]
async fn desktop_window_shows_the_apis_cache_and_retry_numbers() {
    let server = Server::start().await;
    let url = server.otlp_http_url.clone();
    tokio::task::spawn_blocking(move || send_fixture(&url)).await.unwrap();
    let range = format!("since={}&until={}", now_ns() - 600_000_000_000, now_ns() + 60_000_000_000);
    let cache: Value = server.get_json(&format!("/api/v1/cache?{range}")).await;
    let retries: Value = server.get_json(&format!("/api/v1/retries?{range}")).await;
    assert!(!cache["caches"].as_array().unwrap().is_empty(), "{cache}");
    assert!(!retries["operations"].as_array().unwrap().is_empty(), "{retries}");

    let cache_path = format!("/cache?{range}");
    let args = ["--server", &server.base_url, "--path", &cache_path];
    // Marker: the table's rows and the chart are drawn.
    let cache_dom = show_and_close(
        &args,
        "otelscope — Cache hit rates",
        "desktop-cache.png",
        "data-field=\"hit_rate\"",
    )
    .await;
    let retries_path = format!("/retries?{range}");
    let args = ["--server", &server.base_url, "--path", &retries_path];
    let retries_dom =
        show_and_close(&args, "otelscope — Retries", "desktop-retries.png", "attempts-chart").await;

    assert!(cache_dom.contains("data-platform=\"desktop\""));
    assert_pages_match_api(&cache_dom, &retries_dom, &cache, &retries);
    assert_text_not_markup(&cache_dom, &[HOSTILE_CACHE]);
    assert_text_not_markup(&retries_dom, &[HOSTILE_OP]);
}
