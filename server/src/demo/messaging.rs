//! The demo's messaging workload (issue 25 item 5): for every product it serves, `catalog-api`
//! publishes a `product.viewed` message to the in-process `product-views` queue (a bounded
//! channel): a PRODUCER span under the request, its context written into the message's headers
//! as W3C `traceparent`. `recommendations` takes what the queue holds once a second and
//! processes it as one batch: a CONSUMER span, the root of its own trace, with a span link to
//! each message's producer (as OpenTelemetry's messaging conventions do for batches), and an
//! INTERNAL child that scores the batch. So the map draws `catalog-api → product-views →
//! recommendations` (a queue node), and the consumer's span details link to the producers.
//!
//! Cheap by design: at most `BATCH` messages a second are processed (a full queue refuses a
//! message, and its producer span says so with an error), about one consumer trace a second.

use std::collections::HashMap;
use std::time::Duration;

use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::{Link, SpanKind, Status, TraceContextExt, Tracer};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracer;
use tokio::sync::mpsc;

/// The queue's name (`messaging.destination.name`).
pub(crate) const QUEUE: &str = "product-views";
/// `messaging.system`: not a broker, a channel inside the process.
pub(crate) const SYSTEM: &str = "in-process";
/// Messages the queue holds at most.
const CAPACITY: usize = 256;
/// Messages one batch takes at most (one batch a second).
const BATCH: usize = 64;
/// How often the consumer takes a batch.
const EVERY: Duration = Duration::from_secs(1);
/// Share of batches whose scoring fails (an error on the consumer span).
const FAILING_BATCHES: f64 = 0.04;

/// One message on the queue.
#[derive(Debug)]
struct Message {
    id: u64,
    product_id: u64,
    /// `traceparent` (and `tracestate`) of the producer span.
    headers: HashMap<String, String>,
}

/// The publishing side, held by the catalog.
pub(crate) struct Publisher {
    queue: mpsc::Sender<Message>,
    tracer: SdkTracer,
    propagator: TraceContextPropagator,
    next_id: std::sync::atomic::AtomicU64,
}

impl Publisher {
    /// Publishes that `product_id` was viewed, as a PRODUCER span under `cx` (the request).
    pub(crate) fn publish(&self, cx: &Context, product_id: u64) {
        let id = self.next_id.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let span = self
            .tracer
            .span_builder(format!("publish {QUEUE}"))
            .with_kind(SpanKind::Producer)
            .with_attributes([
                KeyValue::new("messaging.system", SYSTEM),
                KeyValue::new("messaging.destination.name", QUEUE),
                KeyValue::new("messaging.operation", "publish"),
                KeyValue::new("messaging.operation.type", "send"),
                KeyValue::new("messaging.message.id", id.to_string()),
                KeyValue::new("product.id", product_id as i64),
            ])
            .start_with_context(&self.tracer, cx);
        let cx = cx.with_span(span);
        let mut headers = HashMap::new();
        self.propagator.inject_context(&cx, &mut headers);
        if let Err(refused) = self.queue.try_send(Message { id, product_id, headers }) {
            let why = match refused {
                mpsc::error::TrySendError::Full(_) => "the queue is full",
                mpsc::error::TrySendError::Closed(_) => "the queue is closed",
            };
            cx.span().set_status(Status::error(why));
        }
        cx.span().end();
    }
}

/// Starts the consumer (`recommendations`, traced by `consumer_tracer`) on `tasks` and returns
/// the publisher for `catalog-api` (traced by `producer_tracer`).
pub(crate) fn start(
    producer_tracer: SdkTracer,
    consumer_tracer: SdkTracer,
    tasks: &mut tokio::task::JoinSet<()>,
) -> Publisher {
    let (queue, receiver) = mpsc::channel(CAPACITY);
    tasks.spawn(consume(receiver, consumer_tracer));
    Publisher {
        queue,
        tracer: producer_tracer,
        propagator: TraceContextPropagator::new(),
        next_id: std::sync::atomic::AtomicU64::new(1),
    }
}

/// Once a second, processes what the queue holds (at most `BATCH` messages) as one batch.
async fn consume(mut receiver: mpsc::Receiver<Message>, tracer: SdkTracer) {
    let propagator = TraceContextPropagator::new();
    let mut tick = tokio::time::interval(EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut batch = Vec::with_capacity(BATCH);
    loop {
        tick.tick().await;
        if receiver.recv_many(&mut batch, BATCH).await == 0 {
            return;
        }
        process(&tracer, &propagator, &batch);
        batch.clear();
    }
}

/// One batch: a CONSUMER span linked to every message's producer, and its scoring.
fn process(tracer: &SdkTracer, propagator: &TraceContextPropagator, batch: &[Message]) {
    let links: Vec<Link> = batch
        .iter()
        .filter_map(|m| {
            let producer = propagator.extract(&m.headers);
            let context = producer.span().span_context().clone();
            context.is_valid().then(|| {
                Link::new(context, vec![KeyValue::new("messaging.message.id", m.id.to_string())], 0)
            })
        })
        .collect();
    let span = tracer
        .span_builder(format!("process {QUEUE}"))
        .with_kind(SpanKind::Consumer)
        .with_attributes([
            KeyValue::new("messaging.system", SYSTEM),
            KeyValue::new("messaging.destination.name", QUEUE),
            KeyValue::new("messaging.operation", "process"),
            KeyValue::new("messaging.operation.type", "process"),
            KeyValue::new("messaging.batch.message_count", batch.len() as i64),
        ])
        .with_links(links)
        .start_with_context(tracer, &Context::new());
    let cx = Context::new().with_span(span);
    let scoring = tracer
        .span_builder("score viewed products")
        .with_kind(SpanKind::Internal)
        .with_attributes([KeyValue::new("recommendations.products", distinct(batch) as i64)])
        .start_with_context(tracer, &cx);
    let scored = cx.with_span(scoring);
    if rand::random::<f64>() < FAILING_BATCHES {
        scored.span().set_status(Status::error("the scoring model is not loaded"));
        cx.span().set_status(Status::error("the batch was not scored"));
    }
    scored.span().end();
    cx.span().end();
}

/// How many different products a batch names.
fn distinct(batch: &[Message]) -> usize {
    let mut ids: Vec<u64> = batch.iter().map(|m| m.product_id).collect();
    ids.sort_unstable();
    ids.dedup();
    ids.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distinct_products_of_a_batch() {
        let message = |id, product_id| Message { id, product_id, headers: HashMap::new() };
        assert_eq!(distinct(&[message(1, 7), message(2, 7), message(3, 9)]), 2);
        assert_eq!(distinct(&[]), 0);
    }
}
