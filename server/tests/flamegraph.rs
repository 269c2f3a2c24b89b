//! `GET /api/v1/flamegraph` through `router(state).oneshot(..)`: one trace and one operation
//! (match any and root) as folded text, JSON and SVG with exact values, before and after the
//! rollup folded the traces; diffs against a trace and against a range; hostile span names as
//! text; 400s and 404s with a clear `{"error"}`.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use http_body_util::BodyExt;
use otelscope_app::model::fixture::span;
use otelscope_app::model::Span;
use otelscope_server::store::WriteBatch;
use otelscope_server::{router, AppState};
use serde_json::{json, Value};
use support::state_with_batches;
use tower::ServiceExt;

mod support;

const MS: u64 = 1_000_000;
const S: u64 = 1_000_000_000;

struct Answer {
    status: StatusCode,
    content_type: String,
    disposition: String,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

async fn get(state: &AppState, uri: &str, accept: Option<&str>) -> Answer {
    let mut request = Request::get(uri);
    if let Some(accept) = accept {
        request = request.header(header::ACCEPT, accept);
    }
    let response =
        router(state.clone()).oneshot(request.body(Body::empty()).unwrap()).await.unwrap();
    let header = |name| {
        response.headers().get(name).map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default()
    };
    let (status, content_type, disposition) =
        (response.status(), header(header::CONTENT_TYPE), header(header::CONTENT_DISPOSITION));
    let body = response.into_body().collect().await.unwrap().to_bytes();
    Answer { status, content_type, disposition, body: String::from_utf8(body.to_vec()).unwrap() }
}

fn trace_id(trace: u32) -> String {
    format!("{trace:032x}")
}

/// `web GET /a` → `load` → `db SELECT` (50 ms), and `render` (`render_ms`); the root's own
/// time is 10 ms.
fn shop(trace: u32, at_s: u64, render_ms: u64) -> (Vec<Span>, Span) {
    let children = vec![
        span(trace, 3, "SELECT")
            .parent(2)
            .service("db")
            .ns(at_s * S + 10 * MS, at_s * S + 60 * MS)
            .build(),
        span(trace, 4, "render")
            .parent(1)
            .service("web")
            .ns(at_s * S + 70 * MS, at_s * S + (70 + render_ms) * MS)
            .build(),
        span(trace, 2, "load").parent(1).service("web").ns(at_s * S, at_s * S + 60 * MS).build(),
    ];
    (
        children,
        span(trace, 1, "GET /a")
            .service("web")
            .ns(at_s * S, at_s * S + (70 + render_ms) * MS)
            .build(),
    )
}

const HOSTILE: &str = "<script>alert(1)</script>";

/// Traces 1 and 2 at 1,000 s and 1,005 s (render 30 and 60 ms), each sent children first and
/// its root in a later request; trace 3 (render 30 ms) at 500 s, whole; trace 4 with hostile
/// names at 2,000 s.
fn state() -> AppState {
    let (c1, r1) = shop(1, 1_000, 30);
    let (c2, r2) = shop(2, 1_005, 60);
    let (c3, r3) = shop(3, 500, 30);
    let batch = |received_ns, spans| WriteBatch { received_ns, spans, ..WriteBatch::default() };
    state_with_batches(vec![
        batch(1, [c1, c2].concat()),
        batch(2, vec![r1, r2]),
        batch(3, [c3, vec![r3]].concat()),
        batch(
            4,
            vec![
                span(4, 1, HOSTILE).service("web;evil").ns(2_000 * S, 2_000 * S + 10 * MS).build(),
                span(4, 2, "a;b\nc")
                    .parent(1)
                    .service("web;evil")
                    .ns(2_000 * S, 2_000 * S + 4 * MS)
                    .build(),
            ],
        ),
    ])
}

const OP: &str = "/api/v1/flamegraph?service=web&since=1000000000000&until=1099000000000";

#[tokio::test]
async fn one_trace_as_folded_text_json_and_svg() {
    let state = state();
    let uri = format!("/api/v1/flamegraph?trace_id={}", trace_id(1).to_uppercase());
    let text = get(&state, &uri, None).await;
    assert_eq!(text.status, StatusCode::OK);
    assert_eq!(text.content_type, "text/plain; charset=utf-8");
    assert_eq!(
        text.body,
        "web GET /a 10000\nweb GET /a;load 10000\nweb GET /a;load;db SELECT 50000\nweb GET /a;render 30000\n"
    );
    let expected = json!({
        "kind": "trace", "title": format!("trace {}", trace_id(1)), "unit": "µs", "traces": 1,
        "truncated": false,
        "root": {"name": "all", "self": 0.0, "total": 100000.0, "traces": 1, "children": [
            {"name": "web GET /a", "self": 10000.0, "total": 100000.0, "traces": 1, "children": [
                {"name": "load", "self": 10000.0, "total": 60000.0, "traces": 1, "children": [
                    {"name": "db SELECT", "self": 50000.0, "total": 50000.0, "traces": 1, "children": []}
                ]},
                {"name": "render", "self": 30000.0, "total": 30000.0, "traces": 1, "children": []}
            ]}
        ]}
    });
    let json = get(&state, &uri, Some("application/json")).await;
    assert_eq!(json.content_type, "application/json");
    assert_eq!(json.json(), expected);
    assert_eq!(get(&state, &format!("{uri}&format=json"), None).await.json(), expected);
    let svg = get(&state, &format!("{uri}&format=svg"), Some("application/json")).await;
    assert_eq!(svg.status, StatusCode::OK);
    assert_eq!(svg.content_type, "image/svg+xml");
    assert!(
        svg.disposition.starts_with("attachment; filename=\"flamegraph_trace_"),
        "{}",
        svg.disposition
    );
    assert!(svg.body.contains("db SELECT"), "{}", svg.body);
}

#[tokio::test]
async fn hostile_span_names_stay_text_in_folded_json_and_svg() {
    let state = state();
    let uri = format!("/api/v1/flamegraph?trace_id={}", trace_id(4));
    let text = get(&state, &uri, None).await;
    assert_eq!(text.body, format!("web:evil {HOSTILE} 6000\nweb:evil {HOSTILE};a:b c 4000\n"));
    let json = get(&state, &format!("{uri}&format=json"), None).await.json();
    assert_eq!(json["root"]["children"][0]["name"], format!("web:evil {HOSTILE}"));
    let svg = get(&state, &format!("{uri}&format=svg"), None).await;
    assert_eq!(svg.content_type, "image/svg+xml");
    assert!(svg.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{}", svg.body);
    assert!(!svg.body.contains("<script>alert"));
    // inferno's own script element is empty (`no_javascript`); ours never becomes markup.
    assert_eq!(svg.body.matches("<script").count(), 1, "{}", svg.body);
}

#[tokio::test]
async fn an_operation_over_a_range_matched_as_root_or_anywhere_before_and_after_folding() {
    let state = state();
    let root = json!({
        "kind": "operation", "title": "GET /a (web)", "unit": "µs", "traces": 2,
        "matched_by": "root", "truncated": false,
        "root": {"name": "all", "self": 0.0, "total": 230000.0, "traces": 2, "children": [
            {"name": "web GET /a", "self": 20000.0, "total": 230000.0, "traces": 2, "children": [
                {"name": "load", "self": 20000.0, "total": 120000.0, "traces": 2, "children": [
                    {"name": "db SELECT", "self": 100000.0, "total": 100000.0, "traces": 2, "children": []}
                ]},
                {"name": "render", "self": 90000.0, "total": 90000.0, "traces": 2, "children": []}
            ]}
        ]}
    });
    let any = json!({
        "kind": "operation", "title": "load (web)", "unit": "µs", "traces": 2,
        "matched_by": "any", "truncated": false,
        "root": {"name": "all", "self": 0.0, "total": 120000.0, "traces": 2, "children": [
            {"name": "web load", "self": 20000.0, "total": 120000.0, "traces": 2, "children": [
                {"name": "db SELECT", "self": 100000.0, "total": 100000.0, "traces": 2, "children": []}
            ]}
        ]}
    });
    let root_uri = format!("{OP}&name=GET%20/a&match=root&format=json");
    let any_uri = format!("{OP}&name=load");
    let check = |root_answer: Value, any_answer: Value| {
        assert_eq!(root_answer, root);
        assert_eq!(any_answer, any);
    };
    // Before the fold pass: the query folds the recent traces itself.
    check(
        get(&state, &root_uri, None).await.json(),
        get(&state, &any_uri, Some("application/json")).await.json(),
    );
    // No name: the service's root spans (match=root), the same two traces here.
    let roots = get(&state, &format!("{OP}&format=json"), None).await.json();
    assert_eq!((roots["matched_by"].clone(), roots["traces"].clone()), (json!("root"), json!(2)));
    assert_eq!(
        get(&state, &format!("{OP}&service=db&name=SELECT"), None).await.status,
        StatusCode::BAD_REQUEST,
        "a parameter given twice is refused"
    );
    let db = get(
        &state,
        "/api/v1/flamegraph?service=db&name=SELECT&since=1000000000000&until=1099000000000",
        None,
    )
    .await;
    assert_eq!(db.body, "db SELECT 100000\n");

    // After: from the rollup, the same answers.
    assert_eq!(state.store.fold_flames(u64::MAX).unwrap(), 4);
    check(
        get(&state, &root_uri, None).await.json(),
        get(&state, &any_uri, Some("application/json")).await.json(),
    );
    // A range without the traces.
    let empty = get(
        &state,
        "/api/v1/flamegraph?service=web&name=load&since=1100000000000&until=1200000000000&format=json",
        None,
    )
    .await;
    assert_eq!(empty.status, StatusCode::OK);
    assert_eq!(empty.json()["traces"], 0);
    assert_eq!(empty.json()["root"]["children"], json!([]));
}

#[tokio::test]
async fn diffs_against_a_range_and_against_a_trace() {
    let state = state();
    // Selection: traces 1 and 2 (render 30 and 60 ms); base: trace 3 (render 30 ms) at 500 s.
    let uri = format!("{OP}&name=GET%20/a&base_since=0&base_until=999000000000");
    let text = get(&state, &uri, None).await;
    assert_eq!(text.status, StatusCode::OK, "{}", text.body);
    assert_eq!(
        text.body,
        "web GET /a 10000 10000\nweb GET /a;load 10000 10000\nweb GET /a;load;db SELECT 50000 50000\nweb GET /a;render 30000 45000\n"
    );
    let json = get(&state, &format!("{uri}&format=json"), None).await.json();
    assert_eq!(json["base"], json!({"title": "GET /a (web)", "traces": 1}));
    assert_eq!(json["traces"], 2);
    assert_eq!(json["matched_by"], "any");
    let top = &json["root"]["children"][0];
    assert_eq!(
        (
            top["name"].clone(),
            top["self"].clone(),
            top["total"].clone(),
            top["base_self"].clone(),
            top["base_total"].clone()
        ),
        (json!("web GET /a"), json!(10000.0), json!(115000.0), json!(10000.0), json!(100000.0))
    );
    let render = &top["children"][1];
    assert_eq!(
        (
            render["name"].clone(),
            render["self"].clone(),
            render["base_self"].clone(),
            render["traces"].clone()
        ),
        (json!("render"), json!(45000.0), json!(30000.0), json!(2))
    );
    let svg = get(&state, &format!("{uri}&format=svg"), None).await;
    assert_eq!((svg.status, svg.content_type.as_str()), (StatusCode::OK, "image/svg+xml"));

    // One trace against another.
    let uri = format!("/api/v1/flamegraph?trace_id={}&base_trace_id={}", trace_id(2), trace_id(1));
    assert_eq!(
        get(&state, &uri, None).await.body,
        "web GET /a 10000 10000\nweb GET /a;load 10000 10000\nweb GET /a;load;db SELECT 50000 50000\nweb GET /a;render 30000 60000\n"
    );
    let json = get(&state, &format!("{uri}&format=json"), None).await.json();
    assert_eq!(json["base"], json!({"title": format!("trace {}", trace_id(1)), "traces": 1}));
    assert_eq!(json["kind"], "trace");
}

#[tokio::test]
async fn bad_parameters_are_400_and_unknown_traces_404() {
    let state = state();
    let unknown = "0123456789abcdef0123456789abcdef";
    for (uri, status, message) in [
        ("/api/v1/flamegraph", 400, "say what to fold"),
        ("/api/v1/flamegraph?trace_id=xyz", 400, "trace_id must be 32 hex digits"),
        (&format!("/api/v1/flamegraph?trace_id={unknown}") as &str, 404, "not found"),
        (
            &format!("/api/v1/flamegraph?trace_id={}&service=web", trace_id(1)),
            400,
            "either trace_id or service",
        ),
        ("/api/v1/flamegraph?service=web&match=sometimes", 400, "match must be any or root"),
        (
            "/api/v1/flamegraph?service=web&since=2000&until=1000",
            400,
            "since must not be after until",
        ),
        ("/api/v1/flamegraph?name=load", 400, "name needs service"),
        (&format!("/api/v1/flamegraph?trace_id={}&format=png", trace_id(1)), 400, "format must be"),
        (&format!("/api/v1/flamegraph?service=web&base_trace_id={unknown}"), 404, "not found"),
        (
            &format!("/api/v1/flamegraph?trace_id={}&base_since=1h", trace_id(1)),
            400,
            "base_since compares",
        ),
        // Nothing to draw as SVG.
        ("/api/v1/flamegraph?service=nobody&format=svg", 400, "nothing to draw"),
    ] {
        let answer = get(&state, uri, Some("application/json")).await;
        assert_eq!(answer.status.as_u16(), status, "{uri}: {}", answer.body);
        let error = answer.json()["error"].as_str().unwrap_or_default().to_owned();
        assert!(error.contains(message), "{uri}: {error}");
    }
}
