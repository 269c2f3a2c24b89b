//! The trace list in Chromium (issue 26 point 9): per-service chips, status and the root's error text per row, "root not yet received" for a trace whose root has not arrived, search over event attributes (and several attribute conditions at once), the scatter over every match on a log axis, and a live insert that leaves the row being read where it was.

use otelscope_e2e::{now_ns, Browser, Server};
use serde_json::{json, Value};

const MS: u64 = 1_000_000;
/// The failing checkout: web's root and render, db's query, and the exception in web's charge.
const FAILED: &str = "e0000000000000000000000000000001";
/// A trace whose root (span `..a1`) has not arrived: only worker's `consume`.
const ORPHAN: &str = "e0000000000000000000000000000002";
/// The slow one, 9 s among milliseconds: the scatter's outlier.
const SLOW: &str = "e0000000000000000000000000000003";
const FILLERS: u64 = 25;
const WEB: &str = "[data-platform=\"web\"]";

fn string(key: &str, value: &str) -> Value {
    json!({"key": key, "value": {"stringValue": value}})
}

fn span(trace: &str, id: &str, parent: &str, name: &str, kind: u8, from: u64, to: u64) -> Value {
    json!({"traceId": trace, "spanId": id, "parentSpanId": parent, "name": name, "kind": kind,
        "startTimeUnixNano": from.to_string(), "endTimeUnixNano": to.to_string()})
}

fn resource(service: &str, spans: Vec<Value>) -> Value {
    json!({"resource": {"attributes": [string("service.name", service)]},
           "scopeSpans": [{"spans": spans}]})
}

/// Sends the three traces above and `FILLERS` plain ones (1–5 ms), the failing one newest.
async fn send_traces(server: &Server, t0: u64) {
    let filler_id = |i: u64| format!("f{:031x}", i);
    let mut web: Vec<Value> = (0..FILLERS)
        .map(|i| {
            let at = t0 + i * 1_000 * MS;
            span(&filler_id(i), "00000000000000f1", "", "GET /ok", 2, at, at + (1 + i % 5) * MS)
        })
        .collect();
    let slow_at = t0 + 30_000 * MS;
    web.push(span(SLOW, "00000000000000c1", "", "GET /slow", 2, slow_at, slow_at + 9_000 * MS));
    let at = t0 + 40_000 * MS;
    let mut root = span(FAILED, "00000000000000a1", "", "GET", 2, at, at + 50 * MS);
    root["attributes"] = json!([string("http.request.method", "GET"),
        string("http.route", "/items/{id}"),
        {"key": "http.response.status_code", "value": {"intValue": "500"}}]);
    root["status"] = json!({"code": 2, "message": "ValueError: bad input"});
    let mut charge = span(
        FAILED,
        "00000000000000a3",
        "00000000000000a1",
        "charge",
        1,
        at + 30 * MS,
        at + 40 * MS,
    );
    charge["events"] = json!([{"timeUnixNano": (at + 35 * MS).to_string(), "name": "exception",
        "attributes": [string("exception.type", "PaymentError"), string("exception.message", "card declined")]}]);
    web.extend([root, charge]);
    let mut query = span(
        FAILED,
        "00000000000000a2",
        "00000000000000a1",
        "SELECT",
        3,
        at + 5 * MS,
        at + 20 * MS,
    );
    query["attributes"] = json!([string("db.system", "sqlite")]);
    let orphan_at = t0 + 41_000 * MS;
    let orphan = span(
        ORPHAN,
        "00000000000000b2",
        "00000000000000b1",
        "consume",
        5,
        orphan_at,
        orphan_at + 3 * MS,
    );
    let body = json!({"resourceSpans": [
        resource("web", web),
        resource("db", vec![query]),
        resource("worker", vec![orphan]),
    ]});
    assert_eq!(server.post_traces("application/json", body.to_string().into_bytes()).await, 200);
}

/// A script returning the row (`tr`) of trace `id` in the app's table.
fn row(id: &str) -> String {
    format!("[...document.querySelectorAll('{WEB} tr')].find(r => r.querySelector('a[href=\"/traces/{id}\"]'))")
}

#[tokio::test(flavor = "multi_thread")]
async fn rows_say_services_status_and_errors_search_events_and_live_rows_stay_put() {
    let server = Server::start().await;
    let t0 = now_ns() - 120_000 * MS;
    send_traces(&server, t0).await;
    let browser = Browser::start().await;
    browser.client.goto(&server.url("/traces")).await.unwrap();
    browser.wait_until("the failing trace is listed", &format!("return !!{}", row(FAILED))).await;

    // The failing trace: its root's line, its status and error text, its spans per service.
    let failed = browser
        .eval(&format!(
            "const r = {}; return [r.querySelector('.op-summary').textContent, r.querySelector('.row-status').textContent, r.querySelector('.row-error').textContent, [...r.querySelectorAll('.svc-chips .chip')].map(c => c.textContent).sort(), r.querySelector('.kind-icon').getAttribute('aria-label')]",
            row(FAILED)
        ))
        .await;
    assert_eq!(
        failed,
        json!([
            "GET /items/{id} → 500",
            "error",
            "ValueError: bad input",
            ["db 1", "web 2"],
            "server span: handles a request"
        ])
    );
    // A trace still arriving says so, rather than presenting its child as the root.
    let orphan = browser
        .eval(&format!(
            "const r = {}; return [r.querySelector('.root-missing').textContent, r.querySelector('.earliest').textContent, !!r.querySelector('.op'), r.querySelector('.row-status').textContent]",
            row(ORPHAN)
        ))
        .await;
    assert_eq!(
        orphan,
        json!(["root not yet received", "earliest: worker consume", false, "unset"])
    );

    // The scatter: every match (28), not the page's 20 rows, on a log axis for the 9 s one.
    let matched = 3 + FILLERS;
    let scatter = browser
        .eval(&format!(
            "const s = document.querySelector('{WEB} [data-points]'); return [s.dataset.points, s.dataset.scale, document.querySelectorAll('{WEB} tbody tr').length]"
        ))
        .await;
    assert_eq!(scatter, json!([matched.to_string(), "log", 20]));

    // The live list: a new trace goes above and the row being read does not move.
    let reading =
        format!("{}.getBoundingClientRect().top", row(&format!("f{:031x}", FILLERS - 12)));
    browser
        .eval(&format!(
            "{}.scrollIntoView({{block: 'center'}}); return true",
            row(&format!("f{:031x}", FILLERS - 12))
        ))
        .await;
    let scrolled = browser.eval("return window.scrollY").await;
    assert!(scrolled.as_f64().unwrap() > 100.0, "the page scrolled to the row: {scrolled}");
    let before = browser.eval(&format!("return {reading}")).await.as_f64().unwrap();
    let newest = "e0000000000000000000000000000009";
    let at = now_ns() - 1_000 * MS;
    let body = json!({"resourceSpans": [resource("web", vec![span(newest, "00000000000000d1", "", "GET /new", 2, at, at + MS)])]});
    assert_eq!(server.post_traces("application/json", body.to_string().into_bytes()).await, 200);
    browser
        .wait_until(
            "the live tick lists the new trace",
            &format!("return !!{} && !!document.querySelector('{WEB} .new-rows')", row(newest)),
        )
        .await;
    let after = browser.eval(&format!("return {reading}")).await.as_f64().unwrap();
    assert!((after - before).abs() < 1.0, "the row read moved from {before} to {after} px");
    let first = browser
        .eval(&format!(
            "return document.querySelector('{WEB} tbody tr a.trace-link').getAttribute('href')"
        ))
        .await;
    assert_eq!(first, format!("/traces/{newest}"), "the new trace is above");
    assert_eq!(
        browser.text_of(&format!("{WEB} .new-rows")).await,
        "1 new trace above, added while you read"
    );

    // Search over event attributes: the exception's type finds its trace, and a second
    // condition narrows (both kept in the form, one field each).
    let events = "/traces?attr=exception.type%3DPaymentError";
    browser.client.goto(&server.url(events)).await.unwrap();
    browser.wait_until("the event search answers", &format!("return !!{}", row(FAILED))).await;
    let listed = browser
        .eval(&format!("return [...document.querySelectorAll('{WEB} tbody a.trace-link')].map(a => a.getAttribute('href'))"))
        .await;
    assert_eq!(listed, json!([format!("/traces/{FAILED}")]));
    browser.client.goto(&server.url(&format!("{events}&attr=db.system%3Dredis"))).await.unwrap();
    browser
        .wait_until(
            "no trace has both",
            &format!("return !!document.querySelector('{WEB} .empty-state')"),
        )
        .await;
    let fields = browser
        .eval(&format!(
            "return [...document.querySelectorAll('{WEB} input[name=attr]')].map(i => i.value)"
        ))
        .await;
    assert_eq!(fields, json!(["exception.type=PaymentError", "db.system=redis"]));
}
