//! The wire model: the JSON shapes of the query API, shared by the server (which produces them)
//! and the app (which reads them). Plain serde types; no dependency on axum, tokio or dioxus.

#[macro_use]
mod wire;
pub mod describe;
mod duration;
pub mod fixture;
mod flame;
mod insights;
mod logs;
mod metrics;
pub mod params;
mod services;
pub mod shapes;
mod signals;
mod summary;
mod text;
mod trace;
pub mod trace_row;

pub use describe::{kind_icon, ordered_attributes, span_summary};
pub use duration::format_estimate;
pub use flame::*;
pub use insights::*;
pub use logs::*;
pub use metrics::*;
pub use services::*;
pub use signals::*;
pub use summary::{trace_facts, TraceFacts};
pub use text::{has_attr_text, value_text};
pub use trace::*;
pub use trace_row::root_line;
pub use wire::UnknownKind;

/// The trace search's page size when none is asked for, and the largest (a larger `limit`
/// reads as this).
pub const DEFAULT_TRACE_LIMIT: usize = 20;
pub const MAX_TRACE_LIMIT: usize = 1000;

/// Whether `id` is a trace id as the API takes it: 32 hex digits, either case.
pub fn is_trace_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The services of otelscope's own spans (`--self-telemetry`): the server's and the UI's.
/// Lists and searches leave them out unless asked (`include_self=1`) or named.
pub const SELF_SERVICES: [&str; 2] = ["otelscope", "otelscope-ui"];

use serde::{Deserialize, Serialize};

/// `GET /api/v1/health`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    /// `"ok"`, or `"degraded"` when the store's writer is not committing (see `writer`).
    pub status: HealthStatus,
    /// The server's version (`CARGO_PKG_VERSION`).
    pub version: String,
    /// The store's writer: `"ok"`, or `"failing: <why>"` while its last commit failed (for
    /// example a full disk); it retries with the next batch.
    #[serde(default)]
    pub writer: String,
    /// Where OTLP is received (`http://host:port`), when the server knows.
    #[serde(default)]
    pub otlp_http: Option<String>,
    #[serde(default)]
    pub otlp_grpc: Option<String>,
    /// The built-in demo workload, when `--demo` runs it.
    #[serde(default)]
    pub demo: Option<DemoStatus>,
    /// Whether the server traces itself and wants the UI's spans (`--self-telemetry`).
    #[serde(default)]
    pub self_telemetry: bool,
    /// When each signal last arrived from a sender (either OTLP port, either protocol).
    #[serde(default)]
    pub last_received: LastReceived,
    /// Which store holds the data and whether it answers (absent from older servers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store: Option<StoreHealth>,
}

/// The store behind a server, as `/api/v1/health` names it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreHealth {
    /// `"sqlite"` (embedded, the default) or `"clickhouse"`.
    pub kind: String,
    /// Where it is, without credentials (ClickHouse: `host:port/database`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// The database server's version, when there is one (ClickHouse: `18.16`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_version: Option<String>,
    /// `"ok"`, or `"unreachable: <why>"` when it did not answer just now.
    pub state: String,
}

/// Per signal, the last export request the server stored; `None` (JSON `null`) if none yet
/// since it started.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastReceived {
    #[serde(default)]
    pub traces: Option<Received>,
    #[serde(default)]
    pub metrics: Option<Received>,
    #[serde(default)]
    pub logs: Option<Received>,
}

/// One signal's last export request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Received {
    /// When it was stored, in Unix nanoseconds.
    pub at_ns: u64,
    /// How it came, in `OTEL_EXPORTER_OTLP_PROTOCOL`'s words: `grpc`, `http/protobuf` or
    /// `http/json`.
    pub protocol: String,
}

impl LastReceived {
    /// Each signal with its last request, in the order traces, metrics, logs.
    pub fn each(&self) -> [(&'static str, Option<&Received>); 3] {
        [
            ("traces", self.traces.as_ref()),
            ("metrics", self.metrics.as_ref()),
            ("logs", self.logs.as_ref()),
        ]
    }

    /// The most recent of the three, if any signal arrived.
    pub fn freshest(&self) -> Option<&Received> {
        self.each().into_iter().filter_map(|(_, r)| r).max_by_key(|r| r.at_ns)
    }
}

/// What the demo workload (`otelscope serve --demo`) runs on, so the Cache page can say it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DemoStatus {
    /// The L2 tier: `"redis"` (a Redis server) or `"in-process"` (a second in-process cache,
    /// when no Redis was named and `redis-server` is not installed).
    pub l2: String,
    /// One sentence for people: e.g. "L2 is a private redis-server on 127.0.0.1:40123", or
    /// why it is in-process.
    pub l2_detail: String,
}

/// The server's health as a word.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HealthStatus {
    Ok,
    /// The store's writer is not committing.
    Degraded,
}

wire_kind!(HealthStatus { Ok = "ok", Degraded = "degraded" });

impl Health {
    /// A healthy answer of `version` (tests and previews).
    pub fn ok(version: impl Into<String>) -> Health {
        Health {
            status: HealthStatus::Ok,
            version: version.into(),
            writer: "ok".into(),
            otlp_http: None,
            otlp_grpc: None,
            demo: None,
            self_telemetry: false,
            last_received: LastReceived::default(),
            store: None,
        }
    }
}

/// One entry of `GET /api/v1/services`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceSummary {
    /// The `service.name` resource attribute.
    pub name: String,
    /// How many spans of this service started in the answer's range (`Services::range`); in
    /// an answer without one, how many the store holds.
    pub span_count: u64,
    /// How many of them have status error.
    #[serde(default)]
    pub error_count: u64,
    /// Span duration percentiles over the same spans, within 1% (log-linear histogram
    /// buckets); absent when no duration is known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p50_ns: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p95_ns: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p99_ns: Option<u64>,
}

impl ServiceSummary {
    /// A service with no spans counted yet.
    pub fn new(name: impl Into<String>) -> ServiceSummary {
        ServiceSummary {
            name: name.into(),
            span_count: 0,
            error_count: 0,
            p50_ns: None,
            p95_ns: None,
            p99_ns: None,
        }
    }
}

/// `GET /api/v1/services`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Services {
    pub services: Vec<ServiceSummary>,
    /// Asked with `since=`/`until=`/`step=` or `sparklines=1` (range by default the last hour):
    /// per listed service, its entry spans' requests, errors and p50/p95/p99 per step, for
    /// sparklines (issue 25; see `RedSeries`). Empty (absent) otherwise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sparklines: Vec<ServiceSparkline>,
    /// `[since_ns, until_ns)`, the last hour unless the request said otherwise: every
    /// service's counts and percentiles are over the spans that started in it (services seen
    /// with none are listed with zeros). Absent: over everything stored (a store that keeps no
    /// RED rollup yet, such as ClickHouse, answers a plain request so).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub range: Option<(u64, u64)>,
}

/// `GET /api/v1/operations?service=S`: the span names seen for one service, sorted.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Operations {
    pub service: String,
    pub operations: Vec<String>,
    /// True when the service has more names than were listed.
    #[serde(default)]
    pub truncated: bool,
}

/// `GET /api/v1/operations/stats`: each span name of one service with its counts and
/// latency over the traces that started since `since_ns` (the `/self` page's timings).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct OperationStatsList {
    pub service: String,
    pub since_ns: u64,
    /// Slowest first (by p95).
    pub operations: Vec<OperationStats>,
    /// True when more spans matched than were read (the newest were).
    #[serde(default)]
    pub truncated: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperationStats {
    pub name: String,
    pub span_count: u64,
    #[serde(default)]
    pub error_count: u64,
    /// Duration percentiles, within 1% (histogram buckets).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p50_ns: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p95_ns: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_ns: Option<u64>,
    /// The trace holding the slowest of these spans, to open in the waterfall.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slowest_trace_id: Option<String>,
}

/// The body of every API error: `{"error": "..."}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiErrorBody {
    pub error: String,
}
