//! Large-trace benchmark of the waterfall in headless Chromium against the WASM app: traces of
//! 1,000 / 10,000 / 100,000 spans; time to first paint of the waterfall, collapse and expand of
//! a subtree with up to 5,000 descendants, scrolling to the end, and SSR of the page. Prints
//! figures; asserts only that the page works. Run with `make bench`.

use std::time::{Duration, Instant};

use fantoccini::Locator;
use opentelemetry_proto::tonic::trace::v1::Span;
use otelscope_e2e::{now_ns, otlp_traces, Browser, Server};

fn id8(n: u64) -> Vec<u8> {
    (n + 1).to_be_bytes().to_vec()
}

/// Span `i`'s parent: 0 is the root; 1 (`A`) holds a subtree of `sub` spans (fan-out 50);
/// 2 (`B`) holds the rest, flat.
fn parent_of(i: u64, sub: u64) -> Option<u64> {
    match i {
        0 => None,
        1 | 2 => Some(0),
        _ if i < 3 + sub => Some(if i < 3 + 50 { 1 } else { 3 + (i - 3 - 50) % 50 }),
        _ => Some(2),
    }
}

async fn send_trace(server: &Server, trace: u8, n: u64) -> (String, u64) {
    let sub = (n / 2).min(5000);
    let t0 = now_ns() - 10_000_000_000;
    let spans: Vec<Span> = (0..n)
        .map(|i| Span {
            trace_id: vec![trace; 16],
            span_id: id8(i),
            parent_span_id: parent_of(i, sub).map(id8).unwrap_or_default(),
            name: format!("op-{}", i % 97),
            kind: 1,
            start_time_unix_nano: t0 + i * 1_000,
            end_time_unix_nano: t0 + i * 1_000 + 50_000 + (n - i) * 10,
            ..Default::default()
        })
        .collect();
    for chunk in spans.chunks(5000) {
        let body = otlp_traces("bench", chunk.to_vec());
        assert_eq!(server.post_traces("application/x-protobuf", body).await, 200);
    }
    (format!("{:02x}", trace).repeat(16), sub)
}

/// Clicks the toggle of row 1 and resolves after the frame that shows the new state.
const TOGGLE: &str = r#"
const done = arguments[arguments.length - 1];
const want = arguments[0];
const t = performance.now();
document.querySelector('.wf-row[data-row="1"] .wf-toggle').click();
(function check() {
  const b = document.querySelector('.wf-row[data-row="1"] .wf-toggle');
  if (b && b.getAttribute('aria-expanded') === want) {
    requestAnimationFrame(() => done(performance.now() - t));
  } else {
    setTimeout(check, 0);
  }
})();
"#;

/// When the waterfall's first row was painted, in ms since navigation start: at once if it is
/// there already, else at the frame after a mutation adds it.
const PAINTED: &str = r#"
const done = arguments[arguments.length - 1];
const row = () => document.querySelector('[data-platform="web"] .wf-row[data-row="0"]');
const finish = () => requestAnimationFrame(() => done(performance.now()));
if (row()) {
  done(performance.now());
} else {
  const watch = new MutationObserver(() => {
    if (row()) { watch.disconnect(); finish(); }
  });
  watch.observe(document, { childList: true, subtree: true });
}
"#;

/// Where the time to first paint went, in the page's own clock (ms since navigation start):
/// `[start, end, bytes]` of the files and API calls, `[name, start, end]` of the UI's own spans
/// (`uitrace`: the navigation from the page's loader on, its API calls and its view's renders).
const TIMELINE: &str = r#"
const nav = performance.getEntriesByType('navigation')[0];
const r = (re) => performance.getEntriesByType('resource').filter(e => re.test(e.name))
  .map(e => [Math.round(e.startTime), Math.round(e.responseEnd), e.transferSize]);
return { html: Math.round(nav.responseEnd), dcl: Math.round(nav.domContentLoadedEventEnd),
  load: Math.round(nav.loadEventEnd), wasm: r(/wasm$/), pack: r(/\/pkg\/pack\//), js: r(/\.js$/),
  api: r(/api\/v1\/traces/), now: Math.round(performance.now()),
  ui: performance.getEntriesByType('measure').map(m => [m.name, Math.round(m.startTime),
    Math.round(m.startTime + m.duration)]) };
"#;

#[tokio::main]
async fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    // WATERFALL_SERVER_ARGS: extra flags for the server, e.g. `--self-telemetry off` to
    // measure self-tracing's cost against the default.
    let extra = std::env::var("WATERFALL_SERVER_ARGS").unwrap_or_default();
    let args: Vec<&str> = std::iter::once("--in-memory").chain(extra.split_whitespace()).collect();
    let server = Server::start_with(&args).await;
    let browser = Browser::start().await;
    let client = &browser.client;
    let only: Option<u64> = std::env::var("WATERFALL_SPANS").ok().and_then(|v| v.parse().ok());
    for (k, n) in [(1u8, 1_000u64), (2, 10_000), (3, 100_000)] {
        if only.is_some_and(|o| o != n && n != 1_000) {
            continue;
        }
        let (trace_id, sub) = send_trace(&server, k, n).await;
        let url = server.url(&format!("/traces/{trace_id}"));

        // The script-free page, twice: the second finds the trace's JSON in the answer cache.
        let mut ssr_ms = [0.0; 2];
        let mut ssr_bytes = 0;
        for ms in &mut ssr_ms {
            let start = Instant::now();
            let ssr = reqwest::get(server.url(&format!("/ssr/traces/{trace_id}"))).await.unwrap();
            assert!(ssr.status().is_success());
            ssr_bytes = ssr.bytes().await.unwrap().len();
            *ms = start.elapsed().as_secs_f64() * 1e3;
        }

        let start = Instant::now();
        client.goto(&url).await.unwrap();
        // In the page's clock (ms since navigation start): WebDriver's own polling would round
        // the figure up to its period.
        let painted = client.execute_async(PAINTED, vec![]).await.unwrap();
        let first_paint = painted.as_f64().unwrap_or(f64::NAN);
        let wall = start.elapsed().as_secs_f64() * 1e3;
        client
            .wait()
            .at_most(Duration::from_secs(120))
            .for_element(Locator::Css(r#"[data-platform="web"] .wf-row[data-row="0"]"#))
            .await
            .expect("waterfall painted");
        let timeline = browser.eval(TIMELINE).await;
        println!("  timeline {n}: {timeline}");
        let rows_in_dom = browser.eval("return document.querySelectorAll('.wf-row').length").await;

        let collapse = client.execute_async(TOGGLE, vec!["false".into()]).await.unwrap();
        let expand = client.execute_async(TOGGLE, vec!["true".into()]).await.unwrap();

        let scrolled = client
            .execute_async(
                r#"const done = arguments[arguments.length - 1];
                   const total = arguments[0];
                   const s = document.getElementById('wf-scroll');
                   s.scrollTop = s.scrollHeight;
                   s.dispatchEvent(new Event('scroll'));
                   (function check(n) {
                     const rows = [...document.querySelectorAll('.wf-row')].map(r => +r.dataset.row);
                     const max = Math.max(...rows);
                     if (max > 0.99 * total || n > 200) done(max); else setTimeout(() => check(n + 1), 10);
                   })(0);"#,
                vec![n.into()],
            )
            .await
            .unwrap();
        println!(
            "waterfall {n} spans: first paint {first_paint:.0} ms (navigation, WASM start, fetch, layout, draw; \
             page clock; {wall:.0} ms wall clock with WebDriver); \
             {rows_in_dom} rows in the DOM; collapse of a {sub}-span subtree {:.1} ms, expand {:.1} ms; \
             scrolled to row {scrolled}; SSR of the page {:.0} ms, again {:.0} ms ({} KB)",
            collapse.as_f64().unwrap_or(f64::NAN),
            expand.as_f64().unwrap_or(f64::NAN),
            ssr_ms[0],
            ssr_ms[1],
            ssr_bytes / 1024
        );
    }
}
