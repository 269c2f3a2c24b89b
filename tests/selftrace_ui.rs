//! The dashboard traces itself in Chromium: opening a trace makes an `otelscope-ui` trace (navigation, render, API call) whose API call is continued by the server's span, also as devtools performance measures, `/self` shows it (app and SSR), an idle dashboard makes spans at a bounded rate, and `--self-telemetry off` makes none.

use std::time::{Duration, Instant};

use fantoccini::Locator;
use otelscope_e2e::selftrace::{attr_value, joined_ui_trace};
use otelscope_e2e::{eventually, now_ns, Browser, Server};
use serde_json::json;

const TRACE: &str = "5e1f5e1f5e1f5e1f5e1f5e1f5e1f5e1f";

/// Stores one two-span trace of service `shop` and returns nothing; the page lists it.
async fn send_shop_trace(server: &Server) {
    let now = now_ns();
    let span = |id: &str, parent: &str, name: &str, start: u64, end: u64| {
        json!({"traceId": TRACE, "spanId": id, "parentSpanId": parent, "name": name, "kind": 2,
            "startTimeUnixNano": (now - start).to_string(), "endTimeUnixNano": (now - end).to_string()})
    };
    let body = json!({"resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "shop"}}]},
        "scopeSpans": [{"spans": [
            span("0000000000000001", "", "GET /checkout", 9_000_000, 1_000_000),
            span("0000000000000002", "0000000000000001", "SELECT cart", 8_000_000, 6_000_000),
        ]}]
    }]});
    assert_eq!(server.post_traces("application/json", body.to_string().into_bytes()).await, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn opening_a_trace_is_one_trace_from_the_click_to_the_store_and_self_shows_it() {
    let server = Server::start().await;
    send_shop_trace(&server).await;
    let browser = Browser::start().await;
    let client = &browser.client;
    client.goto(&server.url("/traces")).await.unwrap();
    let link = client
        .wait()
        .at_most(Duration::from_secs(30))
        .for_element(Locator::Css(&format!(r#"[data-platform="web"] a[href="/traces/{TRACE}"]"#)))
        .await
        .expect("the trace is listed");
    assert_eq!(browser.eval("return document.getElementById('app').dataset.uiTracing").await, "on");
    link.click().await.unwrap();
    browser.text_of(r#".wf-row[data-depth="1"] .op"#).await;

    let page = "navigate /traces/{trace_id}";
    let fetch = "GET /api/v1/traces/{trace_id}";
    let spans = joined_ui_trace(&server, "web", page, fetch).await;
    let named = |name: &str| {
        spans.iter().find(|s| s["name"] == name && s["service"] == "otelscope-ui").unwrap()
    };
    let (navigation, call) = (named(page), named(fetch));
    // Timed finer than a millisecond: the SDK's own clock in the browser is `Date.now()`,
    // which made most UI spans 0 ns long and /self's p50s "0 ns" (issue 26).
    let times: Vec<u64> = spans
        .iter()
        .filter(|s| s["service"] == "otelscope-ui")
        .flat_map(|s| [&s["start_ns"], &s["end_ns"]].map(|t| t.as_u64().unwrap()))
        .collect();
    assert!(times.iter().any(|t| t % 1_000_000 != 0), "whole milliseconds: {times:?}");
    // The call is the navigation's child; the page's render too; the server's store query
    // is below the server span.
    assert_eq!(call["parent_span_id"], navigation["span_id"]);
    assert_eq!(call["kind"], "client");
    assert_eq!(
        attr_value(&call["attributes"], "http.route"),
        Some(&json!("/api/v1/traces/{trace_id}"))
    );
    assert_eq!(attr_value(&call["attributes"], "http.response.status_code"), Some(&json!(200)));
    let size =
        attr_value(&call["attributes"], "http.response.body.size").unwrap().as_i64().unwrap();
    assert!(size > 100, "the trace's JSON: {size} bytes");
    assert_eq!(
        attr_value(&navigation["attributes"], "url.path"),
        Some(&json!(format!("/traces/{TRACE}")))
    );
    let render = named("render /traces/{trace_id}");
    assert_eq!(render["parent_span_id"], navigation["span_id"]);
    let server_span = spans.iter().find(|s| s["parent_span_id"] == call["span_id"]).unwrap();
    assert_eq!(server_span["name"], "GET /api/v1/traces/{trace_id}");
    assert!(
        spans
            .iter()
            .any(|s| s["name"] == "store.trace" && s["parent_span_id"] == server_span["span_id"]),
        "the store query below the server span: {spans:#?}"
    );
    // The navigation lasts until the page drew its data: it ends after the call.
    assert!(navigation["end_ns"].as_u64() >= call["end_ns"].as_u64());
    // The devtools performance panel shows the same spans as measures.
    let measures =
        browser.eval("return performance.getEntriesByType('measure').map(m => m.name)").await;
    for name in [page, fetch] {
        assert!(measures.as_array().unwrap().contains(&json!(name)), "{name} in {measures}");
    }
    // Without the switch, dioxus-core's component renders are not traced.
    let renders = measures.as_array().unwrap().iter().filter(|m| is_render_measure(m)).count();
    assert_eq!(renders, 0, "{measures}");

    // /self lists the navigation with its timings, and the recent UI traces, in the app …
    client.goto(&server.url("/self")).await.unwrap();
    let row = r#"[data-service="otelscope-ui"] td.op"#;
    eventually(&format!("/self lists {page:?}"), Duration::from_secs(30), async || {
        let ops = browser
            .eval(&format!(
                "return [...document.querySelectorAll('[data-platform=\"web\"] {row}')].map(e => e.textContent)"
            ))
            .await;
        match ops.as_array().is_some_and(|ops| ops.contains(&json!(page))) {
            true => Ok(()),
            false => Err(ops),
        }
    })
    .await;
    let recent = browser.text_of(r#"[data-recent="otelscope-ui"] a.trace-link"#).await;
    assert!(recent.contains("otelscope-ui navigate"), "{recent}");
    // … and as a server-rendered page.
    let ssr = server.get_text("/ssr/self").await;
    assert!(ssr.contains(&format!("<td class=\"op\">{page}</td>")), "{ssr}");
    assert!(ssr.contains("data-recent=\"otelscope-ui\""), "{ssr}");
    assert!(ssr.contains("<td class=\"op\">GET /api/v1/traces/{trace_id}</td>"), "{ssr}");
}

/// A measure tracing-wasm made of dioxus-core's render span (`"render" dioxus_core… scope=X`).
fn is_render_measure(name: &serde_json::Value) -> bool {
    name.as_str().is_some_and(|n| n.starts_with("\"render\""))
}

/// Issue 26 point 12: in the browser, tracing-wasm is the `tracing` subscriber; with
/// `OTELSCOPE_COMPONENT_SPANS=1`, dioxus-core's component renders are devtools performance
/// measures and `component {name}` spans under the page's navigation, exported like the UI's
/// other spans.
#[tokio::test(flavor = "multi_thread")]
async fn with_component_spans_on_the_browser_measures_and_exports_each_render() {
    let server = Server::start_with_env(&[], &[("OTELSCOPE_COMPONENT_SPANS", "1")]).await;
    send_shop_trace(&server).await;
    let browser = Browser::start().await;
    browser.client.goto(&server.url("/traces")).await.unwrap();
    browser.text_of(&format!(r#"[data-platform="web"] a[href="/traces/{TRACE}"]"#)).await;
    let measures =
        browser.eval("return performance.getEntriesByType('measure').map(m => m.name)").await;
    let renders: Vec<&str> = measures
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| is_render_measure(m))
        .filter_map(|m| m.as_str())
        .collect();
    assert!(renders.iter().any(|m| m.contains("scope = ")), "render measures: {measures}");
    let components = eventually("exported component spans", Duration::from_secs(60), async || {
        let list = server.get_json("/api/v1/traces?service=otelscope-ui&limit=200").await;
        for summary in list["traces"].as_array().unwrap() {
            let id = summary["trace_id"].as_str().unwrap();
            let trace = server.get_json(&format!("/api/v1/traces/{id}")).await;
            let spans = trace["spans"].as_array().unwrap().clone();
            let Some(navigation) = spans
                .iter()
                .find(|s| s["name"].as_str().is_some_and(|n| n.starts_with("navigate ")))
            else {
                continue;
            };
            let names: Vec<String> = spans
                .iter()
                .filter(|s| s["parent_span_id"] == navigation["span_id"])
                .filter(|s| attr_value(&s["resource"], "otelscope.platform") == Some(&json!("web")))
                .filter_map(|s| s["name"].as_str()?.strip_prefix("component ").map(str::to_owned))
                .collect();
            if !names.is_empty() {
                return Ok(names);
            }
        }
        Err("no navigation with component spans yet")
    })
    .await;
    assert!(components.iter().any(|c| c == "Traces"), "{components:?}");
}

/// The spans otelscope holds of its own two services.
async fn self_span_count(server: &Server) -> u64 {
    span_count(server, &["otelscope", "otelscope-ui"]).await
}

async fn ui_span_count(server: &Server) -> u64 {
    span_count(server, &["otelscope-ui"]).await
}

async fn span_count(server: &Server, of: &[&str]) -> u64 {
    let services = server.get_json("/api/v1/services?include_self=1").await;
    services["services"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| of.iter().any(|name| s["name"] == *name))
        .map(|s| s["span_count"].as_u64().unwrap())
        .sum()
}

/// The most self spans a minute an idle `/traces` page may cause: per 5 s live tick it asks
/// three documents (traces, services, health), each one UI span, one server span and at most
/// one store query: 8 × 12 = 96 a minute; the bound leaves room for timer jitter.
const IDLE_SPANS_PER_MINUTE: f64 = 150.0;

#[tokio::test(flavor = "multi_thread")]
async fn an_idle_dashboard_makes_self_spans_at_a_bounded_rate() {
    let server = Server::start().await;
    send_shop_trace(&server).await;
    let browser = Browser::start().await;
    browser.client.goto(&server.url("/traces")).await.unwrap();
    browser.text_of(&format!(r#"a[href="/traces/{TRACE}"]"#)).await;
    // Once the UI's first export is in, count over a measured window while the page idles.
    // (The test reads counts only, each read one server span and one store span.)
    eventually("the UI exported spans", Duration::from_secs(30), async || {
        match ui_span_count(&server).await {
            0 => Err("no UI span"),
            _ => Ok(()),
        }
    })
    .await;
    let (start, before) = (Instant::now(), self_span_count(&server).await);
    let window = Duration::from_secs(30);
    tokio::time::sleep(window).await;
    let made = self_span_count(&server).await - before;
    let per_minute = made as f64 * 60.0 / start.elapsed().as_secs_f64();
    println!("idle /traces: {made} self spans in {:?}, {per_minute:.0} a minute", start.elapsed());
    assert!(made > 0, "live refresh is traced");
    assert!(per_minute <= IDLE_SPANS_PER_MINUTE, "{per_minute:.0} self spans a minute");
}

#[tokio::test(flavor = "multi_thread")]
async fn with_self_telemetry_off_the_ui_traces_nothing() {
    let server = Server::start_with(&["--in-memory", "--self-telemetry", "off"]).await;
    send_shop_trace(&server).await;
    let html = server.get_text("/traces").await;
    assert!(html.contains(r#"<meta name="otelscope-self-telemetry" content="off">"#), "{html}");
    let browser = Browser::start().await;
    browser.client.goto(&server.url("/traces")).await.unwrap();
    browser.text_of(&format!(r#"[data-platform="web"] a[href="/traces/{TRACE}"]"#)).await;
    assert_eq!(
        browser.eval("return document.getElementById('app').dataset.uiTracing").await,
        "off"
    );
    let health = server.get_json("/api/v1/health").await;
    assert_eq!(health["self_telemetry"], false);
    assert_eq!(self_span_count(&server).await, 0);
}
