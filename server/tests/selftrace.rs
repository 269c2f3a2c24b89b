//! otelscope's own spans (`--self-telemetry`): a request that carries a W3C `traceparent`
//! continues that trace with a server span of service `otelscope`, its store queries and SSR
//! render are children of it, storing spans makes none, and with self-telemetry off there are
//! none at all. Spans go through the real pipeline into a real (in-memory) SQLite store.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use otelscope_app::model::{Span, SpanKind};
use otelscope_server::ingest::IngestSettings;
use otelscope_server::store::{whole_trace, Retention, SqliteStore};
use otelscope_server::{router, AppState, IngestLimits};
use tower::ServiceExt;

const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER: &str = "00f067aa0ba902b7";

fn state(self_telemetry: bool) -> AppState {
    let store = SqliteStore::in_memory().unwrap();
    let settings = IngestSettings::new(Retention::UNBOUNDED);
    let state = AppState::new(Arc::new(store), settings, IngestLimits::default());
    if self_telemetry {
        state.with_self_telemetry()
    } else {
        state
    }
}

/// GETs `uri` with the caller's `traceparent` (in-process: no peer address), reads the whole
/// body, and exports the spans.
async fn get_traced(state: &AppState, uri: &str) -> StatusCode {
    get_traced_by(state, uri, None).await
}

/// GETs `uri` with the caller's `traceparent` from `peer` (as `serve` records it).
async fn get_traced_by(state: &AppState, uri: &str, peer: Option<&str>) -> StatusCode {
    let mut request = Request::get(uri)
        .header("traceparent", format!("00-{TRACE}-{CALLER}-01"))
        .body(Body::empty())
        .unwrap();
    if let Some(peer) = peer {
        let peer: std::net::SocketAddr = peer.parse().unwrap();
        request.extensions_mut().insert(axum::extract::ConnectInfo(peer));
    }
    let response = router(state.clone()).oneshot(request).await.unwrap();
    let status = response.status();
    response.into_body().collect().await.unwrap();
    if let Some(this) = &state.self_telemetry {
        let this = this.clone();
        tokio::task::spawn_blocking(move || this.flush()).await.unwrap();
    }
    status
}

fn spans_of(state: &AppState) -> Vec<Span> {
    whole_trace(&*state.store, TRACE).unwrap()
}

fn one<'a>(spans: &'a [Span], name: &str) -> &'a Span {
    let found: Vec<&Span> = spans.iter().filter(|s| s.name == name).collect();
    assert_eq!(
        found.len(),
        1,
        "one {name:?} in {:#?}",
        spans.iter().map(|s| &s.name).collect::<Vec<_>>()
    );
    found[0]
}

#[tokio::test(flavor = "multi_thread")]
async fn an_api_call_continues_the_callers_trace_with_its_store_query_below() {
    let state = state(true);
    assert_eq!(get_traced(&state, "/api/v1/traces?service=shop").await, StatusCode::OK);
    let spans = spans_of(&state);
    let server = one(&spans, "GET /api/v1/traces");
    assert_eq!(server.service, "otelscope");
    assert_eq!(server.kind, SpanKind::Server);
    assert_eq!(server.parent_span_id.as_deref(), Some(CALLER), "a child of the caller's span");
    let attr = |span: &Span, key: &str| {
        span.attributes.iter().find(|kv| kv.key == key).map(|kv| format!("{:?}", kv.value))
    };
    assert!(attr(server, "http.route").unwrap().contains("/api/v1/traces"));
    assert!(attr(server, "http.response.status_code").unwrap().contains("200"));
    let query = one(&spans, "store.search_traces");
    assert_eq!(query.parent_span_id.as_deref(), Some(server.span_id.as_str()));
    assert!(server.start_ns <= query.start_ns && query.end_ns <= server.end_ns);
    assert_eq!(spans.len(), 2, "nothing else: storing these spans made none");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_route_with_parameters_is_named_by_its_template_and_a_404_is_not_an_error() {
    let state = state(true);
    let unknown = "/api/v1/traces/0af7651916cd43dd8448eb211c80319c";
    assert_eq!(get_traced(&state, unknown).await, StatusCode::NOT_FOUND);
    let spans = spans_of(&state);
    let server = one(&spans, "GET /api/v1/traces/{trace_id}");
    assert_ne!(server.status.code, otelscope_app::model::StatusCode::Error, "a 404 is an answer");
    one(&spans, "store.trace_version");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_ssr_page_holds_its_render_span() {
    let state = state(true);
    assert_eq!(get_traced(&state, "/ssr/services").await, StatusCode::OK);
    let spans = spans_of(&state);
    let page = one(&spans, "GET /ssr/services");
    let render = one(&spans, "render /services");
    assert_eq!(page.parent_span_id.as_deref(), Some(CALLER));
    assert_eq!(page.service, "otelscope");
    assert_eq!(render.service, "otelscope-ui", "the render is the UI's span");
    assert!(
        render
            .resource
            .iter()
            .any(|kv| kv.key == "otelscope.platform" && format!("{:?}", kv.value).contains("ssr")),
        "{:?}",
        render.resource
    );
    assert_eq!(render.parent_span_id.as_deref(), Some(page.span_id.as_str()));
    // The API answers the render read in-process (the page's, with its sparklines, and the
    // status line's), each with its store query, below the render.
    let apis: Vec<&Span> = spans.iter().filter(|s| s.name == "GET /api/v1/services").collect();
    assert_eq!(apis.len(), 2, "{:?}", spans.iter().map(|s| &s.name).collect::<Vec<_>>());
    for api in &apis {
        assert_eq!(api.parent_span_id.as_deref(), Some(render.span_id.as_str()));
        let query = spans
            .iter()
            .filter(|s| s.name == "store.services")
            .filter(|s| s.parent_span_id.as_deref() == Some(api.span_id.as_str()))
            .count();
        assert_eq!(query, 1, "one store query under each API answer");
    }
    // And the status line's health answer; the head's data-less dry render reads nothing.
    let health = one(&spans, "GET /api/v1/health");
    assert_eq!(health.parent_span_id.as_deref(), Some(render.span_id.as_str()));
    assert_eq!(spans.len(), 7, "{:?}", spans.iter().map(|s| &s.name).collect::<Vec<_>>());
}

#[tokio::test(flavor = "multi_thread")]
async fn self_telemetry_off_makes_no_spans() {
    let state = state(false);
    assert_eq!(get_traced(&state, "/api/v1/traces?service=shop").await, StatusCode::OK);
    assert_eq!(spans_of(&state), Vec::<Span>::new());
}

/// GETs `uri` (untraced: no self-telemetry on this state) and parses the JSON.
async fn get_json(state: &AppState, uri: &str) -> serde_json::Value {
    let response = router(state.clone())
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{uri}");
    serde_json::from_slice(&response.into_body().collect().await.unwrap().to_bytes()).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn lists_and_searches_leave_out_otelscopes_own_services_unless_asked() {
    let state = state(true);
    get_traced(&state, "/api/v1/services").await;
    // Read through a state without self-telemetry over the same store, so reading adds nothing.
    let reader = AppState { self_telemetry: None, ..state.clone() };
    let names = |v: &serde_json::Value, list: &str, field: &str| -> Vec<String> {
        v[list].as_array().unwrap().iter().map(|s| s[field].as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(
        names(&get_json(&reader, "/api/v1/services").await, "services", "name"),
        Vec::<String>::new()
    );
    assert_eq!(
        names(&get_json(&reader, "/api/v1/services?include_self=1").await, "services", "name"),
        ["otelscope"]
    );
    assert_eq!(
        names(&get_json(&reader, "/api/v1/traces").await, "traces", "trace_id"),
        Vec::<String>::new()
    );
    for shown in ["/api/v1/traces?include_self=1", "/api/v1/traces?service=otelscope"] {
        assert_eq!(
            names(&get_json(&reader, shown).await, "traces", "trace_id"),
            [TRACE],
            "{shown}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn operation_stats_give_counts_percentiles_and_the_slowest_trace_per_route() {
    let state = state(true);
    for _ in 0..3 {
        get_traced(&state, "/api/v1/traces?service=shop").await;
    }
    get_traced(&state, "/api/v1/services").await;
    let reader = AppState { self_telemetry: None, ..state.clone() };
    let stats = get_json(&reader, "/api/v1/operations/stats?service=otelscope").await;
    assert_eq!(stats["service"], "otelscope");
    assert_eq!(stats["truncated"], false);
    let ops = stats["operations"].as_array().unwrap();
    let op = |name: &str| {
        ops.iter().find(|o| o["name"] == name).unwrap_or_else(|| panic!("{name} in {ops:?}"))
    };
    let search = op("GET /api/v1/traces");
    assert_eq!(search["span_count"], 3, "three calls of the route");
    assert_eq!(search["error_count"], 0);
    let (p50, p95, max) = (
        search["p50_ns"].as_u64().unwrap(),
        search["p95_ns"].as_u64().unwrap(),
        search["max_ns"].as_u64().unwrap(),
    );
    assert!(0 < p50 && p50 <= p95 && p95 <= max, "{search}");
    assert_eq!(search["slowest_trace_id"], TRACE);
    assert_eq!(op("store.search_traces")["span_count"], 3);
    assert_eq!(op("GET /api/v1/services")["span_count"], 1);
    assert_eq!(ops.len(), 4, "{ops:?}");
    // Sorted slowest first by p95.
    let p95s: Vec<u64> = ops.iter().map(|o| o["p95_ns"].as_u64().unwrap()).collect();
    assert!(p95s.windows(2).all(|w| w[0] >= w[1]), "{p95s:?}");
    // A service is required; unknown parameters are refused.
    for bad in ["/api/v1/operations/stats", "/api/v1/operations/stats?service=a&since=1h"] {
        let response = router(reader.clone())
            .oneshot(Request::get(bad).body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{bad}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_favicon_asked_on_every_page_makes_no_spans() {
    let state = state(true);
    assert_eq!(get_traced(&state, "/favicon.ico").await, StatusCode::NO_CONTENT);
    assert_eq!(spans_of(&state), Vec::<Span>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_strangers_traceparent_is_linked_not_continued() {
    let state = state(true);
    // A loopback peer (the user's own process) is continued; that is the tests above.
    let stranger = Some("192.0.2.7:50000");
    assert_eq!(get_traced_by(&state, "/api/v1/services", stranger).await, StatusCode::OK);
    assert!(spans_of(&state).is_empty(), "no otelscope span joined the caller's trace");
    let services = |span: &Span| span.name == "GET /api/v1/services";
    let query = otelscope_server::store::TraceQuery {
        limit: 100,
        include_self: true,
        ..Default::default()
    };
    let all = state.store.search_traces(&query).unwrap();
    let mut found = Vec::new();
    for summary in all.iter() {
        found.extend(
            whole_trace(&*state.store, &summary.trace_id).unwrap().into_iter().filter(services),
        );
    }
    assert_eq!(found.len(), 1, "{found:#?}");
    let span = &found[0];
    assert_ne!(span.trace_id, TRACE);
    assert_eq!(span.parent_span_id, None, "a new trace: {span:#?}");
    assert_eq!(span.links.len(), 1, "{span:#?}");
    assert_eq!((span.links[0].trace_id.as_str(), span.links[0].span_id.as_str()), (TRACE, CALLER));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_loopback_callers_traceparent_is_continued() {
    let state = state(true);
    let status = get_traced_by(&state, "/api/v1/services", Some("127.0.0.1:50000")).await;
    assert_eq!(status, StatusCode::OK);
    let spans = spans_of(&state);
    let server = one(&spans, "GET /api/v1/services");
    assert_eq!(server.parent_span_id.as_deref(), Some(CALLER));
}
