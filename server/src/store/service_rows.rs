//! What can be asked of the store about services in depth (issue 25), and the rows it answers:
//! RED rollup rows and the service map's edge rows, read from the rollups the writer keeps
//! (`rollup/services.rs`); the query layer (`query/services.rs`) makes the answers.

use otelscope_app::model::{EdgeKind, NodeKind, SpanKind};

/// The RED rows of a range: of one service, or of every service.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RedQuery {
    pub service: Option<String>,
    /// Unix ns, inclusive; rows of the buckets that start in `[bucket_of(since), until]`.
    pub since_ns: u64,
    pub until_ns: u64,
    /// How coarse the rows may be.
    pub grain: Grain,
}

/// How coarse the rows of an answer may be. A row may sum the buckets of a longer aligned span
/// of time (its `bucket_ns` that span's start) only when every one of them is in the range
/// and the caller would add them up anyway; a store may always answer 10 s rows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Grain {
    /// One row per 10 s bucket (`ROLLUP_BUCKET_NS`).
    #[default]
    Buckets,
    /// The caller sums rows into steps of this many ns, starting at multiples of it (from
    /// the Unix epoch): a row may span any width that divides it.
    Steps(u64),
    /// The caller sums over the whole range: a row may span any width.
    Whole,
}

impl Grain {
    /// Whether a row spanning `width_ns` (aligned to multiples of it) may be answered.
    pub fn takes(self, width_ns: u64) -> bool {
        match self {
            Grain::Buckets => width_ns <= crate::store::ROLLUP_BUCKET_NS,
            Grain::Steps(step) => width_ns > 0 && step >= width_ns && step.is_multiple_of(width_ns),
            Grain::Whole => true,
        }
    }
}

/// One `red_rollup` row: one service's spans of one name and kind that started in one bucket
/// (or, as the query's `grain` allows, in one minute: `bucket_ns` is then the minute's start).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RedRow {
    pub service: String,
    pub bucket_ns: u64,
    pub name: String,
    pub kind: SpanKind,
    pub requests: u64,
    pub errors: u64,
    /// The sum of the spans' durations.
    pub duration_ns: u64,
    /// A `latency.rs` histogram in its stored form.
    pub latency: Vec<u8>,
}

/// The map's rows of a range.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MapQuery {
    pub since_ns: u64,
    pub until_ns: u64,
    /// How coarse the edge rows may be.
    pub grain: Grain,
}

/// One `edge_rollup` row (or, as the query's `grain` allows, a minute's: see `RedRow`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EdgeRow {
    pub bucket_ns: u64,
    /// Node ids (`rollup::services::node_id`).
    pub source: String,
    pub target: String,
    pub kind: EdgeKind,
    pub calls: u64,
    pub errors: u64,
    pub latency: Vec<u8>,
}

/// What the map knows of a node besides its numbers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NodeRow {
    pub id: String,
    pub kind: NodeKind,
    pub name: String,
    pub system: Option<String>,
    pub namespace: Option<String>,
    pub deployment: Option<String>,
}

/// `Store::service_map`'s answer.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MapRows {
    pub edges: Vec<EdgeRow>,
    /// Every node the store has metadata for (virtual nodes, services with k8s attributes).
    pub nodes: Vec<NodeRow>,
    /// Halves waiting for their other half now.
    pub pending: u64,
}

/// A span kind from its stored text (`SpanKind::name`); unknown text reads as unspecified.
pub fn span_kind(text: &str) -> SpanKind {
    match text {
        "internal" => SpanKind::Internal,
        "server" => SpanKind::Server,
        "client" => SpanKind::Client,
        "producer" => SpanKind::Producer,
        "consumer" => SpanKind::Consumer,
        _ => SpanKind::Unspecified,
    }
}
