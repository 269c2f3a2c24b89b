//! Metric pages as the server draws them without scripts (`/ssr/metrics`): a metric whose name
//! holds URL-special characters (`/`, `%`, `?`, `#`, a space) is linked from the catalogue by a
//! path of one escaped segment, and that path opens its page with its chart.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use otelscope_app::model::{AttrValue, MetricKind, MetricPoint};
use otelscope_server::store::WriteBatch;
use otelscope_server::{router, AppState};
use support::{kv, state_with_batches};
use tower::ServiceExt;

mod support;

const S: u64 = 1_000_000_000;
const NAME: &str = "queue/depth 50%?x#y";
const RANGE: &str = "since=0&until=60000000000";

async fn page(state: &AppState, uri: &str) -> (StatusCode, String) {
    let response = router(state.clone())
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

fn gauge(at_s: u64, value: f64) -> MetricPoint {
    MetricPoint {
        name: NAME.into(),
        unit: "{item}".into(),
        kind: MetricKind::Gauge,
        service: "worker".into(),
        attributes: vec![kv("queue", AttrValue::String("q1".into()))],
        time_ns: at_s * S,
        value: Some(value),
        ..MetricPoint::default()
    }
}

#[tokio::test]
async fn a_metric_named_with_url_special_characters_has_a_working_page() {
    let metrics = (1..=5).map(|i| gauge(i * 10, i as f64 * 3.0)).collect();
    let state =
        state_with_batches(vec![WriteBatch { received_ns: 1, metrics, ..WriteBatch::default() }]);
    let escaped = "queue%2Fdepth%2050%25%3Fx%23y";
    let (status, catalogue) = page(&state, "/ssr/metrics").await;
    assert_eq!(status, StatusCode::OK);
    let link = format!("/metrics/{escaped}?\"");
    assert!(catalogue.contains(&link), "no link {link}: {catalogue}");
    let (status, html) = page(&state, &format!("/ssr/metrics/{escaped}?{RANGE}")).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("queue/depth 50%?x#y</h1>"), "the name, decoded: {html}");
    assert!(html.contains("class=\"metric-chart\""), "a chart: {html}");
    assert!(!html.contains("Could not load"), "{html}");
    // The same name without escaping is another path: not this metric's page.
    let (status, _) = page(&state, "/ssr/metrics/queue/depth").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
