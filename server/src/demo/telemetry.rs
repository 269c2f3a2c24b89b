//! The demo's own OpenTelemetry pipeline: tracer and logger providers for `catalog-api` and
//! `pricing-upstream`, a tracer provider for `recommendations` (the queue's consumer), and two
//! meter providers for `catalog-api` (cumulative, and delta for the
//! instruments that show delta temporality), exporting OTLP/HTTP protobuf to this server's
//! receiver. None is installed globally: they belong to the demo alone. A view makes
//! `catalog.lookup.duration` an exponential histogram.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use opentelemetry_otlp::{
    LogExporter, MetricExporter, Protocol, SpanExporter, WithExportConfig, WithHttpConfig,
};
use opentelemetry_sdk::logs::log_processor_with_async_runtime::BatchLogProcessor;
use opentelemetry_sdk::logs::SdkLoggerProvider;
use opentelemetry_sdk::metrics::periodic_reader_with_async_runtime::PeriodicReader;
use opentelemetry_sdk::metrics::{Aggregation, Instrument, SdkMeterProvider, Stream, Temporality};
use opentelemetry_sdk::trace::span_processor_with_async_runtime::BatchSpanProcessor;
use opentelemetry_sdk::trace::{BatchConfig, BatchConfigBuilder, SdkTracerProvider};
use opentelemetry_sdk::{runtime, Resource};

/// The service behind the catalog API (cache side and retrying client).
pub(crate) const CATALOG_SERVICE: &str = "catalog-api";
/// The flaky upstream's service.
pub(crate) const UPSTREAM_SERVICE: &str = "pricing-upstream";
/// The service that consumes the `product-views` queue (`messaging.rs`).
pub(crate) const CONSUMER_SERVICE: &str = "recommendations";
/// How often metrics are exported.
pub(crate) const METRIC_INTERVAL: Duration = Duration::from_secs(5);

/// The demo's providers.
pub(crate) struct Telemetry {
    pub catalog: SdkTracerProvider,
    pub upstream: SdkTracerProvider,
    pub recommendations: SdkTracerProvider,
    pub meters: SdkMeterProvider,
    /// Exports with delta temporality.
    pub delta_meters: SdkMeterProvider,
    /// Log records of each service (`logs.rs`), exported every second.
    pub catalog_logs: SdkLoggerProvider,
    pub upstream_logs: SdkLoggerProvider,
}

/// The instrument drawn as an exponential histogram.
pub(crate) const EXPONENTIAL: &str = "catalog.lookup.duration";

impl Telemetry {
    /// Providers exporting to the OTLP/HTTP receiver at `otlp_http` (an unspecified address
    /// is reached on loopback), with `x-otlp-api-key` when the server has a key.
    pub(crate) fn new(otlp_http: SocketAddr, api_key: Option<&str>) -> Result<Telemetry, String> {
        let base = base_url(otlp_http);
        let headers: HashMap<String, String> = api_key
            .filter(|k| !k.is_empty())
            .map(|k| ("x-otlp-api-key".to_owned(), k.to_owned()))
            .into_iter()
            .collect();
        let tracer_provider = |service: &'static str| -> Result<SdkTracerProvider, String> {
            let exporter = SpanExporter::builder()
                .with_http()
                .with_http_client(reqwest::Client::new())
                .with_protocol(Protocol::HttpBinary)
                .with_endpoint(format!("{base}/v1/traces"))
                .with_headers(headers.clone())
                .build()
                .map_err(|e| e.to_string())?;
            let processor = BatchSpanProcessor::builder(exporter, runtime::Tokio)
                .with_batch_config(batch_config())
                .build();
            Ok(SdkTracerProvider::builder()
                .with_span_processor(processor)
                .with_resource(resource(service))
                .build())
        };
        let logger_provider = |service: &'static str| -> Result<SdkLoggerProvider, String> {
            let exporter = LogExporter::builder()
                .with_http()
                .with_http_client(reqwest::Client::new())
                .with_protocol(Protocol::HttpBinary)
                .with_endpoint(format!("{base}/v1/logs"))
                .with_headers(headers.clone())
                .build()
                .map_err(|e| e.to_string())?;
            let processor = BatchLogProcessor::builder(exporter, runtime::Tokio).build();
            Ok(SdkLoggerProvider::builder()
                .with_log_processor(processor)
                .with_resource(resource(service))
                .build())
        };
        let reader = |temporality: Temporality| -> Result<_, String> {
            let exporter = MetricExporter::builder()
                .with_http()
                .with_http_client(reqwest::Client::new())
                .with_protocol(Protocol::HttpBinary)
                .with_endpoint(format!("{base}/v1/metrics"))
                .with_headers(headers.clone())
                .with_temporality(temporality)
                .build()
                .map_err(|e| e.to_string())?;
            Ok(PeriodicReader::builder(exporter, runtime::Tokio)
                .with_interval(METRIC_INTERVAL)
                .build())
        };
        let exponential = |i: &Instrument| {
            (i.name() == EXPONENTIAL).then(|| {
                Stream::builder()
                    .with_aggregation(Aggregation::Base2ExponentialHistogram {
                        max_size: 160,
                        max_scale: 20,
                        record_min_max: true,
                    })
                    .build()
                    .ok()
            })?
        };
        Ok(Telemetry {
            catalog: tracer_provider(CATALOG_SERVICE)?,
            upstream: tracer_provider(UPSTREAM_SERVICE)?,
            recommendations: tracer_provider(CONSUMER_SERVICE)?,
            meters: SdkMeterProvider::builder()
                .with_reader(reader(Temporality::Cumulative)?)
                .with_view(exponential)
                .with_resource(resource(CATALOG_SERVICE))
                .build(),
            delta_meters: SdkMeterProvider::builder()
                .with_reader(reader(Temporality::Delta)?)
                .with_resource(resource(CATALOG_SERVICE))
                .build(),
            catalog_logs: logger_provider(CATALOG_SERVICE)?,
            upstream_logs: logger_provider(UPSTREAM_SERVICE)?,
        })
    }

    /// Exports what is left and stops. Blocks (the SDK waits on its export tasks): call it
    /// from `spawn_blocking`.
    pub(crate) fn shutdown(&self) {
        for (what, result) in [
            ("catalog spans", self.catalog.shutdown()),
            ("upstream spans", self.upstream.shutdown()),
            ("recommendations spans", self.recommendations.shutdown()),
            ("metrics", self.meters.shutdown()),
            ("delta metrics", self.delta_meters.shutdown()),
            ("catalog logs", self.catalog_logs.shutdown()),
            ("upstream logs", self.upstream_logs.shutdown()),
        ] {
            if let Err(error) = result {
                tracing::debug!(what, %error, "The demo's telemetry did not shut down cleanly.");
            }
        }
    }
}

/// Exports on the 5 s timer, not on size: a batch of up to 4,096 spans (a few seconds at 200
/// requests a second), so a call and its attempts, ended one after the other, are rarely
/// split between two export requests.
fn batch_config() -> BatchConfig {
    BatchConfigBuilder::default()
        .with_max_queue_size(8_192)
        .with_max_export_batch_size(4_096)
        .build()
}

/// `http://HOST:PORT` of the OTLP/HTTP receiver at `otlp_http` (an unspecified address is
/// reached on loopback).
pub(crate) fn base_url(otlp_http: SocketAddr) -> String {
    let host = match otlp_http.ip() {
        ip if ip.is_unspecified() && ip.is_ipv4() => {
            SocketAddr::from(([127, 0, 0, 1], otlp_http.port()))
        }
        ip if ip.is_unspecified() => {
            SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, otlp_http.port()))
        }
        _ => otlp_http,
    };
    format!("http://{host}")
}

fn resource(service: &'static str) -> Resource {
    Resource::builder_empty()
        .with_service_name(service)
        .with_attribute(opentelemetry::KeyValue::new("service.namespace", "otelscope-demo"))
        .build()
}
