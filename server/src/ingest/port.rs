//! One OTLP port, both protocols: a request whose content type is `application/grpc…` goes to
//! the gRPC services (`grpc::router`, behind its `admit` layer), any other to the OTLP/HTTP
//! routes (`crate::otlp_http_router`, with their key, CORS and `Host` layers). So an exporter's
//! default protocol works on whichever OTLP port it is given (Python's and .NET's default to
//! gRPC, while the usual endpoint is 4318). A request no receiver serves is answered with the
//! fix and logged once per kind (`misdirected.rs`).

use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::middleware::from_fn_with_state;
use axum::Router;
use tower::ServiceExt;

use crate::auth::{self, CorsOrigins};
use crate::AppState;

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
}
