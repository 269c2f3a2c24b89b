//! Issue 26 point 3, the waterfall's time zoom in Chromium on a known trace, each gesture: a
//! drag on the ruler, a sideways drag on the minimap, the zoom buttons and the reset, `+`/`-`/`0`
//! on a focused row around the pointer, ctrl+wheel around the pointer; the window written in the
//! URL, and a URL with `?zoom=` opened zoomed; rows outside the window keep their place, their
//! bars a stub at the edge. The page without scripts (`/ssr`) draws the URL's window, with links
//! to zoom in, out and back.

use otelscope_e2e::{artifacts_dir, now_ns, otlp_span, Browser, Server};
use serde_json::json;

const TRACE: &str = "7c7c7c7c7c7c7c7c7c7c7c7c7c7c7c7c";
const MS: u64 = 1_000_000;

/// Rows: 0 `checkout` (100 ms, selected at first), 1 `early` (10–12 ms), 2 `late` (60–80 ms),
/// 3 `tiny` (9 µs at 70 ms).
async fn known_trace(server: &Server) {
    let t0 = now_ns() - 10_000 * MS;
    let id = [0x7c; 16];
    let spans = vec![
        otlp_span(id, 1, "checkout").ns(t0, t0 + 100 * MS).build(),
        otlp_span(id, 2, "early").parent(1).ns(t0 + 10 * MS, t0 + 12 * MS).build(),
        otlp_span(id, 3, "tiny").parent(1).ns(t0 + 70 * MS, t0 + 70 * MS + 9_000).build(),
        otlp_span(id, 4, "late").parent(1).ns(t0 + 60 * MS, t0 + 80 * MS).build(),
    ];
    let body = otelscope_e2e::otlp_traces("zoom", spans);
    assert_eq!(server.post_traces("application/x-protobuf", body).await, 200);
}

async fn ticks(browser: &Browser) -> serde_json::Value {
    browser
        .eval("return [...document.querySelectorAll('.wf-ruler .wf-tick')].map(e => e.textContent)")
        .await
}

/// Waits until the page is `path` showing about `from`–`to` of the trace (the pointer's pixel
/// is rounded, so the window is within a few thousandths).
async fn zoom_near(browser: &Browser, path: &str, from: f64, to: f64) {
    browser
        .wait_until(
            &format!("the URL is {path}?zoom={from}-{to}, about"),
            &format!(
                "var m = /[?&]zoom=([0-9.]+)-([0-9.]+)$/.exec(location.search); \
                 return location.pathname === {path:?} && !!m \
                   && Math.abs(m[1] - {from}) < 0.004 && Math.abs(m[2] - {to}) < 0.004"
            ),
        )
        .await;
}

/// A mouse event of `kind` on the ruler's zoom pad at `share` of its width.
fn on_ruler(kind: &str, share: f64) -> String {
    format!(
        "var p = document.querySelector('.wf-zoom-pad'), r = p.getBoundingClientRect(); \
         p.dispatchEvent(new MouseEvent('{kind}', {{bubbles: true, cancelable: true, \
           clientX: r.left + {share} * r.width, clientY: r.top + 5}})); return 0"
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn the_waterfall_zooms_in_time_and_keeps_the_window_in_the_url() {
    let server = Server::start().await;
    known_trace(&server).await;
    let browser = Browser::start().await;
    let page = format!("/traces/{TRACE}");
    browser.client.goto(&server.url(&page)).await.unwrap();
    // The root is selected, so the URL a zoom writes names it.
    let root = format!("/traces/{TRACE}/spans/0000000000000001");
    browser.text_of(r#"[data-platform="web"] .wf-row[data-row="3"] .op"#).await;
    let whole_ticks = json!(["0 ms", "20 ms", "40 ms", "60 ms", "80 ms", "100 ms"]);
    assert_eq!(ticks(&browser).await, whole_ticks);
    let early_top =
        browser.eval("return document.querySelector('.wf-row[data-row=\"1\"]').style.top").await;

    // A drag on the ruler from 60% to 80% of the track shows 60–80 ms.
    browser.eval(&on_ruler("mousedown", 0.6)).await;
    browser.eval(&on_ruler("mousemove", 0.8)).await;
    browser.eval(&on_ruler("mouseup", 0.8)).await;
    zoom_near(&browser, &root, 0.6, 0.8).await;
    let first_tick = ticks(&browser).await[0].as_str().unwrap().to_owned();
    assert!(first_tick.starts_with('6'), "the ruler starts near 60 ms: {first_tick}");
    assert!(
        browser.text_of(".wf-zoomed").await.starts_with("+59.")
            || browser.text_of(".wf-zoomed").await.starts_with("+60.")
    );
    // Rows outside keep their place: `early` is where it was, its bar a stub at the start;
    // `late` (60–80 ms) fills the track.
    let early = browser
        .eval("var r = document.querySelector('.wf-row[data-row=\"1\"]'); return [r.style.top, r.querySelector('.wf-bar').style.left]")
        .await;
    assert_eq!(early, json!([early_top, "0%"]));
    let late = browser
        .eval("var b = document.querySelector('.wf-row[data-row=\"2\"] .wf-bar'); return parseFloat(b.style.left) < 1 && parseFloat(b.style.width.slice(4)) > 98")
        .await;
    assert_eq!(late, json!(true), "the late bar fills the window");
    // The minimap marks the window.
    let x = browser
        .eval("return parseFloat(document.querySelector('.mm-zoom').getAttribute('x'))")
        .await;
    assert!((x.as_f64().unwrap() - 600.0).abs() < 4.0, "{x}");

    // The reset, then the buttons, which zoom around the window's middle.
    browser.click(".wf-zoom-reset").await;
    whole(&browser, &root, "the reset").await;
    assert_eq!(ticks(&browser).await, whole_ticks);
    browser.click(".wf-zoom-in").await;
    zoom_near(&browser, &root, 0.166_667, 0.833_333).await;
    browser.click(".wf-zoom-out").await;
    whole(&browser, &root, "the zoom-out button").await;

    // `+`, `-` and `0` on a focused row zoom around the pointer's place over the rows (10%).
    browser.eval(&over_rows("mousemove", 0.1, "")).await;
    browser.eval("document.querySelector('.wf-row[data-row=\"0\"]').focus(); return 0").await;
    browser.eval(&key("+")).await;
    zoom_near(&browser, &root, 0.033_333, 0.7).await;
    browser.eval(&key("+")).await;
    zoom_near(&browser, &root, 0.055_556, 0.5).await;
    browser.eval(&key("-")).await;
    zoom_near(&browser, &root, 0.033_333, 0.7).await;
    browser.eval(&key("0")).await;
    whole(&browser, &root, "the 0 key").await;

    // ctrl+wheel zooms around the pointer (the middle here): in turned away, out towards.
    browser.eval(&over_rows("wheel", 0.5, "ctrlKey: true, deltaY: -100,")).await;
    zoom_near(&browser, &root, 0.166_667, 0.833_333).await;
    // A wheel turn without ctrl scrolls, it does not zoom.
    browser.eval(&over_rows("wheel", 0.5, "deltaY: 100,")).await;
    browser.eval(&over_rows("wheel", 0.5, "ctrlKey: true, deltaY: 100,")).await;
    whole(&browser, &root, "ctrl+wheel towards the user").await;

    // A sideways drag on the minimap (the whole trace) selects 20–40% of it.
    browser.eval(&on_minimap("mousedown", 0.2)).await;
    browser.eval(&on_minimap("mousemove", 0.3)).await;
    let drawn = browser.eval("return !!document.querySelector('svg.minimap .mm-select')").await;
    assert_eq!(drawn, json!(true), "the selection is drawn while dragging");
    browser.eval(&on_minimap("mousemove", 0.4)).await;
    browser.eval(&on_minimap("mouseup", 0.4)).await;
    zoom_near(&browser, &root, 0.2, 0.4).await;
    let first_tick = ticks(&browser).await[0].as_str().unwrap().to_owned();
    assert!(first_tick.starts_with('2'), "the ruler starts near 20 ms: {first_tick}");
    let png = browser.client.screenshot().await.unwrap();
    std::fs::write(artifacts_dir().join("web-waterfall-zoom.png"), png).unwrap();

    // A URL with `?zoom=` opens zoomed, and keeps it in the address bar.
    browser.client.goto(&server.url(&format!("{page}?zoom=0.6-0.8"))).await.unwrap();
    browser.text_of(r#"[data-platform="web"] .wf-row[data-row="3"] .op"#).await;
    browser
        .wait_until(
            "the opened page draws 60–80 ms",
            "var t = document.querySelector('.wf-ruler .wf-tick'); return !!t && t.textContent.startsWith('6')",
        )
        .await;
    zoom_near(&browser, &page, 0.6, 0.8).await;
    assert_eq!(
        browser.eval("return document.querySelector('.wf-zoom-reset').textContent").await,
        json!("Whole trace")
    );

    // The page without scripts draws the URL's window, with links to the others.
    let html = server.get_text(&format!("/ssr/traces/{TRACE}?zoom=0.6-0.8")).await;
    assert!(!html.contains("wf-zoom-pad"), "nothing to drag without scripts");
    assert!(html.contains(">tiny</a>"), "every row is there");
    let first = &html[html.find("class=\"wf-tick\"").expect("ticks")..];
    let first = &first[first.find('>').unwrap() + 1..];
    assert!(first.starts_with('6'), "the ruler starts near 60 ms: {}", &first[..20]);
    for link in [
        format!("class=\"wf-zoom-in\" href=\"/ssr/traces/{TRACE}?zoom=0.633333-0.766667\""),
        format!("class=\"wf-zoom-out\" href=\"/ssr/traces/{TRACE}?zoom=0.55-0.85\""),
        format!("class=\"wf-zoom-reset\" href=\"/ssr/traces/{TRACE}\""),
        format!("href=\"/ssr/traces/{TRACE}/spans/0000000000000003?zoom=0.6-0.8\""),
    ] {
        assert!(html.contains(&link), "{link} in {html}");
    }

    // The whole trace without scripts: a link to zoom in, nothing to drag.
    let html = server.get_text(&format!("/ssr/traces/{TRACE}")).await;
    assert!(!html.contains("wf-zoom-pad") && !html.contains("wf-zoom-reset"), "{html}");
    assert!(html.contains(&format!("href=\"/ssr/traces/{TRACE}?zoom=0.166667-0.833333\"")));
}

/// Waits until the page is `path` with no window in its URL: the whole trace.
async fn whole(browser: &Browser, path: &str, after: &str) {
    browser
        .wait_until(
            &format!("the URL is {path}, the whole trace, after {after}"),
            &format!("return location.pathname === {path:?} && location.search === ''"),
        )
        .await;
}

/// A mouse or wheel event (`extra`: more of its fields) over the rows at `share` of the
/// track's width (the ruler's zoom pad spans the track).
fn over_rows(kind: &str, share: f64, extra: &str) -> String {
    let class = if kind == "wheel" { "WheelEvent" } else { "MouseEvent" };
    format!(
        "var p = document.querySelector('.wf-zoom-pad').getBoundingClientRect(), \
           row = document.querySelector('.wf-row[data-row=\"2\"]'), r = row.getBoundingClientRect(); \
         row.dispatchEvent(new {class}('{kind}', {{bubbles: true, cancelable: true, {extra} \
           clientX: p.left + {share} * p.width, clientY: r.top + 5}})); return 0"
    )
}

/// A key pressed on the focused row.
fn key(key: &str) -> String {
    format!(
        "document.activeElement.dispatchEvent(new KeyboardEvent('keydown', \
           {{key: {key:?}, bubbles: true, cancelable: true}})); return 0"
    )
}

/// A mouse event of `kind` on the minimap at `share` of its width.
fn on_minimap(kind: &str, share: f64) -> String {
    format!(
        "var m = document.querySelector('svg.minimap'), r = m.getBoundingClientRect(); \
         m.dispatchEvent(new MouseEvent('{kind}', {{bubbles: true, cancelable: true, \
           clientX: r.left + {share} * r.width, clientY: r.top + 10}})); return 0"
    )
}
