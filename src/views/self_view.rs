//! `SelfView`: the page for otelscope's own spans (placeholder until self-tracing exists).

use dioxus::prelude::*;

use crate::components::EmptyPage;

#[component]
pub(crate) fn SelfView() -> Element {
    crate::uitrace::use_render_span();
    rsx! {
        EmptyPage {
            title: "otelscope itself",
            explanation: "Self-tracing is not built yet. This page will show the spans of otelscope's own UI renders and API calls.",
        }
    }
}
