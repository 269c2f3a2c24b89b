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
}

/// One `red_rollup` row: one service's spans of one name and kind that started in one bucket.
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
}

/// One `edge_rollup` row.
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
