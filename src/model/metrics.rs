//! The metrics API's answers: the catalogue (`/api/v1/metrics`) and a metric's aggregated
//! series (`/api/v1/metrics/{name}/series`).

use serde::{Deserialize, Serialize};

use super::{KeyValue, MetricKind, Temporality};

/// One metric of the catalogue: every series that shares its name, type and unit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MetricInfo {
    pub name: String,
    pub kind: MetricKind,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub unit: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    pub temporality: Temporality,
    #[serde(default)]
    pub monotonic: bool,
    pub series: u64,
    pub points: u64,
    pub services: Vec<String>,
    pub last_seen_ns: u64,
}

/// `GET /api/v1/metrics` without `name=`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MetricCatalog {
    pub metrics: Vec<MetricInfo>,
    /// More metrics matched than the answer lists.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
}

/// What one line of a metric chart shows per step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MetricAgg {
    /// Monotonic sums: increase per second (resets start a new run).
    Rate,
    /// Gauges and non-monotonic sums: the last value in the step.
    Value,
    Avg,
    Min,
    Max,
    /// Histograms: percentiles by linear interpolation inside the bucket.
    P50,
    P90,
    P95,
    P99,
    /// Histograms and summaries: observations per second.
    Count,
    /// Histograms and summaries: sum of observations in the step.
    Sum,
    /// Summaries: the quantiles as sent (one group per quantile).
    Quantiles,
}

wire_kind!(MetricAgg {
    Rate = "rate",
    Value = "value",
    Avg = "avg",
    Min = "min",
    Max = "max",
    P50 = "p50",
    P90 = "p90",
    P95 = "p95",
    P99 = "p99",
    Count = "count",
    Sum = "sum",
    Quantiles = "quantiles",
});

/// `GET /api/v1/metrics/{name}/series`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MetricSeriesAnswer {
    pub info: MetricInfo,
    pub agg: MetricAgg,
    pub since_ns: u64,
    pub until_ns: u64,
    pub step_ns: u64,
    /// One line per group (`group_by` values), largest first; at most the asked number, the
    /// rest summed into one group with `others` set.
    pub groups: Vec<MetricGroup>,
    /// Histograms: bucket counts per step over a common set of bounds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heatmap: Option<Heatmap>,
    #[serde(default)]
    pub exemplars: Vec<Exemplar>,
    /// Points left out of the answer, and why (a series that changed type or unit).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MetricGroup {
    /// The `group_by` attribute values (empty when not grouped; a summary's quantile is a
    /// `quantile` label).
    pub labels: Vec<KeyValue>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub others: bool,
    /// One value per step from `since_ns`; `None` where the step has no value.
    pub values: Vec<Option<f64>>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Heatmap {
    /// Upper bounds of the buckets (the last is `+inf`, written as `null`), in the metric's unit.
    pub bounds: Vec<Option<f64>>,
    /// Per step, one count per bucket.
    pub counts: Vec<Vec<u64>>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Exemplar {
    pub time_ns: u64,
    pub value: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub span_id: Option<String>,
    #[serde(default)]
    pub attributes: Vec<KeyValue>,
}
