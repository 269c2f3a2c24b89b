//! `ExportTraceServiceRequest` → `Vec<Span>`.

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::trace::v1 as otlp;
use otelscope_app::model::{Span, SpanEvent, SpanKind, SpanLink, SpanStatus, StatusCode};

use super::common::{
    approx_bytes, attributes, hex_id, scope, scope_bytes, service_name, time, truncate, Budget,
    Limits, ITEM_BYTES,
};
use super::Converted;

pub fn traces(request: ExportTraceServiceRequest, limits: &Limits) -> Converted<Span> {
    let mut out = Converted::default();
    let mut budget = Budget::new(limits);
    for resource_spans in request.resource_spans {
        let (resource, _) =
            attributes(resource_spans.resource.map(|r| r.attributes).unwrap_or_default(), limits);
        let service = service_name(&resource, limits);
        let resource_bytes = approx_bytes(&resource);
        for scope_spans in resource_spans.scope_spans {
            let scope = scope(scope_spans.scope, limits);
            let shared = ITEM_BYTES + resource_bytes + service.len() + scope_bytes(&scope);
            for span in scope_spans.spans {
                use prost::Message as _;
                let fits = budget.take(shared + span.encoded_len());
                if let Err(why) = fits.and_then(|()| check_ids(&span)) {
                    out.reject(|| why);
                    continue;
                }
                out.items.push(convert_span(span, &service, &resource, &scope, limits));
            }
        }
    }
    out
}

fn check_ids(span: &otlp::Span) -> Result<(), String> {
    if span.trace_id.len() != 16 || span.trace_id.iter().all(|&b| b == 0) {
        return Err(format!(
            "span {:?} has an invalid trace id ({} bytes; it must be 16 bytes, not all zero)",
            span.name,
            span.trace_id.len()
        ));
    }
    if span.span_id.len() != 8 || span.span_id.iter().all(|&b| b == 0) {
        return Err(format!(
            "span {:?} has an invalid span id ({} bytes; it must be 8 bytes, not all zero)",
            span.name,
            span.span_id.len()
        ));
    }
    if !span.parent_span_id.is_empty() && span.parent_span_id.len() != 8 {
        return Err(format!(
            "span {:?} has an invalid parent span id ({} bytes; it must be 8 or empty)",
            span.name,
            span.parent_span_id.len()
        ));
    }
    Ok(())
}

fn convert_span(
    span: otlp::Span,
    service: &str,
    resource: &[otelscope_app::model::KeyValue],
    scope: &otelscope_app::model::Scope,
    limits: &Limits,
) -> Span {
    let (attrs, dropped_attrs) = attributes(span.attributes, limits);
    let dropped_events = span.events.len().saturating_sub(limits.max_events);
    let events = span
        .events
        .into_iter()
        .take(limits.max_events)
        .map(|e| SpanEvent {
            time_ns: time(e.time_unix_nano),
            name: truncate(e.name, limits.max_value_bytes),
            attributes: attributes(e.attributes, limits).0,
        })
        .collect();
    let dropped_links = span.links.len().saturating_sub(limits.max_links);
    let links = span
        .links
        .into_iter()
        .take(limits.max_links)
        .map(|l| SpanLink {
            trace_id: hex_id(&l.trace_id),
            span_id: hex_id(&l.span_id),
            attributes: attributes(l.attributes, limits).0,
        })
        .collect();
    let status = span.status.unwrap_or_default();
    Span {
        trace_id: hex_id(&span.trace_id),
        span_id: hex_id(&span.span_id),
        parent_span_id: (!span.parent_span_id.is_empty()
            && span.parent_span_id.iter().any(|&b| b != 0))
        .then(|| hex_id(&span.parent_span_id)),
        name: truncate(span.name, limits.max_value_bytes),
        kind: kind(span.kind),
        service: service.to_owned(),
        start_ns: time(span.start_time_unix_nano),
        end_ns: time(span.end_time_unix_nano),
        status: SpanStatus {
            code: match status.code {
                1 => StatusCode::Ok,
                2 => StatusCode::Error,
                _ => StatusCode::Unset,
            },
            message: truncate(status.message, limits.max_value_bytes),
        },
        attributes: attrs,
        events,
        links,
        resource: resource.to_vec(),
        scope: scope.clone(),
        dropped_attributes_count: span.dropped_attributes_count.saturating_add(dropped_attrs),
        dropped_events_count: span
            .dropped_events_count
            .saturating_add(u32::try_from(dropped_events).unwrap_or(u32::MAX)),
        dropped_links_count: span
            .dropped_links_count
            .saturating_add(u32::try_from(dropped_links).unwrap_or(u32::MAX)),
    }
}

fn kind(kind: i32) -> SpanKind {
    match kind {
        1 => SpanKind::Internal,
        2 => SpanKind::Server,
        3 => SpanKind::Client,
        4 => SpanKind::Producer,
        5 => SpanKind::Consumer,
        _ => SpanKind::Unspecified,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans};

    fn span(name: &str, trace_id: Vec<u8>) -> otlp::Span {
        otlp::Span {
            trace_id,
            span_id: vec![1; 8],
            name: name.into(),
            kind: 2,
            start_time_unix_nano: 10,
            end_time_unix_nano: 25,
            ..Default::default()
        }
    }

    #[test]
    fn a_large_resource_on_many_spans_is_cut_at_the_budget() {
        use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
        use opentelemetry_proto::tonic::resource::v1::Resource;
        let big = KeyValue {
            key: "blob".into(),
            value: Some(AnyValue {
                value: Some(any_value::Value::StringValue("x".repeat(10_000))),
            }),
            ..Default::default()
        };
        let spans = (0..100).map(|_| span("s", vec![7; 16])).collect();
        let request = ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                resource: Some(Resource { attributes: vec![big], ..Default::default() }),
                scope_spans: vec![ScopeSpans { spans, ..Default::default() }],
                ..Default::default()
            }],
        };
        let limits = Limits { max_batch_bytes: 100_000, ..Limits::default() };
        let out = traces(request, &limits);
        assert_eq!(out.items.len(), 9, "about 10 KB per span fits 9 times in 100 KB");
        assert_eq!(out.rejected, 91);
        assert!(out.error.unwrap().starts_with("the request expands past"));
    }

    #[test]
    fn bad_ids_are_rejected_one_by_one() {
        let request = ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                scope_spans: vec![ScopeSpans {
                    spans: vec![
                        span("good", vec![7; 16]),
                        span("short", vec![7; 15]),
                        span("zero", vec![0; 16]),
                    ],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        };
        let out = traces(request, &Limits::default());
        assert_eq!(out.items.len(), 1);
        assert_eq!(out.items[0].name, "good");
        assert_eq!(out.items[0].service, "unknown_service");
        assert_eq!(out.items[0].kind, SpanKind::Server);
        assert_eq!(out.items[0].duration_ns(), 15);
        assert_eq!(out.rejected, 2);
        assert_eq!(
            out.error.as_deref(),
            Some("span \"short\" has an invalid trace id (15 bytes; it must be 16 bytes, not all zero)")
        );
    }
}
