//! `ExportMetricsServiceRequest` → `Vec<MetricPoint>`, one per data point, with its resource,
//! scope, exemplars (at most `MAX_EXEMPLARS`), exponential buckets and summary quantiles.

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::metrics::v1::{
    exemplar, exponential_histogram_data_point::Buckets, metric::Data, number_data_point,
    Exemplar as OtlpExemplar, NumberDataPoint,
};
use otelscope_app::model::{
    self, Exemplar, ExpBuckets, HistogramValue, MetricKind, MetricPoint, QuantileValue, Temporality,
};

use super::common::{
    approx_bytes, attributes, hex_id, scope, scope_bytes, service_name, time, truncate, Budget,
    Limits, ITEM_BYTES,
};
use super::Converted;

/// Exemplars kept per point (the first ones sent); a point rarely carries more.
pub const MAX_EXEMPLARS: usize = 4;
/// Buckets kept per exponential histogram side (OTLP SDKs default to 160).
const MAX_EXP_BUCKETS: usize = 4096;
/// Scales outside OTLP's range (-10..=20) are refused.
const SCALES: std::ops::RangeInclusive<i32> = -10..=20;

/// Fields shared by every point of one metric.
struct Stream<'a> {
    name: &'a str,
    description: &'a str,
    unit: &'a str,
    service: &'a str,
    resource: &'a [model::KeyValue],
    scope: &'a model::Scope,
    /// What each point costs before its own attributes and values.
    shared_bytes: usize,
}

pub fn metrics(request: ExportMetricsServiceRequest, limits: &Limits) -> Converted<MetricPoint> {
    let mut out = Converted::default();
    let mut budget = Budget::new(limits);
    for resource_metrics in request.resource_metrics {
        let (resource, _) =
            attributes(resource_metrics.resource.map(|r| r.attributes).unwrap_or_default(), limits);
        let service = service_name(&resource, limits);
        for scope_metrics in resource_metrics.scope_metrics {
            let scope = scope(scope_metrics.scope, limits);
            for metric in scope_metrics.metrics {
                let name = truncate(metric.name, limits.max_value_bytes);
                if name.is_empty() {
                    let points = metric.data.as_ref().map_or(1, data_points);
                    for _ in 0..points {
                        out.reject(|| "a metric has no name".to_owned());
                    }
                    continue;
                }
                let description = truncate(metric.description, limits.max_value_bytes);
                let unit = truncate(metric.unit, limits.max_value_bytes);
                let stream = Stream {
                    name: &name,
                    description: &description,
                    unit: &unit,
                    service: &service,
                    resource: &resource,
                    scope: &scope,
                    // Every point carries copies of these: each copy counts.
                    shared_bytes: ITEM_BYTES
                        + name.len()
                        + description.len()
                        + unit.len()
                        + service.len()
                        + approx_bytes(&resource)
                        + scope_bytes(&scope),
                };
                match metric.data {
                    Some(data) => convert_data(data, &stream, limits, &mut budget, &mut out),
                    None => out.reject(|| format!("metric {name:?} has no data")),
                }
            }
        }
    }
    out
}

fn data_points(data: &Data) -> usize {
    match data {
        Data::Gauge(g) => g.data_points.len(),
        Data::Sum(s) => s.data_points.len(),
        Data::Histogram(h) => h.data_points.len(),
        Data::ExponentialHistogram(h) => h.data_points.len(),
        Data::Summary(s) => s.data_points.len(),
    }
}

fn temporality(value: i32) -> Temporality {
    match value {
        1 => Temporality::Delta,
        2 => Temporality::Cumulative,
        _ => Temporality::Unspecified,
    }
}

/// A finite value, or none: JSON cannot carry NaN or infinities.
fn finite(value: Option<f64>) -> Option<f64> {
    value.filter(|v| v.is_finite())
}

/// Bounds must stay numbers to keep their place: infinities become the largest finite value.
fn finite_bound(b: f64) -> f64 {
    if b.is_finite() {
        b
    } else if b > 0.0 {
        f64::MAX
    } else {
        f64::MIN
    }
}

fn point(
    stream: &Stream,
    kind: MetricKind,
    attrs: Vec<model::KeyValue>,
    start_ns: u64,
    time_ns: u64,
) -> MetricPoint {
    MetricPoint {
        name: stream.name.to_owned(),
        description: stream.description.to_owned(),
        unit: stream.unit.to_owned(),
        kind,
        temporality: Temporality::Unspecified,
        monotonic: false,
        service: stream.service.to_owned(),
        attributes: attrs,
        start_ns: time(start_ns),
        // An unset time means "now" rather than 1970, which retention would drop at once.
        time_ns: time(if time_ns == 0 { crate::ingest::now_ns() } else { time_ns }),
        value: None,
        histogram: None,
        exemplars: Vec::new(),
        resource: stream.resource.to_vec(),
        scope: Some(stream.scope.clone()).filter(|s| !s.name.is_empty() || !s.version.is_empty()),
    }
}

/// The first `MAX_EXEMPLARS` exemplars with a finite value, their ids as hex (none when unset).
fn exemplars(list: Vec<OtlpExemplar>, limits: &Limits) -> Vec<Exemplar> {
    list.into_iter()
        .filter_map(|e| {
            let value = match e.value? {
                exemplar::Value::AsDouble(d) => d,
                exemplar::Value::AsInt(i) => i as f64,
            };
            value.is_finite().then(|| Exemplar {
                time_ns: time(e.time_unix_nano),
                value,
                trace_id: (!e.trace_id.is_empty() && e.trace_id.iter().any(|b| *b != 0))
                    .then(|| hex_id(&e.trace_id)),
                span_id: (!e.span_id.is_empty() && e.span_id.iter().any(|b| *b != 0))
                    .then(|| hex_id(&e.span_id)),
                attributes: attributes(e.filtered_attributes, limits).0,
            })
        })
        .take(MAX_EXEMPLARS)
        .collect()
}

/// One side of an exponential histogram: its offset and counts (trailing zeros dropped).
fn exp_side(buckets: Option<Buckets>) -> (i32, Vec<u64>) {
    let Some(b) = buckets else { return (0, Vec::new()) };
    let mut counts = b.bucket_counts;
    while counts.last() == Some(&0) {
        counts.pop();
    }
    (b.offset, counts)
}
fn number(p: NumberDataPoint, stream: &Stream, kind: MetricKind, limits: &Limits) -> MetricPoint {
    let mut out = point(
        stream,
        kind,
        attributes(p.attributes, limits).0,
        p.start_time_unix_nano,
        p.time_unix_nano,
    );
    out.value = finite(p.value.map(|v| match v {
        number_data_point::Value::AsDouble(d) => d,
        number_data_point::Value::AsInt(i) => i as f64,
    }));
    out.exemplars = exemplars(p.exemplars, limits);
    out
}

/// A histogram-like point: `at` is (start, time) and `temporality` OTLP's number.
fn distribution(
    stream: &Stream,
    kind: MetricKind,
    attrs: Vec<model::KeyValue>,
    at: (u64, u64),
    temporality_number: i32,
    value: HistogramValue,
) -> MetricPoint {
    let mut out = point(stream, kind, attrs, at.0, at.1);
    out.temporality = temporality(temporality_number);
    out.histogram = Some(value);
    out
}

/// Keeps the point `convert` makes if its cost fits in `budget` and it is well formed, else
/// counts it rejected with the reason.
fn keep(
    stream: &Stream,
    budget: &mut Budget,
    out: &mut Converted<MetricPoint>,
    encoded_len: usize,
    convert: impl FnOnce() -> Result<MetricPoint, String>,
) {
    match budget.take(stream.shared_bytes + encoded_len).and_then(|()| convert()) {
        Ok(point) => out.items.push(point),
        Err(why) => out.reject(|| why),
    }
}

/// Converts the points of one metric, each charged to `budget` first.
fn convert_data(
    data: Data,
    stream: &Stream,
    limits: &Limits,
    budget: &mut Budget,
    out: &mut Converted<MetricPoint>,
) {
    use prost::Message as _;
    match data {
        Data::Gauge(gauge) => {
            for p in gauge.data_points {
                let len = p.encoded_len();
                keep(stream, budget, out, len, move || {
                    Ok(number(p, stream, MetricKind::Gauge, limits))
                });
            }
        }
        Data::Sum(sum) => {
            for p in sum.data_points {
                let len = p.encoded_len();
                keep(stream, budget, out, len, move || {
                    let mut out = number(p, stream, MetricKind::Sum, limits);
                    out.temporality = temporality(sum.aggregation_temporality);
                    out.monotonic = sum.is_monotonic;
                    Ok(out)
                });
            }
        }
        Data::Histogram(histogram) => {
            for p in histogram.data_points {
                let len = p.encoded_len();
                keep(stream, budget, out, len, move || {
                    let bucket_counts = p.bucket_counts;
                    if !bucket_counts.is_empty()
                        && bucket_counts.len() != p.explicit_bounds.len() + 1
                    {
                        return Err(format!(
                            "histogram {:?}: {} bucket counts for {} bounds (want bounds + 1)",
                            stream.name,
                            bucket_counts.len(),
                            p.explicit_bounds.len()
                        ));
                    }
                    let value = HistogramValue {
                        count: p.count,
                        sum: finite(p.sum),
                        bounds: p.explicit_bounds.into_iter().map(finite_bound).collect(),
                        bucket_counts,
                        min: finite(p.min),
                        max: finite(p.max),
                        ..Default::default()
                    };
                    let at = (p.start_time_unix_nano, p.time_unix_nano);
                    let mut out = distribution(
                        stream,
                        MetricKind::Histogram,
                        attributes(p.attributes, limits).0,
                        at,
                        histogram.aggregation_temporality,
                        value,
                    );
                    out.exemplars = exemplars(p.exemplars, limits);
                    Ok(out)
                });
            }
        }
        Data::ExponentialHistogram(histogram) => {
            for p in histogram.data_points {
                let len = p.encoded_len();
                keep(stream, budget, out, len, move || {
                    if !SCALES.contains(&p.scale) {
                        return Err(format!(
                            "exponential histogram {:?}: scale {} is outside -10..=20",
                            stream.name, p.scale
                        ));
                    }
                    let (positive_offset, positive) = exp_side(p.positive);
                    let (negative_offset, negative) = exp_side(p.negative);
                    if positive.len() > MAX_EXP_BUCKETS || negative.len() > MAX_EXP_BUCKETS {
                        return Err(format!(
                            "exponential histogram {:?}: more than {MAX_EXP_BUCKETS} buckets",
                            stream.name
                        ));
                    }
                    let value = HistogramValue {
                        count: p.count,
                        sum: finite(p.sum),
                        min: finite(p.min),
                        max: finite(p.max),
                        exponential: Some(ExpBuckets {
                            scale: p.scale,
                            zero_count: p.zero_count,
                            zero_threshold: if p.zero_threshold.is_finite() {
                                p.zero_threshold.abs()
                            } else {
                                0.0
                            },
                            positive_offset,
                            positive,
                            negative_offset,
                            negative,
                        }),
                        ..Default::default()
                    };
                    let at = (p.start_time_unix_nano, p.time_unix_nano);
                    let mut out = distribution(
                        stream,
                        MetricKind::ExponentialHistogram,
                        attributes(p.attributes, limits).0,
                        at,
                        histogram.aggregation_temporality,
                        value,
                    );
                    out.exemplars = exemplars(p.exemplars, limits);
                    Ok(out)
                });
            }
        }
        Data::Summary(summary) => {
            for p in summary.data_points {
                let len = p.encoded_len();
                keep(stream, budget, out, len, move || {
                    let mut out = point(
                        stream,
                        MetricKind::Summary,
                        attributes(p.attributes, limits).0,
                        p.start_time_unix_nano,
                        p.time_unix_nano,
                    );
                    out.value = finite(Some(p.sum));
                    let mut quantiles: Vec<QuantileValue> = p
                        .quantile_values
                        .into_iter()
                        .filter(|q| q.value.is_finite() && (0.0..=1.0).contains(&q.quantile))
                        .map(|q| QuantileValue { quantile: q.quantile, value: q.value })
                        .collect();
                    quantiles.sort_by(|a, b| a.quantile.total_cmp(&b.quantile));
                    quantiles.dedup_by(|a, b| a.quantile == b.quantile);
                    out.histogram = Some(HistogramValue {
                        count: p.count,
                        sum: out.value,
                        quantiles,
                        ..Default::default()
                    });
                    Ok(out)
                });
            }
        }
    }
}
