//! The cache and retries pages against a running server fed by the official exporter: in
//! Chromium (the WASM app) and as server-rendered pages, they show exactly the numbers of
//! `/api/v1/cache` and `/api/v1/retries`, with hostile cache and operation names as text.

use otelscope_e2e::insights::{
    assert_cache_page_matches, assert_pages_match_api, assert_retries_page_matches,
    assert_text_not_markup, fixture_server, HOSTILE_CACHE, HOSTILE_OP,
};
use otelscope_e2e::{artifacts_dir, Browser};

#[tokio::test(flavor = "multi_thread")]
async fn cache_and_retries_pages_show_the_apis_numbers_in_chromium_and_ssr() {
    let (server, range, cache, retries) = fixture_server().await;
    // The fixture as the API counts it, so the page checks below compare something real.
    let hostile = cache["caches"].as_array().unwrap().iter().find(|c| c["name"] == HOSTILE_CACHE);
    let hostile = hostile.unwrap_or_else(|| panic!("hostile cache missing: {cache}"));
    assert_eq!((hostile["hits"].as_u64(), hostile["misses"].as_u64()), (Some(3), Some(1)));
    let op = &retries["operations"][0];
    assert_eq!(op["name"], HOSTILE_OP, "{retries}");
    assert_eq!(
        [&op["calls"], &op["retried_calls"], &op["resends"], &op["give_ups"], &op["delays"]],
        [3, 2, 3, 1, 3]
    );

    // Server-rendered.
    let ssr_cache = server.get_text(&format!("/ssr/cache?{range}")).await;
    let ssr_retries = server.get_text(&format!("/ssr/retries?{range}")).await;
    assert_pages_match_api(&ssr_cache, &ssr_retries, &cache, &retries);
    assert_text_not_markup(&ssr_cache, &[HOSTILE_CACHE]);
    assert_text_not_markup(&ssr_retries, &[HOSTILE_OP]);

    // The WASM app in Chromium, in a zone half an hour off any whole-hour one (no DST).
    let browser = Browser::start_in_zone(Some("Asia/Kolkata")).await;
    browser.client.goto(&server.url(&format!("/cache?{range}"))).await.unwrap();
    let rows = otelscope_e2e::insights::cache_rows(&cache);
    let web_cache = browser.dom_when("the app draws the cache table and chart",
        &format!("return !!document.querySelector('[data-platform=\"web\"] svg.hit-rate-chart') && document.querySelectorAll('[data-platform=\"web\"] tr[data-cache]').length === {rows}"),
    )
    .await;
    assert_cache_page_matches(&web_cache, &cache);
    assert_text_not_markup(&web_cache, &[HOSTILE_CACHE]);
    // Issue 26 point 6: the time axis is in the zone the page's switch shows (local time, then
    // UTC after a click), and fitted to the minute with data, which the page says.
    let axis = "return [...document.querySelectorAll('svg.hit-rate-chart text')].map(t => t.textContent).find(t => t.startsWith('time ('))";
    assert_eq!(
        browser.eval(axis).await,
        "time (UTC+05:30) · fitted to the data",
        "the axis in the browser's zone"
    );
    assert!(browser.text_of(".chart-zone .zone").await.starts_with("(local · UTC+05:30)"));
    assert!(browser.text_of(".chart-fitted").await.contains("min of the range with data"));
    browser.click(".chart-zone .zone-switch").await;
    let in_utc = "return document.querySelector('.chart-zone .zone').firstChild.textContent === '(UTC)' && [...document.querySelectorAll('svg.hit-rate-chart text')].some(t => t.textContent === 'time (UTC) · fitted to the data')";
    browser.wait_until("the axis in UTC after the switch", in_utc).await;
    let png = browser.client.screenshot().await.unwrap();
    std::fs::write(artifacts_dir().join("web-cache.png"), png).unwrap();

    browser.client.goto(&server.url(&format!("/retries?{range}"))).await.unwrap();
    let web_retries = browser.dom_when("the app draws the retries table and histogram",
        "return !!document.querySelector('[data-platform=\"web\"] tr[data-op]') && !!document.querySelector('svg.attempts-chart')",
    )
    .await;
    assert_retries_page_matches(&web_retries, &retries);
    assert_text_not_markup(&web_retries, &[HOSTILE_OP]);
    let png = browser.client.screenshot().await.unwrap();
    std::fs::write(artifacts_dir().join("web-retries.png"), png).unwrap();

    // The client that never retried is hidden; the toggle (kept in the URL) shows it.
    let names: Vec<&str> = retries["operations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, [HOSTILE_OP, "GET /health", "pay", "upstream GET"], "{retries}");
    let pay = &retries["operations"][2];
    assert_eq!(
        (pay["calls"].as_u64(), pay["circuit_open"].as_u64(), pay["resends"].as_u64()),
        (Some(1), Some(1), Some(0))
    );
    assert_eq!(
        pay["attempts"],
        serde_json::json!([{"attempts": 0, "calls": 1}]),
        "refused: no attempt"
    );
    let ops = browser.client.find_all(fantoccini::Locator::Css("tr[data-op]")).await.unwrap();
    assert_eq!(ops.len(), 3, "GET /health hidden");
    browser
        .client
        .find(fantoccini::Locator::Css(".no-retry-toggle a"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let all = browser.dom_when("the toggle lists every operation",
        "return location.search.includes('all=1') && document.querySelectorAll('[data-platform=\"web\"] tr[data-op]').length === 4",
    )
    .await;
    otelscope_e2e::insights::assert_retries_page_lists(&all, &retries, true);
    let ssr_all = server.get_text(&format!("/ssr/retries?{range}&all=1")).await;
    otelscope_e2e::insights::assert_retries_page_lists(&ssr_all, &retries, true);
    // The chart's time axis names the zone (the switch's; UTC without scripts).
    let axis = |html: &str| {
        let doc = html.find(">time (").map(|i| html[i + 1..].split('<').next().unwrap().to_owned());
        doc.unwrap_or_default()
    };
    assert_eq!(axis(&ssr_all), "time (UTC)", "pages without scripts show UTC");
}
