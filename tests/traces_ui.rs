//! The trace views in a real browser against a running server: a trace sent by the official
//! OpenTelemetry Python SDK appears in /traces, opens as a nested waterfall, collapses, is
//! found by the span search, survives a reload; hostile span strings stay text.

use std::time::Duration;

use fantoccini::key::Key;
use fantoccini::Locator;
use otelscope_e2e::{artifacts_dir, now_ns, Browser, Server};
use serde_json::json;

async fn send_with_python(server: &Server) -> String {
    let python =
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/py-venv/bin/python");
    let python = std::env::var_os("OTELSCOPE_PYTHON").map(Into::into).unwrap_or(python);
    let script = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("python/send.py");
    let output = tokio::process::Command::new(python)
        .arg(script)
        .args(["http", &server.otlp_http_url, "shop"])
        .output()
        .await
        .expect("run send.py");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let printed: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    printed["trace_id"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn find_open_collapse_search_and_reload_a_trace() {
    let server = Server::start().await;
    let trace_id = send_with_python(&server).await;
    let browser = Browser::start().await;
    let client = &browser.client;

    client.goto(&server.url("/traces")).await.unwrap();
    let link = client
        .wait()
        .at_most(Duration::from_secs(30))
        .for_element(Locator::Css(&format!(
            r#"[data-platform="web"] a.trace-link[href="/traces/{trace_id}"]"#
        )))
        .await
        .expect("the trace is listed");
    assert_eq!(
        link.text().await.unwrap(),
        "⇥ shop GET /items",
        "the root's kind icon, service and name"
    );
    link.click().await.unwrap();

    // The waterfall: the root at depth 0, its child nested at depth 1.
    let child = browser.text_of(r#"[data-platform="web"] .wf-row[data-depth="1"] .op"#).await;
    assert_eq!(child, "redis GET");
    assert_eq!(browser.text_of(r#".wf-row[data-depth="0"] .op"#).await, "GET /items");
    assert_eq!(client.current_url().await.unwrap().path(), format!("/traces/{trace_id}"));

    // Collapsing the root hides its child.
    browser.click(r#".wf-row[data-row="0"] .wf-toggle"#).await;
    browser
        .wait_until(
            "the child is hidden",
            r#"return document.querySelectorAll('.wf-row[data-depth="1"]').length === 0"#,
        )
        .await;

    // The search finds the hidden span, expands its parent and marks it.
    let search = client.find(Locator::Css(".wf-search")).await.unwrap();
    search.send_keys("redis").await.unwrap();
    search.send_keys(&char::from(Key::Enter).to_string()).await.unwrap();
    browser.wait_until("the match is shown", r#"var m = document.querySelector('.wf-row.match .op'); return !!m && m.textContent === 'redis GET'"#).await;
    assert_eq!(browser.text_of(".wf-matches").await, "1 of 1");
    let png = client.screenshot().await.unwrap();
    std::fs::write(artifacts_dir().join("web-waterfall.png"), png).unwrap();

    // A reload of the URL shows the same trace.
    client.refresh().await.unwrap();
    assert_eq!(
        browser.text_of(r#"[data-platform="web"] .wf-row[data-depth="1"] .op"#).await,
        "redis GET"
    );
    assert_eq!(client.current_url().await.unwrap().path(), format!("/traces/{trace_id}"));
}

#[tokio::test(flavor = "multi_thread")]
async fn hostile_span_strings_are_text_in_the_browser() {
    let server = Server::start().await;
    let name = "<img src=x onerror=alert(1)>";
    let value = "<script>alert(1)</script>";
    let body = json!({"resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "evil"}}]},
        "scopeSpans": [{"spans": [{
            "traceId": "0badc0de0badc0de0badc0de0badc0de", "spanId": "0badc0de0badc0de",
            "name": name, "kind": 2,
            "startTimeUnixNano": (now_ns() - 1_000_000).to_string(),
            "endTimeUnixNano": now_ns().to_string(),
            "attributes": [{"key": "note", "value": {"stringValue": value}}]
        }]}]
    }]});
    assert_eq!(server.post_traces("application/json", body.to_string().into_bytes()).await, 200);

    let browser = Browser::start().await;
    for path in ["/traces", "/traces/0badc0de0badc0de0badc0de0badc0de"] {
        browser.client.goto(&server.url(path)).await.unwrap();
        let selector = if path == "/traces" {
            "[data-platform=\"web\"] a.trace-link .op"
        } else {
            "[data-platform=\"web\"] .wf-row .op"
        };
        assert_eq!(browser.text_of(selector).await, name, "{path}");
        let elements = browser
            .eval("return document.querySelectorAll('#main img, #main script').length")
            .await;
        assert_eq!(elements, 0, "{path}: an element was created from telemetry");
    }
    let shown = browser.text_of(".span-details .attributes td").await;
    assert_eq!(shown, value);
    let alerted = browser.eval("return typeof window.__alerted === 'undefined'").await;
    assert_eq!(alerted, true);
}

#[tokio::test(flavor = "multi_thread")]
async fn large_trace_page_is_a_light_preview_that_the_app_completes() {
    use opentelemetry_proto::tonic::trace::v1::Span;
    let server = Server::start().await;
    let t0 = now_ns() - 1_000_000_000;
    let spans: Vec<Span> = (0..500u64)
        .map(|i| Span {
            trace_id: vec![0x77; 16],
            span_id: (i + 1).to_be_bytes().to_vec(),
            parent_span_id: if i == 0 { vec![] } else { 1u64.to_be_bytes().to_vec() },
            name: format!("step-{i}"),
            start_time_unix_nano: t0 + i * 1000,
            end_time_unix_nano: t0 + i * 1000 + 500,
            ..Default::default()
        })
        .collect();
    let body = otelscope_e2e::otlp_traces("preview", spans);
    assert_eq!(server.post_traces("application/x-protobuf", body).await, 200);
    let trace_id = "77".repeat(16);

    // The HTML the app replaces draws the first screen only, and asks the browser to fetch
    // the bundle and the trace while it parses.
    let html = server.get_text(&format!("/traces/{trace_id}")).await;
    let rows = html.matches("class=\"wf-row").count();
    assert!((20..60).contains(&rows), "{rows} rows in the preview");
    assert!(html.contains(&format!(
        "<link rel=\"preload\" href=\"/api/v1/traces/{trace_id}\" as=\"fetch\" crossorigin>"
    )));
    assert!(html.contains("rel=\"preload\" href=\"/pkg/otelscope_app_bg.wasm\""));
    assert!(html.contains(&format!("href=\"/ssr/traces/{trace_id}\"")), "noscript link");
    // The page without scripts has them all.
    let full = server.get_text(&format!("/ssr/traces/{trace_id}")).await;
    assert_eq!(full.matches("class=\"wf-row").count(), 500);

    // The app takes over and reaches the last row.
    let browser = Browser::start().await;
    browser.client.goto(&server.url(&format!("/traces/{trace_id}"))).await.unwrap();
    browser.text_of("[data-platform=\"web\"] .wf-row[data-row=\"0\"] .op").await;
    browser
        .eval("const s = document.getElementById('wf-scroll'); s.scrollTop = s.scrollHeight; return 0")
        .await;
    assert_eq!(browser.text_of(".wf-row[data-row=\"499\"] .op").await, "step-499");
    assert_eq!(
        browser.eval("return document.getElementById('ssr')").await,
        serde_json::Value::Null
    );

    // A link to one span opens the trace with that span selected and scrolled into view.
    let url = server.url(&format!("/traces/{trace_id}/spans/{:016x}", 401));
    browser.client.goto(&url).await.unwrap();
    assert_eq!(browser.text_of("[data-platform=\"web\"] .span-details h2").await, "step-400");
    assert_eq!(browser.text_of(".wf-row.selected .op").await, "step-400");
    let in_view = browser
        .eval(
            "const s = document.getElementById('wf-scroll').getBoundingClientRect(); \
             const r = document.querySelector('.wf-row.selected').getBoundingClientRect(); \
             return r.top >= s.top && r.bottom <= s.bottom",
        )
        .await;
    assert_eq!(in_view, true, "the focused row is scrolled into view");
    // The focus is revealed once: collapsing the root afterwards sticks.
    browser.eval("document.getElementById('wf-scroll').scrollTop = 0; return 0").await;
    browser.text_of(r#".wf-row[data-row="0"] .wf-toggle"#).await;
    browser.click(r#".wf-row[data-row="0"] .wf-toggle"#).await;
    browser
        .wait_until(
            "only the collapsed root is left",
            "return document.querySelectorAll('.wf-row').length === 1 && \
         document.querySelector('.wf-row .wf-toggle').getAttribute('aria-expanded') === 'false'",
        )
        .await;
}

fn one_span_trace(id: u8, name: &str) -> Vec<u8> {
    otelscope_e2e::root_span_trace("live", id, name)
}

#[tokio::test(flavor = "multi_thread")]
async fn live_list_pauses_resumes_and_says_when_data_changed() {
    let server = Server::start().await;
    assert_eq!(
        server.post_traces("application/x-protobuf", one_span_trace(0x51, "first")).await,
        200
    );
    let browser = Browser::start().await;
    browser.client.goto(&server.url("/traces")).await.unwrap();
    let state = "[data-platform=\"web\"] .live-state";
    assert_eq!(browser.text_of("[data-platform=\"web\"] a.trace-link .op").await, "first");
    browser.wait_until("the first answer counts as a change",
        "return document.querySelector('.live-state').textContent.endsWith('data changed just now')").await;
    // Refreshes with the same answers are not changes: the time moves on.
    browser.wait_until("an unchanged refresh leaves the time",
        "return / data changed \\d+ s ago$/.test(document.querySelector('.live-state').textContent)").await;

    browser.click(".live-toggle").await;
    assert!(browser.text_of(state).await.starts_with("paused · data changed"));
    assert_eq!(
        server.post_traces("application/x-protobuf", one_span_trace(0x52, "second")).await,
        200
    );
    browser.click(".live-toggle").await;
    browser.wait_until("the new trace is listed after resuming",
        "return [...document.querySelectorAll('a.trace-link .op')].some(e => e.textContent === 'second')").await;
    let text = browser.text_of(state).await;
    assert!(text.starts_with("live · every 5 s · data changed"), "{text}");
    assert!(text.ends_with("just now") || text.ends_with("5 s ago"), "{text}");
}

/// A trace of `n` spans: a root and `n - 1` children, stored through OTLP/HTTP JSON.
async fn send_wide_trace(server: &Server, trace_id: &str, n: usize) {
    let now = now_ns();
    let span = |i: usize| {
        let parent = if i == 0 { String::new() } else { format!("{:016x}", 1) };
        json!({"traceId": trace_id, "spanId": format!("{:016x}", i + 1), "parentSpanId": parent,
            "name": format!("op-{i}"), "kind": 1,
            "startTimeUnixNano": (now - 9_000_000 + i as u64 * 1_000).to_string(),
            "endTimeUnixNano": (now - 1_000_000).to_string()})
    };
    let body = json!({"resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "wide"}}]},
        "scopeSpans": [{"spans": (0..n).map(span).collect::<Vec<_>>()}]
    }]});
    assert_eq!(server.post_traces("application/json", body.to_string().into_bytes()).await, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_3000_span_trace_without_javascript_shows_2000_rows_full_width_with_paging_below() {
    let server = Server::start().await;
    let trace_id = "3000300030003000a000a000a000a000";
    send_wide_trace(&server, trace_id, 3_000).await;
    let browser = Browser::start().await;
    browser.client.goto(&server.url(&format!("/ssr/traces/{trace_id}"))).await.unwrap();
    browser.text_of(".wf-more a.wf-page[rel=next]").await;
    let layout = browser
        .eval(
            "const box = (css) => document.querySelector(css).getBoundingClientRect();
             const rows = document.querySelectorAll('.wf-row');
             return { rows: rows.length, body: box('.wf-body').width, main: box('.wf-main').width,
                      details: box('.span-details').width,
                      lastRow: rows[rows.length - 1].getBoundingClientRect().bottom,
                      more: box('.wf-more').top, window: window.innerWidth,
                      page: document.documentElement.scrollWidth };",
        )
        .await;
    assert_eq!(layout["rows"], 2000, "{layout}");
    let width = |key: &str| layout[key].as_f64().unwrap();
    // The rows take the page's width but for the selected span's details (12 px apart):
    // nothing else sits beside them.
    assert!(width("main") + 12.0 + width("details") >= width("body") - 1.0, "{layout}");
    assert!(width("main") >= 0.6 * width("body"), "{layout}");
    // The paging note is below the last row.
    assert!(width("more") >= width("lastRow"), "{layout}");
    let note = browser.text_of(".wf-more").await;
    assert!(note.starts_with("Spans 1–2000 of 3000. next 2000 →"), "{note}");
}
