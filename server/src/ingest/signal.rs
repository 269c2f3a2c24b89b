//! The three OTLP signals behind one trait, so each receiver (HTTP, gRPC) is written once:
//! request type, conversion into a `WriteBatch`, and the response with `partial_success`.

use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsPartialSuccess, ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsPartialSuccess, ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceRequest, ExportTraceServiceResponse,
};

use super::arrivals::Via;
use super::convert::{self, Converted, Limits};
use super::cost::Msg;
use super::{Ingest, IngestError};
use crate::store::WriteBatch;
use crate::AppState;

pub(crate) trait Signal {
    /// The request message, for the memory walk (`cost.rs`).
    const WIRE: Msg;
    type Request: prost::Message + Default + serde::de::DeserializeOwned + Send + 'static;
    type Response: prost::Message + serde::Serialize + Default + PartialEq;

    /// Converts a request; the batch plus what was rejected and why.
    fn convert(request: Self::Request, limits: &Limits) -> (WriteBatch, u64, Option<String>);
    /// The response; `partial_success` stays unset when nothing was rejected.
    fn response(rejected: u64, error: Option<String>) -> Self::Response;
}

/// Converts (expanding to at most `budget` bytes, with otelscope's own service names in
/// `own_services` allowed: see `Limits::own_services`), waits until the batch is durable, and
/// builds the response. A stored request counts as the signal's last arrival, come `via`
/// (`None`: the UI's own spans, which are not the user's telemetry).
pub(crate) async fn accept<S: Signal>(
    state: &AppState,
    request: S::Request,
    budget: usize,
    own_services: &'static [&'static str],
    via: Option<Via>,
) -> Result<S::Response, IngestError> {
    let limits = &state.ingest_limits.convert;
    let max_batch_bytes = budget.min(limits.max_batch_bytes);
    let limits = Limits { max_batch_bytes, own_services, ..limits.clone() };
    let (rejected, error) = convert_and_submit::<S>(&state.ingest, &limits, request).await?;
    if let Some(via) = via {
        state.ingest.arrivals().record(S::WIRE, via, super::now_ns());
    }
    Ok(S::response(rejected, error))
}

/// Spans made in this process (`selftrace`), taken like a received export request.
pub(crate) async fn accept_in_process(
    ingest: &Ingest,
    limits: &Limits,
    request: ExportTraceServiceRequest,
) -> Result<(), IngestError> {
    convert_and_submit::<Traces>(ingest, limits, request).await.map(|_| ())
}

/// Converts, prepares and queues `request`, received now; waits until it is durable.
async fn convert_and_submit<S: Signal>(
    ingest: &Ingest,
    limits: &Limits,
    request: S::Request,
) -> Result<(u64, Option<String>), IngestError> {
    let received_ns = super::now_ns();
    let (mut batch, rejected, error) = S::convert(request, limits);
    batch.received_ns = received_ns;
    batch.prepare().map_err(|error| {
        tracing::error!(%error, "Preparing a batch for the store failed.");
        IngestError::Store
    })?;
    let refusals = batch.refusals.clone();
    ingest.submit(batch).await?;
    // Points the store refused (a series that changed its type or unit) count as rejected.
    let (refused, why) = refusals.take();
    Ok((rejected + refused, error.or(why)))
}

fn parts<T>(
    converted: Converted<T>,
    into: impl FnOnce(Vec<T>) -> WriteBatch,
) -> (WriteBatch, u64, Option<String>) {
    (into(converted.items), converted.rejected, converted.error)
}

pub(crate) struct Traces;
pub(crate) struct Metrics;
pub(crate) struct Logs;

impl Signal for Traces {
    const WIRE: Msg = Msg::ExportTraces;
    type Request = ExportTraceServiceRequest;
    type Response = ExportTraceServiceResponse;

    fn convert(request: Self::Request, limits: &Limits) -> (WriteBatch, u64, Option<String>) {
        parts(convert::traces(request, limits), |spans| WriteBatch {
            spans,
            ..WriteBatch::default()
        })
    }

    fn response(rejected: u64, error: Option<String>) -> Self::Response {
        ExportTraceServiceResponse {
            partial_success: (rejected > 0).then(|| ExportTracePartialSuccess {
                rejected_spans: rejected as i64,
                error_message: error.unwrap_or_default(),
            }),
        }
    }
}

impl Signal for Metrics {
    const WIRE: Msg = Msg::ExportMetrics;
    type Request = ExportMetricsServiceRequest;
    type Response = ExportMetricsServiceResponse;

    fn convert(request: Self::Request, limits: &Limits) -> (WriteBatch, u64, Option<String>) {
        parts(convert::metrics(request, limits), |metrics| WriteBatch {
            metrics,
            ..WriteBatch::default()
        })
    }

    fn response(rejected: u64, error: Option<String>) -> Self::Response {
        ExportMetricsServiceResponse {
            partial_success: (rejected > 0).then(|| ExportMetricsPartialSuccess {
                rejected_data_points: rejected as i64,
                error_message: error.unwrap_or_default(),
            }),
        }
    }
}

impl Signal for Logs {
    const WIRE: Msg = Msg::ExportLogs;
    type Request = ExportLogsServiceRequest;
    type Response = ExportLogsServiceResponse;

    fn convert(request: Self::Request, limits: &Limits) -> (WriteBatch, u64, Option<String>) {
        parts(convert::logs(request, limits), |logs| WriteBatch { logs, ..WriteBatch::default() })
    }

    fn response(rejected: u64, error: Option<String>) -> Self::Response {
        ExportLogsServiceResponse {
            partial_success: (rejected > 0).then(|| ExportLogsPartialSuccess {
                rejected_log_records: rejected as i64,
                error_message: error.unwrap_or_default(),
            }),
        }
    }
}
