//! Services in depth (issue 25) through `router(state).oneshot(..)`: the RED route, the map
//! (of a range and of one trace), "what changed" and the `/services` sparklines, from prepared
//! batches; a hostile service name comes back verbatim; bad parameters get a 4xx JSON error.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use otelscope_app::model::fixture::span;
use otelscope_app::model::{AttrValue, Span, SpanKind};
use otelscope_server::store::WriteBatch;
use otelscope_server::{router, AppState};
use serde_json::{json, Value};
use support::state_with_batches;
use tower::ServiceExt;

mod support;

const S: u64 = 1_000_000_000;
const MS: u64 = 1_000_000;
const HOSTILE: &str = "<img src=x onerror=alert(1)>";

async fn get(state: &AppState, uri: &str) -> (StatusCode, Value) {
    let request = Request::get(uri).body(Body::empty()).unwrap();
    let response = router(state.clone()).oneshot(request).await.unwrap();
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&body).unwrap())
}

/// Six `GET /checkout` requests of `web`, one a second; the first three fail and carry
/// `cache.hit=false`, the others `true`. The first calls the hostile service, in a second
/// batch.
fn state() -> AppState {
    let roots: Vec<Span> = (1..=6u32)
        .map(|t| {
            let start = u64::from(t) * S;
            let root = span(t, 1u32, "GET /checkout")
                .service("web")
                .kind(SpanKind::Server)
                .ns(start, start + 100 * MS)
                .attr("cache.hit", AttrValue::Bool(t > 3));
            if t <= 3 { root.error("500") } else { root }.build()
        })
        .collect();
    let mut first = roots;
    first.push(
        span(1u32, 2u32, "call")
            .parent(1u32)
            .service("web")
            .kind(SpanKind::Client)
            .ns(S + 10 * MS, S + 60 * MS)
            .build(),
    );
    let second = vec![span(1u32, 3u32, "serve")
        .parent(2u32)
        .service(HOSTILE)
        .kind(SpanKind::Server)
        .ns(S + 20 * MS, S + 50 * MS)
        .build()];
    state_with_batches(vec![
        WriteBatch { received_ns: 1, spans: first, ..WriteBatch::default() },
        WriteBatch { received_ns: 2, spans: second, ..WriteBatch::default() },
    ])
}

#[tokio::test]
async fn red_series_and_operations_with_impact() {
    let state = state();
    let (status, body) =
        get(&state, "/api/v1/services/web/red?since=0&until=60000000000&step=30s").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["kinds"], json!(["server"]));
    assert_eq!((body["since_ns"].as_u64(), body["until_ns"].as_u64()), (Some(0), Some(60 * S)));
    assert_eq!(body["totals"]["requests"], 6);
    assert_eq!(body["totals"]["errors"], 3);
    assert_eq!(body["totals"]["error_pct"], 50.0);
    assert_eq!(body["series"]["requests"], json!([6, 0]));
    assert_eq!(body["series"]["errors"], json!([3, 0]));
    let ops: Vec<(&str, &str, u64)> = body["operations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["name"].as_str().unwrap(),
                o["kind"].as_str().unwrap(),
                o["requests"].as_u64().unwrap(),
            )
        })
        .collect();
    // Impact: 0.1 s × 6/min = 0.6 against 0.05 s × 1/min.
    assert_eq!(ops, [("GET /checkout", "server", 6), ("call", "client", 1)]);
    assert!((body["operations"][0]["impact"].as_f64().unwrap() - 0.6).abs() < 1e-9, "{body}");
    assert_eq!(body["operations"][0]["impact_share"], 1.0);
    // The hostile service's page, its name in the path.
    let path = format!("/api/v1/services/{}/red?since=0&until=60000000000", urlencode(HOSTILE));
    let (status, body) = get(&state, &path).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        (body["service"].as_str(), body["totals"]["requests"].as_u64()),
        (Some(HOSTILE), Some(1))
    );
    for (uri, error) in [
        ("/api/v1/services/web/red?kind=sideways", "kind must be all, server, client, producer, consumer, internal or unspecified, not \"sideways\""),
        ("/api/v1/services/web/red?since=10&until=5", "since must not be after until"),
        ("/api/v1/services/web/red?step=often", "step must be a duration like 1m, not \"often\""),
        ("/api/v1/services/web/red?colour=red", "unknown parameter \"colour\""),
    ] {
        let (status, body) = get(&state, uri).await;
        assert_eq!((status, &body), (StatusCode::BAD_REQUEST, &json!({ "error": error })), "{uri}");
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(
            |b| {
                if b.is_ascii_alphanumeric() {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            },
        )
        .collect()
}

#[tokio::test]
async fn the_map_of_a_range_and_of_a_trace() {
    let state = state();
    let (status, body) = get(&state, "/api/v1/map?since=0&until=60000000000").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let hostile = format!("service:{HOSTILE}");
    let edges: Vec<(&str, &str, u64, u64)> = body["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["source"].as_str().unwrap(),
                e["target"].as_str().unwrap(),
                e["calls"].as_u64().unwrap(),
                e["errors"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(edges, [("service:web", hostile.as_str(), 1, 0), ("user", "service:web", 6, 3)]);
    assert_eq!(body["edges"][0]["kind"], "request");
    let p50 = body["edges"][0]["p50_ms"].as_f64().unwrap();
    assert!((p50 - 50.0).abs() <= 50.0 / 100.0, "within 1%: {p50}");
    let names: Vec<&str> =
        body["nodes"].as_array().unwrap().iter().map(|n| n["name"].as_str().unwrap()).collect();
    assert_eq!(names, [HOSTILE, "web", "user"]);
    assert_eq!(body["pending"], 0);
    // One trace's own map.
    let trace = format!("{:032x}", 1);
    let (status, body) = get(&state, &format!("/api/v1/map?trace_id={trace}")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["trace_id"], trace.as_str());
    assert_eq!(body["edges"].as_array().unwrap().len(), 2);
    let (status, body) = get(&state, &format!("/api/v1/map?trace_id={:032x}", 99)).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert!(body["error"].is_string());
    let (status, body) = get(&state, "/api/v1/map?trace_id=xyz").await;
    assert_eq!(
        (status, body),
        (StatusCode::BAD_REQUEST, json!({"error": "trace_id must be 32 hex digits, not \"xyz\""}))
    );
}

#[tokio::test]
async fn what_changed_in_words() {
    let state = state();
    let uri = "/api/v1/services/web/compare?operation=GET%20%2Fcheckout&since=0&until=60000000000&selection=errors";
    let (status, body) = get(&state, uri).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        (body["selection_spans"].as_u64(), body["baseline_spans"].as_u64()),
        (Some(3), Some(3))
    );
    assert_eq!(body["attributes"][0]["key"], "cache.hit");
    assert_eq!(body["attributes"][0]["value"], "false");
    assert_eq!(body["attributes"][0]["selection_share"], 1.0);
    assert_eq!(body["attributes"][0]["baseline_share"], 0.0);
    assert_eq!(
        body["sentences"][0],
        "`cache.hit=false` is on 100% of failing `GET /checkout` spans against 0% of the rest."
    );
    let (status, body) = get(&state, "/api/v1/services/web/compare?selection=fast").await;
    assert_eq!(
        (status, body),
        (
            StatusCode::BAD_REQUEST,
            json!({"error": "selection must be errors, slow or window, not \"fast\""})
        )
    );
}

#[tokio::test]
async fn services_add_sparklines_when_a_range_is_asked() {
    let state = state();
    let (status, body) = get(&state, "/api/v1/services").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.get("sparklines").is_none(), "{body}");
    let (status, body) = get(&state, "/api/v1/services?since=0&until=60000000000&step=30s").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let lines: Vec<(&str, Value)> = body["sparklines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["service"].as_str().unwrap(), l["series"]["requests"].clone()))
        .collect();
    assert_eq!(lines, [(HOSTILE, json!([1, 0])), ("web", json!([6, 0]))]);
}
