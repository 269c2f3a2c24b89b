//! The metric pages fed by the official Python SDK (cumulative, with a counter reset) and the
//! official JS SDK (delta): a counter, a histogram and an exponential histogram each chart the
//! numbers stated by hand (rate, p50–p99, bucket counts) in Chromium (the WASM app) and as
//! `/ssr/...` pages, with a hostile attribute value as text.

use otelscope_e2e::insights::assert_text_not_markup;
use otelscope_e2e::metrics::{
    assert_catalogue, assert_histogram_page, assert_rate_page, metrics_fixture_server,
    node_latency, py_latency, sizes, HOSTILE_ROUTE,
};
use otelscope_e2e::{artifacts_dir, Browser};

#[tokio::test(flavor = "multi_thread")]
async fn both_sdks_metrics_chart_the_numbers_stated_by_hand_in_chromium_and_ssr() {
    let fixture = metrics_fixture_server().await;
    let (server, range) = (&fixture.server, &fixture.range);
    let py_rate = fixture.expected_rate("e2e.py.requests").await;
    let node_rate = fixture.expected_rate("e2e.node.requests").await;
    let pages = [
        ("e2e.py.requests", format!("/metrics/e2e.py.requests?{range}")),
        ("e2e.node.requests", format!("/metrics/e2e.node.requests?{range}")),
        ("e2e.py.latency", format!("/metrics/e2e.py.latency?{range}")),
        ("e2e.node.latency", format!("/metrics/e2e.node.latency?{range}")),
        ("e2e.py.size", format!("/metrics/e2e.py.size?{range}")),
        ("e2e.node.size", format!("/metrics/e2e.node.size?{range}")),
    ];
    let check = |name: &str, html: &str| match name {
        "e2e.py.requests" => assert_rate_page(html, py_rate),
        "e2e.node.requests" => assert_rate_page(html, node_rate),
        "e2e.py.latency" => assert_histogram_page(html, &py_latency(), false),
        "e2e.node.latency" => assert_histogram_page(html, &node_latency(), false),
        _ => assert_histogram_page(html, &sizes(), true),
    };

    // Server-rendered, no scripts.
    assert_catalogue(&server.get_text("/ssr/metrics").await);
    for (name, path) in &pages {
        check(name, &server.get_text(&format!("/ssr{path}")).await);
    }
    let grouped = format!("/metrics/e2e.py.requests?{range}&group_by=http.route");
    let ssr_grouped = server.get_text(&format!("/ssr{grouped}")).await;
    assert_text_not_markup(&ssr_grouped, &[HOSTILE_ROUTE]);

    // The WASM app in Chromium.
    let browser = Browser::start().await;
    browser.client.goto(&server.url("/metrics")).await.unwrap();
    let catalogue = browser
        .dom_when(
            "the app lists the metrics",
            "return document.querySelectorAll('[data-platform=\"web\"] tr[data-metric]').length >= 6",
        )
        .await;
    assert_catalogue(&catalogue);
    for (name, path) in &pages {
        browser.client.goto(&server.url(path)).await.unwrap();
        let dom = browser
            .dom_when(
                &format!("the app draws {name}"),
                "return !!document.querySelector('[data-platform=\"web\"] section.metric-chart tr[data-line] td[data-value]:not([data-value=\"\"])')",
            )
            .await;
        check(name, &dom);
        let png = browser.client.screenshot().await.unwrap();
        std::fs::write(artifacts_dir().join(format!("web-metric-{name}.png")), png).unwrap();
    }
    browser.client.goto(&server.url(&grouped)).await.unwrap();
    let dom = browser
        .dom_when(
            "the app draws the counter grouped by route",
            "return !!document.querySelector('[data-platform=\"web\"] section.metric-chart tr[data-line]')",
        )
        .await;
    assert_text_not_markup(&dom, &[HOSTILE_ROUTE]);
}
