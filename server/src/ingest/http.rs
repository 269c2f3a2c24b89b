//! OTLP/HTTP: `POST /v1/traces`, `/v1/metrics` and `/v1/logs` with protobuf or JSON bodies, gzip or not, answered as the OTLP specification says: 415 for other content
//! types, 413 past the cap (counted after decompression), 400 with a `google.rpc.Status` for
//! malformed bodies, 503 + Retry-After when the queue or the memory budget is full, 408 for a
//! body that does not arrive in time, `partial_success` for rejects.

use std::io::Read;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Extension, Router};
use bytes::BytesMut;
use http_body_util::BodyExt;
use prost::Message;
use tokio::time::Instant;

use super::arrivals::Via;
use super::cost;
use super::memory::{Exhausted, Reservation};
use super::signal::{self, Logs, Metrics, Signal, Traces};
use super::IngestError;
use crate::AppState;

/// Seconds a refused sender is asked to wait.
const RETRY_AFTER_SECS: &str = "1";

pub use crate::auth::OTLP_HEADER;

/// All three signals (the OTLP/HTTP port; `ingest::otlp_http_routes` adds the answer to any
/// other path).
pub fn routes() -> Router<AppState> {
    traces_route()
        .route("/v1/metrics", post(export::<Metrics>))
        .route("/v1/logs", post(export::<Logs>))
}

/// Traces only (same-origin on the UI port, for the UI's own spans).
pub fn traces_route() -> Router<AppState> {
    let app = &[otelscope_app::model::SELF_SERVICES[1]];
    Router::new().route("/v1/traces", post(export::<Traces>)).layer(Extension(OwnServices(app)))
}

/// Traces on the UI port: the dashboard's own spans, which are not the user's telemetry, so
/// they never count as "last received" (`arrivals`).
pub fn ui_traces_route() -> Router<AppState> {
    traces_route().layer(Extension(UiSpans))
}

/// Marks a request as the UI's own spans (see `ui_traces_route`).
#[derive(Clone, Copy)]
struct UiSpans;

/// otelscope's own service names a route's senders may use (`convert::Limits::own_services`):
/// the UI port's `/v1/traces` takes the app's spans as `otelscope-ui`; the OTLP ports none.
#[derive(Clone, Copy, Debug)]
struct OwnServices(&'static [&'static str]);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Encoding {
    Protobuf,
    Json,
}

impl Encoding {
    fn content_type(self) -> &'static str {
        match self {
            Encoding::Protobuf => "application/x-protobuf",
            Encoding::Json => "application/json",
        }
    }
}

/// A request refused before conversion, in the terms of the OTLP specification.
#[derive(Debug)]
pub(crate) enum Refusal {
    UnsupportedMediaType(String),
    /// A path no receiver serves (see `port`).
    NotFound(String),
    TooLarge(usize),
    BadRequest(String),
    Overloaded,
    Unavailable(String),
    Unauthenticated,
    /// The body did not arrive in time.
    Timeout,
    /// The body would decode into more memory than the server gives all requests together.
    TooExpensive(String),
}

async fn export<S: Signal>(State(state): State<AppState>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let own_services = parts.extensions.get::<OwnServices>().map_or(&[][..], |own| own.0);
    let counted = parts.extensions.get::<UiSpans>().is_none();
    let encoding = match encoding_of(&parts.headers) {
        Ok(encoding) => encoding,
        Err(refusal) => return refuse(refusal, Encoding::Json),
    };
    let result = async {
        let limits = &state.ingest_limits;
        let deadline = Instant::now() + limits.body_timeout;
        let mut memory = state.ingest.memory().reserve();
        let raw = read_body(body, limits.max_body_bytes, &mut memory, deadline).await?;
        let bytes =
            inflate(&parts.headers, raw, limits.max_body_bytes, &mut memory, deadline).await?;
        let budget = reserve_decoding(&mut memory, &bytes, encoding, S::WIRE)?;
        // Only now, with the whole body in, does the request take a place in the queue.
        let _permit = state.ingest.admit().ok_or(Refusal::Overloaded)?;
        let request: S::Request = decode(&bytes, encoding)?;
        drop(bytes);
        let via = match encoding {
            Encoding::Protobuf => Via::HttpProtobuf,
            Encoding::Json => Via::HttpJson,
        };
        let via = counted.then_some(via);
        signal::accept::<S>(&state, request, budget, own_services, via).await.map_err(|e| match e {
            IngestError::Overloaded => Refusal::Overloaded,
            e @ IngestError::Store => Refusal::Unavailable(e.to_string()),
        })
    };
    match result.await {
        // Serde would write `"partialSuccess": null`; the specification wants it unset, and
        // a full success is exactly the default (empty) response.
        Ok(response) if encoding == Encoding::Json && response == S::Response::default() => {
            respond(StatusCode::OK, encoding, &serde_json::json!({}), |_| Vec::new())
        }
        Ok(response) => respond(StatusCode::OK, encoding, &response, |r| r.encode_to_vec()),
        Err(refusal) => refuse(refusal, encoding),
    }
}

/// Reserves what decoding `bytes` and converting the result may allocate (found by walking
/// the body, see `cost.rs`); returns the conversion's share, its expansion budget.
pub(crate) fn reserve_decoding(
    memory: &mut Reservation,
    bytes: &[u8],
    encoding: Encoding,
    wire: cost::Msg,
) -> Result<usize, Refusal> {
    let decoded = match encoding {
        Encoding::Protobuf => cost::protobuf(bytes, wire)
            .map_err(|e| Refusal::BadRequest(format!("invalid protobuf body: {e}")))?,
        Encoding::Json => cost::json(bytes),
    };
    // Converted, the items take about what they took decoded, plus the resource each one
    // carries: the slack covers that for small requests, the conversion budget cuts the rest.
    let converted = decoded.saturating_add(CONVERSION_SLACK);
    memory.try_grow(decoded.saturating_add(converted)).map_err(Refusal::from)?;
    Ok(usize::try_from(converted).unwrap_or(usize::MAX))
}

/// Bytes a conversion may use beyond what decoding took.
const CONVERSION_SLACK: u64 = 4 << 20;

impl From<Exhausted> for Refusal {
    fn from(exhausted: Exhausted) -> Refusal {
        match exhausted {
            Exhausted::TooLarge { .. } => Refusal::TooExpensive(exhausted.to_string()),
            Exhausted::Busy => Refusal::Overloaded,
        }
    }
}

/// The 401 for a request without the API key, in the request's encoding.
pub(crate) fn unauthenticated(headers: &HeaderMap) -> Response {
    refuse(Refusal::Unauthenticated, encoding_of(headers).unwrap_or(Encoding::Json))
}

/// Protobuf or JSON, from `Content-Type` (parameters such as `charset` ignored).
pub(crate) fn encoding_of(headers: &HeaderMap) -> Result<Encoding, Refusal> {
    let value = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let essence = value.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    match essence.as_str() {
        "application/x-protobuf" | "application/protobuf" => Ok(Encoding::Protobuf),
        "application/json" => Ok(Encoding::Json),
        _ => Err(Refusal::UnsupportedMediaType(format!(
            "unsupported content type {value:?}; use application/x-protobuf or application/json"
        ))),
    }
}

/// Reads the body as it arrives, reserving memory for each piece, never past `cap` bytes nor
/// past `deadline` (a sender that trickles its body gets 408, and never held a queue place).
pub(crate) async fn read_body(
    mut body: Body,
    cap: usize,
    memory: &mut Reservation,
    deadline: Instant,
) -> Result<Bytes, Refusal> {
    let mut raw = BytesMut::new();
    loop {
        let frame = match tokio::time::timeout_at(deadline, body.frame()).await {
            Err(_) => return Err(Refusal::Timeout),
            Ok(None) => break,
            Ok(Some(Err(e))) => {
                return Err(Refusal::BadRequest(format!("cannot read the request body: {e}")))
            }
            Ok(Some(Ok(frame))) => frame,
        };
        let Ok(data) = frame.into_data() else { continue };
        if raw.len() + data.len() > cap {
            return Err(Refusal::TooLarge(cap));
        }
        memory.grow_soon(data.len() as u64, deadline).await?;
        raw.extend_from_slice(&data);
    }
    Ok(raw.freeze())
}

/// Inflates a gzip body (per `Content-Encoding`), at most `cap + 1` bytes: one byte past the cap
/// proves the body too large without ever inflating a gzip bomb further.
async fn inflate(
    headers: &HeaderMap,
    raw: Bytes,
    cap: usize,
    memory: &mut Reservation,
    deadline: Instant,
) -> Result<Bytes, Refusal> {
    let encoding = headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("identity")
        .trim()
        .to_ascii_lowercase();
    match encoding.as_str() {
        "identity" | "" => Ok(raw),
        "gzip" => gunzip(&raw, cap, memory, deadline).await,
        other => Err(Refusal::UnsupportedMediaType(format!(
            "unsupported content encoding {other:?}; use gzip or none"
        ))),
    }
}

/// Inflates gzip `raw` piece by piece, reserving memory for each piece.
pub(crate) async fn gunzip(
    raw: &[u8],
    cap: usize,
    memory: &mut Reservation,
    deadline: Instant,
) -> Result<Bytes, Refusal> {
    const PIECE: usize = 256 * 1024;
    let mut decoder = flate2::read::MultiGzDecoder::new(raw).take(cap as u64 + 1);
    let mut inflated = Vec::new();
    loop {
        memory.grow_soon(PIECE as u64, deadline).await?;
        let before = inflated.len();
        (&mut decoder)
            .take(PIECE as u64)
            .read_to_end(&mut inflated)
            .map_err(|e| Refusal::BadRequest(format!("invalid gzip body: {e}")))?;
        if inflated.len() > cap {
            return Err(Refusal::TooLarge(cap));
        }
        if inflated.len() - before < PIECE {
            return Ok(inflated.into());
        }
    }
}

pub(crate) fn decode<T: Message + Default + serde::de::DeserializeOwned>(
    bytes: &[u8],
    encoding: Encoding,
) -> Result<T, Refusal> {
    match encoding {
        Encoding::Protobuf => {
            T::decode(bytes).map_err(|e| Refusal::BadRequest(format!("invalid protobuf body: {e}")))
        }
        Encoding::Json => serde_json::from_slice(bytes)
            .map_err(|e| Refusal::BadRequest(format!("invalid JSON body: {e}"))),
    }
}

fn respond<T: serde::Serialize>(
    status: StatusCode,
    encoding: Encoding,
    message: &T,
    to_protobuf: impl FnOnce(&T) -> Vec<u8>,
) -> Response {
    let body = match encoding {
        Encoding::Protobuf => to_protobuf(message),
        Encoding::Json => serde_json::to_vec(message).unwrap_or_else(|_| b"{}".to_vec()),
    };
    (status, [(header::CONTENT_TYPE, encoding.content_type())], body).into_response()
}

/// The error answer: a `google.rpc.Status` in the request's encoding (JSON when the content
/// type itself was refused), plus `Retry-After` for the retryable ones.
pub(crate) fn refuse(refusal: Refusal, encoding: Encoding) -> Response {
    // gRPC codes inside google.rpc.Status: 3 INVALID_ARGUMENT, 5 NOT_FOUND,
    // 8 RESOURCE_EXHAUSTED, 14 UNAVAILABLE.
    let (status, code, message) = match refusal {
        Refusal::UnsupportedMediaType(m) => (StatusCode::UNSUPPORTED_MEDIA_TYPE, 3, m),
        Refusal::NotFound(m) => (StatusCode::NOT_FOUND, 5, m),
        Refusal::TooLarge(cap) => (
            StatusCode::PAYLOAD_TOO_LARGE,
            8,
            format!("request body exceeds {cap} bytes after decompression"),
        ),
        Refusal::BadRequest(m) => (StatusCode::BAD_REQUEST, 3, m),
        Refusal::Overloaded => {
            (StatusCode::SERVICE_UNAVAILABLE, 14, "the ingest queue is full; retry later".into())
        }
        Refusal::Unavailable(m) => (StatusCode::SERVICE_UNAVAILABLE, 14, m),
        Refusal::Timeout => {
            (StatusCode::REQUEST_TIMEOUT, 4, "the request body did not arrive in time".to_owned())
        }
        Refusal::TooExpensive(m) => (StatusCode::PAYLOAD_TOO_LARGE, 8, m),
        Refusal::Unauthenticated => {
            (StatusCode::UNAUTHORIZED, 16, format!("missing or wrong {} header", OTLP_HEADER))
        }
    };
    let rpc = tonic_types::Status { code, message, details: vec![] };
    let json = serde_json::json!({ "code": rpc.code, "message": rpc.message });
    let mut response = respond(status, encoding, &json, |_| rpc.encode_to_vec());
    if status == StatusCode::SERVICE_UNAVAILABLE {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static(RETRY_AFTER_SECS));
    }
    response
}
