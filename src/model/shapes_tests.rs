//! The telemetry shapes on the cases where the server's rollups and the waterfall once read
//! them differently.

use super::*;
use crate::model::{KeyValue, Temporality};

fn kv(key: &str, value: AttrValue) -> KeyValue {
    KeyValue { key: key.into(), value }
}

fn s(v: &str) -> AttrValue {
    AttrValue::String(v.into())
}

fn with_attrs(attributes: Vec<KeyValue>) -> Span {
    Span { attributes, ..crate::model::fixture::span("t", "s", "GET").build() }
}

fn client(attrs: Vec<KeyValue>) -> Span {
    Span { kind: SpanKind::Client, ..with_attrs(attrs) }
}

fn retry_event(delay: Option<AttrValue>) -> SpanEvent {
    SpanEvent {
        time_ns: 0,
        name: "retry".into(),
        attributes: delay.map(|d| vec![kv("retry.delay_ms", d)]).unwrap_or_default(),
    }
}

#[test]
fn an_http_client_span_without_a_resend_count_is_the_first_try() {
    // The waterfall once read both as no attempt, while `/retries` counted them as calls.
    assert_eq!(attempt_index(&client(vec![kv("http.request.method", s("GET"))])), Some(0));
    assert_eq!(attempt_index(&client(vec![kv("http.method", s("GET"))])), Some(0));
    let legacy_resend = client(vec![
        kv("http.method", s("GET")),
        kv("http.request.resend_count", AttrValue::Int(2)),
    ]);
    assert_eq!(attempt_index(&legacy_resend), Some(2));
}

#[test]
fn attempts_need_an_index_or_an_http_client() {
    assert_eq!(attempt_index(&with_attrs(vec![kv("retry.attempt", AttrValue::Int(3))])), Some(3));
    // `retry.attempt` wins over a resend count, and a bad one is no attempt at all.
    let both = client(vec![
        kv("http.request.method", s("GET")),
        kv("retry.attempt", AttrValue::Int(1)),
        kv("http.request.resend_count", AttrValue::Int(4)),
    ]);
    assert_eq!(attempt_index(&both), Some(1));
    assert_eq!(attempt_index(&with_attrs(vec![kv("retry.attempt", AttrValue::Int(-1))])), None);
    let negative_resend = client(vec![
        kv("http.request.method", s("GET")),
        kv("http.request.resend_count", AttrValue::Int(-2)),
    ]);
    assert_eq!(attempt_index(&negative_resend), None);
    // A server span, a client without an HTTP method, a method that is not a string.
    assert_eq!(attempt_index(&with_attrs(vec![kv("http.request.method", s("GET"))])), None);
    assert_eq!(attempt_index(&client(vec![])), None);
    assert_eq!(attempt_index(&client(vec![kv("http.method", AttrValue::Bool(true))])), None);
}

#[test]
fn retry_delays_are_finite_non_negative_numbers_of_retry_events() {
    let delays: Vec<Option<f64>> = [
        retry_event(Some(AttrValue::Int(100))),
        retry_event(Some(AttrValue::Double(250.5))),
        // The waterfall once drew these as backoffs; the rollup already dropped them.
        retry_event(Some(AttrValue::Double(f64::NAN))),
        retry_event(Some(AttrValue::Double(f64::INFINITY))),
        retry_event(Some(AttrValue::Int(-5))),
        retry_event(Some(AttrValue::Double(-0.5))),
        retry_event(Some(s("100"))),
        retry_event(None),
        SpanEvent { name: "backoff".into(), ..retry_event(Some(AttrValue::Int(7))) },
    ]
    .iter()
    .map(retry_delay_ms)
    .collect();
    assert_eq!(delays, [Some(100.0), Some(250.5), None, None, None, None, None, None, None]);
}

#[test]
fn cache_lookups_are_boolean_hits_named_and_layered() {
    let lookup = with_attrs(vec![
        kv("cache.hit", AttrValue::Bool(false)),
        kv("cache.name", s("products")),
        kv("cache.layer", s("l1")),
    ]);
    assert_eq!(
        (cache_hit(&lookup), cache_name(&lookup), cache_layer(&lookup)),
        (Some(false), "products", "l1")
    );
    let bare = with_attrs(vec![kv("cache.hit", AttrValue::Bool(true))]);
    assert_eq!((cache_hit(&bare), cache_name(&bare), cache_layer(&bare)), (Some(true), "GET", ""));
    assert_eq!(cache_hit(&with_attrs(vec![kv("cache.hit", s("true"))])), None);
}

#[test]
fn cache_counters_by_name_with_their_layer() {
    let point = |name: &str, kind, attrs| MetricPoint {
        name: String::from(name),
        description: String::new(),
        unit: String::new(),
        kind,
        temporality: Temporality::Delta,
        monotonic: true,
        service: "catalog".into(),
        attributes: attrs,
        start_ns: 0,
        time_ns: 0,
        value: Some(1.0),
        histogram: None,
        ..Default::default()
    };
    let counter = |name, attrs| {
        cache_counter(&point(name, MetricKind::Sum, attrs))
            .map(|c| (c.hit, c.name.to_owned(), c.layer.to_owned()))
    };
    let c = |hit, name: &str, layer: &str| Some((hit, name.to_owned(), layer.to_owned()));
    assert_eq!(
        counter("cache.gets", vec![kv("result", s("hit")), kv("cache", s("users"))]),
        c(true, "users", "")
    );
    assert_eq!(counter("cache.gets", vec![kv("result", s("other"))]), None);
    assert_eq!(
        counter("cache.misses", vec![kv("cache.name", s("a")), kv("cache", s("b"))]),
        c(false, "a", "")
    );
    assert_eq!(counter("redis.keyspace.hits", vec![]), c(true, "catalog", "redis"));
    assert_eq!(
        counter("redis.keyspace.misses", vec![kv("cache.layer", s("l2"))]),
        c(false, "catalog", "l2")
    );
    assert_eq!(counter("http.requests", vec![]), None);
    assert_eq!(cache_counter(&point("cache.hits", MetricKind::Gauge, vec![])), None);
}
