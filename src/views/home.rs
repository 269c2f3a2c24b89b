//! `Home`: the landing page at `/`, which is the trace search with no filters.

use dioxus::prelude::*;

use crate::filters::TraceFilters;
use crate::views::Traces;

#[component]
pub(crate) fn Home() -> Element {
    crate::uitrace::use_render_span();
    rsx! {
        Traces { filters: TraceFilters::default() }
    }
}
