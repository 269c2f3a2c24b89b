//! Every URL of the app. The server uses [`Route::is_known`] to answer unknown paths with a
//! 404 page instead of the home page.

use dioxus::prelude::*;

use crate::components::Shell;
use crate::filters::{
    FlameFilters, InsightFilters, LogFilters, MetricName, ProfileFilters, RawQuery, ServiceFilters,
    TraceFilters,
};
use crate::views::{
    Cache, FlameGraph, Home, Logs, MetricDetail, Metrics, NotFound, Profile, Retries, SelfView,
    ServiceList, ServiceMap, ServicePage, TraceDetail, TraceSpan, Traces,
};

#[derive(Clone, Debug, PartialEq, Routable)]
#[rustfmt::skip]
pub enum Route {
    #[layout(Shell)]
        #[route("/")]
        Home {},
        #[route("/traces?:..filters")]
        Traces { filters: TraceFilters },
        #[route("/traces/:trace_id")]
        TraceDetail { trace_id: String },
        /// The trace with one span selected and scrolled to (server-rendered: the page of rows
        /// it is on).
        #[route("/traces/:trace_id/spans/:span_id")]
        TraceSpan { trace_id: String, span_id: String },
        #[route("/services?:..filters")]
        ServiceList { filters: ServiceFilters },
        /// A service's RED charts and operations; with `operation=`, one operation's page and
        /// its "what changed" panel (`ServicePageFilters`).
        #[route("/services/:name?:..filters")]
        ServicePage { name: String, filters: RawQuery },
        /// The service map (`MapFilters`).
        #[route("/map?:..filters")]
        ServiceMap { filters: RawQuery },
        #[route("/cache?:..filters")]
        Cache { filters: InsightFilters },
        #[route("/retries?:..filters")]
        Retries { filters: InsightFilters },
        /// One trace, or one operation over a range, with the chart's zoom, search and view.
        #[route("/flamegraph?:..filters")]
        FlameGraph { filters: FlameFilters },
        /// CPU profiles of the server and imported ones; `id` opens one.
        #[route("/profile?:..filters")]
        Profile { filters: ProfileFilters },
        /// The log search, its tab and the opened record.
        #[route("/logs?:..filters")]
        Logs { filters: LogFilters },
        #[route("/self")]
        SelfView {},
        /// The metric catalogue, searchable.
        #[route("/metrics?:..filters")]
        Metrics { filters: RawQuery },
        /// One metric's charts.
        #[route("/metrics/:name?:..filters")]
        MetricDetail { name: MetricName, filters: RawQuery },
        #[route("/:..segments")]
        NotFound { segments: Vec<String> },
}

impl Route {
    /// Whether `path` names a page of the app (anything but the catch-all 404 route).
    pub fn is_known(path: &str) -> bool {
        !matches!(path.parse::<Route>(), Ok(Route::NotFound { .. }) | Err(_))
    }

    /// The page's path template, for naming spans and timings per view (`/traces/{trace_id}`).
    pub fn template(&self) -> &'static str {
        match self {
            Route::Home {} => "/",
            Route::Traces { .. } => "/traces",
            Route::TraceDetail { .. } => "/traces/{trace_id}",
            Route::TraceSpan { .. } => "/traces/{trace_id}/spans/{span_id}",
            Route::ServiceList { .. } => "/services",
            Route::ServicePage { .. } => "/services/{name}",
            Route::ServiceMap { .. } => "/map",
            Route::Cache { .. } => "/cache",
            Route::Retries { .. } => "/retries",
            Route::FlameGraph { .. } => "/flamegraph",
            Route::Profile { .. } => "/profile",
            Route::Logs { .. } => "/logs",
            Route::SelfView {} => "/self",
            Route::Metrics { .. } => "/metrics",
            Route::MetricDetail { .. } => "/metrics/{name}",
            Route::NotFound { .. } => "/{unknown}",
        }
    }

    /// The wasm module the browser loads this page's code from on its first visit
    /// (`split_<name>.wasm`, see `views::lazy`), if it is not in the main bundle.
    pub fn split_module(&self) -> Option<&'static str> {
        match self {
            Route::FlameGraph { .. } | Route::Profile { .. } => Some("flame"),
            Route::Home {} | Route::Traces { .. } => Some("search"),
            Route::Logs { .. } => Some("logs"),
            Route::TraceDetail { .. } | Route::TraceSpan { .. } => Some("trace"),
            Route::ServiceList { .. }
            | Route::Cache { .. }
            | Route::Retries { .. }
            | Route::SelfView {} => Some("insights"),
            Route::Metrics { .. } | Route::MetricDetail { .. } => Some("metrics"),
            Route::ServicePage { .. } | Route::ServiceMap { .. } => Some("services"),
            _ => None,
        }
    }

    /// Which navigation entry a page belongs to (a trace's page belongs to Traces).
    pub(crate) fn section(&self) -> u8 {
        match self {
            Route::Home {}
            | Route::Traces { .. }
            | Route::TraceDetail { .. }
            | Route::TraceSpan { .. } => 0,
            Route::ServiceList { .. } | Route::ServicePage { .. } | Route::ServiceMap { .. } => 1,
            Route::Cache { .. } => 2,
            Route::Retries { .. } => 3,
            Route::FlameGraph { .. } => 4,
            Route::Profile { .. } => 5,
            Route::SelfView {} => 6,
            Route::NotFound { .. } => 7,
            Route::Metrics { .. } | Route::MetricDetail { .. } => 8,
            Route::Logs { .. } => 9,
        }
    }

    /// The navigation entries, in the order the header shows them.
    pub(crate) fn nav() -> [(Route, &'static str); 9] {
        [
            (Route::Traces { filters: TraceFilters::default() }, "Traces"),
            (Route::Logs { filters: LogFilters::default() }, "Logs"),
            (Route::ServiceList { filters: ServiceFilters::default() }, "Services"),
            (Route::Cache { filters: InsightFilters::default() }, "Cache"),
            (Route::Retries { filters: InsightFilters::default() }, "Retries"),
            (Route::Metrics { filters: RawQuery::default() }, "Metrics"),
            (Route::FlameGraph { filters: FlameFilters::default() }, "Flame graphs"),
            (Route::Profile { filters: ProfileFilters::default() }, "Profiles"),
            (Route::SelfView {}, "otelscope itself"),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_and_unknown_paths() {
        for path in [
            "/",
            "/traces",
            "/traces/0af7651916cd43dd8448eb211c80319c",
            "/services",
            "/services/checkout",
            "/services/checkout?operation=GET+%2Fp&selection=slow",
            "/map",
            "/map?service=checkout&since=6h",
            "/cache",
            "/cache?since=6h&service=shop",
            "/retries",
            "/flamegraph",
            "/flamegraph?trace_id=ab&zoom=a%3Bb",
            "/profile",
            "/profile?id=p1",
            "/self",
            "/metrics",
            "/metrics?q=http",
            "/metrics/http.server.request.duration?group_by=http.route&agg=p99",
            "/metrics/app%2Fqueue.depth",
            "/logs",
            "/logs?service=shop&severity=warn&open=12",
        ] {
            assert!(Route::is_known(path), "{path} should be a page");
        }
        let span: Route = "/traces/ab/spans/cd".parse().unwrap();
        assert_eq!(span, Route::TraceSpan { trace_id: "ab".into(), span_id: "cd".into() });
        assert_eq!(span.to_string(), "/traces/ab/spans/cd");
        let trace = Route::TraceDetail { trace_id: "ab".into() };
        assert_eq!(trace.to_string(), "/traces/ab", "no query, so no trailing `?`");
        for path in ["/nope", "/traces/abc/deep", "/favicon.ico"] {
            assert!(!Route::is_known(path), "{path} should be a 404");
        }
        for (path, template) in [
            ("/traces/ab", "/traces/{trace_id}"),
            ("/traces/ab/spans/cd", "/traces/{trace_id}/spans/{span_id}"),
            ("/cache?since=6h", "/cache"),
            ("/services/a%20b?operation=x", "/services/{name}"),
            ("/map?since=1h", "/map"),
            ("/logs?q=boom", "/logs"),
            ("/nope", "/{unknown}"),
        ] {
            assert_eq!(path.parse::<Route>().unwrap().template(), template, "{path}");
        }
    }
}
