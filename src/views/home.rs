//! `Home`: the landing page at `/`, which is the trace search.

use dioxus::prelude::*;

use crate::views::Traces;

#[component]
pub(crate) fn Home() -> Element {
    rsx! {
        Traces {}
    }
}
