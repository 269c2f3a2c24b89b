//! Services in depth (issue 25): the answers of the RED routes (`/api/v1/services` sparklines,
//! `/api/v1/services/{name}/red`), the service map (`/api/v1/map`, also of one trace with
//! `trace_id=`) and "what changed" (`/api/v1/services/{name}/compare`).
//!
//! Units: times are Unix nanoseconds (`*_ns`), durations nanoseconds (`*_ns`) except on the map,
//! whose latencies are milliseconds (`*_ms`, floats) as the product spec writes them; rates are
//! per second (`rate`) or per minute (`per_min`), shares are fractions in 0..=1. Latency
//! percentiles come from the store's log-linear histogram: within 1%.

use serde::{Deserialize, Serialize};

use super::SpanKind;

/// Requests, errors and latency per step: one value per step from `since_ns`, every vector of
/// the same length (`requests.len()` steps). A step with no request has 0 requests and `None`
/// percentiles.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RedSeries {
    /// The first step's start (Unix ns).
    pub since_ns: u64,
    /// The width of each step (a multiple of the 10 s rollup bucket).
    pub step_ns: u64,
    /// Spans counted in each step (by start time).
    pub requests: Vec<u64>,
    /// Of them, spans with status error.
    pub errors: Vec<u64>,
    pub p50_ns: Vec<Option<u64>>,
    pub p95_ns: Vec<Option<u64>>,
    pub p99_ns: Vec<Option<u64>>,
}

impl RedSeries {
    /// How many steps the series has.
    pub fn len(&self) -> usize {
        self.requests.len()
    }

    pub fn is_empty(&self) -> bool {
        self.requests.is_empty()
    }

    /// The start of step `i` (Unix ns).
    pub fn time_ns(&self, i: usize) -> u64 {
        self.since_ns.saturating_add(self.step_ns.saturating_mul(i as u64))
    }

    /// Requests per second in step `i` (0 past the end).
    pub fn rate(&self, i: usize) -> f64 {
        let n = self.requests.get(i).copied().unwrap_or(0);
        if self.step_ns == 0 {
            return 0.0;
        }
        n as f64 / (self.step_ns as f64 / 1e9)
    }

    /// Errors as a percentage (0..=100) of the requests of step `i`; `None` without requests.
    pub fn error_pct(&self, i: usize) -> Option<f64> {
        let n = self.requests.get(i).copied().unwrap_or(0);
        let e = self.errors.get(i).copied().unwrap_or(0);
        (n > 0).then(|| 100.0 * e as f64 / n as f64)
    }
}

/// One service's sparklines in `GET /api/v1/services?since=&until=` (`Services::sparklines`):
/// its entry spans (server and consumer kinds; every kind when it has none) per step.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceSparkline {
    pub service: String,
    pub series: RedSeries,
}

/// Requests, errors and latency over a whole range.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RedTotals {
    pub requests: u64,
    pub errors: u64,
    /// Requests per second over the range.
    pub rate: f64,
    /// Errors as a percentage (0..=100) of the requests; `None` without requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_pct: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p50_ns: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p95_ns: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p99_ns: Option<u64>,
}

/// `GET /api/v1/services/{name}/red?since=&until=&step=&operation=&kind=`: the service's (or
/// one operation's) RED series over the range, and the table of its operations with Impact.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RedAnswer {
    pub service: String,
    /// The operation (span name) the series is of, when `operation=` was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
    /// The span kinds the series counts: `kind=` when given (`kind=all`: every kind), else the
    /// entry kinds (server and consumer) when the service (or operation) has such spans in the
    /// range, else every kind.
    pub kinds: Vec<SpanKind>,
    /// The range (Unix ns), `since` inclusive, `until` exclusive, widened to whole 10 s buckets.
    pub since_ns: u64,
    pub until_ns: u64,
    pub totals: RedTotals,
    pub series: RedSeries,
    /// Every (operation, kind) of the service in the range, largest Impact first (not filtered
    /// by `operation=` or `kind=`).
    pub operations: Vec<OperationRed>,
    /// True when the service had more operations than are listed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
}

/// One row of a service's operations table.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct OperationRed {
    /// The span name.
    pub name: String,
    pub kind: SpanKind,
    pub requests: u64,
    pub errors: u64,
    /// Requests per minute over the range.
    pub per_min: f64,
    /// Errors as a percentage (0..=100) of the requests; `None` without requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_pct: Option<f64>,
    /// Mean duration (exact: the rollup keeps the sum).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avg_ns: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p50_ns: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p95_ns: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p99_ns: Option<u64>,
    /// Jaeger's Impact: mean duration in seconds × requests per minute, i.e. seconds of work
    /// per minute spent in this operation.
    pub impact: f64,
    /// This row's Impact as a fraction (0..=1) of the largest Impact in the table (the bar).
    pub impact_share: f64,
}

/// What a map node stands for (`"service"`, `"database"`, `"messaging"`, `"user"`, `"peer"`).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum NodeKind {
    /// An instrumented service (`service.name`).
    #[default]
    Service,
    /// A virtual node: a database its clients name (`db.namespace`/`db.name`, else
    /// `db.system`, after `peer.service` and `server.address`).
    Database,
    /// A virtual node: a queue or topic (`messaging.destination.name` with
    /// `messaging.system`), between producers and consumers.
    Messaging,
    /// The callers of server spans that have no parent: people, load balancers, cron.
    User,
    /// A virtual node: an uninstrumented peer a client span names (`peer.service`, else
    /// `server.address`, else `net.peer.name`/`http.host`-style names).
    Peer,
}

wire_kind!(NodeKind {
    Service = "service",
    Database = "database",
    Messaging = "messaging",
    User = "user",
    Peer = "peer",
});

/// What a map edge stands for (`"request"`, `"database"`, `"messaging"`).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum EdgeKind {
    /// Client → server (or `user` → server, or client → an uninstrumented peer).
    #[default]
    Request,
    /// Client → a database virtual node.
    Database,
    /// Producer → consumer (through the queue when one is named: producer → queue → consumer).
    Messaging,
}

wire_kind!(EdgeKind { Request = "request", Database = "database", Messaging = "messaging" });

/// The Kubernetes place of a service's spans, from its resource attributes, when present: nodes
/// with the same namespace (and deployment) are drawn in one group.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct K8sGroup {
    /// `k8s.namespace.name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// `k8s.deployment.name` (else `k8s.statefulset.name`, `k8s.daemonset.name`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment: Option<String>,
    /// `k8s.pod.name` values seen, sorted, at most 20.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pods: Vec<String>,
}

/// One node of the map.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MapNode {
    /// Unique in the answer and stable between refreshes: `service:NAME`, `database:NAME`,
    /// `messaging:NAME`, `peer:NAME` or `user`. Edges name nodes by it.
    pub id: String,
    /// What people read (the service or peer name; `user`).
    pub name: String,
    pub kind: NodeKind,
    /// `db.system` or `messaging.system` of a virtual node (`redis`, `sqlite`, `kafka`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    /// Requests the node served in the range: a service's entry spans (server and consumer
    /// kinds; every span kind when it has none), a virtual node's incoming calls.
    pub requests: u64,
    pub errors: u64,
    /// Requests per second over the range (0 on a trace's map).
    pub rate: f64,
    /// Errors as a percentage (0..=100) of the requests; `None` without requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_pct: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p95_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub k8s: Option<K8sGroup>,
}

/// One edge of the map: calls from `source` to `target` (node ids).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MapEdge {
    pub source: String,
    pub target: String,
    pub kind: EdgeKind,
    pub calls: u64,
    /// Calls whose client (or server, when the client is virtual) span has status error.
    pub errors: u64,
    /// Latency of the calls as the caller saw it (the client or producer span; the server
    /// span for `user` edges), in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p50_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p95_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p99_ms: Option<f64>,
}

/// `GET /api/v1/map?since=&until=&service=` and `GET /api/v1/map?trace_id=`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ServiceMap {
    /// The range (Unix ns), widened to whole 10 s buckets; a trace's map: its first span's start
    /// and last span's end.
    pub since_ns: u64,
    pub until_ns: u64,
    /// The trace this is the map of, with `trace_id=`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
    /// With `service=`: the service the map is centred on (it and its direct neighbours).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// Sorted by id.
    pub nodes: Vec<MapNode>,
    /// Sorted by (source, target, kind).
    pub edges: Vec<MapEdge>,
    /// Client or producer halves still waiting for their other half (not drawn yet: they
    /// become an edge when it arrives, or a virtual-peer edge when it does not in time).
    #[serde(default)]
    pub pending: u64,
    /// True when the map was cut to its busiest nodes (see the route's docs for the bound).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
}

/// Which spans "what changed" explains (`selection=errors|slow|window`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CompareSelection {
    /// Spans with status error.
    #[default]
    Errors,
    /// Spans slower than the operation's `pct`-th percentile over the range (`pct=95`).
    Slow,
    /// Spans that started in a time window of the range (`window_since=&window_until=`, a
    /// drag on the latency chart), optionally only those of a latency band
    /// (`min_ms=&max_ms=`).
    Window,
}

wire_kind!(CompareSelection { Errors = "errors", Slow = "slow", Window = "window" });

/// What the selection is compared with (`baseline=rest|previous`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CompareBaseline {
    /// The other spans of the same operation in the same range.
    #[default]
    Rest,
    /// The same spans' definition in the period of the same length just before the range
    /// (for `errors` and `slow`, all spans of that period: what normal looked like).
    Previous,
}

wire_kind!(CompareBaseline { Rest = "rest", Previous = "previous" });

/// One attribute value whose share differs between the selection and the baseline.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AttributeDelta {
    pub key: String,
    /// The value as text (`value_text`): `true`, `404`, `GET`.
    pub value: String,
    /// True for a resource attribute (`host.name`, `k8s.pod.name`), false for a span's.
    #[serde(default)]
    pub resource: bool,
    /// Spans of the selection (of the baseline) that carry `key=value`.
    pub selection_count: u64,
    pub baseline_count: u64,
    /// `selection_count / selection_spans` (0..=1), and the same for the baseline.
    pub selection_share: f64,
    pub baseline_share: f64,
}

/// A child operation (in the selected spans' subtrees) whose self time changed.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ChildDelta {
    pub service: String,
    /// The span name.
    pub name: String,
    /// Mean self time per selected (baseline) span of the operation, in ns: the time the child
    /// spent in itself, not in its own children.
    pub selection_self_ns: u64,
    pub baseline_self_ns: u64,
    /// `selection_self_ns - baseline_self_ns` (negative: it shrank).
    pub growth_ns: i64,
}

/// `GET /api/v1/services/{name}/compare?operation=&since=&until=&selection=&pct=&window_since=
/// &window_until=&baseline=`: the attribute values that set the selected spans apart, ranked
/// by the difference of their shares, with the top lines in words.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CompareAnswer {
    pub service: String,
    /// The operation (span name) compared; without one, the service's entry spans.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
    /// The range (Unix ns) the selection is taken from.
    pub since_ns: u64,
    pub until_ns: u64,
    pub selection: CompareSelection,
    /// `slow`: the percentile asked and the duration it came to (the selection is slower).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pct: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold_ns: Option<u64>,
    /// `window`: the window (Unix ns).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_since_ns: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_until_ns: Option<u64>,
    pub baseline: CompareBaseline,
    /// The baseline's range (Unix ns): the same as the selection's for `rest`.
    pub baseline_since_ns: u64,
    pub baseline_until_ns: u64,
    /// How many spans each side counted (after sampling).
    pub selection_spans: u64,
    pub baseline_spans: u64,
    /// True when a side had more spans than are read (a bounded sample, newest first).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sampled: bool,
    /// Largest difference of shares first (over-represented in the selection first, then
    /// under-represented), at most 50.
    pub attributes: Vec<AttributeDelta>,
    /// Largest self-time growth first, at most 20.
    pub children: Vec<ChildDelta>,
    /// The top findings in words, for people: "`cache.hit=false` is on 92% of slow
    /// `GET /products/{id}` spans against 31% of the rest."
    pub sentences: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn red_series_rates_and_kinds_on_the_wire() {
        let s = RedSeries {
            since_ns: 1_000,
            step_ns: 10_000_000_000,
            requests: vec![20, 0],
            errors: vec![5, 0],
            p50_ns: vec![Some(1), None],
            p95_ns: vec![Some(2), None],
            p99_ns: vec![Some(3), None],
        };
        assert_eq!((s.len(), s.time_ns(1)), (2, 10_000_001_000));
        assert_eq!((s.rate(0), s.error_pct(0), s.error_pct(1)), (2.0, Some(25.0), None));
        let node = MapNode { id: "user".into(), kind: NodeKind::User, ..MapNode::default() };
        let json = serde_json::to_value(&node).unwrap();
        assert_eq!((&json["kind"], &json["id"]), (&"user".into(), &"user".into()));
        assert_eq!("messaging".parse::<NodeKind>(), Ok(NodeKind::Messaging));
        assert_eq!(EdgeKind::Database.as_str(), "database");
        assert_eq!("slow".parse::<CompareSelection>(), Ok(CompareSelection::Slow));
        assert_eq!("previous".parse::<CompareBaseline>(), Ok(CompareBaseline::Previous));
    }
}
