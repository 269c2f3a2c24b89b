//! The desktop window on the cache page of a running server fed by the official exporter: its
//! DOM (`--dump-dom`) shows exactly the numbers of `/api/v1/cache`, the hostile name as text.
//! Its own test binary, so its WebKit processes never overlap another window's.

use otelscope_e2e::display::show_and_close;
use otelscope_e2e::insights::{
    assert_cache_page_matches, assert_text_not_markup, fixture_server, HOSTILE_CACHE,
};

#[tokio::test(flavor = "multi_thread")]
async fn desktop_window_shows_the_apis_cache_numbers() {
    let (server, range, cache, _) = fixture_server().await;
    let path = format!("/cache?{range}");
    let args = ["--server", &server.base_url, "--path", &path];
    // Marker: the table and the chart are drawn.
    let dom = show_and_close(
        &args,
        "otelscope — Cache hit rates",
        "desktop-cache.png",
        "data-field=\"hit_rate\"",
    )
    .await;
    assert!(dom.contains("data-platform=\"desktop\""));
    assert_cache_page_matches(&dom, &cache);
    assert_text_not_markup(&dom, &[HOSTILE_CACHE]);
}
