//! OTLP/gRPC with tonic: the trace, metrics and logs services (gzip accepted, 64 MiB cap),
//! converting exactly as the HTTP receiver does.

use opentelemetry_proto::tonic::collector::logs::v1::logs_service_server::{
    LogsService, LogsServiceServer,
};
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_server::{
    MetricsService, MetricsServiceServer,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use tonic::codec::CompressionEncoding;
use tonic::{Request, Response, Status};

use super::signal::{self, Logs, Metrics, Signal, Traces};
use crate::AppState;

/// The gRPC router with the three OTLP services.
pub fn router(state: AppState) -> tonic::service::Routes {
    let cap = state.ingest_limits.max_body_bytes;
    let gzip = CompressionEncoding::Gzip;
    let receiver = Receiver { state };
    let traces = TraceServiceServer::new(receiver.clone())
        .accept_compressed(gzip)
        .send_compressed(gzip)
        .max_decoding_message_size(cap);
    let metrics = MetricsServiceServer::new(receiver.clone())
        .accept_compressed(gzip)
        .send_compressed(gzip)
        .max_decoding_message_size(cap);
    let logs = LogsServiceServer::new(receiver)
        .accept_compressed(gzip)
        .send_compressed(gzip)
        .max_decoding_message_size(cap);
    tonic::service::Routes::new(traces).add_service(metrics).add_service(logs)
}

#[derive(Clone)]
struct Receiver {
    state: AppState,
}

impl Receiver {
    /// UNAVAILABLE is the retryable code the OTLP specification names for a server that cannot
    /// take data now.
    async fn accept<S: Signal>(
        &self,
        request: Request<S::Request>,
    ) -> Result<Response<S::Response>, Status> {
        if !self.state.api_key.accepts_metadata(request.metadata()) {
            let message = format!("missing or wrong {} metadata", crate::auth::OTLP_HEADER);
            return Err(Status::unauthenticated(message));
        }
        let _permit = self
            .state
            .ingest
            .admit()
            .ok_or_else(|| Status::unavailable("too many requests in flight; retry later"))?;
        signal::accept::<S>(&self.state, request.into_inner())
            .await
            .map(Response::new)
            .map_err(|e| Status::unavailable(e.to_string()))
    }
}

#[tonic::async_trait]
impl TraceService for Receiver {
    async fn export(
        &self,
        request: Request<ExportTraceServiceRequest>,
    ) -> Result<Response<ExportTraceServiceResponse>, Status> {
        self.accept::<Traces>(request).await
    }
}

#[tonic::async_trait]
impl MetricsService for Receiver {
    async fn export(
        &self,
        request: Request<ExportMetricsServiceRequest>,
    ) -> Result<Response<ExportMetricsServiceResponse>, Status> {
        self.accept::<Metrics>(request).await
    }
}

#[tonic::async_trait]
impl LogsService for Receiver {
    async fn export(
        &self,
        request: Request<ExportLogsServiceRequest>,
    ) -> Result<Response<ExportLogsServiceResponse>, Status> {
        self.accept::<Logs>(request).await
    }
}
