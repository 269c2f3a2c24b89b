//! The ClickHouse store against SQLite in one run, through the `Store` trait (no HTTP ingest in
//! front): the same prepared batches written to each (512 spans a batch, 8 traces x 64 spans
//! with 10 attributes, 16 batches a write as the writer groups them), then trace by id (whole,
//! through `trace_chunk`) and a filtered search, p50/p99. Prints figures; asserts nothing.
//!
//! SQLite is a file in a temporary directory; ClickHouse is a real 18.16 server on loopback
//! (`otelscope_e2e::clickhouse`). CPU is per span: this process's (prepare aside, the same for
//! both) and, for ClickHouse, the server's too. `BENCH_CH_SPANS` (262,144) sets the size.
//! `cargo bench -p otelscope --bench clickhouse` (not in `make bench` yet: a first slice).

use std::time::Instant;

use otelscope_app::model::fixture::span;
use otelscope_app::model::{AttrValue, Span};
use otelscope_e2e::clickhouse::ClickHouse;
use otelscope_server::store::{
    whole_trace, ClickHouseConfig, ClickHouseStore, SqliteStore, Store, TraceQuery, WriteBatch,
};

const SPANS_PER_TRACE: u64 = 64;
const TRACES_PER_BATCH: u64 = 8;
const BATCHES_PER_WRITE: usize = 16;

/// Batch `n`: 8 traces of 64 spans, over 8 services and 32 names.
fn batch(n: u64, now_ns: u64) -> WriteBatch {
    let mut spans: Vec<Span> = Vec::new();
    for t in 0..TRACES_PER_BATCH {
        let trace = n * TRACES_PER_BATCH + t + 1;
        let start = now_ns - 3_600_000_000_000 + trace * 1_000_000;
        for s in 0..SPANS_PER_TRACE {
            let mut b = span(trace, s + 1, &format!("op-{}", (trace + s) % 32))
                .service(&format!("svc-{}", s % 8))
                .ns(start + s * 1_000, start + s * 1_000 + 50_000 + (s * 7919 % 100_000));
            if s > 0 {
                b = b.parent(1u64);
            }
            for a in 0..10 {
                b = b.attr(
                    &format!("attr.{a}"),
                    AttrValue::String(format!("value-{}", (trace + a) % 97)),
                );
            }
            if (trace + s).is_multiple_of(50) {
                b = b.error("boom");
            }
            spans.push(b.build());
        }
    }
    let mut batch = WriteBatch { received_ns: now_ns, spans, ..WriteBatch::default() };
    batch.prepare().unwrap();
    batch
}

/// CPU seconds (user + system) of process `pid` so far.
fn cpu_s(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or_default();
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn time_each(n: usize, mut f: impl FnMut(usize)) -> (f64, f64) {
    let mut ms: Vec<f64> = (0..n)
        .map(|i| {
            let t = Instant::now();
            f(i);
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    ms.sort_by(f64::total_cmp);
    (percentile(&ms, 0.5), percentile(&ms, 0.99))
}

fn measure(name: &str, store: &dyn Store, batches: u64, server_pid: Option<u32>, now: u64) {
    let me = std::process::id();
    let spans = batches * TRACES_PER_BATCH * SPANS_PER_TRACE;
    let (mut wall, mut cpu, mut server_cpu) = (0.0, 0.0, 0.0);
    let mut next = 0;
    while next < batches {
        let group: Vec<WriteBatch> =
            (next..(next + BATCHES_PER_WRITE as u64).min(batches)).map(|n| batch(n, now)).collect();
        next += group.len() as u64;
        let (c0, s0) = (cpu_s(me), server_pid.map_or(0.0, cpu_s));
        let t = Instant::now();
        for result in store.write(&group).unwrap() {
            result.unwrap();
        }
        wall += t.elapsed().as_secs_f64();
        cpu += cpu_s(me) - c0;
        server_cpu += server_pid.map_or(0.0, cpu_s) - s0;
    }
    let per_span = |s: f64| s / spans as f64 * 1e6;
    println!(
        "{name}: {spans} spans written in {wall:.2} s: {:.0} spans/s; CPU per span {:.2} µs here{}",
        spans as f64 / wall,
        per_span(cpu),
        server_pid
            .map(|_| format!(" + {:.2} µs in clickhouse-server", per_span(server_cpu)))
            .unwrap_or_default()
    );
    let traces = batches * TRACES_PER_BATCH;
    let (p50, p99) = time_each(200, |i| {
        let trace = format!("{:032x}", (i as u64 * 7_919) % traces + 1);
        assert_eq!(whole_trace(store, &trace).unwrap().len(), SPANS_PER_TRACE as usize);
    });
    println!("{name}: trace by id (64 spans, whole): p50 {p50:.2} ms, p99 {p99:.2} ms");
    let (p50, p99) = time_each(50, |i| {
        let query = TraceQuery {
            service: Some(format!("svc-{}", i % 8)),
            name: Some(format!("op-{}", i % 32)),
            limit: 20,
            ..TraceQuery::default()
        };
        assert!(!store.search_traces(&query).unwrap().is_empty());
    });
    println!("{name}: search (service and name, 20 newest): p50 {p50:.2} ms, p99 {p99:.2} ms");
    let (p50, p99) = time_each(20, |_| {
        assert!(!store.services().unwrap().is_empty());
    });
    println!("{name}: services: p50 {p50:.2} ms, p99 {p99:.2} ms");
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let spans: u64 =
        std::env::var("BENCH_CH_SPANS").ok().and_then(|s| s.parse().ok()).unwrap_or(262_144);
    let batches = (spans / (TRACES_PER_BATCH * SPANS_PER_TRACE)).max(1);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos()
        as u64;
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!("load average: {}", load.split_whitespace().take(3).collect::<Vec<_>>().join(" "));

    let dir = std::env::temp_dir().join(format!("otelscope-bench-ch-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let sqlite = SqliteStore::open(&dir).unwrap();
    measure("sqlite", &sqlite, batches, None, now);
    drop(sqlite);
    let _ = std::fs::remove_dir_all(&dir);

    let server = ClickHouse::start();
    let config = ClickHouseConfig::parse(&server.url("bench")).unwrap();
    let clickhouse = ClickHouseStore::open(config).unwrap();
    measure("clickhouse 18.16", &clickhouse, batches, Some(server.pid()), now);
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!("load average: {}", load.split_whitespace().take(3).collect::<Vec<_>>().join(" "));
}
