//! `Cache`: the cache hit-rate page (placeholder until the cache view exists).

use dioxus::prelude::*;

use crate::components::EmptyPage;

#[component]
pub(crate) fn Cache() -> Element {
    rsx! {
        EmptyPage {
            title: "Cache hit rates",
            explanation: "The cache view is not built yet. It will show hit rates per cache and layer, from cache.hit span attributes and cache metrics.",
        }
    }
}
