//! The pages whose code the browser loads on their first visit, as the router sees them: in the
//! browser build (`--features split`) the flame graph and profile pages are `split_flame.wasm`,
//! the trace search `split_search.wasm`, and the services, cache, retry and self pages
//! `split_insights.wasm`, so the first paint of every other
//! page does not pay for them; elsewhere (desktop, SSR, tests) they are drawn directly.

use dioxus::prelude::*;

use crate::filters::{FlameFilters, InsightFilters, ProfileFilters, ServiceFilters, TraceFilters};
use crate::routes::Route;
use crate::views::{cache, flamegraph, profile, retries, self_view, services, traces};

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

/// Draws one of the flame module's pages.
fn draw_flame(route: Route) -> Element {
    match route {
        Route::FlameGraph { filters } => rsx! { flamegraph::FlameGraph { filters } },
        Route::Profile { filters } => rsx! { profile::Profile { filters } },
        _ => VNode::empty(),
    }
}

/// Draws the search module's page: the trace search.
fn draw_search(route: Route) -> Element {
    match route {
        Route::Traces { filters } => rsx! { traces::Traces { filters } },
        _ => VNode::empty(),
    }
}

/// Draws one of the insights module's pages.
fn draw_insights(route: Route) -> Element {
    match route {
        Route::Cache { filters } => rsx! { cache::Cache { filters } },
        Route::Retries { filters } => rsx! { retries::Retries { filters } },
        Route::SelfView {} => rsx! { self_view::SelfView {} },
        Route::ServiceList { filters } => rsx! { services::ServiceList { filters } },
        _ => VNode::empty(),
    }
}

/// One lazily loaded page: the page once its module is in, a placeholder while it loads, and
/// what to do when it could not be loaded.
#[cfg(feature = "split")]
#[component]
fn Lazy(route: Route) -> Element {
    // The page's load starts now, before its module is fetched.
    crate::uitrace::use_navigation();
    // The route's variant never changes for one `Lazy` (each page wraps its own).
    let name = route.split_module();
    let module = use_resource(move || async move {
        match name {
            Some("flame") => split::flame().await,
            Some("search") => split::search().await,
            _ => split::insights().await,
        }
    });
    let drawn = match &*module.read() {
        None => rsx! { p { class: "loading", "Loading…" } },
        Some(Ok(draw)) => draw(route),
        Some(Err(_)) => rsx! {
            p { class: "error-state", role: "alert",
                "This page's code could not be loaded from the server. Reload the page to try again."
            }
        },
    };
    drawn
}

#[cfg(not(feature = "split"))]
#[component]
fn Lazy(route: Route) -> Element {
    match route.split_module() {
        Some("flame") => draw_flame(route),
        Some("search") => draw_search(route),
        _ => draw_insights(route),
    }
}

/// The split points: each returns its module's draw function, after `wasm-split-cli` has moved
/// everything only they reach into `split_<module>.wasm`.
#[cfg(feature = "split")]
mod split {
    use super::*;
    use wasm_split_helpers::{wasm_split, SplitLoaderError};

    type Draw = fn(Route) -> Element;

    #[wasm_split(flame, fallible)]
    pub(super) fn flame() -> Result<Draw, SplitLoaderError> {
        Ok(draw_flame)
    }

    #[wasm_split(search, fallible)]
    pub(super) fn search() -> Result<Draw, SplitLoaderError> {
        Ok(draw_search)
    }

    #[wasm_split(insights, fallible)]
    pub(super) fn insights() -> Result<Draw, SplitLoaderError> {
        Ok(draw_insights)
    }
}
