//! Retention on real SQLite: by age counted from receipt, by span count and by bytes, whole
//! traces oldest received first, with the service stats, logs and points that go with them.

use otelscope_app::model::{AttrValue, KeyValue};

use super::super::super::request::{LogQuery, TraceQuery};
use super::super::retention::used_bytes;
use super::*;

#[test]
fn service_stats_follow_retention() {
    let store = SqliteStore::in_memory().unwrap();
    // An old trace of slow, failing spans (and the only spans of "batch"), then a new one of
    // fast spans.
    let mut old: Vec<Span> = (1..=10u8)
        .map(|i| {
            let mut s = span(1, i, "slow")
                .parent(1)
                .kind(SpanKind::Server)
                .service("api")
                .ns(1_000, 1_000 + 100_000_000)
                .build();
            s.status.code = StatusCode::Error;
            s
        })
        .collect();
    old[9].service = "batch".into();
    write(&store, vec![batch(old)]);
    let new: Vec<Span> = (1..=10u8)
        .map(|i| {
            span(2, i, "fast")
                .parent(1)
                .kind(SpanKind::Server)
                .service("api")
                .ns(5_000, 6_000)
                .build()
        })
        .collect();
    write(&store, vec![batch(new)]);
    let before = store.services().unwrap();
    assert_eq!(before.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(), ["api", "batch"]);
    assert_eq!((before[0].span_count, before[0].error_count), (19, 9));
    assert!(before[0].p99_ns.unwrap() > 90_000_000);

    let keep_ten = Retention { max_spans: 10, ..Retention::UNBOUNDED };
    assert_eq!(store.enforce_retention(keep_ten, 10_000, 1_000).unwrap(), 10);
    let after = store.services().unwrap();
    assert_eq!(
        after,
        vec![ServiceSummary {
            span_count: 10,
            p50_ns: Some(1_004),
            p95_ns: Some(1_004),
            p99_ns: Some(1_004),
            ..ServiceSummary::new("api")
        }],
        "the old trace's spans, errors and durations are gone, and so is \"batch\""
    );
}

#[test]
fn retention_drops_oldest_whole_traces_first() {
    let store = SqliteStore::in_memory().unwrap();
    for t in 1..=5u8 {
        let start = u64::from(t) * 1_000;
        write(
            &store,
            vec![batch(vec![
                span(t, 1, "root")
                    .kind(SpanKind::Server)
                    .service("api")
                    .ns(start, start + 10)
                    .build(),
                span(t, 2, "child")
                    .parent(1)
                    .kind(SpanKind::Server)
                    .service("api")
                    .ns(start, start + 5)
                    .build(),
            ])],
        );
    }
    assert_eq!(store.total_spans(), 10);
    let by_count = Retention { max_spans: 6, ..Retention::UNBOUNDED };
    assert_eq!(store.enforce_retention(by_count, 10_000, 1_000).unwrap(), 4);
    assert_eq!(store.total_spans(), 6);
    assert_eq!(ids(&store.search_traces(&all_traces()).unwrap()), ["05", "04", "03"]);
    assert!(whole_trace(&store, &format!("{:032x}", 1)).unwrap().is_empty());

    let by_age = Retention { max_age_ns: 1_500, ..Retention::UNBOUNDED };
    assert_eq!(
        store.enforce_retention(by_age, 5_500, 1_000).unwrap(),
        2,
        "the trace starting before 4000 goes"
    );
    assert_eq!(ids(&store.search_traces(&all_traces()).unwrap()), ["05", "04"]);
    assert_eq!(store.services().unwrap()[0].span_count, 4);
}

#[test]
fn age_counts_from_receipt_not_from_the_senders_clock() {
    let store = SqliteStore::in_memory().unwrap();
    let now = 1_800_000_000 * 1_000_000_000u64; // 2027
    let year_2018 = 1_530_000_000 * 1_000_000_000u64;
    let year_2262 = i64::MAX as u64 - 1;
    // Replayed 2018 data, received now; and a span dated 2262, received 30 days ago.
    let mut replayed = batch(vec![span(1, 1, "replayed")
        .kind(SpanKind::Server)
        .service("api")
        .ns(year_2018, year_2018 + 5)
        .build()]);
    replayed.received_ns = now;
    let mut future = batch(vec![span(2, 1, "future")
        .kind(SpanKind::Server)
        .service("api")
        .ns(year_2262, year_2262)
        .build()]);
    future.received_ns = now - 30 * DAY_NS;
    // In the order of receipt, as the writer takes them (it keeps receipts increasing).
    write(&store, vec![future, replayed]);
    let week = Retention { max_age_ns: 7 * DAY_NS, ..Retention::UNBOUNDED };
    assert_eq!(store.enforce_retention(week, now, 1_000).unwrap(), 1);
    let left = store.search_traces(&all_traces()).unwrap();
    assert_eq!(ids(&left), ["01"], "the 2018 span stays, the 2262 one received a month ago goes");
}

#[test]
fn logs_and_points_age_from_receipt_too() {
    use otelscope_app::model::LogRecord;
    let store = SqliteStore::in_memory().unwrap();
    let now = 1_800_000_000 * 1_000_000_000u64;
    let log = |time_ns: u64| LogRecord {
        time_ns,
        observed_time_ns: 0,
        severity_number: 9,
        severity_text: String::new(),
        body: AttrValue::String("hello".into()),
        attributes: Vec::new(),
        trace_id: None,
        span_id: None,
        event_name: String::new(),
        service: "s".into(),
        resource: Vec::new(),
        scope: Default::default(),
    };
    let old_clock = WriteBatch { received_ns: now, logs: vec![log(1)], ..WriteBatch::default() };
    let received_long_ago = WriteBatch {
        received_ns: now - 30 * DAY_NS,
        logs: vec![log(now)],
        ..WriteBatch::default()
    };
    write(&store, vec![received_long_ago, old_clock]);
    let week = Retention { max_age_ns: 7 * DAY_NS, ..Retention::UNBOUNDED };
    store.enforce_retention(week, now, 1_000).unwrap();
    let kept = store.log_page(&LogQuery { limit: 100, ..LogQuery::default() }).unwrap().logs;
    assert_eq!(kept.iter().map(|l| l.record.time_ns).collect::<Vec<_>>(), [1]);
}

#[test]
fn the_size_bound_drops_the_oldest_received_until_it_holds() {
    let store = SqliteStore::in_memory().unwrap();
    // What the schema alone takes (every table and index has a page), which no retention frees.
    let empty = used_bytes(&store.writer().unwrap()).unwrap();
    for t in 1..=200u8 {
        let spans = (1..=20u8)
            .map(|i| {
                let mut s = span(t, i, "op")
                    .parent(1)
                    .kind(SpanKind::Server)
                    .service("api")
                    .ns(u64::from(t), u64::from(t) + 1)
                    .build();
                s.attributes = vec![KeyValue {
                    key: "noise".into(),
                    value: AttrValue::String(format!(
                        "{:x}",
                        (t as u64 * 1_000_003 + i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)
                    )),
                }];
                s
            })
            .collect();
        let mut b = batch(spans);
        b.received_ns = u64::from(t) * 1_000;
        write(&store, vec![b]);
    }
    let used = {
        let conn = store.writer().unwrap();
        used_bytes(&conn).unwrap()
    };
    // The schema plus half of the data.
    let bound = empty + (used - empty) / 2;
    let half = Retention { max_bytes: bound, ..Retention::UNBOUNDED };
    for _ in 0..10 {
        store.enforce_retention(half, 1_000_000, 50_000).unwrap();
    }
    let after = used_bytes(&store.writer().unwrap()).unwrap();
    // Within a few pages of the bound: rows deleted from a page that still holds others free
    // no page.
    let slack = 4 * 4096;
    assert!(after <= bound + slack, "{after} > {bound} + {slack}");
    let left = store.search_traces(&TraceQuery { limit: 1000, ..all_traces() }).unwrap();
    // About half the traces stay: pages are not all equally full, so not exactly half.
    assert!((60..=140).contains(&left.len()), "{} traces left", left.len());
    assert!(
        left.iter().all(|t| t.trace_id.ends_with(&format!("{:02x}", 200u8)) || {
            let n = u8::from_str_radix(&t.trace_id[30..], 16).unwrap();
            n > (200 - left.len()) as u8
        }),
        "the newest are kept"
    );
}
