//! Platform capabilities: HTTP, launching, and SSR rendering. Components call these and never
//! write `cfg` themselves; this module is the only place that chooses code by target.

#[cfg(feature = "web")]
#[path = "web.rs"]
mod imp;

#[cfg(all(not(feature = "web"), feature = "native"))]
#[path = "native.rs"]
mod imp;

#[cfg(not(any(feature = "web", feature = "native")))]
compile_error!("otelscope-app needs one of the features `web`, `desktop` or `ssr`");

pub use imp::*;

/// The value of `name` in `query` (with or without its `?`), undecoded.
fn query_pair(query: &str, name: &str) -> Option<String> {
    query.trim_start_matches('?').split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        (key == name).then(|| value.to_owned())
    })
}

// The lazily loaded pages' modules: real split points in the browser's `split` build,
// drawn at once everywhere else (desktop, SSR, tests).
#[cfg(feature = "split")]
#[path = "split.rs"]
mod modules;

#[cfg(not(feature = "split"))]
#[path = "unsplit.rs"]
mod modules;

pub(crate) use modules::*;
