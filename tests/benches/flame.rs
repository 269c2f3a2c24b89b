//! The flame graph of a large profile in headless Chromium against the WASM app: a folded
//! profile of 100,000 distinct stacks is imported (`POST /api/v1/profiles`), then `/profile?id=`
//! is opened: time to the first paint of the frames (and how much of it came after the answer
//! arrived: decode, layout and draw), frames in the DOM, and a zoom click until its frame is
//! painted. Prints figures; asserts only that the page works. Run with `make bench`.

use std::time::{Duration, Instant};

use fantoccini::Locator;
use otelscope_e2e::{Browser, Server};

/// 100,000 distinct stacks, 5 frames deep, fanning out 7 × 53 × 997 ways over the leaves.
fn folded(stacks: usize) -> String {
    let mut out = String::with_capacity(stacks * 48);
    for i in 0..stacks {
        out.push_str(&format!(
            "main;service{};handler{};step{};leaf{i} {}\n",
            i % 7,
            i % 53,
            i % 997,
            1 + i % 13
        ));
    }
    out
}

/// Clicks the widest frame on row 2 (a `service…` frame) and resolves after the frame that
/// shows the zoomed graph, with the time taken and the frames then in the DOM.
const ZOOM: &str = r#"
const done = arguments[arguments.length - 1];
const frames = () => document.querySelectorAll('[data-platform="web"] .fl-box[data-role="main"] g.fl-frame');
const target = [...frames()].filter(g => g.dataset.name.startsWith('service'))
  .sort((a, b) => b.getBBox().width - a.getBBox().width)[0];
const t = performance.now();
target.dispatchEvent(new MouseEvent('click', {bubbles: true}));
(function check() {
  if (location.search.includes('zoom=')) {
    requestAnimationFrame(() => done([performance.now() - t, frames().length, target.dataset.name]));
  } else {
    setTimeout(check, 0);
  }
})();
"#;

/// When the profile's answer arrived, in the page's clock (ms since navigation start).
const TIMELINE: &str = r#"
const api = performance.getEntriesByType('resource').filter(e => /api\/v1\/profiles\/[^?]+\?format=json/.test(e.name));
return { answer_end: api.length ? Math.round(api[0].responseEnd) : null, answer_bytes: api.length ? api[0].transferSize : null,
  now: Math.round(performance.now()) };
"#;

#[tokio::main]
async fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let stacks: usize =
        std::env::var("FLAME_STACKS").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
    let server = Server::start().await;
    let body = folded(stacks);
    let start = Instant::now();
    let answer = reqwest::Client::new()
        .post(server.url("/api/v1/profiles?name=bench.folded"))
        .body(body.clone())
        .send()
        .await
        .expect("POST /api/v1/profiles");
    assert!(answer.status().is_success(), "import: {}", answer.status());
    let created: serde_json::Value = serde_json::from_str(&answer.text().await.unwrap()).unwrap();
    let id = created["id"].as_str().expect("id").to_owned();
    let import_ms = start.elapsed().as_secs_f64() * 1e3;
    // What the server kept: distinct stacks, and frames in the JSON tree the page decodes.
    let list = server.get_json("/api/v1/profiles").await;
    let kept = &list[0];
    let tree = server.get_text(&format!("/api/v1/profiles/{id}?format=json")).await;
    let graph: serde_json::Value = serde_json::from_str(&tree).unwrap();
    let frames = tree.matches("\"name\"").count();

    let browser = Browser::start().await;
    let client = &browser.client;
    let start = Instant::now();
    client.goto(&server.url(&format!("/profile?id={id}"))).await.unwrap();
    client
        .wait()
        .at_most(Duration::from_secs(120))
        .for_element(Locator::Css(r#"[data-platform="web"] .fl-box[data-role="main"] g.fl-frame"#))
        .await
        .expect("frames painted");
    // One more frame, so what was inserted has been painted.
    let _ = client.execute_async("requestAnimationFrame(() => arguments[0]())", vec![]).await;
    let first_paint = start.elapsed().as_secs_f64() * 1e3;
    let timeline = browser.eval(TIMELINE).await;
    let painted_at = browser.eval("return Math.round(performance.now())").await;
    let in_dom = browser
        .eval(r#"return document.querySelectorAll('[data-platform="web"] g.fl-frame').length"#)
        .await;
    let zoom = client.execute_async(ZOOM, vec![]).await.unwrap();
    println!(
        "kept {} stacks (truncated: {}); the JSON tree has {frames} frames, {} KB",
        kept["stacks"],
        graph["truncated"],
        tree.len() / 1024
    );
    println!(
        "flame graph of {stacks} distinct stacks ({} KB folded): import {import_ms:.0} ms; \
         /profile?id= first paint of the frames {first_paint:.0} ms after navigation \
         (answer received at {} ms, painted by {} ms in the page's clock: decode + layout + draw \
         = the difference); {in_dom} frames in the DOM; zoom click on {} painted in {:.1} ms, \
         {} frames after",
        body.len() / 1024,
        timeline["answer_end"],
        painted_at,
        zoom[2],
        zoom[0].as_f64().unwrap_or(f64::NAN),
        zoom[1],
    );
}
