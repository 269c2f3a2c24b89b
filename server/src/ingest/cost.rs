//! What decoding an OTLP body will cost in memory, found before decoding it: a walk over the
//! protobuf wire format (or the JSON text) that allocates nothing, so a small body that would
//! decode into gigabytes (millions of empty records) is refused instead of decoded.

use std::mem::size_of;

use opentelemetry_proto::tonic::common::v1 as common;
use opentelemetry_proto::tonic::logs::v1 as logs;
use opentelemetry_proto::tonic::metrics::v1 as metrics;
use opentelemetry_proto::tonic::resource::v1 as resource;
use opentelemetry_proto::tonic::trace::v1 as trace;

/// The OTLP messages whose fields hold other messages (the ones a decoder allocates for).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Msg {
    ExportTraces,
    ExportMetrics,
    ExportLogs,
    ResourceSpans,
    ResourceMetrics,
    ResourceLogs,
    Resource,
    EntityRef,
    Scope,
    ScopeSpans,
    ScopeMetrics,
    ScopeLogs,
    Span,
    Event,
    Link,
    Status,
    LogRecord,
    Metric,
    /// Gauge, Sum, Histogram, ExponentialHistogram and Summary: field 1 holds the points.
    Points(Point),
    NumberPoint,
    HistogramPoint,
    ExpHistogramPoint,
    Buckets,
    SummaryPoint,
    Quantile,
    Exemplar,
    KeyValue,
    AnyValue,
    ArrayValue,
    KeyValueList,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Point {
    Number,
    Histogram,
    ExpHistogram,
    Summary,
}

/// What a field of a message decodes into.
enum Field {
    Message(Msg),
    /// `repeated uint64`, packed: one varint of at least a byte becomes 8 bytes.
    PackedVarints,
    /// Strings, bytes, packed fixed-width numbers: about their length on the wire.
    Bytes,
}

impl Msg {
    /// Bytes one decoded value of this message takes (its struct; what it owns is counted
    /// field by field).
    fn size(self) -> u64 {
        let size = match self {
            Msg::ExportTraces | Msg::ExportMetrics | Msg::ExportLogs => 24,
            Msg::ResourceSpans => size_of::<trace::ResourceSpans>(),
            Msg::ResourceMetrics => size_of::<metrics::ResourceMetrics>(),
            Msg::ResourceLogs => size_of::<logs::ResourceLogs>(),
            Msg::Resource => size_of::<resource::Resource>(),
            Msg::EntityRef => size_of::<common::EntityRef>(),
            Msg::Scope => size_of::<common::InstrumentationScope>(),
            Msg::ScopeSpans => size_of::<trace::ScopeSpans>(),
            Msg::ScopeMetrics => size_of::<metrics::ScopeMetrics>(),
            Msg::ScopeLogs => size_of::<logs::ScopeLogs>(),
            Msg::Span => size_of::<trace::Span>(),
            Msg::Event => size_of::<trace::span::Event>(),
            Msg::Link => size_of::<trace::span::Link>(),
            Msg::Status => size_of::<trace::Status>(),
            Msg::LogRecord => size_of::<logs::LogRecord>(),
            Msg::Metric => size_of::<metrics::Metric>(),
            Msg::Points(_) => size_of::<metrics::Histogram>(),
            Msg::NumberPoint => size_of::<metrics::NumberDataPoint>(),
            Msg::HistogramPoint => size_of::<metrics::HistogramDataPoint>(),
            Msg::ExpHistogramPoint => size_of::<metrics::ExponentialHistogramDataPoint>(),
            Msg::Buckets => size_of::<metrics::exponential_histogram_data_point::Buckets>(),
            Msg::SummaryPoint => size_of::<metrics::SummaryDataPoint>(),
            Msg::Quantile => size_of::<metrics::summary_data_point::ValueAtQuantile>(),
            Msg::Exemplar => size_of::<metrics::Exemplar>(),
            Msg::KeyValue => size_of::<common::KeyValue>(),
            Msg::AnyValue => size_of::<common::AnyValue>(),
            Msg::ArrayValue => size_of::<common::ArrayValue>(),
            Msg::KeyValueList => size_of::<common::KeyValueList>(),
        };
        size as u64
    }

    /// What field `number` (length-delimited on the wire) holds.
    fn field(self, number: u64) -> Field {
        use Field::Message as M;
        match (self, number) {
            (Msg::ExportTraces, 1) => M(Msg::ResourceSpans),
            (Msg::ExportMetrics, 1) => M(Msg::ResourceMetrics),
            (Msg::ExportLogs, 1) => M(Msg::ResourceLogs),
            (Msg::ResourceSpans | Msg::ResourceMetrics | Msg::ResourceLogs, 1) => M(Msg::Resource),
            (Msg::ResourceSpans, 2) => M(Msg::ScopeSpans),
            (Msg::ResourceMetrics, 2) => M(Msg::ScopeMetrics),
            (Msg::ResourceLogs, 2) => M(Msg::ScopeLogs),
            (Msg::Resource, 1) => M(Msg::KeyValue),
            (Msg::Resource, 3) => M(Msg::EntityRef),
            (Msg::ScopeSpans | Msg::ScopeMetrics | Msg::ScopeLogs, 1) => M(Msg::Scope),
            (Msg::Scope, 3) => M(Msg::KeyValue),
            (Msg::ScopeSpans, 2) => M(Msg::Span),
            (Msg::ScopeMetrics, 2) => M(Msg::Metric),
            (Msg::ScopeLogs, 2) => M(Msg::LogRecord),
            (Msg::Span, 9) | (Msg::Event, 3) | (Msg::Link, 4) => M(Msg::KeyValue),
            (Msg::Span, 11) => M(Msg::Event),
            (Msg::Span, 13) => M(Msg::Link),
            (Msg::Span, 15) => M(Msg::Status),
            (Msg::LogRecord, 5) => M(Msg::AnyValue),
            (Msg::LogRecord, 6) => M(Msg::KeyValue),
            (Msg::Metric, 5 | 7) => M(Msg::Points(Point::Number)),
            (Msg::Metric, 9) => M(Msg::Points(Point::Histogram)),
            (Msg::Metric, 10) => M(Msg::Points(Point::ExpHistogram)),
            (Msg::Metric, 11) => M(Msg::Points(Point::Summary)),
            (Msg::Metric, 12) => M(Msg::KeyValue),
            (Msg::Points(Point::Number), 1) => M(Msg::NumberPoint),
            (Msg::Points(Point::Histogram), 1) => M(Msg::HistogramPoint),
            (Msg::Points(Point::ExpHistogram), 1) => M(Msg::ExpHistogramPoint),
            (Msg::Points(Point::Summary), 1) => M(Msg::SummaryPoint),
            (Msg::NumberPoint, 7) | (Msg::HistogramPoint, 9) | (Msg::ExpHistogramPoint, 1) => {
                M(Msg::KeyValue)
            }
            (Msg::SummaryPoint, 7) | (Msg::Exemplar, 7) => M(Msg::KeyValue),
            (Msg::NumberPoint, 5) | (Msg::HistogramPoint, 8) | (Msg::ExpHistogramPoint, 11) => {
                M(Msg::Exemplar)
            }
            (Msg::ExpHistogramPoint, 8 | 9) => M(Msg::Buckets),
            (Msg::Buckets, 2) => Field::PackedVarints,
            (Msg::SummaryPoint, 6) => M(Msg::Quantile),
            (Msg::KeyValue, 2) => M(Msg::AnyValue),
            (Msg::AnyValue, 5) => M(Msg::ArrayValue),
            (Msg::AnyValue, 6) => M(Msg::KeyValueList),
            (Msg::ArrayValue, 1) => M(Msg::AnyValue),
            (Msg::KeyValueList, 1) => M(Msg::KeyValue),
            _ => Field::Bytes,
        }
    }
}

/// Why a body could not be walked: the decoder would refuse it too.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum WireError {
    #[error("truncated or malformed protobuf")]
    Malformed,
    #[error("recursion limit reached: protobuf nested deeper than {0} levels")]
    TooDeep(usize),
}

/// Deepest nesting walked; prost itself refuses past 100.
const MAX_DEPTH: usize = 100;

/// Bytes that decoding `body` as message `root` allocates, at most (a `Vec` may hold up to
/// twice what it uses, so message values count double).
pub(crate) fn protobuf(body: &[u8], root: Msg) -> Result<u64, WireError> {
    Ok(walk(body, root, 0)?.saturating_add(body.len() as u64))
}

fn walk(mut buf: &[u8], msg: Msg, depth: usize) -> Result<u64, WireError> {
    if depth > MAX_DEPTH {
        return Err(WireError::TooDeep(MAX_DEPTH));
    }
    let mut cost = 0u64;
    while !buf.is_empty() {
        let key = varint(&mut buf)?;
        let (number, wire_type) = (key >> 3, key & 7);
        match wire_type {
            0 => {
                varint(&mut buf)?;
            }
            1 => buf = buf.get(8..).ok_or(WireError::Malformed)?,
            5 => buf = buf.get(4..).ok_or(WireError::Malformed)?,
            2 => {
                let len = usize::try_from(varint(&mut buf)?).map_err(|_| WireError::Malformed)?;
                let field = buf.get(..len).ok_or(WireError::Malformed)?;
                buf = &buf[len..];
                let field_cost = match msg.field(number) {
                    Field::Message(child) => 2 * child.size() + walk(field, child, depth + 1)?,
                    Field::PackedVarints => {
                        8 * field.iter().filter(|b| *b & 0x80 == 0).count() as u64
                    }
                    Field::Bytes => field.len() as u64,
                };
                cost = cost.saturating_add(field_cost);
            }
            // Groups (3, 4) are not in OTLP; anything else is not protobuf.
            _ => return Err(WireError::Malformed),
        }
    }
    Ok(cost)
}

fn varint(buf: &mut &[u8]) -> Result<u64, WireError> {
    let mut value = 0u64;
    for (i, byte) in buf.iter().take(10).enumerate() {
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            *buf = &buf[i + 1..];
            return Ok(value);
        }
    }
    Err(WireError::Malformed)
}

/// Bytes that decoding `body` as OTLP JSON allocates, at most: every object or array may become
/// the largest OTLP struct (twice, for `Vec` growth); every other byte at most itself.
pub(crate) fn json(body: &[u8]) -> u64 {
    let largest =
        [Msg::Span, Msg::LogRecord, Msg::ExpHistogramPoint, Msg::HistogramPoint, Msg::Metric]
            .into_iter()
            .map(Msg::size)
            .max()
            .unwrap_or(256);
    let (mut in_string, mut escaped, mut containers) = (false, false, 0u64);
    for &byte in body {
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
        } else {
            match byte {
                b'"' => in_string = true,
                b'{' | b'[' => containers += 1,
                _ => {}
            }
        }
    }
    containers.saturating_mul(2 * largest).saturating_add(2 * body.len() as u64)
}

#[cfg(test)]
mod tests {
    use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
    use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
    use prost::Message;

    use super::*;

    fn empty_records(n: usize) -> ExportLogsServiceRequest {
        ExportLogsServiceRequest {
            resource_logs: vec![logs::ResourceLogs {
                scope_logs: vec![logs::ScopeLogs {
                    log_records: vec![logs::LogRecord::default(); n],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        }
    }

    #[test]
    fn empty_records_cost_their_struct_not_their_two_wire_bytes() {
        let body = empty_records(10_000).encode_to_vec();
        let cost = protobuf(&body, Msg::ExportLogs).unwrap();
        let decoded = 10_000 * size_of::<logs::LogRecord>() as u64;
        assert!(body.len() < 25_000, "{} bytes on the wire", body.len());
        assert!(cost >= decoded, "{cost} < {decoded}: the estimate must bound the decode");
        assert!(cost <= 3 * decoded, "{cost}: not wildly above");
    }

    #[test]
    fn strings_and_nested_values_are_counted() {
        let request = ExportMetricsServiceRequest {
            resource_metrics: vec![metrics::ResourceMetrics {
                scope_metrics: vec![metrics::ScopeMetrics {
                    metrics: vec![metrics::Metric {
                        name: "m".into(),
                        description: "d".repeat(1 << 20),
                        data: Some(metrics::metric::Data::Gauge(metrics::Gauge {
                            data_points: vec![metrics::NumberDataPoint::default(); 2_000],
                        })),
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        };
        let body = request.encode_to_vec();
        let cost = protobuf(&body, Msg::ExportMetrics).unwrap();
        let floor = (1 << 20) + 2_000 * size_of::<metrics::NumberDataPoint>() as u64;
        assert!(cost >= floor, "{cost} < {floor}");
    }

    #[test]
    fn malformed_and_too_deep_bodies_are_errors() {
        assert_eq!(protobuf(&[0x0a, 0x05, 0x01], Msg::ExportLogs), Err(WireError::Malformed));
        assert_eq!(protobuf(&[0x0b], Msg::ExportLogs), Err(WireError::Malformed));
        // AnyValue { array_value { values: [AnyValue { array_value ... }] } }, 200 deep.
        let mut value = Vec::new();
        for _ in 0..200 {
            let mut array = vec![0x0a];
            push_len(&mut array, value.len());
            array.extend(&value);
            let mut any = vec![0x2a];
            push_len(&mut any, array.len());
            any.extend(array);
            value = any;
        }
        let mut kv = vec![0x12];
        push_len(&mut kv, value.len());
        kv.extend(&value);
        assert_eq!(protobuf(&kv, Msg::KeyValue), Err(WireError::TooDeep(MAX_DEPTH)));
    }

    fn push_len(out: &mut Vec<u8>, mut len: usize) {
        while len >= 0x80 {
            out.push((len as u8) | 0x80);
            len >>= 7;
        }
        out.push(len as u8);
    }

    #[test]
    fn json_counts_objects_outside_strings() {
        let body = br#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{},{},{}]}]}],"x":"{[{["}"#;
        let small = json(br#"{"a":"{{{{{{{{"}"#);
        assert!(json(body) > 7 * size_of::<logs::LogRecord>() as u64);
        assert!(small < 4 * size_of::<trace::Span>() as u64 + 64, "{small}");
    }
}
