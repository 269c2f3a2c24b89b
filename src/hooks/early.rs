//! Early answers: an API document a split page draws first, fetched and decoded by the page's
//! loader in the main module (`views::lazy`) while the page's own module loads, then read by the
//! page (`use_api_early`) instead of fetching it again once its code is in.

use std::rc::Rc;

use dioxus::prelude::*;
use serde::de::DeserializeOwned;

use super::use_api::{decode_shared, use_api_shared};
use super::Loadable;
use crate::env::Env;

/// The answer for a path (without the API base), decoded once, as the loader started it; a
/// context of the loader's, found by type.
pub(crate) struct Early<T: 'static>(Resource<(String, Loadable<Rc<T>>)>);

impl<T: 'static> Clone for Early<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: 'static> Copy for Early<T> {}

/// Fetches and decodes `path` (`/api/v1/traces/{id}`) as `T` now, and again when `path`
/// changes, for the descendants' [`use_api_early`]. The call is one of the page's own (its
/// navigation span waits for it), as a view's `use_api` would be.
pub(crate) fn use_early_provider<T: DeserializeOwned + 'static>(path: String) {
    let env = use_context::<Env>();
    let answer = use_resource(use_reactive!(|path| {
        let url = format!("{}{}", env.api_base, path);
        let fetch = crate::uitrace::get_text(&url, env.api_key.as_deref());
        async move { (path, decode_shared::<T>(Some(fetch.await))) }
    }));
    use_context_provider(|| Early(answer));
}

/// As [`use_api_shared`], but when an ancestor loader provides `path`'s answer
/// ([`use_early_provider`]), that one: loading until it is in, never fetched twice.
pub(crate) fn use_api_early<T: DeserializeOwned + 'static>(
    path: impl Fn() -> String + 'static,
) -> Loadable<Rc<T>> {
    // The hook order is stable: a page either sits under its loader for its whole life or not.
    match use_hook(try_consume_context::<Early<T>>) {
        Some(Early(answer)) => match &*answer.read() {
            Some((asked, loaded)) if *asked == path() => loaded.clone(),
            // The loader is still on it, or on its way to a newer path.
            _ => Loadable::Loading,
        },
        None => use_api_shared(path),
    }
}
