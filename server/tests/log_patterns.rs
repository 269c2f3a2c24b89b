//! `GET /api/v1/logs/patterns` and `pattern=ID` on `/api/v1/logs` through the router over a
//! real in-memory store, with answers stated by hand from the fixture: 5 logins, 3 declined
//! payments (warn) and a health check from `shop`, and 2 logins from `other`.

mod support;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use otelscope_app::model::{AttrValue, LogRecord, Scope};
use otelscope_server::patterns::pattern_id;
use otelscope_server::router;
use otelscope_server::store::WriteBatch;
use serde_json::{json, Value};
use support::{get_json, state_with_batches};
use tower::ServiceExt;

const S: u64 = 1_000_000_000;
const T0: u64 = 1_700_000_000 * S;
const LOGIN: &str = "user <*> logged in from <*>";
const DECLINED: &str = "payment <*> declined: insufficient funds";

fn record(service: &str, at_s: u64, severity_number: i32, body: &str) -> LogRecord {
    LogRecord {
        time_ns: T0 + at_s * S,
        observed_time_ns: T0 + at_s * S,
        severity_number,
        severity_text: String::new(),
        body: AttrValue::String(body.into()),
        attributes: Vec::new(),
        trace_id: None,
        span_id: None,
        event_name: String::new(),
        service: service.into(),
        resource: Vec::new(),
        scope: Scope::default(),
    }
}

fn state() -> otelscope_server::AppState {
    let logs = vec![
        record("shop", 1, 9, "user ada logged in from 10.0.0.1"),
        record("shop", 2, 13, "payment 4f2a91c0d3 declined: insufficient funds"),
        record("shop", 3, 9, "user bob logged in from 10.0.0.2"),
        record("shop", 4, 9, "health check ok"),
        record("shop", 5, 9, "user ada logged in from 192.168.7.1"),
        record("shop", 6, 13, "payment 77e0b1aa52 declined: insufficient funds"),
        record("shop", 7, 9, "user eve logged in from 10.0.0.9"),
        record("shop", 8, 13, "payment 0c9d8e7f61 declined: insufficient funds"),
        record("shop", 9, 9, "user bob logged in from 10.0.0.2"),
        record("other", 10, 9, "user ada logged in from 10.1.1.1"),
        record("other", 11, 9, "user kim logged in from 10.1.1.2"),
    ];
    state_with_batches(vec![WriteBatch { received_ns: T0, logs, ..WriteBatch::default() }])
}

fn summary(answer: &Value) -> Vec<(String, u64)> {
    answer["patterns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["template"].as_str().unwrap().to_owned(), p["count"].as_u64().unwrap()))
        .collect()
}

fn pairs(expected: &[(&str, u64)]) -> Vec<(String, u64)> {
    expected.iter().map(|(t, n)| (t.to_string(), *n)).collect()
}

fn bodies(page: &Value) -> Vec<&str> {
    page["logs"].as_array().unwrap().iter().map(|r| r["body"]["string"].as_str().unwrap()).collect()
}

#[tokio::test]
async fn patterns_of_the_filtered_records_by_hand() {
    let state = state();
    let answer = get_json(&state, "/api/v1/logs/patterns?service=shop").await;
    assert_eq!((answer["total"].as_u64(), answer["scanned"].as_u64()), (Some(9), Some(9)));
    assert_eq!(answer.get("sampled"), None, "not sampled");
    assert_eq!(summary(&answer), pairs(&[(LOGIN, 5), (DECLINED, 3), ("health check ok", 1)]));
    let login = &answer["patterns"][0];
    assert_eq!(login["id"], pattern_id(LOGIN));
    assert_eq!(login["share"], json!(5.0 / 9.0));
    assert_eq!(login["severities"], json!([{"band": "info", "count": 5}]));
    assert_eq!(
        (login["first_seen_ns"].as_u64(), login["last_seen_ns"].as_u64()),
        (Some(T0 + S), Some(T0 + 9 * S))
    );
    assert_eq!(login["example"]["body"], json!({"string": "user bob logged in from 10.0.0.2"}));
    assert_eq!(
        login["sparkline"].as_array().unwrap().iter().map(|n| n.as_u64().unwrap()).sum::<u64>(),
        5
    );
    let declined = &answer["patterns"][1];
    assert_eq!(declined["severities"], json!([{"band": "warn", "count": 3}]));
    // The sparkline range: from the first record to just past the last, in 24 steps.
    assert_eq!(answer["since_ns"].as_u64(), Some(T0 + S));

    // The other filters apply: a word, a minimum severity, another service.
    // (Templates are of the records clustered: with only ada's logins, ada is no variable.)
    let ada = get_json(&state, "/api/v1/logs/patterns?service=shop&q=ada").await;
    assert_eq!(summary(&ada), pairs(&[("user ada logged in from <*>", 2)]));
    let warn = get_json(&state, "/api/v1/logs/patterns?severity=warn").await;
    assert_eq!(summary(&warn), pairs(&[(DECLINED, 3)]));
    let everyone = get_json(&state, "/api/v1/logs/patterns").await;
    assert_eq!(summary(&everyone), pairs(&[(LOGIN, 7), (DECLINED, 3), ("health check ok", 1)]));
    let nobody = get_json(&state, "/api/v1/logs/patterns?service=nobody").await;
    assert_eq!(nobody["patterns"], json!([]));
    assert_eq!(nobody["total"], 0);
}

#[tokio::test]
async fn a_patterns_records_page_by_page_both_ways() {
    let state = state();
    let login = pattern_id(LOGIN);
    let first =
        get_json(&state, &format!("/api/v1/logs?service=shop&pattern={login}&limit=2")).await;
    assert_eq!(
        bodies(&first),
        ["user bob logged in from 10.0.0.2", "user eve logged in from 10.0.0.9"]
    );
    assert_eq!(first["matched"], 5);
    assert_eq!(first.get("newer"), None);
    let older = first["older"].as_str().unwrap();
    let second = get_json(
        &state,
        &format!("/api/v1/logs?service=shop&pattern={login}&limit=2&cursor={older}"),
    )
    .await;
    assert_eq!(
        bodies(&second),
        ["user ada logged in from 192.168.7.1", "user bob logged in from 10.0.0.2"]
    );
    let older = second["older"].as_str().unwrap();
    let third = get_json(
        &state,
        &format!("/api/v1/logs?service=shop&pattern={login}&limit=2&cursor={older}"),
    )
    .await;
    assert_eq!(bodies(&third), ["user ada logged in from 10.0.0.1"]);
    assert_eq!(third.get("older"), None);
    let newer = third["newer"].as_str().unwrap();
    let back = get_json(
        &state,
        &format!("/api/v1/logs?service=shop&pattern={login}&limit=2&cursor={newer}"),
    )
    .await;
    assert_eq!(bodies(&back), bodies(&second));
    // Without the service filter the same pattern holds `other`'s logins too.
    let all = get_json(&state, &format!("/api/v1/logs?pattern={login}&limit=100")).await;
    assert_eq!(all["matched"], 7);
    // An id no pattern has: no records.
    let none = get_json(&state, "/api/v1/logs?pattern=0000000000000000").await;
    assert_eq!((none["logs"].clone(), none["matched"].clone()), (json!([]), json!(0)));
}

#[tokio::test]
async fn bad_filters_are_a_json_400() {
    let state = state();
    for path in ["/api/v1/logs/patterns?severity=loud", "/api/v1/logs/patterns?since=yesterday-ish"]
    {
        let request = Request::get(path).body(Body::empty()).unwrap();
        let response = router(state.clone()).oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{path}");
        let body = http_body_util::BodyExt::collect(response.into_body()).await.unwrap().to_bytes();
        let error: Value = serde_json::from_slice(&body).unwrap();
        assert!(error["error"].as_str().is_some_and(|e| !e.is_empty()), "{path}: {error}");
    }
}
