//! The metric pages against numbers stated by hand: `metrics_fixture_server` has the official
//! Python SDK (cumulative, a counter reset by a second process) and the official JS SDK (delta)
//! send a counter, a histogram and an exponential histogram (`tests/python/send_metrics.py`,
//! `tests/node/send_metrics.cjs`); `assert_metric_page` checks a page's HTML or DOM from any
//! renderer shows those numbers in its legend and bucket table.

use std::path::PathBuf;
use std::time::Duration;

use kuchikiki::traits::*;
use kuchikiki::NodeRef;
use serde_json::Value;

use crate::{eventually, now_ns, Server};

/// The counter's route: markup if anyone pasted it as HTML.
pub const HOSTILE_ROUTE: &str = "<img src=x onerror=alert(1)>";

/// A running server with both SDKs' metrics in, and the range (`since=..&until=..&step=10m`,
/// one step holding every point) that pages and API calls share.
pub struct MetricsFixture {
    pub server: Server,
    pub range: String,
}

/// The venv's Python (`scripts/setup.sh`), or `$OTELSCOPE_PYTHON`.
fn python() -> PathBuf {
    std::env::var_os("OTELSCOPE_PYTHON").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/py-venv/bin/python")
    })
}

async fn run(program: PathBuf, args: &[&str], node_path: Option<PathBuf>) {
    let mut command = tokio::process::Command::new(&program);
    command.args(args);
    if let Some(path) = node_path {
        command.env("NODE_PATH", path);
    }
    let output = command.output().await.unwrap_or_else(|e| panic!("run {program:?}: {e}"));
    assert!(
        output.status.success(),
        "{program:?} {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

pub async fn metrics_fixture_server() -> MetricsFixture {
    let server = Server::start().await;
    let minute = 60_000_000_000;
    let since = now_ns() / minute * minute - minute;
    let until = since + 10 * minute;
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let script = here.join("python/send_metrics.py");
    let script = script.to_str().unwrap();
    let endpoint = server.otlp_http_url.clone();
    run(python(), &[script, &endpoint, "py-shop", "first"], None).await;
    // A new process: a new start time, and the counter starts again from 0 (a reset).
    run(python(), &[script, &endpoint, "py-shop", "restart"], None).await;
    let node_sdk = here.join("../target/node-sdk/node_modules");
    assert!(node_sdk.exists(), "{node_sdk:?} is missing: run `make test` (scripts/setup.sh)");
    let js = here.join("node/send_metrics.cjs");
    run("node".into(), &[js.to_str().unwrap(), &endpoint, "node-shop"], Some(node_sdk)).await;
    let range = format!("since={since}&until={until}&step=10m");
    let fixture = MetricsFixture { server, range };
    eventually("both SDKs' metrics in the catalogue", Duration::from_secs(20), async || {
        let catalog = fixture.server.get_json("/api/v1/metrics").await;
        let names: Vec<String> = catalog["metrics"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|m| m["name"].as_str().map(str::to_owned))
            .collect();
        let all = METRICS.iter().all(|m| names.iter().any(|n| n == m));
        all.then_some(()).ok_or(format!("{names:?}"))
    })
    .await;
    fixture
}

/// The six metrics sent.
pub const METRICS: [&str; 6] = [
    "e2e.py.requests",
    "e2e.py.latency",
    "e2e.py.size",
    "e2e.node.requests",
    "e2e.node.latency",
    "e2e.node.size",
];

impl MetricsFixture {
    /// The counter's rate as stated by hand: its increases (Python: +30, then +20 after the
    /// reset, the restarted run's first point giving nothing; JS: 12 + 18, each over its own
    /// interval) over the time they cover, read from the stored points' timestamps.
    pub async fn expected_rate(&self, name: &str) -> f64 {
        let raw = self.server.get_json(&format!("/api/v1/metrics?name={name}")).await;
        let points = raw["series"][0]["points"].as_array().expect("points").clone();
        let num = |p: &Value, k: &str| p[k].as_f64().unwrap_or_else(|| panic!("{k} of {p}"));
        let (mut increase, mut covered_ns) = (0.0, 0.0);
        if points[0]["temporality"] == "delta" {
            for p in &points {
                increase += num(p, "value");
                covered_ns += num(p, "time_ns") - num(p, "start_ns");
            }
        } else {
            for pair in points.windows(2) {
                let (a, b) = (&pair[0], &pair[1]);
                let same_run = a["start_ns"] == b["start_ns"] && num(b, "value") >= num(a, "value");
                if same_run {
                    increase += num(b, "value") - num(a, "value");
                    covered_ns += num(b, "time_ns") - num(a, "time_ns");
                }
            }
        }
        let stated = if name.contains("py") { 50.0 } else { 30.0 };
        assert_eq!(increase, stated, "the SDK sent other numbers than the script says: {raw}");
        increase / (covered_ns / 1e9)
    }
}

/// What a histogram's page must show: p50, p90, p95, p99 (in the metric's unit; a tolerance
/// for exponential buckets, whose bounds are powers of 2^(2^-scale)) and the bucket counts.
pub struct HistogramFacts {
    pub percentiles: [(&'static str, f64); 4],
    pub tolerance: f64,
    pub buckets: Vec<u64>,
}

/// Python, cumulative, ms, bounds 10/20/40/80: the increase is 4 x 5, 4 x 15, 2 x 30.
/// p50: rank 5 of 10, the first of 4 in (10, 20] → 10 + 10 x 1/4 = 12.5; p90: rank 9, the first
/// of 2 in (20, 40] → 30; p95 → 35; p99 → 39.
pub fn py_latency() -> HistogramFacts {
    HistogramFacts {
        percentiles: [("p50", 12.5), ("p90", 30.0), ("p95", 35.0), ("p99", 39.0)],
        tolerance: 1e-9,
        buckets: vec![4, 4, 2, 0, 0],
    }
}

/// JS, delta, s, bounds 0.1/0.2/0.4: 2 x 0.05, 6 x 0.15, 2 x 0.3. p50: rank 5, the third of 6
/// in (0.1, 0.2] → 0.15; p90: rank 9, the first of 2 in (0.2, 0.4] → 0.3; p95 → 0.35; p99 → 0.39.
pub fn node_latency() -> HistogramFacts {
    HistogramFacts {
        percentiles: [("p50", 0.15), ("p90", 0.3), ("p95", 0.35), ("p99", 0.39)],
        tolerance: 1e-9,
        buckets: vec![2, 6, 2, 0],
    }
}

/// Both SDKs' exponential histogram: 5 x 1024 and 5 x 4096 bytes. p50: rank 5, the last of the
/// bucket whose upper bound is 1024 → 1024; p90 to p99: inside the bucket that ends at 4096,
/// whose lower bound is 4096 / 2^(2^-scale) (≥ 4000 at any scale ≥ 5).
pub fn sizes() -> HistogramFacts {
    HistogramFacts {
        percentiles: [("p50", 1024.0), ("p90", 4096.0), ("p95", 4096.0), ("p99", 4096.0)],
        tolerance: 96.0,
        buckets: vec![5, 5],
    }
}

fn doc(html: &str) -> NodeRef {
    kuchikiki::parse_html().one(html).document_node
}

/// The legend row of line `key` in chart `chart` (`data-chart`, e.g. `p50-p90-p95-p99`).
fn legend_value(doc: &NodeRef, chart: &str, key: &str, field: &str) -> f64 {
    let section = doc
        .select(&format!("section.metric-chart[data-chart=\"{chart}\"]"))
        .unwrap()
        .next()
        .unwrap_or_else(|| panic!("no chart {chart}"));
    let row = section
        .as_node()
        .select("tr[data-line]")
        .unwrap()
        .find(|r| r.attributes.borrow().get("data-line") == Some(key))
        .unwrap_or_else(|| panic!("no legend row {key} in chart {chart}"));
    let cell = row.as_node().select_first(&format!("td[data-field=\"{field}\"]")).unwrap();
    let value = cell.attributes.borrow().get("data-value").unwrap_or_default().to_owned();
    value.parse().unwrap_or_else(|_| panic!("{key} {field}: {value:?}"))
}

/// A histogram page shows `facts`: each percentile's value in the legend and the bucket counts
/// (only the non-empty ones for exponential histograms, whose bounds depend on the scale).
pub fn assert_histogram_page(html: &str, facts: &HistogramFacts, exponential: bool) {
    let doc = doc(html);
    for (p, want) in facts.percentiles {
        let got = legend_value(&doc, "p50-p90-p95-p99", &format!("{p}:all"), "last");
        let ok = if exponential && p != "p50" {
            got <= want + 1e-6 && got >= want - facts.tolerance
        } else {
            (got - want).abs() <= facts.tolerance.max(want.abs() * 1e-9)
        };
        assert!(ok, "{p}: the page shows {got}, by hand {want}");
    }
    let counts: Vec<u64> = doc
        .select("section.metric-chart[data-chart=\"p50-p90-p95-p99\"] tr[data-bucket] td[data-field=count]")
        .unwrap()
        .map(|c| c.text_contents().trim().parse().expect("a count"))
        .collect();
    let counts: Vec<u64> =
        if exponential { counts.into_iter().filter(|c| *c > 0).collect() } else { counts };
    assert_eq!(counts, facts.buckets, "bucket counts");
    // The heatmap itself: some cells drawn.
    let svg = doc.select_first("section.metric-chart[data-chart=\"p50-p90-p95-p99\"] svg").unwrap();
    assert_eq!(svg.attributes.borrow().get("data-empty"), Some("false"));
}

/// A counter page's rate (one step, so the legend's last value is it) is `want`.
pub fn assert_rate_page(html: &str, want: f64) {
    let got = legend_value(&doc(html), "rate", "rate:all", "last");
    assert!((got - want).abs() <= want * 1e-6, "rate: the page shows {got}, by hand {want}");
}

/// The catalogue lists every metric sent with its type badge and unit.
pub fn assert_catalogue(html: &str) {
    let doc = doc(html);
    let want = [
        ("e2e.py.requests", "counter", "{request}"),
        ("e2e.py.latency", "histogram", "ms"),
        ("e2e.py.size", "exphistogram", "By"),
        ("e2e.node.requests", "counter", "{request}"),
        ("e2e.node.latency", "histogram", "s"),
        ("e2e.node.size", "exphistogram", "By"),
    ];
    for (name, kind, unit) in want {
        let row = doc
            .select("tr[data-metric]")
            .unwrap()
            .find(|r| r.attributes.borrow().get("data-metric") == Some(name))
            .unwrap_or_else(|| panic!("{name} is not in the catalogue"));
        let badge = row.as_node().select_first("[data-kind]").unwrap();
        assert_eq!(badge.attributes.borrow().get("data-kind"), Some(kind), "{name}");
        let cell = row.as_node().select_first("td[data-field=unit]").unwrap();
        assert_eq!(cell.text_contents().trim(), unit, "{name}");
    }
}
