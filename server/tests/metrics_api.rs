//! `GET /api/v1/metrics` and `GET /api/v1/metrics/{name}/series` through the router on a
//! fixture of stored points: the catalogue, rates across a counter reset, group-by with
//! "others", histogram percentiles with exemplars, bad parameters refused; and over OTLP/HTTP
//! JSON, a metric that changes its type refused in `partial_success`.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use otelscope_app::model::{
    AttrValue, Exemplar, HistogramValue, MetricKind, MetricPoint, Temporality,
};
use otelscope_server::store::WriteBatch;
use otelscope_server::{otlp_http_router, AppState};
use serde_json::{json, Value};
use support::{get_json, kv, state, state_with_batches};
use tower::ServiceExt;

mod support;

const S: u64 = 1_000_000_000;

fn counter(route: &str, start_s: u64, at_s: u64, value: f64) -> MetricPoint {
    MetricPoint {
        name: "http.requests".into(),
        unit: "{request}".into(),
        kind: MetricKind::Sum,
        temporality: Temporality::Cumulative,
        monotonic: true,
        service: "web".into(),
        attributes: vec![kv("http.route", AttrValue::String(route.into()))],
        start_ns: start_s * S,
        time_ns: at_s * S,
        value: Some(value),
        ..MetricPoint::default()
    }
}

fn duration(at_s: u64, counts: &[u64], exemplar: Option<&str>) -> MetricPoint {
    MetricPoint {
        name: "http.server.request.duration".into(),
        unit: "s".into(),
        kind: MetricKind::Histogram,
        temporality: Temporality::Delta,
        service: "web".into(),
        start_ns: (at_s - 10) * S,
        time_ns: at_s * S,
        histogram: Some(HistogramValue {
            count: counts.iter().sum(),
            sum: Some(1.0),
            bounds: vec![0.1, 0.2, 0.5],
            bucket_counts: counts.to_vec(),
            ..HistogramValue::default()
        }),
        exemplars: exemplar
            .map(|trace| Exemplar {
                time_ns: at_s * S - 1,
                value: 0.15,
                trace_id: Some(trace.into()),
                span_id: Some("00000000000000aa".into()),
                attributes: vec![],
            })
            .into_iter()
            .collect(),
        ..MetricPoint::default()
    }
}

fn fixture() -> AppState {
    // Route /a: +10 every 10 s, restarted between 30 and 40 s; /b: +1 every 10 s.
    let a = [(0, 10, 10.0), (0, 20, 20.0), (0, 30, 30.0), (35, 40, 5.0), (35, 50, 15.0)];
    let mut metrics: Vec<MetricPoint> =
        a.iter().map(|(start, at, v)| counter("/a", *start, *at, *v)).collect();
    metrics.extend((1..=5).map(|i| counter("/b", 0, i * 10, i as f64)));
    metrics.push(duration(20, &[10, 30, 10, 0], Some(&"ab".repeat(16))));
    state_with_batches(vec![WriteBatch { received_ns: 1, metrics, ..WriteBatch::default() }])
}

async fn get(state: &AppState, uri: &str) -> (StatusCode, Value) {
    let request = Request::get(uri).body(Body::empty()).unwrap();
    let response = otelscope_server::router(state.clone()).oneshot(request).await.unwrap();
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&body).unwrap())
}

#[tokio::test]
async fn the_catalogue_lists_name_type_unit_series_and_services() {
    let state = fixture();
    let catalog = get_json(&state, "/api/v1/metrics").await;
    assert_eq!(
        catalog,
        json!({"metrics": [
            {"name": "http.requests", "kind": "sum", "unit": "{request}", "temporality": "cumulative",
             "monotonic": true, "series": 2, "points": 10, "services": ["web"], "last_seen_ns": 50 * S},
            {"name": "http.server.request.duration", "kind": "histogram", "unit": "s",
             "temporality": "delta", "monotonic": false, "series": 1, "points": 1,
             "services": ["web"], "last_seen_ns": 20 * S},
        ]})
    );
    let searched = get_json(&state, "/api/v1/metrics?q=DURATION").await;
    assert_eq!(searched["metrics"].as_array().unwrap().len(), 1);
    // The raw series, as before.
    let raw =
        get_json(&state, "/api/v1/metrics?name=http.requests&since=0&until=60000000000").await;
    assert_eq!(raw["series"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn a_counter_charts_as_a_rate_across_its_reset_grouped_with_others() {
    let state = fixture();
    let base = "/api/v1/metrics/http.requests/series?since=0&until=60000000000&step=20s";
    let (status, body) = get(&state, base).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!((body["agg"].clone(), body["step_ns"].clone()), (json!("rate"), json!(20 * S)));
    // Steps [0,20) [20,40) [40,60): the first points (10 s) are no rate; /a +10 at 20 and 30
    // (1/s), restarted at 40 (no rate, no negative spike), +10 at 50; /b 0.1/s.
    assert_eq!(body["groups"], json!([{"labels": [], "values": [null, 1.1, 1.1]}]));
    let (_, grouped) = get(&state, &format!("{base}&group_by=http.route&limit=1")).await;
    assert_eq!(
        grouped["groups"],
        json!([
            {"labels": [{"key": "http.route", "value": {"string": "/a"}}], "values": [null, 1.0, 1.0]},
            {"labels": [], "others": true, "values": [null, 0.1, 0.1]},
        ])
    );
    let (_, only_b) = get(&state, &format!("{base}&attr=http.route%3D%2Fb")).await;
    assert_eq!(only_b["groups"][0]["values"], json!([null, 0.1, 0.1]));
}

#[tokio::test]
async fn a_histogram_gives_percentiles_a_heatmap_and_exemplars_with_trace_ids() {
    let state = fixture();
    let uri =
        "/api/v1/metrics/http.server.request.duration/series?since=0&until=60000000000&step=60s";
    let (status, p50) = get(&state, &format!("{uri}&agg=p50")).await;
    assert_eq!(status, StatusCode::OK, "{p50}");
    // 50 observations; rank 25 is 15 of the 30 in (0.1, 0.2] → 0.15.
    let v = p50["groups"][0]["values"][0].as_f64().unwrap();
    assert!((v - 0.15).abs() < 1e-12, "{v}");
    assert_eq!(p50["heatmap"]["bounds"], json!([0.1, 0.2, 0.5, null]));
    assert_eq!(p50["heatmap"]["counts"], json!([[10, 30, 10, 0]]));
    assert_eq!(p50["exemplars"][0]["trace_id"], json!("ab".repeat(16)));
    let (_, count) = get(&state, &format!("{uri}&agg=count")).await;
    assert_eq!(count["groups"][0]["values"], json!([5.0]));
}

#[tokio::test]
async fn bad_parameters_and_unknown_metrics_are_clear_errors() {
    let state = fixture();
    let (status, body) = get(&state, "/api/v1/metrics/http.requests/series?agg=p99").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({"error": "agg p99 does not apply to sum \"http.requests\"; use one of rate, value"})
    );
    let (status, body) = get(&state, "/api/v1/metrics/http.requests/series?agg=median").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, _) = get(&state, "/api/v1/metrics/http.requests/series?attr=nokey").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, body) = get(&state, "/api/v1/metrics/nothing/series").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body, json!({"error": "no metric named \"nothing\" is stored"}));
}

#[tokio::test]
async fn a_metric_that_changes_its_type_is_refused_in_partial_success() {
    let state = state();
    let export = |data: Value| {
        json!({"resourceMetrics": [{
            "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "api"}}]},
            "scopeMetrics": [{"metrics": [{"name": "queue.size", "unit": "1", "data": null}]}]
        }]})
        .to_string()
        .replace("\"data\":null", &data.to_string()[1..data.to_string().len() - 1])
    };
    let gauge = json!({"gauge": {"dataPoints": [{"asDouble": 3.0, "timeUnixNano": "1000"}]}});
    let sum = json!({"sum": {"aggregationTemporality": 2, "isMonotonic": true,
        "dataPoints": [{"asDouble": 4.0, "timeUnixNano": "2000"}]}});
    let post = |body: String| {
        let state = state.clone();
        async move {
            let request = Request::post("/v1/metrics")
                .header("content-type", "application/json")
                .body(Body::from(body))
                .unwrap();
            let response = otlp_http_router(state).oneshot(request).await.unwrap();
            let status = response.status();
            let body = response.into_body().collect().await.unwrap().to_bytes();
            (status, serde_json::from_slice::<Value>(&body).unwrap())
        }
    };
    let (status, first) = post(export(gauge)).await;
    assert_eq!((status, first.get("partialSuccess")), (StatusCode::OK, None), "{first}");
    let (status, second) = post(export(sum)).await;
    assert_eq!(status, StatusCode::OK);
    let partial = &second["partialSuccess"];
    assert_eq!(partial["rejectedDataPoints"].to_string().trim_matches('"'), "1", "{second}");
    let message = partial["errorMessage"].as_str().unwrap();
    assert!(message.contains("\"queue.size\"") && message.contains("gauge"), "{message}");
    let catalog = get_json(&state, "/api/v1/metrics").await;
    assert_eq!(catalog["metrics"][0]["kind"], "gauge");
    assert_eq!(catalog["metrics"][0]["points"], 1);
}
