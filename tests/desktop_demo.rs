//! The demo workload (over a Redis the test starts) in the desktop window: the Cache and
//! Retries pages' DOMs (`--dump-dom`) show exactly the API's numbers for a settled range.
//! Its own test binary, so its WebKit processes never overlap another window's.

use otelscope_e2e::demo::{settled_range, DemoRun};
use otelscope_e2e::display::show_and_close;
use otelscope_e2e::insights::{assert_cache_page_matches, assert_retries_page_matches};

#[tokio::test(flavor = "multi_thread")]
async fn the_demos_numbers_in_the_desktop_window() {
    let demo = DemoRun::start(&[]).await;
    let (range, cache, retries) = settled_range(&demo.server).await;
    let base = demo.server.base_url.as_str();

    let path = format!("/cache?{range}");
    let dom = show_and_close(
        &["--server", base, "--path", &path],
        "otelscope — Cache hit rates",
        "desktop-demo-cache.png",
        "data-field=\"hit_rate\"",
    )
    .await;
    assert!(dom.contains("data-platform=\"desktop\""));
    assert_cache_page_matches(&dom, &cache);

    let path = format!("/retries?{range}");
    let dom = show_and_close(
        &["--server", base, "--path", &path],
        "otelscope — Retries",
        "desktop-demo-retries.png",
        "attempts-chart",
    )
    .await;
    assert_retries_page_matches(&dom, &retries);
}
