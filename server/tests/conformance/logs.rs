//! Cases on log records: every `Store` log method (`log_page` with each filter and both
//! cursors, `log_histogram`, `log_facets`, `log_context`, `log_sample`), otelscope's own
//! services, retention, and records a hostile or broken sender makes (huge bodies, thousands of
//! attributes, odd severities, structured bodies), all stored and found as text.

use otelscope_app::model::{
    AttrValue, BandCount, FacetValue, KeyValue, LogPage, LogRecord, Scope, SeverityBand,
    MAX_LOG_MATCHED,
};
use otelscope_server::store::{
    LogCursor, LogHistogramQuery, LogQuery, Retention, Store, TextTerm, WriteBatch, MAX_FACET_SCAN,
};

use super::{store_batch, text, tid, T};

/// A record at `T + at` of `service` with severity `severity` and body `body`.
fn rec(at: u64, severity: i32, service: &str, body: &str) -> LogRecord {
    LogRecord {
        time_ns: T + at,
        observed_time_ns: T + at,
        severity_number: severity,
        severity_text: String::new(),
        body: text(body),
        attributes: Vec::new(),
        trace_id: None,
        span_id: None,
        event_name: String::new(),
        service: service.into(),
        resource: vec![KeyValue { key: "service.name".into(), value: text(service) }],
        scope: Scope::default(),
    }
}

fn with_attr(mut record: LogRecord, key: &str, value: AttrValue) -> LogRecord {
    record.attributes.push(KeyValue { key: key.into(), value });
    record
}

fn in_trace(mut record: LogRecord, trace: u32, span: Option<&str>) -> LogRecord {
    record.trace_id = Some(tid(trace));
    record.span_id = span.map(str::to_owned);
    record
}

fn store_logs(store: &dyn Store, received_ns: u64, logs: Vec<LogRecord>) {
    store_batch(store, WriteBatch { received_ns, logs, ..WriteBatch::default() });
}

fn all() -> LogQuery {
    LogQuery { limit: 100, ..LogQuery::default() }
}

/// The bodies of a page, in answer order.
fn bodies(page: &LogPage) -> Vec<String> {
    page.logs.iter().map(|e| otelscope_app::model::value_text(&e.record.body)).collect()
}

fn page(store: &dyn Store, query: LogQuery) -> Vec<String> {
    bodies(&store.log_page(&query).unwrap())
}

fn words(q: &str) -> Vec<TextTerm> {
    otelscope_app::model::params::text_terms(q)
}

/// Six records of two services: `a` at 1 (info) … `f` at 6.
fn six(store: &dyn Store) {
    let logs = vec![
        in_trace(rec(1, 9, "web", "a user 42 logged in"), 1, Some("00000000000000a1")),
        with_attr(rec(2, 17, "web", "b payment failed: timeout"), "http.route", text("/pay")),
        in_trace(rec(3, 13, "db", "c slow query on users"), 1, Some("00000000000000a2")),
        with_attr(rec(4, 5, "db", "d cache miss for user 7"), "http.route", text("/users")),
        with_attr(
            with_attr(rec(5, 21, "web", "e panic: user 42 not found"), "retry", AttrValue::Int(3)),
            "http.route",
            text("/pay"),
        ),
        in_trace(rec(6, 0, "web", "f no severity"), 2, None),
    ];
    store_logs(store, T, logs);
}

pub fn log_pages_are_newest_first_with_every_filter(store: &dyn Store) {
    assert_eq!(store.log_page(&all()).unwrap(), LogPage::default(), "empty store");
    six(store);
    let answer = store.log_page(&all()).unwrap();
    assert_eq!(bodies(&answer)[0], "f no severity");
    assert_eq!(bodies(&answer).len(), 6);
    assert_eq!((answer.matched, answer.matched_capped), (6, false));
    assert_eq!((answer.older.as_deref(), answer.newer.as_deref()), (None, None));
    assert_eq!(
        answer.logs[5].record,
        in_trace(rec(1, 9, "web", "a user 42 logged in"), 1, Some("00000000000000a1")),
        "kept as given"
    );
    let first = |q: LogQuery| page(store, q).iter().map(|b| b[..1].to_owned()).collect::<String>();
    assert_eq!(first(LogQuery { service: Some("web".into()), ..all() }), "feba");
    assert_eq!(first(LogQuery { service: Some("nobody".into()), ..all() }), "");
    assert_eq!(first(LogQuery { min_severity: Some(13), ..all() }), "ecb");
    assert_eq!(first(LogQuery { min_severity: Some(0), ..all() }), "fedcba");
    assert_eq!(first(LogQuery { trace_id: Some(tid(1)), ..all() }), "ca");
    assert_eq!(
        first(LogQuery {
            trace_id: Some(tid(1)),
            span_id: Some("00000000000000a2".into()),
            ..all()
        }),
        "c"
    );
    assert_eq!(first(LogQuery { span_id: Some("00000000000000a1".into()), ..all() }), "a");
    assert_eq!(first(LogQuery { trace_id: Some(tid(9)), ..all() }), "");
    // since inclusive, until exclusive.
    assert_eq!(first(LogQuery { since_ns: Some(T + 2), until_ns: Some(T + 4), ..all() }), "cb");
    assert_eq!(
        first(LogQuery { attrs: vec![("http.route".into(), "/pay".into())], ..all() }),
        "eb"
    );
    assert_eq!(first(LogQuery { attrs: vec![("retry".into(), "3".into())], ..all() }), "e");
    assert_eq!(
        first(LogQuery {
            attrs: vec![("http.route".into(), "/pay".into()), ("retry".into(), "3".into())],
            ..all()
        }),
        "e"
    );
    assert_eq!(first(LogQuery { attrs: vec![("http.route".into(), "/pa".into())], ..all() }), "");
    assert_eq!(first(LogQuery { attrs: vec![("route".into(), "/pay".into())], ..all() }), "");
    // Everything at once.
    let narrow = LogQuery {
        service: Some("web".into()),
        min_severity: Some(17),
        text: words("user"),
        attrs: vec![("http.route".into(), "/pay".into())],
        since_ns: Some(T + 5),
        until_ns: Some(T + 6),
        ..all()
    };
    assert_eq!(first(narrow), "e");
    let two = store.log_page(&LogQuery { limit: 2, ..all() }).unwrap();
    assert_eq!((bodies(&two).len(), two.matched), (2, 6));
    assert!(two.older.is_some() && two.newer.is_none());
}

pub fn log_text_search_takes_words_phrases_and_exclusions(store: &dyn Store) {
    six(store);
    let q = |q: &str| {
        page(store, LogQuery { text: words(q), ..all() })
            .iter()
            .map(|b| b[..1].to_owned())
            .collect::<String>()
    };
    assert_eq!(q("user"), "eda", "whole words: not `users`");
    assert_eq!(q("USER 42"), "ea", "words are AND-ed, case folded");
    assert_eq!(q("\"user 42\""), "ea");
    assert_eq!(q("\"42 user\""), "", "a phrase keeps its order");
    assert_eq!(q("user -42"), "d");
    assert_eq!(q("-user"), "fcb");
    assert_eq!(q("-\"user 42\" -timeout"), "fdc");
    assert_eq!(q("timeout"), "b");
    assert_eq!(q("/pay"), "eb", "attribute values are searched too");
    assert_eq!(q("3"), "e");
    assert_eq!(q("nothing-like-this"), "");
    assert_eq!(q("!!!"), "fedcba", "a term with no word in it filters nothing");
    assert_eq!(q("\"it's\" \"a\"\"b\""), "", "quotes inside a term are text, not syntax");
}

pub fn log_cursors_page_both_ways_and_hold_while_records_arrive(store: &dyn Store) {
    // Ten records, two at each time: ties keep the order they were stored in (newest first).
    let logs = (0..10u64).map(|n| rec(n / 2, 9, "web", &format!("r{n}"))).collect();
    store_logs(store, T, logs);
    let two = |cursor: Option<&str>| LogQuery {
        limit: 3,
        cursor: cursor.map(|c| LogCursor::parse(c).expect("a cursor the store made")),
        ..all()
    };
    let p1 = store.log_page(&two(None)).unwrap();
    assert_eq!(bodies(&p1), ["r9", "r8", "r7"]);
    assert_eq!(p1.newer, None);
    // Records arriving now, newer and older than the page, move nothing.
    store_logs(store, T + 1, vec![rec(100, 9, "web", "late new"), rec(0, 9, "web", "late old")]);
    let p2 = store.log_page(&two(p1.older.as_deref())).unwrap();
    assert_eq!(bodies(&p2), ["r6", "r5", "r4"]);
    assert_eq!(p2.matched, 12);
    // "late old" shares r0's and r1's time and was stored after them: it comes first.
    let p3 = store.log_page(&two(p2.older.as_deref())).unwrap();
    assert_eq!(bodies(&p3), ["r3", "r2", "late old"]);
    let p4 = store.log_page(&two(p3.older.as_deref())).unwrap();
    assert_eq!(bodies(&p4), ["r1", "r0"]);
    assert_eq!(p4.older, None, "the oldest page");
    // Back the other way: the page before p4 is p3, before it p2 …
    let back = store.log_page(&two(p4.newer.as_deref())).unwrap();
    assert_eq!(bodies(&back), ["r3", "r2", "late old"]);
    let back = store.log_page(&two(back.newer.as_deref())).unwrap();
    assert_eq!(bodies(&back), ["r6", "r5", "r4"]);
    let back = store.log_page(&two(back.newer.as_deref())).unwrap();
    assert_eq!(bodies(&back), ["r9", "r8", "r7"]);
    let newest = store.log_page(&two(back.newer.as_deref())).unwrap();
    assert_eq!(bodies(&newest), ["late new"]);
    assert_eq!(newest.newer, None);
    assert!(newest.older.is_some());
    // Past the newest: empty, with the way back.
    let past = LogCursor { time_ns: T + 100, id: i64::MAX, older: false };
    let empty = store.log_page(&LogQuery { cursor: Some(past), ..two(None) }).unwrap();
    assert!(empty.logs.is_empty());
    assert_eq!(empty.older, Some(LogCursor { older: true, ..past }.encode()));
    assert_eq!(empty.newer, None);
    // A cursor with filters pages within them.
    let filtered = LogQuery { text: words("r3 OR r4"), ..two(None) };
    assert!(store.log_page(&filtered).unwrap().logs.is_empty(), "OR is a word here");
    let late = LogQuery { text: words("late"), limit: 1, ..all() };
    let first = store.log_page(&late).unwrap();
    assert_eq!((bodies(&first), first.matched), (vec!["late new".to_owned()], 2));
    let next = store
        .log_page(&LogQuery { cursor: first.older.as_deref().and_then(LogCursor::parse), ..late })
        .unwrap();
    assert_eq!(
        (bodies(&next), next.older, next.newer.is_some()),
        (vec!["late old".to_owned()], None, true)
    );
}

pub fn log_matched_is_exact_up_to_the_cap(store: &dyn Store) {
    let over = MAX_LOG_MATCHED as usize + 5;
    let logs: Vec<LogRecord> = (0..over).map(|n| rec(n as u64, 9, "web", "same words")).collect();
    store_logs(store, T, logs);
    let answer = store.log_page(&LogQuery { limit: 1, ..all() }).unwrap();
    assert_eq!((answer.matched, answer.matched_capped), (MAX_LOG_MATCHED, true));
    let some = LogQuery { since_ns: Some(T + over as u64 - 7), limit: 1, ..all() };
    let answer = store.log_page(&some).unwrap();
    assert_eq!((answer.matched, answer.matched_capped), (7, false));
    let sample = store.log_sample(&LogQuery { text: words("words"), ..all() }, 3).unwrap();
    assert_eq!(sample.total, over as u64, "the sample's total is exact");
    let facets = store.log_facets(&all()).unwrap();
    assert_eq!((facets.scanned, facets.sampled), (MAX_FACET_SCAN as u64, true));
    assert_eq!(facets.services, [FacetValue { value: "web".into(), count: MAX_FACET_SCAN as u64 }]);
}

pub fn log_histogram_counts_each_step_by_band(store: &dyn Store) {
    six(store);
    let query = LogHistogramQuery { logs: all(), since_ns: T, until_ns: T + 6, step_ns: 2 };
    let h = store.log_histogram(&query).unwrap();
    assert_eq!((h.since_ns, h.until_ns, h.step_ns), (T, T + 6, 2));
    let counts: Vec<(u64, Vec<BandCount>)> =
        h.buckets.iter().map(|b| (b.start_ns - T, b.counts.clone())).collect();
    let c = |band, count| BandCount { band, count };
    assert_eq!(
        counts,
        [
            (0, vec![c(SeverityBand::Info, 1)]),
            (2, vec![c(SeverityBand::Warn, 1), c(SeverityBand::Error, 1)]),
            (4, vec![c(SeverityBand::Debug, 1), c(SeverityBand::Fatal, 1)]),
        ],
        "until is exclusive: f at 6 is out"
    );
    let web = LogHistogramQuery {
        logs: LogQuery { service: Some("web".into()), text: words("user"), ..all() },
        since_ns: T,
        until_ns: T + 10,
        step_ns: 5,
    };
    let h = store.log_histogram(&web).unwrap();
    let counts: Vec<Vec<BandCount>> = h.buckets.iter().map(|b| b.counts.clone()).collect();
    assert_eq!(counts, [vec![c(SeverityBand::Info, 1)], vec![c(SeverityBand::Fatal, 1)]]);
    let empty = LogHistogramQuery { since_ns: T + 100, until_ns: T + 103, ..query.clone() };
    let h = store.log_histogram(&empty).unwrap();
    assert_eq!(h.buckets.len(), 2, "a partial last step is a bucket");
    assert!(h.buckets.iter().all(|b| b.counts.is_empty()));
    let unknown =
        LogHistogramQuery { logs: LogQuery { service: Some("x".into()), ..all() }, ..query };
    assert_eq!(store.log_histogram(&unknown).unwrap().buckets.len(), 3);
}

pub fn log_facets_count_services_severities_and_keys(store: &dyn Store) {
    six(store);
    let facets = store.log_facets(&all()).unwrap();
    let f = |value: &str, count| FacetValue { value: value.into(), count };
    assert_eq!(facets.services, [f("web", 4), f("db", 2)]);
    assert_eq!(
        facets.severities,
        [f("debug", 1), f("error", 1), f("fatal", 1), f("info", 1), f("unset", 1), f("warn", 1)]
    );
    assert_eq!(facets.attribute_keys, [f("http.route", 3), f("retry", 1)]);
    assert_eq!((facets.scanned, facets.sampled), (6, false));
    let filtered = store.log_facets(&LogQuery { text: words("user"), ..all() }).unwrap();
    assert_eq!(filtered.services, [f("web", 2), f("db", 1)]);
    assert_eq!(filtered.attribute_keys, [f("http.route", 2), f("retry", 1)]);
    assert_eq!(filtered.scanned, 3);
}

pub fn log_context_is_the_same_service_around_one(store: &dyn Store) {
    six(store);
    let all_records = store.log_page(&all()).unwrap().logs;
    let id_of = |body: &str| {
        all_records
            .iter()
            .find(|e| otelscope_app::model::value_text(&e.record.body) == body)
            .unwrap()
            .id
            .clone()
    };
    let b = id_of("b payment failed: timeout");
    let context = store.log_context(&b, 5, 5).unwrap().unwrap();
    assert_eq!(context.anchor, b);
    assert_eq!(context.record.id, b);
    let text = |entries: &[otelscope_app::model::LogEntry]| {
        entries
            .iter()
            .map(|e| otelscope_app::model::value_text(&e.record.body)[..1].to_owned())
            .collect::<String>()
    };
    assert_eq!((text(&context.before), text(&context.after)), ("a".into(), "ef".into()));
    let bounded = store.log_context(&id_of("f no severity"), 2, 2).unwrap().unwrap();
    assert_eq!((text(&bounded.before), text(&bounded.after)), ("be".into(), String::new()));
    let none = store.log_context(&id_of("c slow query on users"), 0, 0).unwrap().unwrap();
    assert!(none.before.is_empty() && none.after.is_empty());
    assert_eq!(store.log_context("999999", 1, 1).unwrap(), None);
    assert_eq!(store.log_context("not an id", 1, 1).unwrap(), None);
}

pub fn log_sample_is_the_newest_matches_and_their_total(store: &dyn Store) {
    six(store);
    let sample =
        store.log_sample(&LogQuery { service: Some("web".into()), limit: 1, ..all() }, 2).unwrap();
    let texts: Vec<String> =
        sample.entries.iter().map(|e| otelscope_app::model::value_text(&e.record.body)).collect();
    assert_eq!(texts, ["f no severity", "e panic: user 42 not found"]);
    assert_eq!(sample.total, 4);
    let none = store.log_sample(&LogQuery { service: Some("x".into()), ..all() }, 2).unwrap();
    assert_eq!((none.entries.len(), none.total), (0, 0));
}

pub fn own_services_logs_only_when_asked_named_or_by_trace(store: &dyn Store) {
    store_logs(
        store,
        T,
        vec![
            in_trace(rec(1, 9, "otelscope", "own"), 5, None),
            rec(2, 9, "otelscope-ui", "ui"),
            rec(3, 9, "web", "theirs"),
        ],
    );
    assert_eq!(page(store, all()), ["theirs"]);
    assert_eq!(page(store, LogQuery { include_self: true, ..all() }), ["theirs", "ui", "own"]);
    assert_eq!(page(store, LogQuery { service: Some("otelscope".into()), ..all() }), ["own"]);
    assert_eq!(page(store, LogQuery { trace_id: Some(tid(5)), ..all() }), ["own"]);
    let facets = store.log_facets(&all()).unwrap();
    assert_eq!(facets.services, [FacetValue { value: "web".into(), count: 1 }]);
}

pub fn log_retention_by_receipt_and_count(store: &dyn Store) {
    // Received at T (3 records), T + 100 (2), T + 200 (1); sender times say nothing.
    store_logs(store, T, (0..3).map(|n| rec(1000 + n, 9, "web", &format!("old {n}"))).collect());
    store_logs(store, T + 100, (0..2).map(|n| rec(n, 9, "web", &format!("mid {n}"))).collect());
    store_logs(store, T + 200, vec![rec(5, 9, "web", "new")]);
    let age = Retention { max_age_ns: 150, ..Retention::UNBOUNDED };
    store.enforce_retention(age, T + 200, 1_000).unwrap();
    let kept = |store: &dyn Store| {
        let mut texts = page(store, all());
        texts.sort();
        texts
    };
    assert_eq!(kept(store), ["mid 0", "mid 1", "new"]);
    assert_eq!(store.log_facets(&all()).unwrap().scanned, 3);
    assert!(page(store, LogQuery { text: words("old"), ..all() }).is_empty(), "text goes too");
    let one = Retention { max_spans: 1, ..Retention::UNBOUNDED };
    store.enforce_retention(one, T + 200, 1_000).unwrap();
    assert_eq!(kept(store), ["new"], "whole chunks, oldest received first");
    // Ids are not reused: a later record sorts after the kept one at the same time.
    store_logs(store, T + 300, vec![rec(5, 9, "web", "newer")]);
    assert_eq!(page(store, all()), ["newer", "new"]);
}

/// Records as a broken or hostile sender makes them, within what ingest's `Limits` let
/// through (and past them: the store keeps what it is given).
pub fn bad_log_records_are_stored_and_found_as_text(store: &dyn Store) {
    let huge = format!("start needle {} end-of-it", "x ".repeat(1 << 19));
    let mut many = rec(2, 9, "web", "ten thousand attributes");
    many.attributes = (0..10_000)
        .map(|n| KeyValue { key: format!("k{n}"), value: text(&format!("v{n}")) })
        .collect();
    let map_body = LogRecord {
        body: AttrValue::KvList(vec![
            KeyValue { key: "event".into(), value: text("login") },
            KeyValue { key: "user".into(), value: AttrValue::Int(77) },
        ]),
        ..rec(5, 9, "web", "")
    };
    let array_body = LogRecord {
        body: AttrValue::Array(vec![text("alpha"), AttrValue::Bool(true)]),
        ..rec(6, 9, "web", "")
    };
    let logs = vec![
        rec(1, 9, "web", &huge),
        many.clone(),
        // Ingest keeps bytes as base64 whatever they hold (here 0xff 0xfe, not UTF-8).
        with_attr(rec(3, 0, "web", "zero severity"), "raw", AttrValue::Bytes("//4=".into())),
        rec(4, 99, "web", "severity ninety-nine <script>alert(1)</script>"),
        map_body.clone(),
        array_body.clone(),
    ];
    store_logs(store, T, logs);
    let one = |q: &str| {
        let p = store.log_page(&LogQuery { text: words(q), ..all() }).unwrap();
        p.logs.into_iter().map(|e| e.record).collect::<Vec<_>>()
    };
    let found = one("needle");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].body, text(&huge), "the whole body is kept");
    assert!(one("end-of-it").is_empty(), "text past the first 64 KiB is kept, not indexed");
    assert_eq!(one("v9999"), [many.clone()]);
    assert_eq!(one("base64"), [one("zero")[0].clone()]);
    assert_eq!(one("script alert"), one("ninety"));
    assert_eq!(one("login 77"), [map_body]);
    assert_eq!(one("alpha true"), [array_body]);
    let attrs = LogQuery { attrs: vec![("k5000".into(), "v5000".into())], ..all() };
    assert_eq!(store.log_page(&attrs).unwrap().matched, 1);
    // Severity 0 and 99 are stored as sent; both are the `unset` band.
    assert_eq!(page(store, LogQuery { min_severity: Some(24), ..all() }).len(), 1);
    let h = store
        .log_histogram(&LogHistogramQuery {
            logs: all(),
            since_ns: T,
            until_ns: T + 10,
            step_ns: 10,
        })
        .unwrap();
    let unset = h.buckets[0].counts.iter().find(|c| c.band == SeverityBand::Unset).map(|c| c.count);
    assert_eq!(unset, Some(2));
    let facets = store.log_facets(&all()).unwrap();
    assert_eq!(facets.attribute_keys.len(), 20, "the top 20 keys");
}
