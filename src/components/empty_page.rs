//! `EmptyPage`: a page that says plainly that it has nothing to show yet, and why.

use dioxus::prelude::*;

#[component]
pub(crate) fn EmptyPage(title: String, explanation: String) -> Element {
    rsx! {
        section { class: "empty-page",
            h1 { "{title}" }
            p { class: "empty-state", "{explanation}" }
        }
    }
}
