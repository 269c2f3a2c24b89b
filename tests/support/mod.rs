//! Shared helpers of the end-to-end tests: the real `otelscope` binary as a child process,
//! headless Chromium through chromedriver, an Xvfb display, and the artefacts folder.
//!
//! # Which test covers what
//!
//! - `demo.rs`: `serve --demo` against a `redis-server` the test starts: L1 and L2 hit rates (spans
//!   and metrics) strictly between 0 and 1, resends, give-ups and circuit-open rejections, keys in
//!   that Redis; a private `redis-server` gone after SIGTERM and after SIGKILL of otelscope; the
//!   in-process L2 without `redis-server` on `PATH`. `support/demo.rs` (`DemoRun`, `TestRedis`,
//!   `wait_for_demo_data`) is shared with the UI tests of the Cache and Retries pages.
//! - `benches/demo_cpu.rs`: the CPU share of `serve --demo` at its default rate against plain
//!   `serve`, in one run (`make bench`).
//! - `support/`: the real binary as a child process, headless Chromium via chromedriver +
//!   fantoccini, Xvfb and X tools; a window is closed with `WM_DELETE_WINDOW`, repeated each second
//!   until the process exits (without a window manager, GTK sometimes ignores the first).
//! - `web.rs`: the WASM app in Chromium (client-side navigation, 404, a server that goes away);
//!   `desktop.rs` (the in-process server: the empty list names the endpoint from its ready line,
//!   and a span sent there appears), `desktop_pinned.rs` (`--otlp-http-listen`/`--otlp-grpc-listen`
//!   used as given or the app stops; the document's title), `desktop_trace.rs`, `desktop_live.rs`: the window under Xvfb
//!   (`support::display::DesktopWindow`; one test binary each, so WebKit instances never overlap),
//!   screenshots and `--dump-dom` DOMs kept in `tests/artifacts/`.
//! - `clickhouse_store.rs`: `serve --store clickhouse://…` over a real ClickHouse 18.16
//!   (`support/clickhouse.rs`, also the server crate's conformance fixture): a trace from the
//!   Rust exporter in search, its API answer and SSR page, services, health; a second server over
//!   the same database answers the same; what is not built yet is a 503 JSON error.
//! - `huge_trace.rs`: a 1,000,000-span trace sent in 200 requests, then read back as a stream:
//!   every span id once, and the server's peak RSS (VmHWM, reset before the read) grows by less
//!   than the bound above.
//! - `support/insights.rs`: `assert_pages_match_api` (a page's HTML or DOM, from any renderer,
//!   shows exactly the numbers of `/api/v1/cache` and `/api/v1/retries`), `assert_text_not_markup`,
//!   and `fixture_server` (cache and retry spans with hostile names sent through the official Rust
//!   exporter).
//! - `insights_ui.rs`: the cache and retries pages in Chromium and as `/ssr/...` pages against the
//!   API; `desktop_cache.rs`, `desktop_retries.rs`: the same in the window's `--dump-dom` DOM.
//! - `support/metrics.rs`, `metrics_ui.rs`, `desktop_metrics.rs`: the official Python (cumulative,
//!   a counter reset by a restarted process) and JS (delta, npm, pinned in `tests/node/`) SDKs send
//!   a counter, a histogram and an exponential histogram; Chromium, `/ssr` and the window show the
//!   rate, p50–p99 and bucket counts stated by hand.
//! - `a11y.rs`: every view with the demo's data (`support/views.rs`, shared with `make
//!   screenshots`, `examples/screenshots.rs`): axe-core (npm, pinned, installed by
//!   `scripts/setup.sh`) finds no serious or critical violation in either theme, and no view is
//!   wider than a 1400, 1000, 800 or 600 px window.
//! - `trace_views_ui.rs`: span details (start offset, exception, folded value, keys' share at 1400
//!   and 800 px, copy buttons, logs link), service colours and legend, critical-path parts, start
//!   times with dates and the zone switch, the scatter's axes, a refused filter kept in its field
//!   (app and SSR), find in trace, the URL following the selection, the trace-id box, the
//!   reconnecting banner, the theme switch remembered.
//! - `traces_ui.rs`: trace search → waterfall → collapse → span search → reload in Chromium,
//!   hostile span strings as text, the light preview of a large trace and span links, live
//!   pause/resume and the "data changed" indicator.
//! - `selftrace_ui.rs`: in Chromium, opening a trace from `/traces` makes one `otelscope-ui` trace
//!   (`navigate /traces/{trace_id}`, its render, the client span `GET /api/v1/traces/{trace_id}`
//!   with route, status and size) whose call the server's span continues, with its store query
//!   below; `/self` lists the navigation (app and `/ssr/self`); an idle `/traces` makes at most 150
//!   self spans a minute (measured over 30 s); `--self-telemetry off`: the page's meta, `data-ui-
//!   tracing="off"`, no self spans. `desktop_selftrace.rs`: the window on `/self` of a running
//!   server sends `otelscope.platform = desktop` spans joined the same way and lists its own
//!   navigation. `support/selftrace.rs`: `joined_ui_trace`.
//! - `flame_ui.rs`: a trace's flame graph in Chromium and as `/ssr/...` pages against
//!   `/api/v1/flamegraph` (every frame's name, total and self; focus details; click zoom to the
//!   URL's path; search share; sandwich; hostile names as text); an operation over a range picked
//!   in the app's form and as SSR, a diff's legend, the not-found and bad-filter states; a profile
//!   imported with the file picker (a refusal shown word for word, then its frames as the API says,
//!   SSR without the control) and a 1 s CPU profile taken and opened; `desktop_flame.rs`: the same
//!   frames in the window's DOM; `support/flame.rs`: the fixture (hostile span names through the
//!   official exporter) and frame readers.
//! - `benches/flame.rs`: a folded profile of 100,000 distinct stacks imported, then `/profile?id=`
//!   in Chromium: first paint of the frames (after the answer: decode, layout, draw), frames in the
//!   DOM, a zoom click (`make bench`).
//! - `waterfall_keys.rs`: the readable waterfall on one known trace in Chromium and at `/ssr/...`:
//!   ruler and minimap ticks, labels inside/right/left of bars, the error edge, event ticks (a
//!   hostile event name as text), keyboard navigation past the rows in the DOM.
//! - `benches/waterfall.rs`: large traces (1k/10k/100k spans) in Chromium: first paint with a
//!   timeline of where it went, collapse/expand, scroll, SSR (`make bench`).
//! - `logs_ui.rs`: `/logs` in Chromium with the fixture of `support/logs.rs` (filters in the URL,
//!   facets' click and alt-click, the histogram's zoom, a record's details and context, its span
//!   in the waterfall and back, the span details' logs and the error-log mark, hostile bodies as
//!   text, patterns), the live tail paused while a record arrives ("1 new", the list unmoved),
//!   and `/ssr/logs` (GET form, cursor pages, details and context as links, patterns table);
//!   screenshots at 1400 and 800 px in both themes. `desktop_logs.rs`: the window on `/logs`.
//! - `benches/logs_page.rs`: first paint of `/logs` with 1,000 records listed (`make bench`).
//! - `otlp.rs`, `signals.rs`: the official Rust exporters (HTTP protobuf, HTTP JSON, gRPC; gzip
//!   too) for traces, logs, metrics.
//! - `python_sdk.rs` + `python/send.py`: the official Python SDK and exporters (venv made by
//!   `scripts/setup.sh`).
//! - `durability.rs`: acknowledged batches survive `kill -9`.
//! - `hostile.rs`: bodies built to balloon (a 1 KB gzip metrics body, 32 MiB of empty log records
//!   on HTTP and gRPC, gRPC without the key) checked by the server's peak RSS; trickling senders;
//!   2018 and 2262 timestamps; a second server on one directory; a damaged database.
//! - `faults.rs`: overload past capacity (refusals carry `Retry-After`, queries answer, every
//!   acknowledged span is stored); a tmpfs data directory that fills up (503, nothing acknowledged
//!   lost) and frees (recovers without a restart).
//! - `support/load.rs`: the open-loop OTLP load generator (HTTP and gRPC together, with a query
//!   prober) shared by `faults.rs` and `benches/load.rs` (`make soak`: twice the measured capacity
//!   for minutes).

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

pub mod browser;
pub mod clickhouse;
pub mod demo;
pub mod display;
pub mod flame;
pub mod insights;
pub mod load;
pub mod logs;
pub mod metrics;
pub mod otlp;
pub mod selftrace;
pub mod services;
pub mod services_queue;
pub mod views;
pub mod wait;

pub use browser::Browser;
pub use display::Display;
pub use otlp::otlp_span;
pub use wait::{eventually, eventually_every};

/// Longest wait for a child process to report that it is ready.
pub const STARTUP: Duration = Duration::from_secs(60);

/// The `otelscope` binary under test: `$OTELSCOPE_BIN` (set by `make test`), else the one next
/// to this test in the same target profile.
pub fn otelscope_bin() -> PathBuf {
    if let Some(bin) = std::env::var_os("OTELSCOPE_BIN") {
        return bin.into();
    }
    let exe = std::env::current_exe().expect("current exe");
    let profile_dir = exe.parent().and_then(|deps| deps.parent()).expect("target/<profile>");
    let bin = profile_dir.join("otelscope");
    assert!(bin.exists(), "{} is missing: run `make test`, or build it first", bin.display());
    bin
}

/// Where tests leave screenshots for people to look at.
pub fn artifacts_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("artifacts");
    std::fs::create_dir_all(&dir).expect("create tests/artifacts");
    dir
}

/// Reads `child`'s stdout until a line contains `marker`; returns that line.
pub async fn wait_for_line(child: &mut Child, marker: &str) -> String {
    let stdout = child.stdout.take().expect("piped stdout");
    let mut lines = BufReader::new(stdout).lines();
    let found = tokio::time::timeout(STARTUP, async {
        while let Some(line) = lines.next_line().await.expect("read child stdout") {
            if line.contains(marker) {
                return line;
            }
        }
        panic!("child closed stdout without printing {marker:?}");
    })
    .await
    .unwrap_or_else(|_| panic!("no {marker:?} line within {STARTUP:?}"));
    // Keep draining so the child never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    found
}

/// A running `otelscope serve` on free loopback ports, killed when dropped.
pub struct Server {
    /// The UI port: `http://127.0.0.1:N`.
    pub base_url: String,
    /// The OTLP/HTTP and OTLP/gRPC receivers.
    pub otlp_http_url: String,
    pub otlp_grpc_url: String,
    /// `--api-key`, sent as a bearer token by `get_json`.
    pub api_key: Option<String>,
    pub child: Child,
}

impl Server {
    /// A server with an in-memory store.
    pub async fn start() -> Server {
        Server::start_with(&["--in-memory"]).await
    }

    /// A server with extra flags (e.g. `--data-dir DIR`).
    pub async fn start_with(extra: &[&str]) -> Server {
        Server::start_with_env(extra, &[]).await
    }

    /// A server with extra flags and environment variables (e.g. a `PATH` of its own).
    pub async fn start_with_env(extra: &[&str], env: &[(&str, &str)]) -> Server {
        Server::start_logging_to(extra, env, Stdio::inherit()).await
    }

    /// As `start_with_env`, its log (stderr, at `warn`) written to `stderr` (e.g. a file).
    pub async fn start_logging_to(
        extra: &[&str],
        env: &[(&str, &str)],
        stderr: impl Into<Stdio>,
    ) -> Server {
        let mut child = Command::new(otelscope_bin())
            .arg("serve")
            .env("RUST_LOG", "warn")
            .envs(env.iter().copied())
            .args(extra)
            .args(["--ui-listen", "127.0.0.1:0"])
            .args(["--otlp-http-listen", "127.0.0.1:0"])
            .args(["--otlp-grpc-listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(stderr)
            .kill_on_drop(true)
            .spawn()
            .expect("spawn otelscope serve");
        // "otelscope V — OTLP on http://A (HTTP) and http://B (gRPC) — open http://C[ and …]"
        let line = wait_for_line(&mut child, "open http://").await;
        let urls: Vec<String> =
            line.split(' ').filter(|w| w.starts_with("http://")).map(str::to_owned).collect();
        let [otlp_http_url, otlp_grpc_url, open_url] = <[String; 3]>::try_from(urls)
            .unwrap_or_else(|_| panic!("unexpected ready line {line:?}"));
        // With --api-key the line goes on: "and sign in with the API key" (no key in URLs).
        let base_url = open_url.trim_end_matches('/').to_owned();
        let api_key = extra.windows(2).find(|w| w[0] == "--api-key").map(|w| w[1].to_owned());
        Server { base_url, otlp_http_url, otlp_grpc_url, api_key, child }
    }

    /// POSTs an OTLP/HTTP trace export (`content_type` protobuf or JSON) and returns the status.
    pub async fn post_traces(&self, content_type: &str, body: Vec<u8>) -> u16 {
        reqwest::Client::new()
            .post(format!("{}/v1/traces", self.otlp_http_url))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .expect("POST /v1/traces")
            .status()
            .as_u16()
    }

    /// GETs `path` on the UI port and parses the JSON answer; panics unless 200.
    pub async fn get_json(&self, path: &str) -> serde_json::Value {
        serde_json::from_str(&self.get_text(path).await).expect("JSON")
    }

    /// GETs `path` on the UI port (a page or an API document); panics unless 200.
    pub async fn get_text(&self, path: &str) -> String {
        let mut request = reqwest::Client::new().get(self.url(path));
        if let Some(key) = &self.api_key {
            request = request.bearer_auth(key);
        }
        let response = request.send().await.expect("GET");
        let status = response.status();
        let text = response.text().await.expect("body");
        assert!(status.is_success(), "GET {path}: {status} {text}");
        text
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }
}

/// Now, in Unix nanoseconds (span times must be recent, or age retention drops them).
pub fn now_ns() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_nanos()
        as u64
}

/// A trace of one finished root span named `name` (trace id `[id; 16]`) from `service`,
/// ended just now, as protobuf OTLP.
pub fn root_span_trace(service: &str, id: u8, name: &str) -> Vec<u8> {
    let end = now_ns();
    let span = otlp_span([id; 16], u64::from_be_bytes([id; 8]), name).ns(end - 2_000_000, end);
    otlp_traces(service, vec![span.build()])
}

/// An OTLP trace export of `spans` from service `service`, as protobuf bytes.
pub fn otlp_traces(
    service: &str,
    spans: Vec<opentelemetry_proto::tonic::trace::v1::Span>,
) -> Vec<u8> {
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
    use opentelemetry_proto::tonic::resource::v1::Resource;
    use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans};
    use prost::Message;

    let name = KeyValue {
        key: "service.name".into(),
        value: Some(AnyValue { value: Some(any_value::Value::StringValue(service.into())) }),
        ..Default::default()
    };
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource { attributes: vec![name], ..Default::default() }),
            scope_spans: vec![ScopeSpans { spans, ..Default::default() }],
            ..Default::default()
        }],
    }
    .encode_to_vec()
}

/// A string attribute.
pub fn string_attr(key: &str, value: &str) -> opentelemetry_proto::tonic::common::v1::KeyValue {
    use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
    KeyValue {
        key: key.into(),
        value: Some(AnyValue { value: Some(any_value::Value::StringValue(value.into())) }),
        ..Default::default()
    }
}

/// Peak resident memory of process `pid` (VmHWM), in MiB.
pub fn peak_rss_mib(pid: u32) -> u64 {
    proc_status_mib(pid, "VmHWM")
}

/// A memory figure of process `pid` from `/proc/PID/status` (`VmRSS`, `VmHWM`, …), in MiB.
pub fn proc_status_mib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{field} in /proc/{pid}/status"));
    kib / 1024
}

/// CPU time (utime + stime, at 100 ticks a second) process `pid` has used, in seconds.
pub fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("proc stat");
    let fields: Vec<&str> = stat.rsplit(')').next().unwrap_or("").split_whitespace().collect();
    let tick = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
    (tick(11) + tick(12)) / 100.0
}
