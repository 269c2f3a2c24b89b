//! Retry fixtures of both shapes, rolled up by a real (in-memory) store and answered, with
//! exact numbers.

use otelscope_app::model::fixture::span;
use otelscope_app::model::{AttrValue, KeyValue, Span, SpanEvent, SpanKind};

use super::*;
use crate::store::{SqliteStore, Store, WriteBatch};
use otelscope_app::model::{AttemptCount, RetriesAnswer, RetryExamples};

fn kv(key: &str, value: AttrValue) -> KeyValue {
    KeyValue { key: key.into(), value }
}

fn with(mut span: Span, key: &str, value: AttrValue) -> Span {
    span.attributes.push(kv(key, value));
    span
}

fn retry_event(mut span: Span, delay_ms: i64) -> Span {
    span.events.push(SpanEvent {
        time_ns: span.start_ns,
        name: "retry".into(),
        attributes: vec![kv("retry.delay_ms", AttrValue::Int(delay_ms))],
    });
    span
}

fn outcome(span: Span, outcome: &str) -> Span {
    with(span, "retry.outcome", AttrValue::String(outcome.into()))
}

fn http(trace: u32, id: u32, resend: Option<i64>, start_s: u64) -> Span {
    let mut span = span(trace, id, "GET").parent(900 + trace).service("web").at_s(start_s).build();
    span.kind = SpanKind::Client;
    span = with(span, "http.request.method", AttrValue::String("GET".into()));
    match resend {
        Some(n) => with(span, "http.request.resend_count", AttrValue::Int(n)),
        None => span,
    }
}

/// Every span of both shapes: see each test for what is expected of it.
pub(crate) fn fixture() -> Vec<Span> {
    let op = |trace, start| span(trace, 1, "upstream.fetch").service("catalog").at_s(start).build();
    let attempt = |trace, id, k| {
        with(
            span(trace, id, "attempt").parent(1).service("catalog").at_s(20).build(),
            "retry.attempt",
            AttrValue::Int(k),
        )
    };
    vec![
        // Call spans: A succeeds after two retries (backoff 100 and 200 ms), B gives up after
        // four attempts (its attempt children), C is refused by the breaker, D works at once.
        retry_event(retry_event(outcome(op(0xa, 10), "success"), 100), 200),
        outcome(op(0xb, 20), "exhausted"),
        attempt(0xb, 2, 0),
        attempt(0xb, 3, 1),
        attempt(0xb, 4, 2),
        attempt(0xb, 5, 3),
        outcome(op(0xc, 30), "circuit_open"),
        outcome(op(0xd, 40), "success"),
        // HTTP attempts: E three tries, F one, G two.
        http(0xe, 1, None, 11),
        http(0xe, 2, Some(1), 12),
        http(0xe, 3, Some(2), 13),
        http(0xf, 1, None, 14),
        http(0x10, 1, None, 15),
        http(0x10, 2, Some(1), 16),
        // `retry.attempt` without a call span: H two tries; a plain span is not counted.
        with(
            span(0x11, 1, "job").service("worker").at_s(50).build(),
            "retry.attempt",
            AttrValue::Int(0),
        ),
        with(
            span(0x11, 2, "job").service("worker").at_s(51).build(),
            "retry.attempt",
            AttrValue::Int(1),
        ),
        span(0x12, 1, "job").service("worker").at_s(52).build(),
    ]
}

/// Writes each part as its own export request (in its own batch) and answers from the rollup's
/// sums, as the API does.
pub(crate) fn check(parts: &[&[Span]]) -> RetriesAnswer {
    check_by(parts, 10_000_000_000)
}

/// As `check`, with the series in steps of `step_ns`.
pub(crate) fn check_by(parts: &[&[Span]], step_ns: u64) -> RetriesAnswer {
    let store = SqliteStore::in_memory().unwrap();
    for (i, part) in parts.iter().enumerate() {
        let mut batch =
            WriteBatch { received_ns: i as u64 + 1, spans: part.to_vec(), ..WriteBatch::default() };
        batch.prepare().unwrap();
        for result in store.write(&[batch]).unwrap() {
            result.unwrap();
        }
    }
    let everything = RetryQuery {
        since_ns: 0,
        until_ns: i64::MAX as u64,
        step_ns,
        service: None,
        examples_per_kind: EXAMPLES_PER_KIND,
    };
    answer(store.retries(&everything).unwrap(), &everything)
}

fn trace(n: u32) -> String {
    format!("{n:032x}")
}

fn histogram(pairs: &[(u64, u64)]) -> Vec<AttemptCount> {
    pairs.iter().map(|&(attempts, calls)| AttemptCount { attempts, calls }).collect()
}

#[test]
fn both_shapes_give_exact_calls_resends_attempts_and_outcomes() {
    let answer = check(&[&fixture()]);
    let ops: Vec<_> =
        answer.operations.iter().map(|o| (o.service.as_str(), o.name.as_str())).collect();
    assert_eq!(ops, [("catalog", "upstream.fetch"), ("web", "GET"), ("worker", "job")]);
    let [calls, web, worker] = &answer.operations[..] else { unreachable!() };

    assert_eq!(
        (calls.calls, calls.retried_calls, calls.resends, calls.give_ups, calls.circuit_open),
        (4, 2, 5, 1, 1)
    );
    // C, refused by the open circuit, made no attempt.
    assert_eq!(calls.attempts, histogram(&[(0, 1), (1, 1), (3, 1), (4, 1)]));
    assert_eq!(calls.delays, 2);
    // Bucket midpoints: 100 ms and 200 ms are within 1%.
    let p50 = calls.delay_p50_ns.unwrap() as f64 / 1e6;
    let p99 = calls.delay_p99_ns.unwrap() as f64 / 1e6;
    assert!((p50 - 100.0).abs() <= 1.0 && (p99 - 200.0).abs() <= 2.0, "within 1%: {p50} {p99}");
    assert_eq!(
        calls.examples,
        RetryExamples {
            retried: vec![trace(0xb), trace(0xa)],
            gave_up: vec![trace(0xb)],
            circuit_open: vec![trace(0xc)],
        }
    );

    assert_eq!(
        (web.calls, web.retried_calls, web.resends, web.give_ups, web.circuit_open),
        (3, 2, 3, 0, 0)
    );
    assert_eq!(web.attempts, histogram(&[(1, 1), (2, 1), (3, 1)]));
    assert_eq!(web.examples.retried, vec![trace(0x10), trace(0xe)]);
    assert_eq!(web.delays, 0);

    assert_eq!((worker.calls, worker.retried_calls, worker.resends), (1, 1, 1));
    assert_eq!(worker.attempts, histogram(&[(2, 1)]));
}

#[test]
fn attempts_of_one_call_split_over_exports_count_the_same() {
    let all = fixture();
    let http: Vec<Span> = all.iter().filter(|s| s.service == "web").cloned().collect();
    let whole = check(&[&http]);
    // E's third try and G's second arrive in a later export.
    let (late, early): (Vec<Span>, Vec<Span>) = http
        .into_iter()
        .partition(|s| s.start_ns == 13_000_000_000 || s.start_ns == 16_000_000_000);
    assert_eq!(check(&[&early, &late]), whole);
}

#[test]
fn the_waterfall_marks_the_attempts_and_backoffs_this_rollup_counts() {
    use otelscope_app::charts::waterfall::{layout::layout, marks::row_marks};
    // Legacy `http.method` client spans, the first without a resend count; backoff events
    // with a good delay, a NaN and a negative one. The waterfall once marked none of these
    // spans as attempts and drew the NaN as a backoff.
    let legacy = |id: u32, resend: Option<i64>, start_s, delay: Option<f64>| {
        let mut s = span(0x20u32, id, "GET").parent(1u32).service("web").at_s(start_s).build();
        s.kind = SpanKind::Client;
        s = with(s, "http.method", AttrValue::String("GET".into()));
        if let Some(n) = resend {
            s = with(s, "http.request.resend_count", AttrValue::Int(n));
        }
        if let Some(ms) = delay {
            s.events.push(SpanEvent {
                time_ns: s.start_ns,
                name: "retry".into(),
                attributes: vec![kv("retry.delay_ms", AttrValue::Double(ms))],
            });
        }
        s
    };
    let spans = vec![
        span(0x20u32, 1u32, "checkout").service("web").at_s(1).build(),
        legacy(2, None, 2, Some(-5.0)),
        legacy(3, Some(1), 3, Some(100.0)),
        legacy(4, Some(2), 4, Some(f64::NAN)),
    ];
    let answer = check(&[&spans]);
    let [web] = &answer.operations[..] else { panic!("{answer:?}") };
    assert_eq!((web.name.as_str(), web.calls, web.resends), ("GET", 1, 2));
    assert_eq!(web.attempts, histogram(&[(3, 1)]));

    let marks = row_marks(&spans, &layout(&spans));
    let attempts: Vec<u64> = marks.iter().filter_map(|m| m.attempt).collect();
    let counted = web.attempts.iter().map(|a| a.attempts).max().unwrap_or(0);
    assert_eq!(attempts, (0..counted).collect::<Vec<_>>(), "{marks:?}");
    let backoffs: Vec<f64> = marks.iter().filter_map(|m| m.backoff_ms).collect();
    assert_eq!((backoffs, web.delays), (vec![100.0], 1));
}

#[test]
fn a_call_the_open_circuit_refused_counts_as_a_call_with_only_the_attempts_it_made() {
    let pay = |trace: u32, at| {
        outcome(span(trace, 1u32, "pay").service("shop").at_s(at).build(), "circuit_open")
    };
    let try_of = |id: u32, k| {
        let s = span(0x32u32, id, "try").parent(1u32).service("shop").at_s(7).build();
        with(s, "retry.attempt", AttrValue::Int(k))
    };
    let spans = vec![
        // Refused outright.
        pay(0x30, 5),
        // Refused at its third try (index 2): two attempts made, one resend.
        with(pay(0x31, 6), "retry.attempt", AttrValue::Int(2)),
        // Two attempt children, then refused.
        pay(0x32, 7),
        try_of(2, 0),
        try_of(3, 1),
        // Refused after one backoff: one attempt made.
        retry_event(pay(0x33, 8), 50),
    ];
    let answer = check(&[&spans]);
    let [pay] = &answer.operations[..] else { panic!("{answer:?}") };
    assert_eq!(
        (pay.calls, pay.circuit_open, pay.retried_calls, pay.resends, pay.give_ups),
        (4, 4, 2, 2, 0)
    );
    assert_eq!(pay.attempts, histogram(&[(0, 1), (1, 1), (2, 2)]));
    let outcomes: Vec<(&str, &str)> =
        pay.example_calls.iter().map(|e| (e.kind.as_str(), e.outcome.as_str())).collect();
    assert_eq!(
        outcomes,
        [
            ("retried", "circuit_open"),
            ("retried", "circuit_open"),
            // The newest 3 of the bucket's 4 refusals are kept.
            ("circuit_open", "circuit_open"),
            ("circuit_open", "circuit_open"),
            ("circuit_open", "circuit_open"),
        ]
    );
}

#[test]
fn the_series_shows_an_outage_step_by_step_and_examples_say_when_how_long_and_how() {
    // 30 s of calls, one every 2 s: those in 10..20 s fail (two give-ups, then the open circuit
    // refuses the rest), the others succeed at once; in steps of 10 s.
    let mut spans = Vec::new();
    for i in 0..15u32 {
        let at = u64::from(i) * 2;
        let outcome_text = match at {
            10 | 12 => "exhausted",
            14..=19 => "circuit_open",
            _ => "success",
        };
        let mut call = span(0x40 + i, 1u32, "fetch")
            .service("shop")
            .ns(at * 1_000_000_000, at * 1_000_000_000 + 250_000_000)
            .build();
        call = outcome(call, outcome_text);
        if outcome_text == "exhausted" {
            call = with(call, "retry.attempt", AttrValue::Int(2));
            call.status.code = otelscope_app::model::StatusCode::Error;
        }
        spans.push(call);
    }
    let answer = check_by(&[&spans], 10_000_000_000);
    assert_eq!(answer.step_ns, 10_000_000_000);
    let [fetch] = &answer.operations[..] else { panic!("{answer:?}") };
    let s = 1_000_000_000;
    let steps: Vec<(u64, u64, u64, u64, u64)> = fetch
        .series
        .iter()
        .map(|p| (p.time_ns / s, p.calls, p.resends, p.give_ups, p.circuit_open))
        .collect();
    assert_eq!(steps, [(0, 5, 0, 0, 0), (10, 5, 4, 2, 3), (20, 5, 0, 0, 0)]);
    // In one 30 s step the same sums.
    let whole = check_by(&[&spans], 30_000_000_000);
    let p = &whole.operations[0].series;
    assert_eq!(p.len(), 1);
    assert_eq!(
        (p[0].time_ns, p[0].calls, p[0].resends, p[0].give_ups, p[0].circuit_open),
        (0, 15, 4, 2, 3)
    );
    // The examples: newest first per kind, with start, duration and outcome.
    let gave_up: Vec<(u64, Option<u64>, &str)> = fetch
        .example_calls
        .iter()
        .filter(|e| e.kind == otelscope_app::model::RetryExampleKind::GaveUp)
        .map(|e| (e.start_ns / s, e.duration_ns, e.outcome.as_str()))
        .collect();
    assert_eq!(
        gave_up,
        [(12, Some(250_000_000), "exhausted"), (10, Some(250_000_000), "exhausted")]
    );
    assert_eq!(fetch.examples.gave_up, vec![trace(0x46), trace(0x45)]);
}
