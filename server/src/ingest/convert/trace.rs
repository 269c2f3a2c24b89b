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
    // A link that names no valid span is dropped and counted with the links over the cap, in
    // the span's `dropped_links_count` (OTLP's own field for links a span lost): the span
    // itself is fine, and a link to "00…" or to a 3-byte id would only lead nowhere.
    let offered = span.links.len();
    let links: Vec<SpanLink> = span
        .links
        .into_iter()
        .filter(valid_link)
        .take(limits.max_links)
        .map(|l| SpanLink {
            trace_id: hex_id(&l.trace_id),
            span_id: hex_id(&l.span_id),
            attributes: attributes(l.attributes, limits).0,
        })
        .collect();
    let dropped_links = offered - links.len();
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

/// Whether a link names a span the way a span's own ids must: a 16-byte trace id and an
/// 8-byte span id, neither all zero.
fn valid_link(link: &otlp::span::Link) -> bool {
    let nonzero = |id: &[u8]| id.iter().any(|&b| b != 0);
    link.trace_id.len() == 16
        && link.span_id.len() == 8
        && nonzero(&link.trace_id)
        && nonzero(&link.span_id)
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
    use otelscope_e2e::otlp_span;

    /// The span id of every span of these tests.
    const ONES: u64 = 0x0101_0101_0101_0101;

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
        let spans = (0..100)
            .map(|_| {
                otlp_span(vec![7; 16], ONES, "s")
                    .kind(otlp::span::SpanKind::Server)
                    .ns(10, 25)
                    .build()
            })
            .collect();
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
    fn links_without_valid_ids_are_dropped_and_counted() {
        let link = |trace_id: Vec<u8>, span_id: Vec<u8>| otlp::span::Link {
            trace_id,
            span_id,
            ..Default::default()
        };
        let mut linked = otlp_span(vec![7; 16], ONES, "linked")
            .kind(otlp::span::SpanKind::Server)
            .ns(10, 25)
            .build();
        linked.dropped_links_count = 1;
        linked.links = vec![
            link(vec![9; 16], vec![3; 8]),
            link(vec![9; 15], vec![3; 8]),
            link(vec![9; 17], vec![3; 8]),
            link(vec![0; 16], vec![3; 8]),
            link(vec![9; 16], vec![3; 7]),
            link(vec![9; 16], vec![0; 8]),
            link(Vec::new(), Vec::new()),
            link(vec![8; 16], vec![4; 8]),
        ];
        let request = ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                scope_spans: vec![ScopeSpans { spans: vec![linked], ..Default::default() }],
                ..Default::default()
            }],
        };
        let out = traces(request, &Limits::default());
        assert_eq!((out.items.len(), out.rejected), (1, 0), "the span itself is kept");
        let kept: Vec<_> = out.items[0].links.iter().map(|l| (&*l.trace_id, &*l.span_id)).collect();
        assert_eq!(
            kept,
            [
                ("09090909090909090909090909090909", "0303030303030303"),
                ("08080808080808080808080808080808", "0404040404040404"),
            ]
        );
        assert_eq!(out.items[0].dropped_links_count, 1 + 6, "the sender's count and ours");

        // Invalid links do not take the place of valid ones under the cap.
        let mut capped = otlp_span(vec![7; 16], ONES, "capped")
            .kind(otlp::span::SpanKind::Server)
            .ns(10, 25)
            .build();
        capped.links = vec![link(vec![0; 16], vec![0; 8]); 3];
        capped.links.extend((1..=3).map(|i| link(vec![i; 16], vec![i; 8])));
        let request = ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                scope_spans: vec![ScopeSpans { spans: vec![capped], ..Default::default() }],
                ..Default::default()
            }],
        };
        let out = traces(request, &Limits { max_links: 2, ..Limits::default() });
        assert_eq!(out.items[0].links.len(), 2);
        assert_eq!(out.items[0].links[0].span_id, "0101010101010101");
        assert_eq!(out.items[0].dropped_links_count, 4);
    }

    #[test]
    fn bad_ids_are_rejected_one_by_one() {
        let request = ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                scope_spans: vec![ScopeSpans {
                    spans: vec![
                        otlp_span(vec![7; 16], ONES, "good")
                            .kind(otlp::span::SpanKind::Server)
                            .ns(10, 25)
                            .build(),
                        otlp_span(vec![7; 15], ONES, "short")
                            .kind(otlp::span::SpanKind::Server)
                            .ns(10, 25)
                            .build(),
                        otlp_span(vec![0; 16], ONES, "zero")
                            .kind(otlp::span::SpanKind::Server)
                            .ns(10, 25)
                            .build(),
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
