//! Spans and trace summaries as the query API returns them. Ids are lowercase hex; times are
//! nanoseconds since the Unix epoch.

use serde::{Deserialize, Serialize};

/// One attribute value. Externally tagged (`{"string": "GET"}`, `{"int": 3}`) so the type
/// survives a JSON round trip.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AttrValue {
    String(String),
    Bool(bool),
    Int(i64),
    Double(f64),
    /// Base64 of the bytes.
    Bytes(String),
    Array(Vec<AttrValue>),
    KvList(Vec<KeyValue>),
    /// OTLP's empty `AnyValue`.
    Empty,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KeyValue {
    pub key: String,
    pub value: AttrValue,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SpanKind {
    #[default]
    Unspecified,
    Internal,
    Server,
    Client,
    Producer,
    Consumer,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StatusCode {
    #[default]
    Unset,
    Ok,
    Error,
}

impl StatusCode {
    /// The lowercase name people read (and the wire uses).
    pub fn name(self) -> &'static str {
        match self {
            StatusCode::Unset => "unset",
            StatusCode::Ok => "ok",
            StatusCode::Error => "error",
        }
    }
}

impl SpanKind {
    /// The lowercase name people read.
    pub fn name(self) -> &'static str {
        match self {
            SpanKind::Unspecified => "unspecified",
            SpanKind::Internal => "internal",
            SpanKind::Server => "server",
            SpanKind::Client => "client",
            SpanKind::Producer => "producer",
            SpanKind::Consumer => "consumer",
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpanStatus {
    pub code: StatusCode,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scope {
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub version: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SpanEvent {
    pub time_ns: u64,
    pub name: String,
    #[serde(default)]
    pub attributes: Vec<KeyValue>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SpanLink {
    pub trace_id: String,
    pub span_id: String,
    #[serde(default)]
    pub attributes: Vec<KeyValue>,
}

/// One span with everything OTLP said about it that a viewer needs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Span {
    pub trace_id: String,
    pub span_id: String,
    /// `None` for a root span.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_span_id: Option<String>,
    pub name: String,
    pub kind: SpanKind,
    /// The resource's `service.name` (`unknown_service` when absent, as the SDKs do).
    pub service: String,
    pub start_ns: u64,
    pub end_ns: u64,
    pub status: SpanStatus,
    #[serde(default)]
    pub attributes: Vec<KeyValue>,
    #[serde(default)]
    pub events: Vec<SpanEvent>,
    #[serde(default)]
    pub links: Vec<SpanLink>,
    /// The resource's attributes, `service.name` included.
    #[serde(default)]
    pub resource: Vec<KeyValue>,
    #[serde(default)]
    pub scope: Scope,
    /// Attributes, events and links dropped by the sender or by our caps.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub dropped_attributes_count: u32,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub dropped_events_count: u32,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub dropped_links_count: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl Span {
    /// A span with these ids and name and nothing else: no parent, unset kind and status,
    /// `unknown_service`, zero times, no attributes, events or links.
    pub fn new(
        trace_id: impl Into<String>,
        span_id: impl Into<String>,
        name: impl Into<String>,
    ) -> Span {
        Span {
            trace_id: trace_id.into(),
            span_id: span_id.into(),
            parent_span_id: None,
            name: name.into(),
            kind: SpanKind::Unspecified,
            service: "unknown_service".into(),
            start_ns: 0,
            end_ns: 0,
            status: SpanStatus::default(),
            attributes: Vec::new(),
            events: Vec::new(),
            links: Vec::new(),
            resource: Vec::new(),
            scope: Scope::default(),
            dropped_attributes_count: 0,
            dropped_events_count: 0,
            dropped_links_count: 0,
        }
    }

    #[inline]
    pub fn duration_ns(&self) -> u64 {
        self.end_ns.saturating_sub(self.start_ns)
    }

    #[inline]
    pub fn is_error(&self) -> bool {
        self.status.code == StatusCode::Error
    }

    /// The attribute named `key`, if any.
    #[inline]
    pub fn attribute(&self, key: &str) -> Option<&AttrValue> {
        self.attributes.iter().find(|kv| kv.key == key).map(|kv| &kv.value)
    }
}

/// One row of trace search.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceSummary {
    pub trace_id: String,
    /// The root span's service and name; the earliest span's when the root has not arrived.
    pub root_service: String,
    pub root_name: String,
    pub start_ns: u64,
    pub duration_ns: u64,
    pub span_count: u64,
    pub error_count: u64,
    /// True while the root span (no parent) has not arrived: `root_service` and `root_name`
    /// then name the earliest span, which the list must not present as the root.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub root_missing: bool,
    /// Spans per service, most first (`/api/v1/traces` fills it for the first
    /// `TRACE_ROW_DETAILS` rows; empty from servers before it).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub services: Vec<ServiceSpans>,
    /// The root span's kind, one-line summary, status and error text, when it arrived (as
    /// `services`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root: Option<RootLine>,
}

/// The rows of a trace search that carry `services` and `root`: more than a page holds by
/// default, bounded so a 1,000-row answer does not read 1,000 traces' roots.
pub const TRACE_ROW_DETAILS: usize = 200;

/// One service's share of a trace.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceSpans {
    pub service: String,
    pub spans: u64,
}

/// What the trace list says about a trace's root span (`model::trace_row::root_line`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RootLine {
    pub kind: SpanKind,
    /// `model::describe::span_summary`.
    pub summary: String,
    pub status: StatusCode,
    /// The status message, else the first exception's type and message; empty when none.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub error: String,
}

/// One point of the trace search's scatter.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TracePoint {
    pub trace_id: String,
    pub start_ns: u64,
    pub duration_ns: u64,
    pub error_count: u64,
}

/// `GET /api/v1/traces`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceList {
    pub traces: Vec<TraceSummary>,
    /// How many traces match, the limit aside: counted up to 1,001 (more than the largest
    /// page); absent when attribute filters leave it unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matched: Option<u64>,
    /// With `scatter=1`: every match in the range (newest first, up to `MAX_TRACE_LIMIT`),
    /// whatever `limit` says, so the scatter plots more than the page's rows.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub points: Vec<TracePoint>,
}

/// `GET /api/v1/traces/{trace_id}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Trace {
    pub trace_id: String,
    pub spans: Vec<Span>,
}

/// A span whose links point at another span (a batch consumer linking to the producers it
/// read), as `GET /api/v1/traces/{trace_id}/spans/{span_id}/linked` lists it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkingSpan {
    pub trace_id: String,
    pub span_id: String,
    pub service: String,
    pub name: String,
    pub start_ns: u64,
}

/// `GET /api/v1/traces/{trace_id}/spans/{span_id}/linked`: the spans linking to that span,
/// earliest first, at most `MAX_LINKING_SPANS`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkedFrom {
    pub spans: Vec<LinkingSpan>,
    /// More spans link to it than are listed.
    #[serde(default)]
    pub more: bool,
}

/// The most linking spans one answer lists.
pub const MAX_LINKING_SPANS: usize = 100;
