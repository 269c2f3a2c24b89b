//! OTLP/gRPC with tonic: the trace, metrics and logs services (gzip accepted, 64 MiB cap),
//! converting exactly as the HTTP receiver does. A layer in front of tonic checks the API key,
//! reads the body within the memory budget, inflates it and walks it for its decoded size
//! before tonic decodes anything, and only then takes a place in the queue. `port` puts these
//! services on both OTLP ports.

use axum::body::Bytes;
use axum::extract::State;
use axum::middleware::Next;
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
use tokio::time::Instant;
use tonic::codec::CompressionEncoding;
use tonic::{Request, Response, Status};

use super::arrivals::Via;
use super::cost::Msg;
use super::http::{self, Encoding, Refusal};
use super::memory::Reservation;
use super::signal::{self, Logs, Metrics, Signal, Traces};
use crate::AppState;

/// The gRPC port: the three OTLP services behind `admit`.
pub fn router(state: AppState) -> axum::Router {
    services(state.clone())
        .into_axum_router()
        .layer(axum::middleware::from_fn_with_state(state, admit))
}

/// The three OTLP services (tonic's own limits stay as a second line).
fn services(state: AppState) -> tonic::service::Routes {
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

/// The conversion budget `admit` reserved for a request, handed to the service.
#[derive(Clone, Copy, Debug)]
struct ConversionBudget(usize);

/// Key, memory, body, cost, queue place — in that order, all before tonic decodes: a request
/// without the key or without memory never has its body read or decoded.
async fn admit(
    State(state): State<AppState>,
    request: axum::extract::Request,
    next: Next,
) -> axum::response::Response {
    let (mut parts, body) = request.into_parts();
    if let Some(refused) = check_key(&state, &parts) {
        return grpc_error(refused);
    }
    let wire = match parts.uri.path() {
        "/opentelemetry.proto.collector.trace.v1.TraceService/Export" => Msg::ExportTraces,
        "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export" => Msg::ExportMetrics,
        "/opentelemetry.proto.collector.logs.v1.LogsService/Export" => Msg::ExportLogs,
        // Not an OTLP method: answered here with the fix (tonic would say only UNIMPLEMENTED).
        path => return grpc_error(super::misdirected::misdirected_grpc(&state, path)),
    };
    let limits = &state.ingest_limits;
    let deadline = Instant::now() + limits.body_timeout;
    let mut memory = state.ingest.memory().reserve();
    let gzip = parts.headers.get("grpc-encoding").is_some_and(|v| v.as_bytes() == b"gzip");
    let prepared = async {
        // Frames as sent, plus the 5-byte prefix of each.
        let raw = http::read_body(body, limits.max_body_bytes + 5, &mut memory, deadline).await?;
        let message = frame(&raw, gzip, limits.max_body_bytes, &mut memory, deadline).await?;
        let budget = http::reserve_decoding(&mut memory, &message, Encoding::Protobuf, wire)?;
        let permit = state.ingest.admit().ok_or(Refusal::Overloaded)?;
        Ok::<_, Refusal>((message, budget, permit))
    };
    let (message, budget, _permit) = match prepared.await {
        Ok(prepared) => prepared,
        Err(refusal) => return grpc_error(status_of(refusal)),
    };
    // Hand tonic the message inflated, in one uncompressed frame.
    let mut framed = Vec::with_capacity(message.len() + 5);
    framed.push(0);
    framed.extend_from_slice(&(message.len() as u32).to_be_bytes());
    framed.extend_from_slice(&message);
    drop(message);
    parts.headers.remove("grpc-encoding");
    parts.extensions.insert(ConversionBudget(budget));
    next.run(axum::extract::Request::from_parts(parts, axum::body::Body::from(framed))).await
}

/// The key check of every port (one throttle for all): `None` when the request may go on.
fn check_key(state: &AppState, parts: &axum::http::request::Parts) -> Option<Status> {
    use crate::auth::KeyCheck;
    use crate::auth::OTLP_HEADER;
    if !state.api_key.is_set() {
        return None;
    }
    let client = crate::auth::client_of(&parts.extensions);
    let unauthenticated =
        || Status::unauthenticated(format!("missing or wrong {OTLP_HEADER} metadata"));
    let key = parts.headers.get(OTLP_HEADER).and_then(|v| v.to_str().ok());
    let Some(key) = key else { return Some(unauthenticated()) };
    match crate::auth::check_key(state, client, key, std::time::Instant::now()) {
        KeyCheck::Right => None,
        KeyCheck::Wrong => Some(unauthenticated()),
        KeyCheck::Throttled(wait) => {
            let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            Some(Status::resource_exhausted(format!(
                "too many wrong API keys; try again in {seconds} s"
            )))
        }
    }
}

/// The one message of a unary gRPC request body, inflated when its frame says so.
async fn frame(
    raw: &[u8],
    gzip: bool,
    cap: usize,
    memory: &mut Reservation,
    deadline: Instant,
) -> Result<Bytes, Refusal> {
    let bad = |why: &str| Refusal::BadRequest(format!("invalid gRPC body: {why}"));
    let (prefix, rest) = raw.split_at_checked(5).ok_or_else(|| bad("shorter than a frame"))?;
    let len = u32::from_be_bytes([prefix[1], prefix[2], prefix[3], prefix[4]]) as usize;
    if rest.len() != len {
        return Err(bad("one message frame expected"));
    }
    match prefix[0] {
        0 => Ok(Bytes::copy_from_slice(rest)),
        1 if gzip => http::gunzip(rest, cap, memory, deadline).await,
        1 => Err(bad("compressed without grpc-encoding: gzip")),
        _ => Err(bad("unknown frame flag")),
    }
}

fn grpc_error(status: Status) -> axum::response::Response {
    status.into_http::<axum::body::Body>().map(axum::body::Body::new)
}

/// The gRPC status for a refusal: UNAVAILABLE (retryable) for load, the rest as they are.
fn status_of(refusal: Refusal) -> Status {
    match refusal {
        Refusal::Overloaded => Status::unavailable("the server is busy; retry later"),
        Refusal::Unavailable(m) => Status::unavailable(m),
        Refusal::Timeout => Status::deadline_exceeded("the request did not arrive in time"),
        Refusal::TooLarge(cap) => {
            Status::resource_exhausted(format!("message exceeds {cap} bytes after decompression"))
        }
        Refusal::TooExpensive(m) => Status::resource_exhausted(m),
        Refusal::BadRequest(m) | Refusal::UnsupportedMediaType(m) => Status::invalid_argument(m),
        Refusal::NotFound(m) => Status::unimplemented(m),
        Refusal::Unauthenticated => Status::unauthenticated("missing or wrong API key"),
    }
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
        // `admit` checked the key, reserved the memory and took the queue place; a request
        // that did not pass through it (tonic used on its own) is refused.
        let Some(&ConversionBudget(budget)) = request.extensions().get::<ConversionBudget>() else {
            return Err(Status::internal("the request did not pass admission"));
        };
        signal::accept::<S>(&self.state, request.into_inner(), budget, &[], Some(Via::Grpc))
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
