//! The pages whose code the browser loads on their first visit, as the router sees them: in the
//! browser build (`--features split`) the flame graph and profile pages are `split_flame.wasm`,
//! the trace search `split_search.wasm`, the log search `split_logs.wasm`, a trace's waterfall
//! `split_trace.wasm`, the services, cache, retry and self pages `split_insights.wasm`, the
//! metric pages `split_metrics.wasm`, a service's page and the map `split_services.wasm`, so the first paint of every other
//! page does not pay for them; elsewhere (desktop, SSR, tests) they are drawn directly. The
//! split points themselves are platform code (`platform::load_module`).

use dioxus::prelude::*;

use crate::filters::{
    FlameFilters, InsightFilters, LogFilters, MetricName, ProfileFilters, RawQuery, ServiceFilters,
    TraceFilters,
};
use crate::hooks::use_early_provider;
use crate::platform;
use crate::routes::Route;
use crate::views::{
    cache, flamegraph, logs, metric_detail, metrics, profile, retries, self_view, service_map,
    service_page, services, trace_detail, traces,
};

#[component]
pub(crate) fn FlameGraph(filters: ReadSignal<FlameFilters>) -> Element {
    rsx! { Lazy { route: Route::FlameGraph { filters: filters() } } }
}

#[component]
pub(crate) fn Profile(filters: ReadSignal<ProfileFilters>) -> Element {
    rsx! { Lazy { route: Route::Profile { filters: filters() } } }
}

#[component]
pub(crate) fn Traces(filters: ReadSignal<TraceFilters>) -> Element {
    rsx! { Lazy { route: Route::Traces { filters: filters() } } }
}

#[component]
pub(crate) fn TraceDetail(trace_id: ReadSignal<String>) -> Element {
    rsx! { Lazy { route: Route::TraceDetail { trace_id: trace_id() } } }
}

#[component]
pub(crate) fn TraceSpan(trace_id: ReadSignal<String>, span_id: ReadSignal<String>) -> Element {
    rsx! { Lazy { route: Route::TraceSpan { trace_id: trace_id(), span_id: span_id() } } }
}

#[component]
pub(crate) fn Logs(filters: ReadSignal<LogFilters>) -> Element {
    rsx! { Lazy { route: Route::Logs { filters: filters() } } }
}

#[component]
pub(crate) fn Cache(filters: ReadSignal<InsightFilters>) -> Element {
    rsx! { Lazy { route: Route::Cache { filters: filters() } } }
}

#[component]
pub(crate) fn Retries(filters: ReadSignal<InsightFilters>) -> Element {
    rsx! { Lazy { route: Route::Retries { filters: filters() } } }
}

#[component]
pub(crate) fn ServiceList(filters: ReadSignal<ServiceFilters>) -> Element {
    rsx! { Lazy { route: Route::ServiceList { filters: filters() } } }
}

#[component]
pub(crate) fn SelfView() -> Element {
    rsx! { Lazy { route: Route::SelfView {} } }
}

#[component]
pub(crate) fn Metrics(filters: ReadSignal<RawQuery>) -> Element {
    rsx! { Lazy { route: Route::Metrics { filters: filters() } } }
}

#[component]
pub(crate) fn MetricDetail(name: ReadSignal<MetricName>, filters: ReadSignal<RawQuery>) -> Element {
    rsx! { Lazy { route: Route::MetricDetail { name: name(), filters: filters() } } }
}

#[component]
pub(crate) fn ServicePage(name: ReadSignal<String>, filters: ReadSignal<RawQuery>) -> Element {
    rsx! { Lazy { route: Route::ServicePage { name: name(), filters: filters() } } }
}

#[component]
pub(crate) fn ServiceMap(filters: ReadSignal<RawQuery>) -> Element {
    rsx! { Lazy { route: Route::ServiceMap { filters: filters() } } }
}

/// A module's draw function: the page of a route, if the module has it.
pub(crate) type Draw = fn(Route) -> Element;

/// A split module's file could not be loaded (the server went away, or a newer build).
#[derive(Clone, Copy, Debug)]
pub(crate) struct ModuleMissing;

/// The draw function of module `name` (`flame`, `search`, `metrics`, else insights) in this
/// binary.
pub(crate) fn draw_module(name: Option<&'static str>) -> Draw {
    match name {
        Some("flame") => draw_flame,
        Some("search") => draw_search,
        Some("metrics") => draw_metrics,
        Some("logs") => draw_logs,
        Some("trace") => draw_trace,
        Some("services") => draw_services,
        _ => draw_insights,
    }
}

/// Draws one of the flame module's pages.
pub(crate) fn draw_flame(route: Route) -> Element {
    match route {
        Route::FlameGraph { filters } => rsx! { flamegraph::FlameGraph { filters } },
        Route::Profile { filters } => rsx! { profile::Profile { filters } },
        _ => VNode::empty(),
    }
}

/// Draws the search module's page: the trace search.
pub(crate) fn draw_search(route: Route) -> Element {
    match route {
        Route::Traces { filters } => rsx! { traces::Traces { filters } },
        _ => VNode::empty(),
    }
}

/// Draws one of the metrics module's pages: the catalogue and a metric's charts.
pub(crate) fn draw_metrics(route: Route) -> Element {
    match route {
        Route::Metrics { filters } => rsx! { metrics::Metrics { filters } },
        Route::MetricDetail { name, filters } => {
            rsx! { metric_detail::MetricDetail { name, filters } }
        }
        _ => VNode::empty(),
    }
}

/// Draws the trace module's pages: a trace's waterfall, on a span or not.
pub(crate) fn draw_trace(route: Route) -> Element {
    match route {
        Route::TraceDetail { trace_id } => rsx! { trace_detail::TraceDetail { trace_id } },
        Route::TraceSpan { trace_id, span_id } => {
            rsx! { trace_detail::TraceSpan { trace_id, span_id } }
        }
        _ => VNode::empty(),
    }
}

/// Draws the services module's pages: a service's (or operation's) page and the map.
pub(crate) fn draw_services(route: Route) -> Element {
    match route {
        Route::ServicePage { name, filters } => {
            rsx! { service_page::ServicePage { name, filters } }
        }
        Route::ServiceMap { filters } => rsx! { service_map::ServiceMap { filters } },
        _ => VNode::empty(),
    }
}

/// Draws the logs module's page.
pub(crate) fn draw_logs(route: Route) -> Element {
    match route {
        Route::Logs { filters } => rsx! { logs::Logs { filters } },
        _ => VNode::empty(),
    }
}

/// Draws one of the insights module's pages.
pub(crate) fn draw_insights(route: Route) -> Element {
    match route {
        Route::Cache { filters } => rsx! { cache::Cache { filters } },
        Route::Retries { filters } => rsx! { retries::Retries { filters } },
        Route::SelfView {} => rsx! { self_view::SelfView {} },
        Route::ServiceList { filters } => rsx! { services::ServiceList { filters } },
        _ => VNode::empty(),
    }
}

/// One lazily loaded page: the page once its module is in, a placeholder while it loads, and
/// what to do when it could not be loaded. Where modules are not split (`platform`), it draws
/// the page at once.
#[component]
fn Lazy(route: Route) -> Element {
    // The route's variant never changes for one `Lazy` (each page wraps its own).
    let name = route.split_module();
    // A constant of the build: the hooks below run in every render or in none.
    if !platform::SPLIT_MODULES {
        return draw_module(name)(route);
    }
    // The page's load starts now, before its module is fetched.
    crate::uitrace::use_navigation();
    // A trace's answer is most of its page's work before the first paint: fetched and decoded
    // here, in the main module, while the page's module loads (`hooks::early`).
    if let Route::TraceDetail { trace_id } | Route::TraceSpan { trace_id, .. } = &route {
        use_early_provider::<trace_detail::TraceAnswer>(trace_detail::trace_path(trace_id));
    }
    let module = use_resource(move || platform::load_module(name));
    let drawn = match &*module.read() {
        None => rsx! { p { class: "loading", "Loading…" } },
        Some(Ok(draw)) => draw(route),
        Some(Err(ModuleMissing)) => rsx! {
            p { class: "error-state", role: "alert",
                "This page's code could not be loaded from the server. Reload the page to try again."
            }
        },
    };
    drawn
}
