//! dioxus-core's per-component render span (`trace_span!("render", scope = %name)`), as both renderers' `tracing` subscribers recognise it.

use tracing::field::{Field, Visit};
use tracing::Metadata;

/// Whether `metadata` is dioxus-core's render span.
pub(super) fn is_render(metadata: &Metadata<'_>) -> bool {
    metadata.name() == "render" && metadata.target().starts_with("dioxus_core")
}

/// Reads the `scope` field (the component's name).
pub(super) struct ScopeName(pub(super) String);

impl Visit for ScopeName {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "scope" {
            self.0 = format!("{value:?}");
        }
    }
}
