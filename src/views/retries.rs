//! `Retries`: the retry page (placeholder until the retry view exists).

use dioxus::prelude::*;

use crate::components::EmptyPage;

#[component]
pub(crate) fn Retries() -> Element {
    rsx! {
        EmptyPage {
            title: "Retries",
            explanation: "The retry view is not built yet. It will show retried calls, resends and give-ups per operation.",
        }
    }
}
