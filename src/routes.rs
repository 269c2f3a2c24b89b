//! Every URL of the app. The server uses [`Route::is_known`] to answer unknown paths with a
//! 404 page instead of the home page.

use dioxus::prelude::*;

use crate::components::Shell;
use crate::views::{Cache, FlameGraph, Home, NotFound, Retries, SelfView, Traces};

#[derive(Clone, Debug, PartialEq, Routable)]
#[rustfmt::skip]
pub enum Route {
    #[layout(Shell)]
        #[route("/")]
        Home {},
        #[route("/traces")]
        Traces {},
        #[route("/cache")]
        Cache {},
        #[route("/retries")]
        Retries {},
        #[route("/flamegraph")]
        FlameGraph {},
        #[route("/self")]
        SelfView {},
        #[route("/:..segments")]
        NotFound { segments: Vec<String> },
}

impl Route {
    /// Whether `path` names a page of the app (anything but the catch-all 404 route).
    pub fn is_known(path: &str) -> bool {
        !matches!(path.parse::<Route>(), Ok(Route::NotFound { .. }) | Err(_))
    }

    /// The navigation entries, in the order the header shows them.
    pub(crate) fn nav() -> [(Route, &'static str); 5] {
        [
            (Route::Traces {}, "Traces"),
            (Route::Cache {}, "Cache"),
            (Route::Retries {}, "Retries"),
            (Route::FlameGraph {}, "Flame graphs"),
            (Route::SelfView {}, "otelscope itself"),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_and_unknown_paths() {
        for path in ["/", "/traces", "/cache", "/retries", "/flamegraph", "/self"] {
            assert!(Route::is_known(path), "{path} should be a page");
        }
        for path in ["/nope", "/traces/extra/deep", "/favicon.ico"] {
            assert!(!Route::is_known(path), "{path} should be a 404");
        }
    }
}
