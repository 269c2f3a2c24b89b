//! Cases on the log histogram over long ranges and steps of 10 s and more (the SQLite store
//! answers those from its rollup of whole 10 s cells and counts only the cells a bucket's edge
//! cuts from the records), and on leaving services out (`LogQuery::exclude_services`).

use std::collections::BTreeMap;

use otelscope_app::model::{BandCount, FacetValue, LogHistogram, LogRecord, Scope, SeverityBand};
use otelscope_server::store::{LogHistogramQuery, LogQuery, Retention, Store, WriteBatch};

use super::{store_batch, text, T};

const S: u64 = 1_000_000_000;

fn rec(time_ns: u64, severity: i32, service: &str, body: &str) -> LogRecord {
    LogRecord {
        time_ns,
        observed_time_ns: time_ns,
        severity_number: severity,
        severity_text: String::new(),
        body: text(body),
        attributes: vec![otelscope_app::model::KeyValue { key: "k".into(), value: text("v") }],
        trace_id: None,
        span_id: None,
        event_name: String::new(),
        service: service.into(),
        resource: Vec::new(),
        scope: Scope::default(),
    }
}

/// Record `k` of the spread: every 3.7 s from `T`, severities 9, 13, 17 in turn, services
/// `web` and `db` in turn.
fn spread(k: u64) -> LogRecord {
    let severity = [9, 13, 17][(k % 3) as usize];
    rec(T + k * 3_700_000_000, severity, ["web", "db"][(k % 2) as usize], &format!("r{k}"))
}

fn all() -> LogQuery {
    LogQuery { limit: 100, ..LogQuery::default() }
}

/// The buckets `records` make, counted here one by one.
fn by_hand(records: &[LogRecord], since: u64, until: u64, step: u64) -> Vec<Vec<BandCount>> {
    let steps = (until - since).div_ceil(step) as usize;
    let mut counts: BTreeMap<(usize, SeverityBand), u64> = BTreeMap::new();
    for r in records.iter().filter(|r| r.time_ns >= since && r.time_ns < until) {
        let bucket = ((r.time_ns - since) / step) as usize;
        *counts.entry((bucket, SeverityBand::of(r.severity_number))).or_default() += 1;
    }
    let mut buckets = vec![Vec::new(); steps];
    for ((bucket, band), count) in counts {
        buckets[bucket].push(BandCount { band, count });
    }
    buckets
}

fn counts(h: &LogHistogram) -> Vec<Vec<BandCount>> {
    h.buckets.iter().map(|b| b.counts.clone()).collect()
}

fn histogram(store: &dyn Store, logs: LogQuery, since: u64, until: u64, step: u64) -> LogHistogram {
    let query = LogHistogramQuery { logs, since_ns: since, until_ns: until, step_ns: step };
    store.log_histogram(&query).unwrap()
}

fn store_logs(store: &dyn Store, received_ns: u64, logs: Vec<LogRecord>) {
    store_batch(store, WriteBatch { received_ns, logs, ..WriteBatch::default() });
}

pub fn log_histogram_over_long_steps_counts_every_record_once(store: &dyn Store) {
    // 200 records over 740 s, in two receipts.
    let first: Vec<LogRecord> = (0..100).map(spread).collect();
    let second: Vec<LogRecord> = (100..200).map(spread).collect();
    store_logs(store, T, first.clone());
    store_logs(store, T + 100, second.clone());
    let every: Vec<LogRecord> = first.iter().chain(&second).cloned().collect();
    // Edges on cells, edges inside cells, a range starting and ending inside cells, a step
    // of exactly one cell and one under it.
    for (since, until, step) in [
        (T, T + 740 * S, 60 * S),
        (T + 5 * S, T + 305 * S, 60 * S),
        (T + 3 * S + 7, T + 700 * S + 11, 45 * S + 1),
        (T + 1, T + 200 * S, 10 * S),
        (T, T + 100 * S, 7 * S),
        (T + 50 * S, T + 52 * S, 60 * S),
    ] {
        let h = histogram(store, all(), since, until, step);
        assert_eq!(counts(&h), by_hand(&every, since, until, step), "{since} {until} {step}");
    }
    let (since, until, step) = (T + 5 * S, T + 605 * S, 30 * S);
    let h = histogram(store, all(), since, until, step);
    let total: u64 = h.buckets.iter().flat_map(|b| &b.counts).map(|c| c.count).sum();
    // Records at 3.7 s steps from T: k = 2 (7.4 s) to k = 163 (603.1 s).
    assert_eq!(total, 162);
    // A text filter counts record by record: the same answer.
    let with_attr = LogQuery { attrs: vec![("k".into(), "v".into())], ..all() };
    assert_eq!(counts(&histogram(store, with_attr, since, until, step)), counts(&h));
    // Service and severity select in the rollup too.
    let web_warn = LogQuery { service: Some("web".into()), min_severity: Some(13), ..all() };
    let kept: Vec<LogRecord> =
        every.iter().filter(|r| r.service == "web" && r.severity_number >= 13).cloned().collect();
    let h = histogram(store, web_warn, since, until, step);
    assert_eq!(counts(&h), by_hand(&kept, since, until, step));
    let not_db = LogQuery { exclude_services: vec!["db".into()], ..all() };
    let web: Vec<LogRecord> = every.iter().filter(|r| r.service == "web").cloned().collect();
    let h = histogram(store, not_db, since, until, step);
    assert_eq!(counts(&h), by_hand(&web, since, until, step));
    // Retention takes the first receipt's records out of the counts.
    let age = Retention { max_age_ns: 50, ..Retention::UNBOUNDED };
    store.enforce_retention(age, T + 100, 1_000).unwrap();
    let h = histogram(store, all(), T, T + 740 * S, 60 * S);
    assert_eq!(counts(&h), by_hand(&second, T, T + 740 * S, 60 * S));
    // Searches bounded by time still find what is left, and only that.
    let r150 = LogQuery {
        text: otelscope_app::model::params::text_terms("r150 OR r50"),
        since_ns: Some(T),
        until_ns: Some(T + 740 * S),
        ..all()
    };
    let found: Vec<String> = store
        .log_page(&r150)
        .unwrap()
        .logs
        .iter()
        .map(|e| otelscope_app::model::value_text(&e.record.body))
        .collect();
    assert!(found.is_empty(), "two words must both be there: {found:?}");
    let r150 = LogQuery { text: otelscope_app::model::params::text_terms("r150"), ..r150 };
    assert_eq!(store.log_page(&r150).unwrap().matched, 1);
    let r50 = LogQuery { text: otelscope_app::model::params::text_terms("r50"), ..r150 };
    assert_eq!(store.log_page(&r50).unwrap().matched, 0, "dropped by retention");
}

pub fn excluded_services_are_left_out_everywhere(store: &dyn Store) {
    let logs = vec![
        rec(T + S, 9, "web", "a cart"),
        rec(T + 2 * S, 17, "db", "b cart"),
        rec(T + 3 * S, 13, "queue", "c cart"),
        rec(T + 4 * S, 9, "web", "d"),
    ];
    store_logs(store, T, logs);
    let body = |q: &LogQuery| -> Vec<String> {
        let page = store.log_page(q).unwrap();
        page.logs.iter().map(|e| otelscope_app::model::value_text(&e.record.body)).collect()
    };
    let not_web = LogQuery { exclude_services: vec!["web".into()], ..all() };
    assert_eq!(body(&not_web), ["c cart", "b cart"]);
    let neither = LogQuery { exclude_services: vec!["web".into(), "db".into()], ..all() };
    assert_eq!(body(&neither), ["c cart"]);
    let unknown = LogQuery { exclude_services: vec!["nobody".into()], ..all() };
    assert_eq!(store.log_page(&unknown).unwrap().matched, 4, "an unknown name leaves nothing out");
    let words = otelscope_app::model::params::text_terms("cart -\"b cart\"");
    let text = LogQuery { text: words, ..not_web.clone() };
    assert_eq!(body(&text), ["c cart"], "with words and an excluded phrase");
    let facets = store.log_facets(&not_web).unwrap();
    let f = |value: &str, count| FacetValue { value: value.into(), count };
    assert_eq!(facets.services, [f("db", 1), f("queue", 1)]);
    let h = histogram(store, not_web, T, T + 60 * S, 60 * S);
    let c = |band, count| BandCount { band, count };
    assert_eq!(counts(&h), [vec![c(SeverityBand::Warn, 1), c(SeverityBand::Error, 1)]]);
}
