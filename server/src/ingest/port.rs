//! One OTLP port, both protocols: a request whose content type is `application/grpc…` goes to
//! the gRPC services (`grpc::router`, behind its `admit` layer), any other to the OTLP/HTTP
//! routes (`crate::otlp_http_router`, with their key, CORS and `Host` layers). So an exporter's
//! default protocol works on whichever OTLP port it is given (Python's and .NET's default to
//! gRPC, while the usual endpoint is 4318). A request no receiver serves is answered with the
//! fix and logged once per kind (`misdirected`).

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::middleware::from_fn_with_state;
use axum::response::Response;
use axum::Router;
use tower::ServiceExt;

use super::http::{self, Encoding, Refusal};
use crate::auth::{self, CorsOrigins};
use crate::AppState;

/// The OTLP/HTTP paths, for the answers that name them.
const HTTP_PATHS: &str = "POST /v1/traces, /v1/metrics and /v1/logs";

/// The gRPC methods' common prefix (`/opentelemetry.proto.collector.trace.v1.TraceService/Export`).
const GRPC_PREFIX: &str = "/opentelemetry.proto.collector.";

/// Both receivers on one port, told apart by content type.
pub fn router(state: AppState) -> Router {
    let http = crate::otlp_http_router(state.clone());
    let grpc = super::grpc::router(state.clone());
    // A gRPC request sent over HTTP/1.1 carries a `Host` like any other.
    let grpc = if state.loopback_host_only {
        grpc.layer(from_fn_with_state(CorsOrigins::from([]), auth::loopback_host))
    } else {
        grpc
    };
    Router::new().fallback_service(tower::service_fn(move |mut request: Request| {
        host_from_authority(&mut request);
        let receiver = if is_grpc(request.headers()) { grpc.clone() } else { http.clone() };
        receiver.oneshot(request)
    }))
}

/// `application/grpc`, `application/grpc+proto` and the like.
pub(crate) fn is_grpc(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().to_ascii_lowercase().starts_with(b"application/grpc"))
}

/// HTTP/2 names the host in `:authority` (the URI), not in `Host`: copied over, so the
/// loopback `Host` check (DNS rebinding) sees HTTP/2 requests as it sees HTTP/1.1 ones.
fn host_from_authority(request: &mut Request) {
    if request.headers().contains_key(header::HOST) {
        return;
    }
    let Some(authority) = request.uri().authority() else { return };
    if let Ok(host) = HeaderValue::from_str(authority.as_str()) {
        request.headers_mut().insert(header::HOST, host);
    }
}

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
    fn grpc_is_told_by_content_type() {
        let mut headers = HeaderMap::new();
        assert!(!is_grpc(&headers));
        for (value, grpc) in [
            ("application/grpc", true),
            ("Application/GRPC+proto", true),
            ("application/x-protobuf", false),
            ("application/json", false),
        ] {
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(value));
            assert_eq!(is_grpc(&headers), grpc, "{value}");
        }
    }

    #[test]
    fn a_wrong_path_names_the_one_meant() {
        assert_eq!(meant("/v1/trace"), Some("/v1/traces"));
        assert_eq!(meant("/api/v1/traces"), Some("/v1/traces"));
        assert_eq!(meant("/v1/Metrics/"), Some("/v1/metrics"));
        assert_eq!(meant("/"), None);
    }
}
