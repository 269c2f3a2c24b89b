//! Requests no OTLP receiver serves (a wrong path, protocol or method): answered with the fix and logged once per kind.

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use otelscope_app::model::ApiErrorBody;

use super::http::{self, Encoding, Refusal};
use crate::AppState;

/// The OTLP/HTTP paths, for the answers that name them.
const HTTP_PATHS: &str = "POST /v1/traces, /v1/metrics and /v1/logs";

/// The gRPC methods' common prefix (`/opentelemetry.proto.collector.trace.v1.TraceService/Export`).
const GRPC_PREFIX: &str = "/opentelemetry.proto.collector.";

/// The OTLP/HTTP routes' fallback: a path no OTLP/HTTP receiver serves (behind the key check,
/// like the routes). OTLP/HTTP to a gRPC method's path is 415 (the content type is what is
/// wrong), anything else 404, each naming the paths and the protocol setting that work.
pub(crate) async fn misdirected_http(State(state): State<AppState>, request: Request) -> Response {
    let (method, path) = (request.method().as_str(), shown(request.uri().path()));
    let headers = request.headers();
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    let refusal = if path.starts_with(GRPC_PREFIX) {
        Refusal::UnsupportedMediaType(format!(
            "{} to the OTLP/gRPC method {path}: gRPC needs content-type application/grpc \
             (OTEL_EXPORTER_OTLP_PROTOCOL=grpc); OTLP/HTTP goes to {HTTP_PATHS} \
             (OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf with the endpoint http://host:port)",
            content_type.map_or("a request without content-type".to_owned(), shown)
        ))
    } else {
        Refusal::NotFound(format!(
            "no OTLP receiver at {method} {path}{}: this port takes OTLP/HTTP at {HTTP_PATHS} \
             (set OTEL_EXPORTER_OTLP_ENDPOINT=http://host:port and the SDK adds the path), \
             and OTLP/gRPC (OTEL_EXPORTER_OTLP_PROTOCOL=grpc)",
            meant(&path).map_or(String::new(), |p| format!(" (did you mean {p}?)"))
        ))
    };
    let message = match &refusal {
        Refusal::UnsupportedMediaType(m) | Refusal::NotFound(m) => m.clone(),
        _ => String::new(),
    };
    log_once(&state, &format!("http {method} {path}"), &message);
    let encoding = http::encoding_of(headers).unwrap_or(Encoding::Json);
    http::refuse(refusal, encoding)
}

/// Another method than POST on an OTLP/HTTP path (a browser opening `/v1/traces`): 405 with
/// `Allow: POST` (as OTLP/HTTP asks) and a body that says where the data is seen.
pub(crate) async fn wrong_method(request: Request) -> Response {
    let (method, path) = (request.method().as_str(), shown(request.uri().path()));
    let message = format!(
        "{method} {path}: this is otelscope's OTLP/HTTP receiver, which takes OTLP protobuf or \
         JSON by POST ({HTTP_PATHS}); what it receives is shown by the dashboard on the UI port \
         (http://127.0.0.1:8686 unless --ui-listen says otherwise)"
    );
    let mut response =
        (StatusCode::METHOD_NOT_ALLOWED, Json(ApiErrorBody { error: message })).into_response();
    response.headers_mut().insert(header::ALLOW, HeaderValue::from_static("POST"));
    response
}

/// The answer to a gRPC call of a method no OTLP service has (for `grpc::admit`).
pub(crate) fn misdirected_grpc(state: &AppState, path: &str) -> tonic::Status {
    let path = shown(path);
    let message = format!(
        "no OTLP/gRPC method {path}: this port takes gRPC at \
         {GRPC_PREFIX}{{trace,metrics,logs}}.v1.*Service/Export (give a gRPC exporter \
         http://host:port, no path), and OTLP/HTTP at {HTTP_PATHS} \
         (OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf)"
    );
    log_once(state, &format!("grpc {path}"), &message);
    tonic::Status::unimplemented(message)
}

/// Logs a misdirected request the first time its kind is seen (`Arrivals::first_of_kind`).
fn log_once(state: &AppState, kind: &str, message: &str) {
    if state.ingest.arrivals().first_of_kind(kind) {
        tracing::warn!("Misdirected OTLP request (logged once per kind): {message}");
    }
}

/// A request's path or content type as quoted back: at most 80 characters.
fn shown(text: &str) -> String {
    text.chars().take(80).collect()
}

/// The OTLP/HTTP path a wrong one most likely meant (`/v1/trace`, `/api/v1/traces`).
fn meant(path: &str) -> Option<&'static str> {
    let lower = path.to_ascii_lowercase();
    [("trace", "/v1/traces"), ("metric", "/v1/metrics"), ("log", "/v1/logs")]
        .into_iter()
        .find(|(word, _)| lower.contains(word))
        .map(|(_, path)| path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wrong_path_names_the_one_meant() {
        assert_eq!(meant("/v1/trace"), Some("/v1/traces"));
        assert_eq!(meant("/api/v1/traces"), Some("/v1/traces"));
        assert_eq!(meant("/v1/Metrics/"), Some("/v1/metrics"));
        assert_eq!(meant("/"), None);
    }
}
