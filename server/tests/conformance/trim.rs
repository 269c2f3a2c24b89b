//! Cases on retention: by age from receipt, by span count within a budget per call, and by
//! bytes; whole traces go, oldest received first, and logs go by the same age.

use otelscope_app::model::fixture::span;
use otelscope_app::model::{LogRecord, Scope};
use otelscope_server::store::{LogQuery, Retention, Store, WriteBatch};

use super::{store_batch, store_spans, text, tid, T};

/// Trace `trace` of `spans` spans received at `received_ns`, started long before (retention
/// counts from receipt, not from what the sender wrote).
fn trace(store: &dyn Store, trace: u32, spans: u32, received_ns: u64) {
    let spans =
        (1..=spans).map(|id| span(trace, id, "work").service("web").ns(1, 2).build()).collect();
    store_spans(store, received_ns, spans);
}

fn kept(store: &dyn Store, traces: std::ops::RangeInclusive<u32>) -> Vec<Option<u64>> {
    traces.map(|t| store.trace_version(&tid(t)).unwrap()).collect()
}

pub fn retention_by_receipt(store: &dyn Store) {
    trace(store, 1, 2, T);
    let log = LogRecord {
        time_ns: 1,
        observed_time_ns: 1,
        severity_number: 9,
        severity_text: String::new(),
        body: text("old"),
        attributes: Vec::new(),
        trace_id: None,
        span_id: None,
        event_name: String::new(),
        service: "web".into(),
        resource: Vec::new(),
        scope: Scope::default(),
    };
    store_batch(store, WriteBatch { received_ns: T, logs: vec![log], ..WriteBatch::default() });
    trace(store, 2, 1, T + 1_000);
    let week = Retention { max_age_ns: 500, ..Retention::UNBOUNDED };
    // Nothing is over yet.
    assert_eq!(store.enforce_retention(week, T + 400, 1_000).unwrap(), 0);
    assert_eq!(kept(store, 1..=2), [Some(2), Some(1)]);
    // Trace 1 and the log were received 1,200 ns before; trace 2 200 ns before.
    assert_eq!(store.enforce_retention(week, T + 1_200, 1_000).unwrap(), 2);
    assert_eq!(kept(store, 1..=2), [None, Some(1)]);
    assert!(store
        .log_page(&LogQuery { limit: 10, ..LogQuery::default() })
        .unwrap()
        .logs
        .is_empty());
    assert_eq!(store.enforce_retention(week, T + 1_200, 1_000).unwrap(), 0);
}

pub fn retention_by_count_goes_by_budget(store: &dyn Store) {
    for t in 1..=4 {
        trace(store, t, 1, T + u64::from(t));
    }
    let two = Retention { max_spans: 2, ..Retention::UNBOUNDED };
    // Two traces over, one span a call: the oldest received first.
    assert_eq!(store.enforce_retention(two, T + 10, 1).unwrap(), 1);
    assert_eq!(kept(store, 1..=4), [None, Some(1), Some(1), Some(1)]);
    assert_eq!(store.enforce_retention(two, T + 10, 1).unwrap(), 1);
    assert_eq!(kept(store, 1..=4), [None, None, Some(1), Some(1)]);
    assert_eq!(store.enforce_retention(two, T + 10, 1).unwrap(), 0);
}

pub fn retention_by_bytes(store: &dyn Store) {
    trace(store, 1, 3, T);
    trace(store, 2, 2, T + 1);
    // No store fits in one byte: everything goes, oldest received first, within the budget.
    let tiny = Retention { max_bytes: 1, ..Retention::UNBOUNDED };
    assert_eq!(store.enforce_retention(tiny, T + 2, 3).unwrap(), 3);
    assert_eq!(kept(store, 1..=2), [None, Some(2)]);
    assert_eq!(store.enforce_retention(tiny, T + 2, 3).unwrap(), 2);
    assert_eq!(kept(store, 1..=2), [None, None]);
    assert_eq!(store.enforce_retention(tiny, T + 2, 3).unwrap(), 0);
}

/// Age retention across days: a trace received over a day before goes, one received since
/// stays, and the services' counts follow (a store may drop whole days of receipt, so the
/// times here are days apart).
pub fn retention_by_age_across_days(store: &dyn Store) {
    const DAY: u64 = 86_400_000_000_000;
    trace(store, 1, 2, T);
    trace(store, 2, 1, T + 2 * DAY);
    let day = Retention { max_age_ns: DAY, ..Retention::UNBOUNDED };
    assert_eq!(store.enforce_retention(day, T + DAY, 1_000).unwrap(), 0, "nothing over yet");
    assert_eq!(store.enforce_retention(day, T + 2 * DAY + 1, 1_000).unwrap(), 2);
    assert_eq!(kept(store, 1..=2), [None, Some(1)]);
    let services = store.services().unwrap();
    assert_eq!(
        services.iter().map(|s| (s.name.as_str(), s.span_count)).collect::<Vec<_>>(),
        [("web", 1)]
    );
    assert_eq!(store.enforce_retention(day, T + 2 * DAY + 1, 1_000).unwrap(), 0);
}
