//! Trace pages rendered by the server (JavaScript off): the waterfall lists every span in
//! tree order, search results link to traces, and hostile strings stay text.

mod support;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use otelscope_server::router;
use prost::Message;
use support::{post, request_with, span};
use tower::ServiceExt;

const HOSTILE_NAME: &str = "<img src=x onerror=alert(1)>";
const HOSTILE_VALUE: &str = "<script>alert(1)</script>";

async fn page(state: &otelscope_server::AppState, uri: &str) -> (StatusCode, String) {
    let response = router(state.clone())
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

/// The HTML with `<`/`>` entities in one spelling (dioxus-ssr writes `&#60;`, others `&lt;`).
fn normalized(html: &str) -> String {
    html.replace("&#60;", "&lt;").replace("&#62;", "&gt;")
}

/// A root with two children arriving out of order, one grandchild, and hostile strings.
async fn seed(state: &otelscope_server::AppState) -> String {
    let trace = [0x42; 16];
    let mut root = span(HOSTILE_NAME, trace);
    root.span_id = vec![1; 8];
    root.attributes.push(KeyValue {
        key: "note".into(),
        value: Some(AnyValue { value: Some(any_value::Value::StringValue(HOSTILE_VALUE.into())) }),
        ..Default::default()
    });
    let child = |id: u8, parent: u8, name: &str, offset: u64| {
        let mut s = span(name, trace);
        s.span_id = vec![id; 8];
        s.parent_span_id = vec![parent; 8];
        s.start_time_unix_nano += offset;
        s.end_time_unix_nano = s.start_time_unix_nano + 100;
        s
    };
    let spans = vec![
        child(4, 3, "grandchild", 30),
        child(3, 1, "second", 20),
        root,
        child(2, 1, "first", 10),
    ];
    let posted =
        post(state, "application/x-protobuf", None, request_with(spans).encode_to_vec()).await;
    assert_eq!(posted.status, StatusCode::OK);
    "42".repeat(16)
}

#[tokio::test]
async fn waterfall_lists_every_span_in_tree_order_without_javascript() {
    let state = support::state();
    let trace_id = seed(&state).await;
    let (status, html) = page(&state, &format!("/ssr/traces/{trace_id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!html.contains("<script"), "an /ssr page carries no script");
    let html = normalized(&html);
    let escaped_name = "&lt;img src=x onerror=alert(1)&gt;";
    let order: Vec<usize> = [escaped_name, ">first<", ">second<", ">grandchild<"]
        .iter()
        .map(|needle| html.find(needle).unwrap_or_else(|| panic!("{needle} missing from {html}")))
        .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "rows out of order: {order:?}");
    assert!(html.contains(r#"data-depth="2""#), "the grandchild is nested two deep");
}

#[tokio::test]
async fn hostile_strings_are_text_in_server_rendered_html() {
    let state = support::state();
    let trace_id = seed(&state).await;
    for uri in [format!("/traces/{trace_id}"), "/traces".to_owned()] {
        let (_, raw) = page(&state, &uri).await;
        let html = normalized(&raw);
        assert!(!raw.contains(HOSTILE_NAME), "{uri}: raw span name in HTML");
        assert!(!html.contains("<img"), "{uri}: an element was created from a span name");
        assert!(
            html.contains("&lt;img src=x onerror=alert(1)&gt;"),
            "{uri}: the name is shown as text"
        );
    }
    let (_, raw) = page(&state, &format!("/traces/{trace_id}")).await;
    let html = normalized(&raw);
    assert!(!raw.contains(HOSTILE_VALUE), "raw attribute value in HTML");
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "the attribute value is shown as text"
    );
    // The page title names the trace's root span, as text too.
    assert!(
        raw.contains("<title>otelscope — test-svc &lt;img src=x onerror=alert(1)&gt;</title>"),
        "{raw}"
    );
}

#[tokio::test]
async fn search_form_works_as_a_plain_get() {
    let state = support::state();
    let trace_id = seed(&state).await;
    let (_, html) = page(&state, "/ssr/traces?service=test-svc&status=ok").await;
    assert!(html.contains(r#"<form class="search" action="/traces" method="get">"#), "{html}");
    assert!(
        html.contains(&format!(r#"href="/traces/{trace_id}""#)),
        "results link to the trace: {html}"
    );
    let (_, none) = page(&state, "/ssr/traces?service=test-svc&status=error").await;
    assert!(!none.contains(&format!(r#"href="/traces/{trace_id}"#)));
    assert!(none.contains("No traces match"));
    let (status, missing) = page(&state, &format!("/traces/{}", "ab".repeat(16))).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "the page is drawn, with its status");
    assert!(missing.contains("Trace not found"), "{missing}");
}

#[tokio::test]
async fn services_page_shows_errors_and_latency_percentiles() {
    let state = support::state();
    seed(&state).await;
    let mut failing = span("charge card", [0x43; 16]);
    failing.status =
        Some(opentelemetry_proto::tonic::trace::v1::Status { code: 2, ..Default::default() });
    let posted =
        post(&state, "application/x-protobuf", None, request_with(vec![failing]).encode_to_vec())
            .await;
    assert_eq!(posted.status, StatusCode::OK);
    let cells_of = |html: &str| -> (String, Vec<String>) {
        // (Past the cards above the table, which name the service too.)
        let row =
            html.split("<tr").skip(1).find(|r| r.contains("test-svc")).expect("a row for test-svc");
        let cells = row
            .split("<td")
            .skip(1)
            .map(|cell| {
                let text: String =
                    cell.split('>').skip(1).map(|p| p.split('<').next().unwrap()).collect();
                text.trim().to_owned()
            })
            .collect();
        (row.to_owned(), cells)
    };
    // By default the last hour (issue 26 point 8), said on the page: these spans are from 2023.
    let (_, html) = page(&state, "/ssr/services").await;
    assert!(html.contains("Cards and table: last hour."), "{html}");
    assert!(html.contains("The cards count requests (server and consumer spans"), "{html}");
    let picked = |html: &str| -> String {
        let after = html.split(r#"class="range on""#).nth(1).expect("a picked range");
        after.split('>').nth(1).unwrap().split('<').next().unwrap().to_owned()
    };
    assert_eq!(picked(&html), "Last hour");
    let (_, cells) = cells_of(&html);
    assert_eq!(cells[1..4], ["0", "0", "–"], "no span of the last hour");
    // The range around them (Unix ns, as a link from a chart gives it).
    let range = "since=1699999000000000000&until=1700001000000000000";
    let (_, html) = page(&state, &format!("/ssr/services?{range}")).await;
    assert!(html.contains("Cards and table: the picked range."), "{html}");
    assert_eq!(picked(&html), "Picked range");
    let (row, cells) = cells_of(&html);
    // 5 spans: three of 100 ns, two of 1 ms (one failing); percentiles are bucket midpoints
    // (1 ms falls in [999.4 µs, 1,007.6 µs)), printed to the three digits their 1% allows.
    // The last cell links to the service's flame graph over the same range.
    assert_eq!(
        cells,
        ["test-svc", "5", "1", "20.0%", "100 ns", "1.00 ms", "1.00 ms", "over the range"],
        "{row}"
    );
    let flame =
        format!(r#"href="/flamegraph?service=test-svc&#38;{}""#, range.replace('&', "&#38;"));
    assert!(row.contains(&flame), "{row}");
    assert!(
        row.contains(r#"href="/traces?service=test-svc&#38;status=error""#),
        "errors link to the failing traces: {row}"
    );
}

/// The `href` of the first `<a … rel="REL" …>` in `html`, entities decoded.
fn link_with_rel(html: &str, rel: &str) -> Option<String> {
    let at = html.find(&format!("rel=\"{rel}\""))?;
    let tag = &html[html[..at].rfind("<a")?..];
    let href = tag.split("href=\"").nth(1)?.split('"').next()?;
    Some(href.replace("&#38;", "&").replace("&amp;", "&"))
}

#[tokio::test]
async fn a_large_trace_without_javascript_comes_in_linked_pages_of_rows() {
    let state = support::state();
    let trace = [0x61; 16];
    let spans: Vec<_> = (0..4500u64)
        .map(|i| {
            let mut s = span(&format!("op-{i:04}"), trace);
            s.span_id = (i + 1).to_be_bytes().to_vec();
            s.parent_span_id = if i == 0 { vec![] } else { 1u64.to_be_bytes().to_vec() };
            s.start_time_unix_nano += i * 10;
            s
        })
        .collect();
    let posted =
        post(&state, "application/x-protobuf", None, request_with(spans).encode_to_vec()).await;
    assert_eq!(posted.status, StatusCode::OK);
    let trace_id = "61".repeat(16);
    let rows = |html: &str| html.matches("class=\"wf-row").count();

    let (_, first) = page(&state, &format!("/ssr/traces/{trace_id}")).await;
    assert_eq!(rows(&first), 2000);
    assert!(first.contains("Spans 1–2000 of 4500."), "{first}");
    assert_eq!(link_with_rel(&first, "prev"), None);
    let next = link_with_rel(&first, "next").expect("a link to the next page");
    assert_eq!(next, format!("/ssr/traces/{trace_id}/spans/{:016x}", 2001));

    let (_, second) = page(&state, &next).await;
    assert_eq!(rows(&second), 2000);
    assert!(second.contains("Spans 2001–4000 of 4500."));
    assert!(
        second.contains(r#"data-row="2000" data-depth="1" style="top: 0px""#),
        "a page's rows start at the top of its canvas"
    );
    assert!(second.contains(">op-2000</a>") && second.contains(">op-3999</a>"));
    assert!(!second.contains(">op-1999</a>") && !second.contains(">op-4000</a>"));
    // The linked span is selected: its details are shown.
    assert!(second.contains("<h2>op-2000</h2>"), "details of the focused span");
    assert_eq!(
        link_with_rel(&second, "prev"),
        Some(format!("/ssr/traces/{trace_id}/spans/{:016x}", 1))
    );
    let (_, last) = page(&state, &link_with_rel(&second, "next").unwrap()).await;
    assert_eq!(rows(&last), 500);
    assert_eq!(link_with_rel(&last, "next"), None);
    // Every name links to the span's own page.
    assert!(last.contains(&format!(
        "<a class=\"op\" href=\"/ssr/traces/{trace_id}/spans/{:016x}\">op-4499</a>",
        4500
    )));

    // The page the app replaces centres the focused span, as the app will.
    let (_, preview) = page(&state, &format!("/traces/{trace_id}/spans/{:016x}", 3001)).await;
    if otelscope_server::web::has_bundle() {
        assert!(rows(&preview) < 60);
        assert!(preview.contains(">op-3000</span>") && !preview.contains(">op-0001</span>"));
        assert!(preview.contains(r#"style="top: 0px""#), "drawn from the top: HTML cannot scroll");
        assert!(
            preview.contains(&format!("/ssr/traces/{trace_id}/spans/{:016x}", 3001)),
            "the noscript link keeps the focus"
        );
    }
    assert!(preview.contains("<h2>op-3000</h2>"));
}

#[tokio::test]
async fn a_cached_trace_answer_gives_way_to_new_spans() {
    let state = support::state();
    let trace = [0x62; 16];
    let send = |id: u8, name: &str| {
        let mut s = span(name, trace);
        s.span_id = vec![id; 8];
        request_with(vec![s]).encode_to_vec()
    };
    let api = format!("/api/v1/traces/{}", "62".repeat(16));
    assert_eq!(page(&state, &api).await.0, StatusCode::NOT_FOUND);
    assert_eq!(post(&state, "application/x-protobuf", None, send(1, "one")).await.status, 200);
    let (_, first) = page(&state, &api).await;
    let (_, again) = page(&state, &api).await;
    assert_eq!(first, again);
    assert_eq!(first.matches("\"span_id\"").count(), 1);
    assert_eq!(post(&state, "application/x-protobuf", None, send(2, "two")).await.status, 200);
    let (status, second) = page(&state, &api).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(second.matches("\"span_id\"").count(), 2, "the new span is in the answer");
}

/// Issue 8: SSR parsed any trace whole, however large. Over the limit (lowered here from
/// 200,000), the page says so and links to the app, and the trace's spans are never read.
#[tokio::test]
async fn a_trace_over_the_ssr_limit_is_left_to_the_app() {
    let state = otelscope_server::AppState { ssr_max_spans: 3, ..support::state() };
    let trace_id = seed(&state).await;
    let (status, html) = page(&state, &format!("/ssr/traces/{trace_id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("This trace is too large to draw here"), "{html}");
    assert!(html.contains("has 4 spans, more than the 3 the server draws"), "{html}");
    assert!(html.contains(&format!(r#"href="/traces/{trace_id}""#)), "links to the app: {html}");
    assert!(!html.contains(">grandchild<"), "no span was drawn: {html}");
    assert!(!state.trace_cache.holds(&trace_id, 4).await, "the trace was read for SSR");

    let (_, html) = page(&state, &format!("/ssr/traces/{trace_id}/spans/{}", "03".repeat(8))).await;
    assert!(html.contains("This trace is too large to draw here"), "{html}");

    // At the limit it is drawn as before.
    let state = otelscope_server::AppState { ssr_max_spans: 4, ..state };
    let (_, html) = page(&state, &format!("/ssr/traces/{trace_id}")).await;
    assert!(html.contains(">grandchild<"), "{html}");
}

/// Issue 9: the empty states said `127.0.0.1:4318` whatever the server listened on (the
/// desktop's in-process server used random ports). They name the endpoints health reports.
#[tokio::test]
async fn empty_states_name_the_otlp_endpoints_the_server_uses() {
    let endpoints = otelscope_server::Endpoints {
        otlp_http: Some("http://127.0.0.1:40318".into()),
        otlp_grpc: Some("http://127.0.0.1:40317".into()),
    };
    let state = otelscope_server::AppState {
        endpoints: std::sync::Arc::new(endpoints),
        ..support::state()
    };
    let hint = "Point an OpenTelemetry SDK at this server: \
        <code>OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:40318</code> or \
        <code>http://127.0.0.1:40317</code>; both ports take gRPC and OTLP/HTTP, so any \
        <code>OTEL_EXPORTER_OTLP_PROTOCOL</code> works: <code>grpc</code> (the Python and .NET \
        default), <code>http/protobuf</code> or <code>http/json</code>.";
    let cases = [
        ("/ssr/traces", format!("No traces match. {hint} Or widen the search.")),
        ("/traces", format!("No traces match. {hint} Or widen the search.")),
        (
            "/ssr/services",
            format!("No services yet: nothing has sent telemetry to this server. {hint}"),
        ),
    ];
    for (uri, expected) in cases {
        let (status, html) = page(&state, uri).await;
        assert_eq!(status, StatusCode::OK, "{uri}");
        assert_eq!(empty_state(&html), expected, "{uri}");
        assert!(!html.contains(":4318"), "{uri} still names the default port: {html}");
    }
}

/// The inner text of the page's `<p class="empty-state">`, tags other than `<code>` dropped.
fn empty_state(html: &str) -> String {
    let start = html.find(r#"<p class="empty-state">"#).unwrap_or_else(|| panic!("{html}"));
    let inner = &html[start + r#"<p class="empty-state">"#.len()..];
    let inner = &inner[..inner.find("</p>").expect("closed paragraph")];
    let mut text = String::new();
    let mut rest = inner;
    while let Some(open) = rest.find('<') {
        text.push_str(&rest[..open]);
        let close = open + rest[open..].find('>').expect("closed tag");
        let tag = &rest[open..=close];
        if tag == "<code>" || tag == "</code>" {
            text.push_str(tag);
        }
        rest = &rest[close + 1..];
    }
    text.push_str(rest);
    text
}

#[tokio::test]
async fn an_unknown_trace_is_a_404_and_refused_filters_a_400_with_the_page_still_drawn() {
    let state = support::state();
    let trace_id = seed(&state).await;
    for path in [format!("/ssr/traces/{trace_id}"), format!("/traces/{trace_id}")] {
        assert_eq!(page(&state, &path).await.0, StatusCode::OK, "{path}");
    }
    let unknown = "0af7651916cd43dd8448eb211c80319c";
    for path in [
        format!("/ssr/traces/{unknown}"),
        format!("/traces/{unknown}"),
        format!("/ssr/traces/{unknown}/spans/0000000000000001"),
    ] {
        let (status, html) = page(&state, &path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert!(html.contains("<h1>Trace not found</h1>"), "{path}: {html}");
    }
    for (path, says) in [
        ("/ssr/traces?min_duration_ms=abc", "min_duration_ms"),
        ("/ssr/traces?limit=0", "limit must be a whole number from 1"),
        ("/traces?limit=-2", "limit must be a whole number from 1"),
        ("/ssr/cache?since=yesterday-ish", "since"),
    ] {
        let (status, html) = page(&state, path).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}");
        assert!(html.contains(says), "{path} says {says:?}: {html}");
    }
    assert_eq!(page(&state, "/ssr/traces?limit=5").await.0, StatusCode::OK);
}

#[tokio::test]
async fn a_page_without_scripts_leaves_out_the_controls_that_need_them() {
    let state = support::state();
    let trace_id = seed(&state).await;
    let (status, html) = page(&state, &format!("/ssr/traces/{trace_id}")).await;
    assert_eq!(status, StatusCode::OK);
    for control in ["wf-search", "Next match", "Expand all", "wf-matches"] {
        assert!(!html.contains(control), "{control} on a page without scripts: {html}");
    }
    assert!(html.contains("critical path"), "the legend stays");
}

/// Before: the map under the trace was asked only once the trace was drawn, so a 10,000-span
/// trace's page took three passes (two of 2,000 rows); now the map is asked with the trace.
#[tokio::test]
async fn a_trace_page_without_scripts_takes_two_render_passes() {
    let state = support::state();
    let trace_id = seed(&state).await;
    let asked = std::sync::Mutex::new(Vec::new());
    let rendered =
        otelscope_server::ssr::render_answered(&format!("/traces/{trace_id}"), false, |path| {
            asked.lock().unwrap().push(path.clone());
            let state = state.clone();
            async move {
                let (status, body) = page(&state, &path).await;
                assert_eq!(status, StatusCode::OK, "{path}: {body}");
                Ok(std::sync::Arc::from(body.as_str()))
            }
        })
        .await;
    let asked = asked.into_inner().unwrap();
    assert_eq!((rendered.passes, rendered.unanswered.len()), (2, 0), "asked {asked:?}");
    assert!(asked.contains(&format!("/api/v1/map?trace_id={trace_id}")), "{asked:?}");
    let html = &rendered.page.html;
    assert!(html.contains("Services this trace crossed"), "{html}");
    assert!(!html.contains("Loading the trace") && !html.contains("Could not load"), "{html}");
}
