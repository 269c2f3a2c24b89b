//! `ExportMetricsServiceRequest` → `Vec<MetricPoint>`, one per data point.

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::metrics::v1::{metric::Data, number_data_point, NumberDataPoint};
use otelscope_app::model::{self, HistogramValue, MetricKind, MetricPoint, Temporality};

use super::common::{attributes, service_name, time, truncate, Budget, Limits, ITEM_BYTES};
use super::Converted;

/// Fields shared by every point of one metric.
struct Stream<'a> {
    name: &'a str,
    description: &'a str,
    unit: &'a str,
    service: &'a str,
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
                    // Every point carries copies of these: each copy counts.
                    shared_bytes: ITEM_BYTES
                        + name.len()
                        + description.len()
                        + unit.len()
                        + service.len(),
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
    }
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

/// Keeps the point `convert` makes if its cost fits in `budget`, else counts it rejected.
fn keep(
    stream: &Stream,
    budget: &mut Budget,
    out: &mut Converted<MetricPoint>,
    encoded_len: usize,
    convert: impl FnOnce() -> MetricPoint,
) {
    match budget.take(stream.shared_bytes + encoded_len) {
        Ok(()) => out.items.push(convert()),
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
                    number(p, stream, MetricKind::Gauge, limits)
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
                    out
                });
            }
        }
        Data::Histogram(histogram) => {
            for p in histogram.data_points {
                let len = p.encoded_len();
                keep(stream, budget, out, len, move || {
                    let value = HistogramValue {
                        count: p.count,
                        sum: finite(p.sum),
                        bounds: p.explicit_bounds.into_iter().map(finite_bound).collect(),
                        bucket_counts: p.bucket_counts,
                        min: finite(p.min),
                        max: finite(p.max),
                    };
                    let at = (p.start_time_unix_nano, p.time_unix_nano);
                    distribution(
                        stream,
                        MetricKind::Histogram,
                        attributes(p.attributes, limits).0,
                        at,
                        histogram.aggregation_temporality,
                        value,
                    )
                });
            }
        }
        Data::ExponentialHistogram(histogram) => {
            for p in histogram.data_points {
                let len = p.encoded_len();
                keep(stream, budget, out, len, move || {
                    // Bucket layout (scale, offsets) is not kept yet: count, sum, min and max are.
                    let value = HistogramValue {
                        count: p.count,
                        sum: finite(p.sum),
                        min: finite(p.min),
                        max: finite(p.max),
                        ..Default::default()
                    };
                    let at = (p.start_time_unix_nano, p.time_unix_nano);
                    distribution(
                        stream,
                        MetricKind::ExponentialHistogram,
                        attributes(p.attributes, limits).0,
                        at,
                        histogram.aggregation_temporality,
                        value,
                    )
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
                    out.histogram = Some(HistogramValue {
                        count: p.count,
                        sum: out.value,
                        ..Default::default()
                    });
                    out
                });
            }
        }
    }
}
