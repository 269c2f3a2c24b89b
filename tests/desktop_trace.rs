//! The desktop window on a trace: `otelscope desktop --server URL --path /traces/ID` shows the
//! waterfall of a trace stored by a running server, hostile span strings as text in the
//! window's DOM (screenshot and DOM kept as artefacts), each row saying what its span is, and
//! the document titled as the window; opened on a `?zoom=` window, that window. Its own test
//! binary, so its WebKit processes never overlap another window's.

use otelscope_e2e::display::show_and_close;
use otelscope_e2e::Server;

#[tokio::test(flavor = "multi_thread")]
async fn desktop_window_shows_a_trace_from_a_running_server() {
    let server = Server::start().await;
    let now = otelscope_e2e::now_ns();
    let span = |id: &str, parent: &str, name: &str, start: u64, end: u64| {
        serde_json::json!({"traceId": "d35c7000d35c7000d35c7000d35c7000", "spanId": id, "parentSpanId": parent,
            "name": name, "kind": 2, "startTimeUnixNano": (now - start).to_string(), "endTimeUnixNano": (now - end).to_string()})
    };
    let mut root = span("0000000000000001", "", "GET /checkout", 9_000_000, 1_000_000);
    root["attributes"] =
        serde_json::json!([{"key": "note", "value": {"stringValue": HOSTILE_VALUE}}]);
    let mut select =
        span("0000000000000002", "0000000000000001", "SELECT cart", 8_000_000, 6_000_000);
    select["attributes"] = serde_json::json!([
        {"key": "db.system", "value": {"stringValue": "sqlite"}},
        {"key": "db.statement", "value": {"stringValue": "SELECT * FROM cart"}}
    ]);
    let body = serde_json::json!({"resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "desk"}}]},
        "scopeSpans": [{"spans": [
            root,
            select,
            span("0000000000000003", "0000000000000001", HOSTILE_NAME, 5_000_000, 2_000_000),
        ]}]
    }]});
    assert_eq!(server.post_traces("application/json", body.to_string().into_bytes()).await, 200);
    let path = "/traces/d35c7000d35c7000d35c7000d35c7000";
    let title = "otelscope — desk GET /checkout";
    // Marker: the hostile row has been drawn (as text, escaped by the DOM serializer).
    let args = ["--server", &server.base_url, "--path", path];
    let dom = show_and_close(&args, title, "desktop-trace.png", "&lt;img src=x").await;

    // The hostile strings are text in the window's DOM, and no element came from them.
    let start = dom.find("id=\"app\"").expect("the app's root in the DOM");
    let end = start + dom[start..].find("</main>").expect("the page's end");
    let app = &dom[start..end];
    assert!(app.contains("<span class=\"op\">&lt;img src=x onerror=alert(1)&gt;</span>"), "{app}");
    assert!(
        app.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "attribute value as text: {app}"
    );
    assert!(!app.contains("<img"), "an img element was created: {app}");
    assert!(!app.contains("<script"), "a script element was created: {app}");
    // What a span is and its kind, as in the browser (issue 26); the document is titled.
    assert!(app.contains("<span class=\"op-summary\">sqlite SELECT * FROM cart</span>"), "{app}");
    assert!(app.contains("aria-label=\"server span: handles a request\""), "{app}");
    assert!(dom.contains(&format!("<title>{title}</title>")), "the document's title");
    // Nesting as in the browser: both children under the root.
    for (row, depth) in [(0, 0), (1, 1), (2, 1)] {
        assert!(app.contains(&format!("data-row=\"{row}\" data-depth=\"{depth}\"")), "{app}");
    }

    // Opened on a time window (issue 26 point 3): the second half of the 8 ms trace, with the
    // zoom controls and the way back to the whole trace.
    let zoomed = format!("{path}?zoom=0.5-1");
    let args = ["--server", &server.base_url, "--path", &zoomed];
    let dom = show_and_close(&args, title, "desktop-trace-zoom.png", "wf-zoom-reset").await;
    assert!(dom.contains("+4.00 ms – +8.00 ms"), "the window shown: {dom}");
    assert!(dom.contains("class=\"wf-zoom-pad\""), "a ruler to drag: {dom}");
}

const HOSTILE_NAME: &str = "<img src=x onerror=alert(1)>";
const HOSTILE_VALUE: &str = "<script>alert(1)</script>";
