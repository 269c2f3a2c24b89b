//! Services in depth (issue 25) benchmark, in process on a real on-disk SQLite store (no HTTP:
//! the figures are the store's and the query layer's). Prints figures; asserts nothing beyond
//! answers being non-empty, so it never flakes. Run with `make bench` (or `cargo bench -p
//! otelscope --bench services`).
//!
//! 1. Ingest burst, the same batches (512 spans: 8 traces × 64) prepared and written with the
//!    services rollups (RED rows, edges, pairing through `edge_pending`) and without them
//!    (`PreparedRollups::without_services`), alternating rounds into two fresh stores: CPU per
//!    span (this process's user + system time; prepare and write run on this one thread) and
//!    spans/s of each, and the ratio.
//! 2. `BENCH_SERVICE_SPANS` (1,000,000) spans over the last six hours, then p50/p99 of the RED
//!    answer of one service (6 h and 1 h), the map (6 h and 1 h) and the comparison of one
//!    operation (errors, and slow over p95, over the last hour: a bounded sample of traces).
//!    The RED answers and the map are read two ways in alternation, from the same store: as
//!    main read them before v21 (10 s rows only, `Grain::Buckets`) and with the minute rows
//!    (`Grain::Steps`, `Grain::Whole`); both answers must be equal, and the ratio is printed.
//!
//! The traces: `frontend` `GET /checkout` (server, no parent: `user` calls it; 1 in 20 fails
//! with `cache.hit=false`, 1 in 50 of the rest), internal work, a client call whose server span
//! (`catalog`) comes in the *next* batch (every call is paired across batches), catalog's
//! sqlite and redis clients (database nodes), and a producer → consumer (`billing`) through a
//! named queue and a span link.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use otelscope_app::model::{AttrValue, KeyValue, Span, SpanKind, SpanLink, SpanStatus, StatusCode};
use otelscope_server::query::{compare, service_map, services};
use otelscope_server::store::{
    Grain, MapQuery, RedQuery, Retention, SqliteStore, Store, WriteBatch,
};

const TRACES_PER_BATCH: u64 = 8;
const SPANS_PER_TRACE: u64 = 64;
const SIX_HOURS: u64 = 6 * 3_600_000_000_000;

fn now_ns() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos() as u64
}

/// This process's CPU time (user + system), from `/proc/self/stat` (clock ticks of 10 ms).
fn cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok()).unwrap_or(0);
    // After the command: state is field 3, utime 14, stime 15 (1-based), so 11 and 12 here.
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}

fn text(key: &str, value: &str) -> KeyValue {
    KeyValue { key: key.into(), value: AttrValue::String(value.into()) }
}

fn sid(trace: u64, s: u64) -> String {
    format!("{:016x}", trace * 100 + s)
}

/// Trace `trace`'s spans, starting at `start`; the catalog server span is returned apart (it
/// goes in the next batch).
fn trace_spans(trace: u64, start: u64) -> (Vec<Span>, Span) {
    let trace_id = format!("{trace:032x}");
    let ms = 1_000_000;
    let failing = trace.is_multiple_of(20);
    let mut out = Vec::with_capacity(SPANS_PER_TRACE as usize);
    let mk = |s: u64,
              parent: Option<u64>,
              name: &str,
              service: &str,
              kind: SpanKind,
              at: u64,
              dur: u64| Span {
        parent_span_id: parent.map(|p| sid(trace, p)),
        kind,
        service: service.into(),
        start_ns: at,
        end_ns: at + dur,
        ..Span::new(trace_id.clone(), sid(trace, s), name)
    };
    let mut root = mk(
        0,
        None,
        "GET /checkout",
        "frontend",
        SpanKind::Server,
        start,
        40 * ms + (trace % 7) * ms,
    );
    let miss = failing || trace % 50 == 1;
    root.attributes = vec![
        text("http.request.method", "GET"),
        KeyValue { key: "cache.hit".into(), value: AttrValue::Bool(!miss) },
        text("region", ["eu", "us", "ap"][(trace % 3) as usize]),
    ];
    root.resource = vec![text("host.name", &format!("web-{}", trace % 4))];
    if failing {
        root.status = SpanStatus { code: StatusCode::Error, message: "boom".into() };
        root.end_ns += 50 * ms;
    }
    out.push(root);
    for s in 1..=27 {
        out.push(mk(
            s,
            Some(0),
            &format!("work-{}", s % 8),
            "frontend",
            SpanKind::Internal,
            start + s * 10_000,
            20_000,
        ));
    }
    out.push(mk(28, Some(0), "GET /products", "frontend", SpanKind::Client, start + ms, 20 * ms));
    let server = mk(
        29,
        Some(28),
        "GET /products",
        "catalog",
        SpanKind::Server,
        start + ms + 100_000,
        19 * ms,
    );
    for s in 30..=55 {
        out.push(mk(
            s,
            Some(29),
            &format!("lookup-{}", s % 6),
            "catalog",
            SpanKind::Internal,
            start + 2 * ms + s * 10_000,
            50_000,
        ));
    }
    let mut db =
        mk(56, Some(29), "SELECT products", "catalog", SpanKind::Client, start + 3 * ms, 4 * ms);
    db.attributes = vec![text("db.system.name", "sqlite"), text("db.namespace", "catalog")];
    let mut redis = mk(57, Some(29), "GET", "catalog", SpanKind::Client, start + 2 * ms, ms);
    redis.attributes = vec![text("db.system.name", "redis")];
    let mut producer =
        mk(58, Some(0), "orders publish", "frontend", SpanKind::Producer, start + 30 * ms, ms);
    producer.attributes =
        vec![text("messaging.system", "kafka"), text("messaging.destination.name", "orders")];
    let mut consumer =
        mk(59, None, "orders process", "billing", SpanKind::Consumer, start + 35 * ms, 5 * ms);
    consumer.links.push(SpanLink {
        trace_id: trace_id.clone(),
        span_id: sid(trace, 58),
        attributes: Vec::new(),
    });
    out.extend([db, redis, producer, consumer]);
    for s in 60..SPANS_PER_TRACE {
        out.push(mk(s, Some(59), "charge", "billing", SpanKind::Internal, start + 36 * ms, ms));
    }
    (out, server)
}

/// `batches` batches of traces spread over `[from, from + span_ns)`, each carrying the catalog
/// server spans of the batch before.
fn batches(first_trace: u64, batches: u64, from: u64, span_ns: u64) -> Vec<Vec<Span>> {
    let total = batches * TRACES_PER_BATCH;
    let mut held: Vec<Span> = Vec::new();
    let mut out = Vec::with_capacity(batches as usize);
    for b in 0..batches {
        let mut spans = std::mem::take(&mut held);
        for t in 0..TRACES_PER_BATCH {
            let k = b * TRACES_PER_BATCH + t;
            let (trace, server) = trace_spans(first_trace + k, from + span_ns / total * k);
            spans.extend(trace);
            held.push(server);
        }
        out.push(spans);
    }
    if let Some(last) = out.last_mut() {
        last.extend(held);
    }
    out
}

fn write(store: &SqliteStore, spans: Vec<Span>, received_ns: u64, with: bool) {
    let mut batch = WriteBatch { received_ns, spans, ..WriteBatch::default() };
    batch.prepare().unwrap();
    if !with {
        batch.rollups.as_mut().unwrap().without_services();
    }
    for r in store.write(&[batch]).unwrap() {
        r.unwrap();
    }
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1e3
}

fn time<T>(label: &str, runs: usize, mut f: impl FnMut() -> T, check: impl Fn(&T) -> bool) {
    let mut took = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        let answer = f();
        took.push(t.elapsed());
        assert!(check(&answer), "{label}: empty answer");
    }
    took.sort();
    println!("  {label:<44} p50 {:>8.2} ms   p99 {:>8.2} ms", pct(&took, 0.5), pct(&took, 0.99));
}

/// `a` and `b` (the same answer two ways) `runs` times each, alternating, then both p50/p99
/// and the ratio of b's to a's; the answers must be equal.
fn time_ab<T: PartialEq + std::fmt::Debug>(
    label: &str,
    runs: usize,
    mut a: impl FnMut() -> T,
    mut b: impl FnMut() -> T,
    check: impl Fn(&T) -> bool,
) {
    let (mut took_a, mut took_b) = (Vec::with_capacity(runs), Vec::with_capacity(runs));
    for _ in 0..runs {
        let t = Instant::now();
        let first = a();
        took_a.push(t.elapsed());
        let t = Instant::now();
        let second = b();
        took_b.push(t.elapsed());
        assert!(check(&first), "{label}: empty answer");
        assert_eq!(first, second, "{label}: the two reads differ");
    }
    took_a.sort();
    took_b.sort();
    let line = |how: &str, took: &[Duration]| {
        println!(
            "  {:<44} p50 {:>8.2} ms   p99 {:>8.2} ms",
            format!("{label}, {how}"),
            pct(took, 0.5),
            pct(took, 0.99)
        );
    };
    line("10 s rows", &took_a);
    line("minutes", &took_b);
    println!(
        "  {:<44} p50 {:>8.3}      p99 {:>8.3}",
        "  ratio minutes / 10 s rows",
        pct(&took_b, 0.5) / pct(&took_a, 0.5),
        pct(&took_b, 0.99) / pct(&took_a, 0.99)
    );
}

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split(' ')
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

fn main() {
    let dir = std::env::temp_dir().join(format!("otelscope-bench-services-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let now = now_ns();
    println!("services bench (load average {})", load());

    // 1. Ingest burst with and without the services rollups, alternating rounds.
    let rounds = 6u64;
    let per_round = 40u64;
    let with_store = SqliteStore::open(&dir.join("with")).unwrap();
    let without_store = SqliteStore::open(&dir.join("without")).unwrap();
    let (mut cpu_with, mut cpu_without) = (Duration::ZERO, Duration::ZERO);
    let (mut wall_with, mut wall_without) = (Duration::ZERO, Duration::ZERO);
    let mut spans_each = 0u64;
    for round in 0..rounds {
        let work = batches(
            round * per_round * TRACES_PER_BATCH,
            per_round,
            now - 3_600_000_000_000,
            3_600_000_000_000,
        );
        spans_each += work.iter().map(|b| b.len() as u64).sum::<u64>();
        for with in [round % 2 == 0, round % 2 != 0] {
            let (store, c, w) = if with {
                (&with_store, &mut cpu_with, &mut wall_with)
            } else {
                (&without_store, &mut cpu_without, &mut wall_without)
            };
            let (c0, w0) = (cpu(), Instant::now());
            for (i, spans) in work.iter().enumerate() {
                write(store, spans.clone(), now + round * 1_000_000 + i as u64, with);
            }
            *c += cpu() - c0;
            *w += w0.elapsed();
        }
    }
    let per_span = |d: Duration| d.as_secs_f64() * 1e6 / spans_each as f64;
    let rate = |d: Duration| spans_each as f64 / d.as_secs_f64();
    println!("1. ingest burst, {spans_each} spans each way (prepare + durable write, one thread):");
    println!(
        "  with services rollups    {:>6.2} µs CPU/span  {:>9.0} spans/s",
        per_span(cpu_with),
        rate(wall_with)
    );
    println!(
        "  without (same run)       {:>6.2} µs CPU/span  {:>9.0} spans/s",
        per_span(cpu_without),
        rate(wall_without)
    );
    println!(
        "  ratio CPU with/without   {:.3}",
        cpu_with.as_secs_f64() / cpu_without.as_secs_f64().max(1e-9)
    );
    println!("  load average {}", load());
    drop((with_store, without_store));

    // 2. Queries at BENCH_SERVICE_SPANS spans over six hours.
    let want: u64 =
        std::env::var("BENCH_SERVICE_SPANS").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let n_batches = want.div_ceil(TRACES_PER_BATCH * SPANS_PER_TRACE);
    let store = SqliteStore::open(&dir.join("big")).unwrap();
    let t = Instant::now();
    let mut stored = 0u64;
    let chunk = 100;
    let mut first = 0;
    while first < n_batches {
        let count = chunk.min(n_batches - first);
        let from = now - SIX_HOURS + SIX_HOURS / n_batches * first;
        let work = batches(
            1_000_000 + first * TRACES_PER_BATCH,
            count,
            from,
            SIX_HOURS / n_batches * count,
        );
        for (i, spans) in work.into_iter().enumerate() {
            stored += spans.len() as u64;
            write(&store, spans, now + 10_000_000_000 + first * 1000 + i as u64, true);
        }
        let _ = store.enforce_retention(Retention::UNBOUNDED, now, 50_000);
        first += count;
    }
    println!(
        "2. {stored} spans over six hours stored in {:.1} s; queries:",
        t.elapsed().as_secs_f64()
    );
    // The retention passes a server runs after every write and every few seconds sum the
    // minutes left stale (a few dozen a pass); a server's first seconds, here at once.
    for _ in 0..200 {
        let _ = store.enforce_retention(Retention::UNBOUNDED, now, 50_000);
    }
    let q_now = now + 1;
    let runs = 30;
    println!("  (each query as main reads it, 10 s rows only, then with minute rows; alternating)");
    for (label, raw) in
        [("RED catalog, 6 h (60 steps)", "since=6h"), ("RED catalog, 1 h", "since=1h")]
    {
        let p = services::parse_red("catalog", raw, q_now).unwrap();
        let fine = RedQuery { grain: Grain::Buckets, ..p.store_query() };
        time_ab(
            label,
            runs,
            || services::red_answer(&store.red(&fine).unwrap(), &p),
            || services::red_answer(&store.red(&p.store_query()).unwrap(), &p),
            |a| a.totals.requests > 0,
        );
    }
    for (label, raw) in [("map, 6 h", "since=6h"), ("map, 1 h", "since=1h")] {
        let p = services::parse_map(raw, q_now).unwrap();
        let map = |grain: Grain| {
            let (since_ns, until_ns) = (p.range.since_ns, p.range.until_ns);
            let rows = store.service_map(&MapQuery { since_ns, until_ns, grain }).unwrap();
            let red = store.red(&RedQuery { service: None, since_ns, until_ns, grain }).unwrap();
            service_map::map_answer(rows, &red, &p)
        };
        time_ab(label, runs, || map(Grain::Buckets), || map(Grain::Whole), |m| !m.edges.is_empty());
    }
    for (label, raw) in [
        (
            "compare GET /checkout errors vs rest, 1 h",
            "operation=GET%20%2Fcheckout&since=1h&selection=errors",
        ),
        (
            "compare GET /checkout slow p95 vs rest, 1 h",
            "operation=GET%20%2Fcheckout&since=1h&selection=slow&pct=95",
        ),
    ] {
        let p = compare::parse_compare("frontend", raw, q_now).unwrap();
        time(label, 10, || compare::compare(&store, &p).unwrap(), |a| a.selection_spans > 0);
    }
    let p = compare::parse_compare(
        "frontend",
        "operation=GET%20%2Fcheckout&since=1h&selection=errors",
        q_now,
    )
    .unwrap();
    let a = compare::compare(&store, &p).unwrap();
    println!("  compare says: {:?} (sampled: {})", a.sentences, a.sampled);
    let p = services::parse_map("since=6h", q_now).unwrap();
    let (since_ns, until_ns) = (p.range.since_ns, p.range.until_ns);
    let rows = store.service_map(&MapQuery { since_ns, until_ns, grain: Grain::Whole }).unwrap();
    let red =
        store.red(&RedQuery { service: None, since_ns, until_ns, grain: Grain::Whole }).unwrap();
    let map = service_map::map_answer(rows, &red, &p);
    let edges: Vec<String> =
        map.edges.iter().map(|e| format!("{} -> {} ({})", e.source, e.target, e.calls)).collect();
    println!("  map edges: {edges:?}; pending halves {}", map.pending);
    println!("  load average {}", load());
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
}
