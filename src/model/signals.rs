//! Log records and metric points as the query API returns them.

use serde::{Deserialize, Serialize};

use super::{AttrValue, Exemplar, KeyValue, Scope};

/// One OTLP log record with its resource and scope.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LogRecord {
    /// When the event happened (`observed_time_ns` when the sender left it unset).
    pub time_ns: u64,
    pub observed_time_ns: u64,
    /// OTLP severity number, 1 (TRACE) to 24 (FATAL4); 0 when unset.
    pub severity_number: i32,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub severity_text: String,
    pub body: AttrValue,
    #[serde(default)]
    pub attributes: Vec<KeyValue>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub span_id: Option<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub event_name: String,
    pub service: String,
    #[serde(default)]
    pub resource: Vec<KeyValue>,
    #[serde(default)]
    pub scope: Scope,
}

/// `GET /api/v1/logs`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LogList {
    pub logs: Vec<LogRecord>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MetricKind {
    #[default]
    Gauge,
    Sum,
    Histogram,
    ExponentialHistogram,
    Summary,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Temporality {
    #[default]
    Unspecified,
    Delta,
    Cumulative,
}

/// Bucket counts of a histogram point (`bounds.len() + 1` buckets).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct HistogramValue {
    pub count: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sum: Option<f64>,
    #[serde(default)]
    pub bounds: Vec<f64>,
    #[serde(default)]
    pub bucket_counts: Vec<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    /// Exponential histograms: the bucket layout and counts (`bounds`/`bucket_counts` empty).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exponential: Option<ExpBuckets>,
    /// Summaries: the quantiles as sent, lowest quantile first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub quantiles: Vec<QuantileValue>,
}

/// The buckets of an OTLP exponential histogram point. Bucket `i` of `positive` covers
/// `(base^(offset+i), base^(offset+i+1)]` with `base = 2^(2^-scale)`; `negative` mirrors it
/// for values below zero; `zero_count` counts values within `zero_threshold` of zero.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ExpBuckets {
    pub scale: i32,
    #[serde(default)]
    pub zero_count: u64,
    #[serde(default)]
    pub zero_threshold: f64,
    #[serde(default)]
    pub positive_offset: i32,
    #[serde(default)]
    pub positive: Vec<u64>,
    #[serde(default)]
    pub negative_offset: i32,
    #[serde(default)]
    pub negative: Vec<u64>,
}

/// One quantile of a summary point (`quantile` in 0..=1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct QuantileValue {
    pub quantile: f64,
    pub value: f64,
}

/// One data point of one metric stream.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MetricPoint {
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub unit: String,
    pub kind: MetricKind,
    pub temporality: Temporality,
    /// For sums: whether the value only goes up.
    #[serde(default)]
    pub monotonic: bool,
    pub service: String,
    #[serde(default)]
    pub attributes: Vec<KeyValue>,
    pub start_ns: u64,
    pub time_ns: u64,
    /// Gauge and sum values (ints widened to f64); summaries' sum.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
    /// Histogram, exponential histogram (count/sum/min/max only) and summary (count/sum).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub histogram: Option<HistogramValue>,
    /// Sampled measurements with the trace they were taken in (at most a few per point).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exemplars: Vec<Exemplar>,
    /// The resource's attributes (`service.name` included); part of the series' identity.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resource: Vec<KeyValue>,
    /// The instrumentation scope; part of the series' identity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<Scope>,
}

/// One series of `GET /api/v1/metrics?name=...`: the points of one metric stream.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MetricSeries {
    pub name: String,
    pub kind: MetricKind,
    pub unit: String,
    pub service: String,
    pub attributes: Vec<KeyValue>,
    pub points: Vec<MetricPoint>,
}

/// `GET /api/v1/metrics`: with `name`, its series; without, the catalog in `names`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MetricsAnswer {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub names: Vec<MetricName>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub series: Vec<MetricSeries>,
    /// More was stored than the answer holds: the series carry only the newest `limit` points,
    /// or the catalog only the first `limit` names.
    #[serde(default, skip_serializing_if = "is_false")]
    pub truncated: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetricName {
    pub name: String,
    pub points: u64,
}
