//! One builder of OTLP spans for tests that send what an SDK would: the end-to-end tests, and
//! the server's router and ingest tests (through their dev-dependency on this crate).
//!
//! Model spans are built by `otelscope_app::model::fixture` instead; this crate depends on no
//! otelscope crate (it tests the binary from outside), so the two builders cannot be one.

use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue};
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use opentelemetry_proto::tonic::trace::v1::Span;

/// An OTLP span in trace `trace` (its bytes, 16 for a valid id) with span id `id` (8 bytes,
/// big-endian), named `name`; no parent, kind unspecified, times zero until set.
pub fn otlp_span(trace: impl Into<Vec<u8>>, id: u64, name: &str) -> OtlpSpanBuilder {
    OtlpSpanBuilder(Span {
        trace_id: trace.into(),
        span_id: id.to_be_bytes().to_vec(),
        name: name.into(),
        ..Default::default()
    })
}

/// See [`otlp_span`].
#[derive(Clone, Debug)]
#[must_use]
pub struct OtlpSpanBuilder(Span);

impl OtlpSpanBuilder {
    /// The parent's span id (big-endian, as [`otlp_span`] writes ids).
    pub fn parent(mut self, parent: u64) -> OtlpSpanBuilder {
        self.0.parent_span_id = parent.to_be_bytes().to_vec();
        self
    }

    pub fn kind(mut self, kind: SpanKind) -> OtlpSpanBuilder {
        self.0.kind = kind as i32;
        self
    }

    /// Start and end, in Unix nanoseconds.
    pub fn ns(mut self, start: u64, end: u64) -> OtlpSpanBuilder {
        self.0.start_time_unix_nano = start;
        self.0.end_time_unix_nano = end;
        self
    }

    /// A string attribute, as the SDKs' semantic-convention instrumentations set them.
    pub fn attr(mut self, key: &str, value: &str) -> OtlpSpanBuilder {
        self.0.attributes.push(key_value(key, Value::StringValue(value.into())));
        self
    }

    /// An integer attribute (a status code, an attempt number).
    pub fn attr_int(mut self, key: &str, value: i64) -> OtlpSpanBuilder {
        self.0.attributes.push(key_value(key, Value::IntValue(value)));
        self
    }

    pub fn build(self) -> Span {
        self.0
    }
}

fn key_value(key: &str, value: Value) -> KeyValue {
    KeyValue { key: key.into(), value: Some(AnyValue { value: Some(value) }), ..Default::default() }
}
