//! Issue 26 points 2 and 4 in Chromium and as a page without scripts, on one known trace of
//! semantic-convention spans sent as OTLP/HTTP protobuf: each row says what its span is
//! (`GET /items/6 → 200`, `redis GET item:6`, `publish receipts`, …) with a kind icon and its
//! words, the details lead with the attributes that matter and sort the rest; events are
//! markers by kind (an exception red) with a legend and a card on focus, the retry shows one
//! wait (its declared backoff in the card) and one attempt number, and no label is drawn over a
//! bar or another label.

use opentelemetry_proto::tonic::common::v1::{any_value::Value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::trace::v1::span::{Event, SpanKind};
use opentelemetry_proto::tonic::trace::v1::{status, Status};
use otelscope_e2e::{artifacts_dir, now_ns, otlp_span, Browser, Server};
use serde_json::json;

const TRACE: &str = "6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b";
const HOSTILE: &str = "<img src=x onerror=alert(1)>";
const MS: u64 = 1_000_000;

fn event(time_unix_nano: u64, name: &str, attributes: &[(&str, Value)]) -> Event {
    Event {
        time_unix_nano,
        name: name.into(),
        attributes: attributes
            .iter()
            .map(|(key, value)| KeyValue {
                key: (*key).into(),
                value: Some(AnyValue { value: Some(value.clone()) }),
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    }
}

/// Rows: 0 the server span (100 ms), 1 and 2 the two tries of an HTTP call (27 ms apart, the
/// root's `retry` event declaring 25 ms), 3 redis, 4 sqlite, 5 a publish to a hostile queue
/// name, 6 a gRPC call that failed with an exception.
async fn known_trace(server: &Server) {
    let t0 = now_ns() - 10_000 * MS;
    let id = [0x6b; 16];
    let mut root = otlp_span(id, 1, "GET")
        .kind(SpanKind::Server)
        .ns(t0, t0 + 100 * MS)
        .attr("thread.name", "worker-1")
        .attr("http.target", "/items/6")
        .attr_int("http.status_code", 200)
        .attr("code.function", "get_item")
        .attr("http.route", "/items/<int:item_id>")
        .attr("http.method", "GET")
        .build();
    root.events = vec![event(t0 + 10 * MS, "retry", &[("retry.delay_ms", Value::IntValue(25))])];
    let upstream = |span: u64, attempt: i64, status: i64| {
        otlp_span(id, span, "GET")
            .parent(1)
            .kind(SpanKind::Client)
            .attr("http.request.method", "GET")
            .attr("url.full", "http://inventory:5001/stock/6?token=secret")
            .attr_int("http.response.status_code", status)
            .attr_int("retry.attempt", attempt)
    };
    let mut grpc = otlp_span(id, 7, "catalog.Catalog/Get")
        .parent(1)
        .kind(SpanKind::Client)
        .ns(t0 + 60 * MS, t0 + 62 * MS)
        .attr("rpc.system", "grpc")
        .attr("rpc.service", "catalog.Catalog")
        .attr("rpc.method", "Get")
        .build();
    grpc.status =
        Some(Status { code: status::StatusCode::Error as i32, message: "timeout".into() });
    grpc.events = vec![event(
        t0 + 61 * MS,
        "exception",
        &[
            ("exception.type", Value::StringValue("TimeoutError".into())),
            ("exception.message", Value::StringValue(format!("deadline {HOSTILE}"))),
        ],
    )];
    let spans = vec![
        root,
        upstream(2, 0, 503).ns(t0 + 5 * MS, t0 + 10 * MS).build(),
        upstream(3, 1, 200).ns(t0 + 37 * MS, t0 + 37 * MS + 220_000).build(),
        otlp_span(id, 4, "GET")
            .parent(1)
            .kind(SpanKind::Client)
            .ns(t0 + 40 * MS, t0 + 41 * MS)
            .attr("db.system", "redis")
            .attr("db.statement", "GET item:6")
            .build(),
        otlp_span(id, 5, "SELECT")
            .parent(1)
            .kind(SpanKind::Client)
            .ns(t0 + 42 * MS, t0 + 45 * MS)
            .attr("db.system.name", "sqlite")
            .attr("db.query.text", "SELECT id, name\n  FROM items WHERE id = ?")
            .build(),
        otlp_span(id, 6, "receipts publish")
            .parent(1)
            .kind(SpanKind::Producer)
            .ns(t0 + 50 * MS, t0 + 51 * MS)
            .attr("messaging.system", "rabbitmq")
            .attr("messaging.operation.type", "publish")
            .attr("messaging.destination.name", HOSTILE)
            .build(),
        grpc,
    ];
    let body = otelscope_e2e::otlp_traces("shop", spans);
    assert_eq!(server.post_traces("application/x-protobuf", body).await, 200);
}

/// What each row says it is, in row order.
fn summaries() -> serde_json::Value {
    json!([
        "GET /items/6 → 200",
        "GET http://inventory:5001/stock/6 → 503",
        "GET http://inventory:5001/stock/6 → 200",
        "redis GET item:6",
        "sqlite SELECT id, name FROM items WHERE id = ?",
        format!("publish {HOSTILE}"),
        "grpc catalog.Catalog/Get",
    ])
}

#[tokio::test(flavor = "multi_thread")]
async fn spans_say_what_they_are_and_events_are_markers() {
    let server = Server::start().await;
    known_trace(&server).await;
    let browser = Browser::start().await;
    browser.client.goto(&server.url(&format!("/traces/{TRACE}"))).await.unwrap();
    browser.text_of(r#"[data-platform="web"] .wf-row[data-row="6"] .op"#).await;

    // Point 2: the summary beside each name, in the tooltip with the kind's words.
    let rows = browser
        .eval(
            "return [...document.querySelectorAll('.wf-row .op-summary')].map(e => e.textContent)",
        )
        .await;
    assert_eq!(rows, summaries());
    let root = browser
        .eval(
            "var r = document.querySelector('.wf-row[data-row=\"0\"]'); \
             var i = r.querySelector('.kind-icon'); \
             return [r.querySelector('.wf-label').title, i.getAttribute('role'), i.getAttribute('aria-label')]",
        )
        .await;
    assert_eq!(
        root,
        json!([
            "GET /items/6 → 200 · server span: handles a request · shop",
            "img",
            "server span: handles a request"
        ])
    );
    let kinds = browser
        .eval("return [...document.querySelectorAll('.wf-row .kind-icon')].map(e => e.getAttribute('aria-label').split(':')[0])")
        .await;
    assert_eq!(
        kinds,
        json!([
            "server span",
            "client span",
            "client span",
            "client span",
            "client span",
            "producer span",
            "client span"
        ])
    );

    // Point 4: one attempt number (the span's own retry.attempt) and one wait, whose card
    // names the declared backoff; no separate backoff badge.
    let badges = browser
        .eval("return [...document.querySelectorAll('.badge.attempt')].map(e => e.textContent)")
        .await;
    assert_eq!(badges, json!(["first try", "retry 1"]));
    assert_eq!(
        browser.eval("return document.querySelectorAll('.badge.backoff').length").await,
        json!(0)
    );
    let wait = browser
        .eval("return document.querySelector('.wf-row[data-row=\"2\"] .wf-wait').title")
        .await;
    assert_eq!(
        wait,
        json!("waited 27.00 ms since the previous attempt ended (declared backoff 25 ms)")
    );

    // Markers by kind, a legend of the kinds present, the exception in the error colour.
    let markers = browser
        .eval("return [...document.querySelectorAll('.wf-track .wf-ev')].map(e => [e.className, e.getAttribute('aria-label')])")
        .await;
    assert_eq!(
        markers,
        json!([
            ["wf-ev ev-retry", "retry at +10.00 ms — declared backoff 25 ms"],
            [
                "wf-ev ev-exception",
                format!("exception at +61.00 ms — TimeoutError: deadline {HOSTILE}")
            ]
        ])
    );
    let legend = browser
        .eval("return [...document.querySelectorAll('.wf-event-legend [role=listitem]')].map(e => e.textContent)")
        .await;
    assert_eq!(legend, json!(["exception", "retry (backoff)"]));
    let red = browser
        .eval(
            "var e = document.querySelector('.wf-track .ev-exception'); \
             var probe = document.createElement('span'); probe.style.color = 'var(--err)'; \
             document.body.appendChild(probe); var err = getComputedStyle(probe).color; probe.remove(); \
             return getComputedStyle(e, '::before').backgroundColor === err",
        )
        .await;
    assert_eq!(red, json!(true), "the exception marker is drawn in --err");
    // Its card: hidden, then shown on focus.
    let card = "document.querySelector('.wf-track .ev-exception .ev-card')";
    assert_eq!(
        browser.eval(&format!("return getComputedStyle({card}).display")).await,
        json!("none")
    );
    browser.eval("document.querySelector('.wf-track .ev-exception').focus(); return 0").await;
    assert_eq!(
        browser.eval(&format!("return getComputedStyle({card}).display")).await,
        json!("block")
    );

    // No label over a bar or over another label, on any row.
    let apart = browser
        .eval(
            "return [...document.querySelectorAll('.wf-row')].every(row => { \
               var boxes = [...row.querySelectorAll('.wf-bar, .wf-duration:not(.in), .wf-wait-label')] \
                 .map(e => e.getBoundingClientRect()); \
               return boxes.every((a, i) => boxes.slice(i + 1).every(b => \
                 a.right <= b.left + 0.5 || b.right <= a.left + 0.5 || a.bottom <= b.top || b.bottom <= a.top)); })",
        )
        .await;
    assert_eq!(apart, json!(true));

    // The details: the name with its kind, what it is, then the attributes that matter first.
    browser.click(".wf-row[data-row=\"0\"]").await;
    assert_eq!(browser.text_of(".span-details .summary-text").await, "GET /items/6 → 200");
    let keys = browser
        .eval("return [...document.querySelector('.span-details table.attributes').querySelectorAll('tr')].map(r => [r.className, r.querySelector('th').textContent])")
        .await;
    assert_eq!(
        keys,
        json!([
            ["lead", "http.method"],
            ["lead", "http.route"],
            ["lead", "http.target"],
            ["lead", "http.status_code"],
            ["", "code.function"],
            ["", "thread.name"]
        ])
    );
    // Hostile names are text: no element was made from them.
    assert_eq!(
        browser.eval("return document.querySelectorAll('#main img').length").await,
        json!(0)
    );
    browser.eval("document.querySelector('.wf-track .ev-exception').focus(); return 0").await;
    let png = browser.client.screenshot().await.unwrap();
    std::fs::write(artifacts_dir().join("web-span-words.png"), png).unwrap();

    // The page without scripts says the same.
    let html = server.get_text(&format!("/ssr/traces/{TRACE}")).await;
    assert!(html.contains(r#"<span class="op-summary">GET /items/6 → 200</span>"#), "{html}");
    assert!(html.contains(r#"<span class="op-summary">redis GET item:6</span>"#));
    assert!(html.contains(
        r#"<span class="op-summary">publish &#60;img src=x onerror=alert(1)&#62;</span>"#
    ));
    assert!(html.contains(r#"role="img" aria-label="producer span: sends a message""#));
    assert!(
        html.contains(r#"role="tooltip">exception at +61.00 ms — TimeoutError: deadline &#60;img"#)
    );
    assert!(html.contains(">retry 1</span>"));
    assert!(!html.contains(HOSTILE), "hostile text is escaped");
}
