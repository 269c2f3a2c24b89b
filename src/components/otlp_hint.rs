//! `OtlpHint`: the sentence in empty states that says where to send telemetry, naming the
//! endpoints the server really receives on (from `/api/v1/health`), not the usual ones, and
//! that both take every `OTEL_EXPORTER_OTLP_PROTOCOL` (the server tells gRPC from OTLP/HTTP by
//! content type on each port).

use dioxus::prelude::*;

use crate::hooks::{use_api, Loadable};
use crate::model::Health;

#[component]
pub(crate) fn OtlpHint() -> Element {
    // Plain `use_api`: a server's ports do not change while it runs, and a refetch on the live
    // tick would count as "data changed".
    let health = use_api::<Health>(|| "/api/v1/health".into());
    let endpoints = OtlpEndpoints::from_health(&health);
    rsx! {
        span { class: "otlp-hint",
            "Point an OpenTelemetry SDK at this server: "
            code { "OTEL_EXPORTER_OTLP_ENDPOINT={endpoints.http}" }
            " or "
            code { "{endpoints.grpc}" }
            "; both ports take gRPC and OTLP/HTTP, so any "
            code { "OTEL_EXPORTER_OTLP_PROTOCOL" }
            " works: "
            code { "grpc" }
            " (the Python and .NET default), "
            code { "http/protobuf" }
            " or "
            code { "http/json" }
            "."
        }
    }
}

/// Where to send OTLP, as URLs.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct OtlpEndpoints {
    pub(crate) http: String,
    pub(crate) grpc: String,
}

/// The SDKs' defaults, shown while health loads (or if the server does not say).
const DEFAULT_HTTP: &str = "http://127.0.0.1:4318";
const DEFAULT_GRPC: &str = "http://127.0.0.1:4317";

impl OtlpEndpoints {
    /// The server's endpoints from its health answer, each falling back to the default alone.
    pub(crate) fn from_health(health: &Loadable<Health>) -> OtlpEndpoints {
        let (http, grpc) = match health {
            Loadable::Ready(h) => (h.otlp_http.as_deref(), h.otlp_grpc.as_deref()),
            Loadable::Loading | Loadable::Failed(_) => (None, None),
        };
        OtlpEndpoints {
            http: http.unwrap_or(DEFAULT_HTTP).to_owned(),
            grpc: grpc.unwrap_or(DEFAULT_GRPC).to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ApiFailure;

    fn check(health: Loadable<Health>, http: &str, grpc: &str) {
        let expected = OtlpEndpoints { http: http.into(), grpc: grpc.into() };
        assert_eq!(OtlpEndpoints::from_health(&health), expected);
    }

    #[test]
    fn the_servers_endpoints_once_known_the_defaults_until_then() {
        let fell_back = Health {
            otlp_http: Some("http://127.0.0.1:40001".into()),
            otlp_grpc: Some("http://127.0.0.1:40002".into()),
            ..Health::ok("1")
        };
        check(Loadable::Ready(fell_back), "http://127.0.0.1:40001", "http://127.0.0.1:40002");
        check(Loadable::Loading, DEFAULT_HTTP, DEFAULT_GRPC);
        check(Loadable::Failed(ApiFailure::from_status(502, "")), DEFAULT_HTTP, DEFAULT_GRPC);
        let http_only = Health { otlp_http: Some("http://[::1]:4318".into()), ..Health::ok("1") };
        check(Loadable::Ready(http_only), "http://[::1]:4318", DEFAULT_GRPC);
    }
}
