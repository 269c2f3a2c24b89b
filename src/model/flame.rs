//! Flame graph answers: `/api/v1/flamegraph` and `/api/v1/profiles/...` as JSON trees.

use serde::{Deserialize, Serialize};

/// A flame graph as a tree (`Accept: application/json`): from one trace, from every span of one
/// operation in a range, from a CPU profile, or the difference of two selections.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FlameGraph {
    /// What was folded.
    pub kind: FlameKind,
    /// What was folded, for people: "trace 4bf92f35…", "GET /products/{id} (catalog-api)".
    pub title: String,
    /// The unit of every value: `"µs"` (span self times) or `"samples"` (CPU profiles).
    pub unit: String,
    /// How many traces (or profiles) were folded in; values of a diff are divided by it.
    pub traces: u64,
    /// Operation selections: which spans of the operation were folded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matched_by: Option<MatchedBy>,
    /// True when stacks were bounded (too many distinct stacks or frames too deep) and the
    /// excess was merged into `[other]` frames.
    #[serde(default)]
    pub truncated: bool,
    /// With a base selection: what the base was and how many traces it had.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<FlameBase>,
    /// The tree; its root is named `all`.
    pub root: FlameNode,
}

/// What a flame graph folded (`"trace"`, `"operation"`, `"profile"` on the wire).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FlameKind {
    /// One trace's spans (self times).
    Trace,
    /// Every span of one operation in a range.
    Operation,
    /// A CPU profile (samples).
    Profile,
}

wire_kind!(FlameKind { Trace = "trace", Operation = "operation", Profile = "profile" });

/// Which spans of an operation a flame graph folded (`"any"`, `"root"` on the wire).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchedBy {
    /// Every span of the operation wherever it sits (its subtree is the graph, so frames
    /// above it are cut off).
    Any,
    /// Only traces whose root it is.
    Root,
}

wire_kind!(MatchedBy { Any = "any", Root = "root" });

/// Where a stored profile came from (`"cpu"`, `"pprof"`, `"folded"` on the wire).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProfileSource {
    /// The server's own CPU profile, taken by `/api/v1/profiles/cpu`.
    Cpu,
    /// An imported pprof file.
    Pprof,
    /// Imported folded stacks.
    Folded,
}

wire_kind!(ProfileSource { Cpu = "cpu", Pprof = "pprof", Folded = "folded" });

/// The base side of a differential flame graph.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FlameBase {
    pub title: String,
    pub traces: u64,
}

/// One frame. In a diff every value is per trace (divided by its side's trace count), and
/// frames only in the base are kept with `total` 0.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FlameNode {
    pub name: String,
    /// Time (or samples) in this frame itself.
    #[serde(rename = "self")]
    pub self_value: f64,
    /// Self plus every descendant's.
    pub total: f64,
    /// Traces whose stacks pass through this frame (0 when unknown, as for CPU profiles).
    #[serde(default)]
    pub traces: u64,
    /// In a diff: the base's self and total for this frame, per base trace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_self: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_total: Option<f64>,
    #[serde(default)]
    pub children: Vec<FlameNode>,
}

/// `POST /api/v1/profiles` answers `{"id": ...}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileCreated {
    pub id: String,
}

/// One entry of `GET /api/v1/profiles` (newest first).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileSummary {
    pub id: String,
    /// The server's own CPU profile, or an imported pprof or folded file.
    pub source: ProfileSource,
    /// A name for people: the file name given on import, or "otelscope CPU, 10 s".
    pub name: String,
    /// When it was stored (ns since the epoch).
    pub created_ns: u64,
    /// Distinct stacks and the sum of all values.
    pub stacks: u64,
    pub total: u64,
    /// The unit of the values (`"samples"`, or what a pprof's first sample type says).
    pub unit: String,
    /// Frames of its tree (distinct stack prefixes, the root included), counted at import;
    /// `None` for a profile kept by an otelscope that did not count them. The server draws
    /// no profile past its bound.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nodes: Option<u64>,
    /// How long the profile ran (a CPU profile's seconds); `None` when unknown (imports, and
    /// profiles kept before schema v16). It started `duration_ns` before `created_ns`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ns: Option<u64>,
}
