//! `/api/v1/logs`, its histogram, facets and context through the router, with answers stated
//! by hand from a fixture of eight records: every filter, both cursors, the bands of the
//! histogram, facet counts, context around one record, and a clear 400 or 404 for bad input.

mod support;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use otelscope_app::model::{AttrValue, KeyValue, LogRecord, Scope};
use otelscope_server::router;
use otelscope_server::store::WriteBatch;
use serde_json::{json, Value};
use tower::ServiceExt;

/// 2023-11-14T22:13:20Z.
const T: u64 = 1_700_000_000_000_000_000;
const S: u64 = 1_000_000_000;
const TRACE: &str = "0af7651916cd43dd8448eb211c80319c";

fn record(at_s: u64, severity: i32, service: &str, body: &str) -> LogRecord {
    LogRecord {
        time_ns: T + at_s * S,
        observed_time_ns: T + at_s * S,
        severity_number: severity,
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

fn attr(mut r: LogRecord, key: &str, value: &str) -> LogRecord {
    r.attributes.push(KeyValue { key: key.into(), value: AttrValue::String(value.into()) });
    r
}

fn traced(mut r: LogRecord, span: &str) -> LogRecord {
    r.trace_id = Some(TRACE.into());
    r.span_id = Some(span.into());
    r
}

/// Records `a` … `h`, one per 10 s from `T`; `otelscope` is our own service.
fn state() -> otelscope_server::AppState {
    let logs = vec![
        record(0, 9, "checkout", "a cart opened for user 17"),
        traced(record(10, 13, "checkout", "b retrying payment in 20 ms"), "00f067aa0ba902b7"),
        traced(
            attr(record(20, 17, "checkout", "c payment declined"), "payment.provider", "visa"),
            "00f067aa0ba902b7",
        ),
        attr(record(30, 17, "payments", "d card declined by issuer"), "payment.provider", "visa"),
        traced(record(40, 5, "payments", "e cache miss for card 4"), "53995c3f42cd8ad8"),
        attr(
            record(50, 21, "payments", "f circuit open: payment provider down"),
            "payment.provider",
            "amex",
        ),
        record(55, 9, "otelscope", "g our own record"),
        record(60, 9, "checkout", "h <script>alert(1)</script> order placed"),
    ];
    support::state_with_batches(vec![WriteBatch { received_ns: T, logs, ..WriteBatch::default() }])
}

async fn get(state: &otelscope_server::AppState, path: &str) -> (StatusCode, Value) {
    let request = Request::get(path).body(Body::empty()).unwrap();
    let response = router(state.clone()).oneshot(request).await.unwrap();
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&body).unwrap_or_else(|e| panic!("{path}: {e}")))
}

/// The first letters of the bodies of a page, in answer order.
async fn letters(state: &otelscope_server::AppState, query: &str) -> String {
    let (status, page) = get(state, &format!("/api/v1/logs?{query}")).await;
    assert_eq!(status, StatusCode::OK, "{query}: {page}");
    page["logs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["body"]["string"].as_str().unwrap()[..1].to_owned())
        .collect()
}

#[tokio::test]
async fn every_filter_of_the_list() {
    let state = state();
    assert_eq!(letters(&state, "").await, "hfedcba", "newest first, our own left out");
    assert_eq!(letters(&state, "include_self=1").await, "hgfedcba");
    assert_eq!(letters(&state, "service=otelscope").await, "g");
    assert_eq!(letters(&state, "service=payments").await, "fed");
    for warn in ["warn", "WARN", "13", "Warning"] {
        assert_eq!(letters(&state, &format!("severity={warn}")).await, "fdcb", "{warn}");
    }
    assert_eq!(letters(&state, "severity=error").await, "fdc");
    assert_eq!(letters(&state, "min_severity=21").await, "f");
    assert_eq!(letters(&state, "q=declined").await, "dc");
    assert_eq!(letters(&state, "q=payment+declined").await, "c", "words AND-ed");
    assert_eq!(letters(&state, "q=%22card+declined%22").await, "d", "a phrase");
    assert_eq!(letters(&state, "q=%22declined+card%22").await, "");
    assert_eq!(letters(&state, "q=payment+-declined").await, "fb");
    assert_eq!(letters(&state, "q=visa").await, "dc", "attribute values are text too");
    assert_eq!(letters(&state, "q=script").await, "h");
    assert_eq!(letters(&state, "attr=payment.provider%3Dvisa").await, "dc");
    assert_eq!(letters(&state, "attr=payment.provider%3Dvisa&service=checkout").await, "c");
    assert_eq!(letters(&state, "attr=payment.provider%3Dvis").await, "", "values exactly");
    assert_eq!(letters(&state, &format!("trace_id={TRACE}")).await, "ecb");
    assert_eq!(letters(&state, &format!("trace_id={}", TRACE.to_uppercase())).await, "ecb");
    assert_eq!(letters(&state, &format!("trace_id={TRACE}&span_id=00f067aa0ba902b7")).await, "cb");
    assert_eq!(letters(&state, &format!("trace_id={TRACE}&severity=error")).await, "c");
    assert_eq!(letters(&state, "span_id=53995c3f42cd8ad8").await, "e");
    let (since, until) = (T + 10 * S, T + 40 * S);
    assert_eq!(
        letters(&state, &format!("since={since}&until={until}")).await,
        "dcb",
        "until exclusive"
    );
    assert_eq!(letters(&state, "since=2023-11-14T22:14:10Z").await, "hf", "RFC 3339");
    assert_eq!(letters(&state, "limit=2").await, "hf");
    let (_, page) = get(&state, "/api/v1/logs?limit=2&service=checkout").await;
    assert_eq!((page["matched"].clone(), page.get("matched_capped")), (json!(4), None));
    assert!(page["logs"][0]["id"].is_string());
    // Hostile text is data: the answer is JSON, the body as sent.
    let (_, page) = get(&state, "/api/v1/logs?q=script").await;
    assert_eq!(
        page["logs"][0]["body"],
        json!({"string": "h <script>alert(1)</script> order placed"})
    );
}

#[tokio::test]
async fn the_cursor_pages_both_ways() {
    let state = state();
    let (_, first) = get(&state, "/api/v1/logs?limit=3").await;
    assert_eq!(first.get("newer"), None);
    let older = first["older"].as_str().unwrap().to_owned();
    assert_eq!(letters(&state, &format!("limit=3&cursor={older}")).await, "dcb");
    let (_, second) = get(&state, &format!("/api/v1/logs?limit=3&cursor={older}")).await;
    assert_eq!(second["matched"], 7);
    let (_, third) =
        get(&state, &format!("/api/v1/logs?limit=3&cursor={}", second["older"].as_str().unwrap()))
            .await;
    assert_eq!((third["logs"].as_array().unwrap().len(), third.get("older")), (1, None));
    let newer = third["newer"].as_str().unwrap();
    assert_eq!(letters(&state, &format!("limit=3&cursor={newer}")).await, "dcb");
    let newer = second["newer"].as_str().unwrap();
    assert_eq!(letters(&state, &format!("limit=3&cursor={newer}")).await, "hfe");
}

#[tokio::test]
async fn the_histogram_splits_each_step_by_severity() {
    let state = state();
    let path = format!("/api/v1/logs/histogram?since={T}&until={}&step=30s", T + 90 * S);
    let (status, h) = get(&state, &path).await;
    assert_eq!(status, StatusCode::OK, "{h}");
    assert_eq!(
        h,
        json!({
            "since_ns": T, "until_ns": T + 90 * S, "step_ns": 30 * S,
            "buckets": [
                {"start_ns": T, "counts": [
                    {"band": "info", "count": 1}, {"band": "warn", "count": 1}, {"band": "error", "count": 1}]},
                {"start_ns": T + 30 * S, "counts": [
                    {"band": "debug", "count": 1}, {"band": "error", "count": 1}, {"band": "fatal", "count": 1}]},
                {"start_ns": T + 60 * S, "counts": [{"band": "info", "count": 1}]},
            ]
        })
    );
    let path = format!("/api/v1/logs/histogram?since={T}&until={}&service=payments", T + 60 * S);
    let (_, h) = get(&state, &path).await;
    assert_eq!(h["step_ns"], json!(S), "a 60th of a minute");
    let counted: u64 = h["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|b| b["counts"].as_array().unwrap().iter().map(|c| c["count"].as_u64().unwrap()))
        .sum();
    assert_eq!((h["buckets"].as_array().unwrap().len(), counted), (60, 3));
    // Without a range: the last hour (nothing of 2023 in it).
    let (status, h) = get(&state, "/api/v1/logs/histogram").await;
    assert_eq!((status, h["step_ns"].clone()), (StatusCode::OK, json!(60 * S)));
    assert_eq!(h["until_ns"].as_u64().unwrap() - h["since_ns"].as_u64().unwrap(), 3600 * S);
}

#[tokio::test]
async fn facets_count_the_filtered_set() {
    let state = state();
    let (status, f) = get(&state, "/api/v1/logs/facets?severity=warn").await;
    assert_eq!(status, StatusCode::OK, "{f}");
    assert_eq!(
        f,
        json!({
            "services": [{"value": "checkout", "count": 2}, {"value": "payments", "count": 2}],
            "severities": [{"value": "error", "count": 2}, {"value": "fatal", "count": 1}, {"value": "warn", "count": 1}],
            "attribute_keys": [{"value": "payment.provider", "count": 3}],
            "scanned": 4,
        })
    );
}

#[tokio::test]
async fn context_is_the_records_of_the_same_service_around_one() {
    let state = state();
    let (_, page) = get(&state, "/api/v1/logs?q=declined&service=checkout").await;
    let id = page["logs"][0]["id"].as_str().unwrap().to_owned();
    let (status, context) =
        get(&state, &format!("/api/v1/logs/{id}/context?before=1&after=5")).await;
    assert_eq!(status, StatusCode::OK, "{context}");
    let firsts = |list: &Value| -> String {
        list.as_array()
            .unwrap()
            .iter()
            .map(|r| r["body"]["string"].as_str().unwrap()[..1].to_owned())
            .collect()
    };
    assert_eq!(context["anchor"], json!(id));
    assert_eq!(context["record"]["body"]["string"], "c payment declined");
    assert_eq!((firsts(&context["before"]), firsts(&context["after"])), ("b".into(), "h".into()));
    let (status, answer) = get(&state, "/api/v1/logs/999999/context").await;
    assert_eq!(
        (status, answer["error"].clone()),
        (StatusCode::NOT_FOUND, json!("no such log record"))
    );
    let (status, _) = get(&state, "/api/v1/logs/not-an-id/context").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, answer) = get(&state, &format!("/api/v1/logs/{id}/context?before=-1")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(answer["error"], "before must be a whole number of records, not \"-1\"");
}

#[tokio::test]
async fn bad_parameters_are_400s_that_say_why() {
    let state = state();
    for (query, error) in [
        ("severity=loud", "severity must be a number 0-24 or a level (trace, debug, info, warn, error, fatal), not \"loud\""),
        ("trace_id=xyz", "trace_id must be 32 hex digits, not \"xyz\""),
        ("span_id=123", "span_id must be 16 hex digits, not \"123\""),
        ("cursor=o-zz", "cursor must be a cursor from an earlier answer (older or newer), not \"o-zz\""),
        ("limit=0", "limit must be a whole number from 1 (at most 1000), not \"0\""),
        ("attr=novalue", "attr must be KEY=VALUE, not \"novalue\""),
        ("since=20&until=10", "since must not be after until"),
    ] {
        for route in ["/api/v1/logs", "/api/v1/logs/histogram", "/api/v1/logs/facets"] {
            let (status, answer) = get(&state, &format!("{route}?{query}")).await;
            assert_eq!((status, answer["error"].as_str()), (StatusCode::BAD_REQUEST, Some(error)), "{route}?{query}");
        }
    }
    let (status, answer) = get(&state, "/api/v1/logs/histogram?step=often").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(answer["error"], "step must be a duration like 1m, not \"often\"");
}
