//! OTLP/gRPC with tonic: the trace service (gzip accepted, 64 MiB cap), converting exactly as
//! the HTTP receiver does.

use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use tonic::codec::CompressionEncoding;
use tonic::{Request, Response, Status};

use super::{convert, IngestError};
use crate::store::WriteBatch;
use crate::AppState;

/// The gRPC router with every OTLP service this server implements.
pub fn router(state: AppState) -> tonic::service::Routes {
    let cap = state.ingest_limits.max_body_bytes;
    let traces = TraceServiceServer::new(Receiver { state })
        .accept_compressed(CompressionEncoding::Gzip)
        .send_compressed(CompressionEncoding::Gzip)
        .max_decoding_message_size(cap);
    tonic::service::Routes::new(traces)
}

struct Receiver {
    state: AppState,
}

#[tonic::async_trait]
impl TraceService for Receiver {
    async fn export(
        &self,
        request: Request<ExportTraceServiceRequest>,
    ) -> Result<Response<ExportTraceServiceResponse>, Status> {
        let converted = convert::traces(request.into_inner(), &self.state.ingest_limits.convert);
        self.state.ingest.submit(WriteBatch { spans: converted.items }).await.map_err(status_of)?;
        let partial_success = (converted.rejected > 0).then(|| ExportTracePartialSuccess {
            rejected_spans: converted.rejected as i64,
            error_message: converted.error.unwrap_or_default(),
        });
        Ok(Response::new(ExportTraceServiceResponse { partial_success }))
    }
}

/// UNAVAILABLE is the retryable code the OTLP specification names for a server that cannot
/// take data now.
fn status_of(error: IngestError) -> Status {
    Status::unavailable(error.to_string())
}
