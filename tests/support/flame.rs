//! Flame graph fixtures and checks shared by the flame graph tests in Chromium, SSR and the
//! desktop window: `flame_fixture_server` sends traces with hostile span names through the
//! official exporter, `frames` reads the frames a page drew, `api_frames` the frames an answer
//! holds, both as `(name, total, self)` in preorder.

use std::time::{Duration, SystemTime};

use kuchikiki::traits::*;
use serde_json::Value;

/// Span names that would be markup if anyone pasted them as HTML.
pub const HOSTILE_IMG: &str = "<img src=x onerror=alert(1)>";
pub const HOSTILE_SCRIPT: &str = "</svg><script>alert(2)</script>";

/// One frame as `(name, total, self)`.
pub type Frame = (String, f64, f64);

/// A running server with the fixture sent: two `checkout` traces of service `shop`, and the
/// first one's trace id as the SDK saw it.
pub async fn flame_fixture_server() -> (super::Server, String) {
    let server = super::Server::start().await;
    let url = server.otlp_http_url.clone();
    let trace_id = tokio::task::spawn_blocking(move || send_flame_fixture(&url)).await.unwrap();
    (server, trace_id)
}

/// Sends, through the official Rust exporter (OTLP/HTTP protobuf), two traces of `checkout`
/// (service `shop`): 100 ms with children `HOSTILE_IMG` (30 ms) and `HOSTILE_SCRIPT` (40 ms,
/// with `db query` 20 ms under it); the second 60 ms with one `db query` of 50 ms. Returns the
/// first trace's id. Blocking: call it from `spawn_blocking`.
pub fn send_flame_fixture(otlp_http_url: &str) -> String {
    use opentelemetry::trace::{Span as _, TraceContextExt, Tracer, TracerProvider};
    use opentelemetry::Context;
    use opentelemetry_otlp::{Protocol, SpanExporter, WithExportConfig};
    use opentelemetry_sdk::trace::SdkTracerProvider;
    use opentelemetry_sdk::Resource;

    let exporter = SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(format!("{otlp_http_url}/v1/traces"))
        .build()
        .expect("HTTP exporter");
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter)
        .with_resource(Resource::builder().with_service_name("shop").build())
        .build();
    let tracer = provider.tracer("flame-fixture");
    let t0 = SystemTime::now() - Duration::from_secs(30);
    let at = |ms: u64| t0 + Duration::from_millis(ms);
    let child = |cx: &Context, name: &str, from: u64, to: u64| {
        let span = tracer
            .span_builder(name.to_owned())
            .with_start_time(at(from))
            .start_with_context(&tracer, cx);
        let cx = cx.with_span(span);
        (cx, to)
    };
    let end = |(cx, to): (Context, u64)| cx.span().end_with_timestamp(at(to));

    let root = tracer.span_builder("checkout").with_start_time(at(0)).start(&tracer);
    let trace_id = root.span_context().trace_id().to_string();
    let cx = Context::current_with_span(root);
    end(child(&cx, HOSTILE_IMG, 10, 40));
    let script = child(&cx, HOSTILE_SCRIPT, 50, 90);
    end(child(&script.0, "db query", 60, 80));
    end(script);
    cx.span().end_with_timestamp(at(100));

    let second = tracer.span_builder("checkout").with_start_time(at(1_000)).start(&tracer);
    let cx = Context::current_with_span(second);
    end(child(&cx, "db query", 1_005, 1_055));
    cx.span().end_with_timestamp(at(1_060));

    provider.force_flush().expect("flush");
    provider.shutdown().expect("shutdown");
    trace_id
}

/// The frames of an answer's tree, in preorder.
pub fn api_frames(graph: &Value) -> Vec<Frame> {
    let mut out = Vec::new();
    let mut stack = vec![&graph["root"]];
    while let Some(node) = stack.pop() {
        out.push((
            node["name"].as_str().expect("name").to_owned(),
            node["total"].as_f64().expect("total"),
            node["self"].as_f64().expect("self"),
        ));
        if let Some(children) = node["children"].as_array() {
            stack.extend(children.iter().rev());
        }
    }
    out
}

/// The frames a page (HTML or DOM, any renderer) drew in the chart `role` (`main`, `callers`,
/// `callees`), in document order.
pub fn frames(html: &str, role: &str) -> Vec<Frame> {
    let doc = kuchikiki::parse_html().one(html).document_node;
    let chart = doc
        .select_first(&format!("#app .fl-box[data-role=\"{role}\"]"))
        .unwrap_or_else(|_| panic!("no {role} chart in the page"));
    let frames = chart.as_node().select("g.fl-frame").unwrap();
    frames
        .map(|g| {
            let attrs = g.attributes.borrow();
            let number = |key: &str| attrs.get(key).and_then(|v| v.parse::<f64>().ok()).expect(key);
            (
                attrs.get("data-name").expect("data-name").to_owned(),
                number("data-total"),
                number("data-self"),
            )
        })
        .collect()
}

/// The text of the first element matching `css` in the page's app.
pub fn text_of(html: &str, css: &str) -> String {
    let doc = kuchikiki::parse_html().one(html).document_node;
    let found = doc.select_first(&format!("#app {css}"));
    found.unwrap_or_else(|_| panic!("no {css} in the page")).text_contents().trim().to_owned()
}

/// The `href`s of the frame links of a server-rendered chart, in document order.
pub fn frame_links(html: &str) -> Vec<String> {
    let doc = kuchikiki::parse_html().one(html).document_node;
    let links = doc.select("#app .fl-box[data-role=\"main\"] svg a").unwrap();
    links.map(|a| a.attributes.borrow().get("href").unwrap_or_default().to_owned()).collect()
}

/// The share the search line states for `query` (case-insensitive substring of a frame name),
/// computed from the answer: totals of matches not under another match, over the root's.
pub fn expected_share(graph: &Value, query: &str) -> String {
    fn walk(node: &Value, query: &str, inside: bool, sum: &mut f64) {
        let hit = node["name"].as_str().unwrap_or("").to_lowercase().contains(query);
        if hit && !inside {
            *sum += node["total"].as_f64().unwrap_or(0.0);
        }
        for child in node["children"].as_array().into_iter().flatten() {
            walk(child, query, inside || hit, sum);
        }
    }
    let mut sum = 0.0;
    walk(&graph["root"], &query.to_lowercase(), false, &mut sum);
    let all = graph["root"]["total"].as_f64().unwrap_or(0.0);
    format!("matches: {:.1}% of all", sum / all * 100.0)
}
