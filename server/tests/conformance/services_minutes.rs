//! Rows of a minute or more (issue 25: RED and the map over hours): whatever grain a query
//! allows (`Grain`), the rows sum to what the 10 s rows say, per step and over the range, also
//! right after a retention pass (which may sum minutes), after a late span lands in a minute
//! already summed, for a range that starts and ends inside a minute, and after retention.

use std::collections::BTreeMap;

use otelscope_app::model::fixture::span;
use otelscope_app::model::{Span, SpanKind};
use otelscope_server::store::{Grain, Histogram, MapQuery, RedQuery, Retention, Store};

use super::store_spans;

const S: u64 = 1_000_000_000;
/// A minute's start (1,020 s after the epoch).
const M: u64 = 1_020 * S;

/// Per (service, name, kind, step): requests, errors, summed duration and the merged
/// histogram's count, p50 and p99.
type Sums = BTreeMap<(String, String, String, u64), (u64, u64, u64, u64, Option<u64>, Option<u64>)>;

fn red_sums(store: &dyn Store, since_ns: u64, until_ns: u64, grain: Grain, step: u64) -> Sums {
    let rows = store.red(&RedQuery { service: None, since_ns, until_ns, grain }).unwrap();
    let mut hists: BTreeMap<_, (u64, u64, u64, Histogram)> = BTreeMap::new();
    for r in rows {
        assert!(r.bucket_ns >= since_ns - since_ns % (10 * S) && r.bucket_ns < until_ns, "{r:?}");
        let key = (r.service, r.name, r.kind.name().to_owned(), r.bucket_ns / step);
        let sum = hists.entry(key).or_default();
        sum.0 += r.requests;
        sum.1 += r.errors;
        sum.2 += r.duration_ns;
        sum.3.merge_encoded(&r.latency);
    }
    hists
        .into_iter()
        .map(|(k, (q, e, d, h))| (k, (q, e, d, h.count(), h.quantile(0.5), h.quantile(0.99))))
        .collect()
}

fn edge_sums(store: &dyn Store, since_ns: u64, until_ns: u64, grain: Grain) -> Sums {
    let rows = store.service_map(&MapQuery { since_ns, until_ns, grain }).unwrap();
    let mut hists: BTreeMap<_, (u64, u64, Histogram)> = BTreeMap::new();
    for e in rows.edges {
        let sum = hists.entry((e.source, e.target, e.kind.as_str().to_owned(), 0)).or_default();
        sum.0 += e.calls;
        sum.1 += e.errors;
        sum.2.merge_encoded(&e.latency);
    }
    hists
        .into_iter()
        .map(|(k, (c, e, h))| (k, (c, e, 0, h.count(), h.quantile(0.5), h.quantile(0.99))))
        .collect()
}

/// Trace `n`: a `web` server span at `at` (failing when `fail`) calling `api`, `dur` ns long.
fn call(n: u32, at: u64, dur: u64, fail: bool) -> Vec<Span> {
    let root = span(n, 1u32, "GET /").service("web").kind(SpanKind::Server).ns(at, at + dur);
    let root = if fail { root.error("boom") } else { root };
    vec![
        root.build(),
        span(n, 2u32, "GET /items")
            .parent(1u32)
            .service("web")
            .kind(SpanKind::Client)
            .ns(at + 1, at + dur - 1)
            .build(),
        span(n, 3u32, "GET /items")
            .parent(2u32)
            .service("api")
            .kind(SpanKind::Server)
            .ns(at + 2, at + dur - 2)
            .build(),
    ]
}

/// Every grain answers the 10 s rows' sums over `[since, until)`: per 60 s and 120 s step and
/// over the whole range, RED rows and edges.
fn every_grain_agrees(store: &dyn Store, since: u64, until: u64, what: &str) {
    for step in [60 * S, 120 * S] {
        let fine = red_sums(store, since, until, Grain::Buckets, step);
        assert!(!fine.is_empty(), "{what}: no rows");
        assert_eq!(red_sums(store, since, until, Grain::Steps(step), step), fine, "{what}: {step}");
    }
    let whole = red_sums(store, since, until, Grain::Buckets, u64::MAX);
    assert_eq!(red_sums(store, since, until, Grain::Whole, u64::MAX), whole, "{what}: whole");
    let edges = edge_sums(store, since, until, Grain::Buckets);
    assert!(!edges.is_empty(), "{what}: no edges");
    assert_eq!(edge_sums(store, since, until, Grain::Whole), edges, "{what}: edges");
}

pub fn rows_of_any_grain_sum_to_the_ten_second_rows(store: &dyn Store) {
    // Five minutes of calls, two in some buckets, a failing one in the third minute.
    for (i, at) in [5, 15, 16, 70, 130, 135, 200, 290].into_iter().enumerate() {
        let n = i as u32 + 1;
        store_spans(store, M + i as u64, call(n, M + at * S, 40 + 10 * n as u64, at == 130));
    }
    let end = M + 300 * S;
    every_grain_agrees(store, M, end, "as written");
    // A retention pass an hour later keeps everything (no bound is over) and may sum minutes.
    let later = M + 3_600 * S;
    assert_eq!(store.enforce_retention(Retention::UNBOUNDED, later, 1_000).unwrap(), 0);
    every_grain_agrees(store, M, end, "after a pass");
    // The known answer over the range: 8 calls, one failed.
    let whole = red_sums(store, M, end, Grain::Whole, u64::MAX);
    let root = &whole[&("web".to_owned(), "GET /".to_owned(), "server".to_owned(), 0)];
    assert_eq!((root.0, root.1, root.3), (8, 1, 8));
    // A late span in a minute already summed counts at once.
    store_spans(store, later, call(20, M + 25 * S, 13, true));
    every_grain_agrees(store, M, end, "a late span");
    let whole = red_sums(store, M, end, Grain::Whole, u64::MAX);
    let root = &whole[&("web".to_owned(), "GET /".to_owned(), "server".to_owned(), 0)];
    assert_eq!((root.0, root.1, root.3), (9, 2, 9));
    // A range that starts and ends inside minutes, after another pass.
    store.enforce_retention(Retention::UNBOUNDED, later + 1, 1_000).unwrap();
    every_grain_agrees(store, M + 20 * S, M + 205 * S, "inside minutes");
    let part = red_sums(store, M + 20 * S, M + 205 * S, Grain::Whole, u64::MAX);
    let root = &part[&("web".to_owned(), "GET /".to_owned(), "server".to_owned(), 0)];
    assert_eq!((root.0, root.1), (5, 2), "25 s (late), 70 s, 130 s, 135 s, 200 s");
    // Past the age bound everything goes, whatever the grain.
    let retention = Retention { max_age_ns: 600 * S, ..Retention::UNBOUNDED };
    store.enforce_retention(retention, later + 3_600 * S, 1_000).unwrap();
    assert!(red_sums(store, 0, later * 2, Grain::Whole, u64::MAX).is_empty());
    assert!(edge_sums(store, 0, later * 2, Grain::Whole).is_empty());
}
