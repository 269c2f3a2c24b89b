//! The demo workload (over a Redis the test starts) on the Cache and Retries pages: server-rendered
//! and in Chromium, they show exactly the numbers `/api/v1/cache` and `/api/v1/retries` give for
//! a settled range of the demo's data.

use otelscope_e2e::demo::{settled_range, DemoRun};
use otelscope_e2e::insights::{assert_cache_page_matches, assert_retries_page_matches};
use otelscope_e2e::{artifacts_dir, Browser};

#[tokio::test(flavor = "multi_thread")]
async fn the_demos_numbers_on_the_cache_and_retries_pages_in_ssr_and_chromium() {
    let demo = DemoRun::start(&[]).await;
    let server = &demo.server;
    let (range, cache, retries) = settled_range(server).await;

    let ssr_cache = server.get_text(&format!("/ssr/cache?{range}")).await;
    assert_cache_page_matches(&ssr_cache, &cache);
    let ssr_retries = server.get_text(&format!("/ssr/retries?{range}")).await;
    assert_retries_page_matches(&ssr_retries, &retries);
    // The demo's L2 is the test's Redis, not an in-process stand-in.
    assert!(!ssr_cache.contains("in-process"), "{ssr_cache}");

    let browser = Browser::start().await;
    browser.client.goto(&server.url(&format!("/cache?{range}"))).await.unwrap();
    let rows = otelscope_e2e::insights::cache_rows(&cache);
    let web_cache = browser.dom_when("the app draws the demo's caches",
        &format!("return !!document.querySelector('[data-platform=\"web\"] svg.hit-rate-chart') && document.querySelectorAll('[data-platform=\"web\"] tr[data-cache]').length === {rows}"),
    )
    .await;
    assert_cache_page_matches(&web_cache, &cache);
    std::fs::write(
        artifacts_dir().join("demo-cache.png"),
        browser.client.screenshot().await.unwrap(),
    )
    .unwrap();

    browser.client.goto(&server.url(&format!("/retries?{range}"))).await.unwrap();
    let web_retries = browser.dom_when("the app draws the demo's retries",
        "return !!document.querySelector('[data-platform=\"web\"] tr[data-op]') && !!document.querySelector('svg.attempts-chart')",
    )
    .await;
    assert_retries_page_matches(&web_retries, &retries);
    std::fs::write(
        artifacts_dir().join("demo-retries.png"),
        browser.client.screenshot().await.unwrap(),
    )
    .unwrap();
}
