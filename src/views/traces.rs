//! `Traces`: the trace search page (placeholder until trace search exists).

use dioxus::prelude::*;

use crate::components::EmptyPage;

#[component]
pub(crate) fn Traces() -> Element {
    rsx! {
        EmptyPage {
            title: "Traces",
            explanation: "Trace search is not built yet. This page will list the traces received over OTLP, with filters and a duration chart.",
        }
    }
}
