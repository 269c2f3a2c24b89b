//! The readable waterfall in Chromium and as a page without scripts, on one known trace sent
//! as OTLP/HTTP protobuf: the time ruler (rows and minimap), duration labels inside, right of
//! and left of their bars, an error edge, event markers (a hostile event name stays text), and
//! keyboard navigation of the rows (a roving-tabindex tree) past the rows in the DOM.

use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::key::Key;
use opentelemetry_proto::tonic::trace::v1::{span, status, Status};
use otelscope_e2e::{artifacts_dir, now_ns, otlp_span, Browser, Server};
use serde_json::json;

const TRACE: &str = "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a";
const HOSTILE: &str = "<img src=x onerror=alert(1)>";
/// Steps under the root: with them the trace has more rows than the app draws at once.
const STEPS: u64 = 80;
const MS: u64 = 1_000_000;

/// Rows: 0 `GET /checkout` (100 ms), 1 `load cart` (20 ms), 2 `redis GET` (500 µs), 3–82
/// `step-i`, 83 `charge card` (800 µs ending 200 µs before the trace, an error, two events).
async fn known_trace(server: &Server) {
    let t0 = now_ns() - 10_000 * MS;
    let mut spans = vec![
        otlp_span([0x5a; 16], 1, "GET /checkout").ns(t0, t0 + 100 * MS).build(),
        otlp_span([0x5a; 16], 2, "load cart").parent(1).ns(t0 + 5 * MS, t0 + 25 * MS).build(),
        otlp_span([0x5a; 16], 3, "redis GET")
            .parent(2)
            .ns(t0 + 6 * MS, t0 + 6 * MS + 500_000)
            .build(),
    ];
    for i in 0..STEPS {
        let start = 30 * MS + i * MS / 2;
        spans.push(
            otlp_span([0x5a; 16], 100 + i, &format!("step-{i}"))
                .parent(1)
                .ns(t0 + start, t0 + start + 200_000)
                .build(),
        );
    }
    let mut charge = otlp_span([0x5a; 16], 4, "charge card")
        .parent(1)
        .ns(t0 + 99 * MS, t0 + 99 * MS + 800_000)
        .build();
    charge.status =
        Some(Status { code: status::StatusCode::Error as i32, message: "card declined".into() });
    charge.events = [("retry", 99 * MS + 200_000), (HOSTILE, 99 * MS + 600_000)]
        .map(|(name, at)| span::Event {
            time_unix_nano: t0 + at,
            name: name.into(),
            ..Default::default()
        })
        .to_vec();
    spans.push(charge);
    let body = otelscope_e2e::otlp_traces("shop", spans);
    assert_eq!(server.post_traces("application/x-protobuf", body).await, 200);
}

const LAST_ROW: u64 = STEPS + 3;

/// Presses `key` where the focus is.
async fn press(browser: &Browser, key: char) {
    let actions = KeyActions::new("keyboard".into())
        .then(KeyAction::Down { value: key })
        .then(KeyAction::Up { value: key });
    browser.client.perform_actions(actions).await.expect("press a key");
}

/// Waits until row `row` is the selected one and has the focus.
async fn focused(browser: &Browser, row: u64) {
    browser
        .wait_until(
            &format!("row {row} is selected and focused"),
            &format!(
                "var a = document.activeElement, s = document.querySelector('.wf-row.selected'); \
             return !!a && !!s && a === s && a.dataset.row === '{row}' \
             && a.getAttribute('tabindex') === '0' && a.getAttribute('aria-selected') === 'true'"
            ),
        )
        .await;
}

/// The class and text of row `row`'s duration label.
async fn label(browser: &Browser, row: u64) -> serde_json::Value {
    browser
        .eval(&format!(
            "var e = document.querySelector('.wf-row[data-row=\"{row}\"] .wf-duration'); \
             return [e.className, e.textContent]"
        ))
        .await
}

/// The texts of every element matching `css`.
async fn texts(browser: &Browser, css: &str) -> serde_json::Value {
    browser
        .eval(&format!("return [...document.querySelectorAll('{css}')].map(e => e.textContent)"))
        .await
}

#[tokio::test(flavor = "multi_thread")]
async fn ruler_labels_error_edge_and_event_ticks_are_drawn() {
    let server = Server::start().await;
    known_trace(&server).await;
    let browser = Browser::start().await;
    browser.client.goto(&server.url(&format!("/traces/{TRACE}"))).await.unwrap();
    browser.text_of(r#"[data-platform="web"] .wf-row[data-row="0"] .op"#).await;

    let ruler = json!(["0 ms", "20 ms", "40 ms", "60 ms", "80 ms", "100 ms"]);
    assert_eq!(texts(&browser, ".wf-ruler .wf-tick").await, ruler);
    assert_eq!(texts(&browser, ".wf-minimap .mm-label").await, ruler);
    let at = browser
        .eval(
            "return [...document.querySelectorAll('.wf-minimap .mm-label')].map(e => e.style.left)",
        )
        .await;
    assert_eq!(at, json!(["0%", "20%", "40%", "60%", "80%", "100%"]));

    // Long bars carry their label; short ones have it beside them, on the row.
    assert_eq!(label(&browser, 0).await, json!(["wf-duration in", "100.00 ms"]));
    assert_eq!(label(&browser, 1).await, json!(["wf-duration in", "20.00 ms"]));
    assert_eq!(label(&browser, 2).await, json!(["wf-duration right", "500 µs"]));
    // The label beside a bar stays inside the track, and one inside stays inside its bar.
    let within = browser
        .eval(
            "var r = [...document.querySelectorAll('.wf-row')].map(row => { \
               var t = row.querySelector('.wf-track').getBoundingClientRect(); \
               var l = row.querySelector('.wf-duration').getBoundingClientRect(); \
               var b = row.querySelector('.wf-bar').getBoundingClientRect(); \
               var inside = row.querySelector('.wf-duration.in'); \
               return l.left >= t.left - 0.5 && l.right <= t.right + 0.5 \
                 && (!inside || (l.left >= b.left - 0.5 && l.right <= b.right + 0.5)); }); \
             return r.length > 20 && r.every(x => x)",
        )
        .await;
    assert_eq!(within, true, "every drawn label is within its track (and bar when inside)");

    let png = browser.client.screenshot().await.unwrap();
    std::fs::write(artifacts_dir().join("web-waterfall-readable.png"), png).unwrap();

    // The last row, an error that ends near the right edge: label left, red edge, events.
    browser
        .eval(
            "var s = document.getElementById('wf-scroll'); s.scrollTop = s.scrollHeight; return 0",
        )
        .await;
    let last = format!(r#".wf-row[data-row="{LAST_ROW}"]"#);
    assert_eq!(browser.text_of(&format!("{last} .op")).await, "charge card");
    assert_eq!(label(&browser, LAST_ROW).await, json!(["wf-duration left", "800 µs"]));
    let error = browser
        .eval(&format!(
            "var e = document.querySelector('{last} .wf-err'); \
             return [e.getAttribute('role'), e.getAttribute('aria-label'), e.getAttribute('title')]"
        ))
        .await;
    assert_eq!(error, json!(["img", "error", "Error: card declined"]));
    assert_eq!(
        browser.eval("return document.querySelectorAll('.wf-err').length").await,
        json!(1),
        "only the error span is marked"
    );
    // Events are markers of their kind, their times from the trace's start (issue 26).
    let events = browser
        .eval(&format!(
            "return [...document.querySelectorAll('{last} .wf-ev')] \
               .map(e => [e.className, e.style.left, e.getAttribute('aria-label')])"
        ))
        .await;
    assert_eq!(
        events,
        json!([
            ["wf-ev ev-retry", "99.2%", "retry at +99.20 ms"],
            ["wf-ev ev-other", "99.6%", format!("{HOSTILE} at +99.60 ms")]
        ])
    );
    // The hostile event name is text: no element was made from it.
    assert_eq!(
        browser.eval("return document.querySelectorAll('#main img').length").await,
        json!(0)
    );

    // The page without scripts draws the same.
    let html = server.get_text(&format!("/ssr/traces/{TRACE}")).await;
    assert!(html.contains(r#"<span class="wf-tick" style="left: 20.000%">20 ms</span>"#), "ruler");
    assert!(html.contains(r#"<span class="mm-label" style="left: 100.000%">100 ms</span>"#));
    assert!(html.contains(
        r#"<span class="wf-duration in" style="left: calc(0.000% + 0px)">100.00 ms</span>"#
    ));
    assert!(html.contains(
        r#"<span class="wf-duration right" style="left: calc(6.500% + 4px)">500 µs</span>"#
    ));
    assert!(html.contains(
        r#"<span class="wf-duration left" style="right: calc(1.000% + 4px)">800 µs</span>"#
    ));
    assert!(html.contains(r#"title="Error: card declined""#), "error edge");
    assert!(html.contains(r#"role="tooltip">retry at +99.20 ms</span>"#), "event marker");
    assert!(
        html.contains(r#"role="tooltip">&#60;img src=x onerror=alert(1)&#62; at +99.60 ms</span>"#)
    );
    assert!(!html.contains(HOSTILE), "the hostile event name is escaped");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_waterfall_is_navigated_with_the_keyboard() {
    let server = Server::start().await;
    known_trace(&server).await;
    let browser = Browser::start().await;
    browser.client.goto(&server.url(&format!("/traces/{TRACE}"))).await.unwrap();
    browser.text_of(r#"[data-platform="web"] .wf-row[data-row="0"] .op"#).await;
    let tree = browser
        .eval(
            "var t = document.querySelector('.wf-canvas'), r = document.querySelector('.wf-row[data-row=\"1\"]'); \
             return [t.getAttribute('role'), r.getAttribute('role'), r.getAttribute('aria-level'), r.getAttribute('aria-expanded'), \
               document.querySelectorAll('.wf-row[tabindex=\"0\"]').length, [...r.children].map(c => c.getAttribute('role')).join()]",
        )
        .await;
    assert_eq!(tree, json!(["treegrid", "row", "2", "true", 1, "gridcell,gridcell"]));
    // Only the rows in view (and a few around) are in the DOM.
    let drawn = browser.eval("return document.querySelectorAll('.wf-row').length").await;
    assert!(drawn.as_u64().unwrap() < LAST_ROW, "{drawn} rows drawn");

    // The first row takes the focus (it is the one tab stop).
    browser.eval("document.querySelector('.wf-row[tabindex=\"0\"]').focus(); return 0").await;
    focused(&browser, 0).await;

    // Down twice: the third row; Enter shows its details.
    press(&browser, Key::Down.into()).await;
    focused(&browser, 1).await;
    press(&browser, Key::Down.into()).await;
    focused(&browser, 2).await;
    press(&browser, Key::Enter.into()).await;
    browser.wait_until("the details show the third row's span",
        "var d = [...document.querySelectorAll('.span-details dt')].find(e => e.textContent === 'Span id'); \
         return !!d && d.nextElementSibling.querySelector('code').textContent === '0000000000000003'",
    )
    .await;
    assert_eq!(browser.text_of(".span-details h2").await, "redis GET");

    // Left on a leaf goes to its parent; Left there collapses it, Right expands it again.
    press(&browser, Key::Left.into()).await;
    focused(&browser, 1).await;
    press(&browser, Key::Left.into()).await;
    browser.wait_until("the row collapses",
        "var r = document.querySelector('.wf-row[data-row=\"1\"]'); \
         return r.getAttribute('aria-expanded') === 'false' && !document.querySelector('.wf-row[data-row=\"2\"]') \
           && document.activeElement === r",
    )
    .await;
    press(&browser, Key::Right.into()).await;
    browser.wait_until("the row expands",
        "return document.querySelector('.wf-row[data-row=\"1\"]').getAttribute('aria-expanded') === 'true' \
           && !!document.querySelector('.wf-row[data-row=\"2\"]')",
    )
    .await;
    // Right on an expanded row goes to its first child.
    press(&browser, Key::Right.into()).await;
    focused(&browser, 2).await;

    // Down past the rows in view scrolls them along.
    assert_eq!(
        browser.eval("return document.getElementById('wf-scroll').scrollTop").await,
        json!(0)
    );
    for _ in 0..30 {
        press(&browser, Key::Down.into()).await;
    }
    focused(&browser, 32).await;
    let in_view = "var s = document.getElementById('wf-scroll').getBoundingClientRect(); \
         var r = document.activeElement.getBoundingClientRect(); \
         return document.getElementById('wf-scroll').scrollTop > 0 && r.top >= s.top - 0.5 && r.bottom <= s.bottom + 0.5";
    browser.wait_until("the focused row is scrolled into view", in_view).await;
    // End: the last row, which was not in the DOM, is drawn, focused and in view.
    press(&browser, Key::End.into()).await;
    focused(&browser, LAST_ROW).await;
    browser.wait_until("the last row is scrolled into view", in_view).await;
    let png = browser.client.screenshot().await.unwrap();
    std::fs::write(artifacts_dir().join("web-waterfall-keys.png"), png).unwrap();

    // `/`: to the search box, without typing the slash.
    press(&browser, '/').await;
    browser.wait_until("the search box has the focus",
        "var a = document.activeElement; return a.classList.contains('wf-search') && a.value === ''",
    )
    .await;
}
