//! `FlameGraph`: the flame graph page (placeholder until flame graphs exist).

use dioxus::prelude::*;

use crate::components::EmptyPage;

#[component]
pub(crate) fn FlameGraph() -> Element {
    rsx! {
        EmptyPage {
            title: "Flame graphs",
            explanation: "Flame graphs are not built yet. They will be derived from span self times, per trace or per operation.",
        }
    }
}
