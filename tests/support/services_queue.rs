//! The services fixture's queue and Kubernetes part (issue 25 item 5), sent by the official Rust
//! SDK after `services::send_services_fixture`: `checkout`, running in Kubernetes (namespace
//! `shop`, deployment `checkout`, two pods), publishes three receipts to the `receipts` queue
//! (PRODUCER spans with `messaging.system=kafka`, `messaging.destination.name=receipts`,
//! `messaging.operation=publish`); `mailer` (namespace `shop`, deployment `mailer`) consumes
//! them in one batch: a CONSUMER span, the root of its own trace, with a span link to each
//! producer. No span fails.
//!
//! So, by hand: a queue node `messaging:receipts` (system `kafka`), `messaging` edges
//! `checkout → receipts` 3 calls and `receipts → mailer` 1 call (the batch); the three links
//! pair each producer with the consumer, which adds no edge (both name the queue) and leaves
//! nothing pending; `checkout` and `mailer` in one box labelled `shop`.

use std::time::{Duration, SystemTime};

/// The queue.
pub const QUEUE: &str = "receipts";
/// The namespace both services run in.
pub const NAMESPACE: &str = "shop";

/// Sends the queue part (see the module doc). Blocking: call it from `spawn_blocking`.
pub fn send_queue_fixture(otlp_http_url: &str) {
    use opentelemetry::trace::{
        Link, Span as _, SpanContext, SpanKind, TraceContextExt, Tracer, TracerProvider,
    };
    use opentelemetry::{Context, KeyValue};
    use opentelemetry_otlp::{Protocol, SpanExporter, WithExportConfig};
    use opentelemetry_sdk::trace::SdkTracerProvider;
    use opentelemetry_sdk::Resource;

    let provider = |service: &str, pod: &str| {
        let exporter = SpanExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpBinary)
            .with_endpoint(format!("{otlp_http_url}/v1/traces"))
            .build()
            .expect("HTTP exporter");
        let resource = Resource::builder()
            .with_service_name(service.to_owned())
            .with_attributes([
                KeyValue::new("k8s.namespace.name", NAMESPACE),
                KeyValue::new("k8s.deployment.name", service.to_owned()),
                KeyValue::new("k8s.pod.name", pod.to_owned()),
            ])
            .build();
        SdkTracerProvider::builder().with_simple_exporter(exporter).with_resource(resource).build()
    };
    let checkout_p = provider("checkout", "checkout-7d4f9-x2x1z");
    let mailer_p = provider("mailer", "mailer-5c8b6-q9w7e");
    let (checkout, mailer) =
        (checkout_p.tracer("services-fixture"), mailer_p.tracer("services-fixture"));
    let t0 = SystemTime::now() - Duration::from_secs(30);
    let at = |ms: u64| t0 + Duration::from_millis(ms);
    let mut producers: Vec<SpanContext> = Vec::new();
    for i in 0..3u64 {
        let mut publish = checkout
            .span_builder(format!("publish {QUEUE}"))
            .with_kind(SpanKind::Producer)
            .with_start_time(at(i * 100))
            .with_attributes([
                KeyValue::new("messaging.system", "kafka"),
                KeyValue::new("messaging.destination.name", QUEUE),
                KeyValue::new("messaging.operation", "publish"),
            ])
            .start_with_context(&checkout, &Context::new());
        producers.push(publish.span_context().clone());
        publish.end_with_timestamp(at(i * 100 + 4));
    }
    let links = producers.into_iter().map(Link::with_context).collect();
    let consume = mailer
        .span_builder(format!("process {QUEUE}"))
        .with_kind(SpanKind::Consumer)
        .with_start_time(at(500))
        .with_attributes([
            KeyValue::new("messaging.system", "kafka"),
            KeyValue::new("messaging.destination.name", QUEUE),
            KeyValue::new("messaging.operation", "process"),
        ])
        .with_links(links)
        .start_with_context(&mailer, &Context::new());
    let cx = Context::new().with_span(consume);
    cx.span().end_with_timestamp(at(540));
    for p in [checkout_p, mailer_p] {
        p.force_flush().expect("flush");
        p.shutdown().expect("shutdown");
    }
}
