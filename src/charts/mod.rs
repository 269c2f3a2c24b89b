//! Charts: each is "compute, then draw" — a pure layout module with tests, and a component.

pub(crate) mod flame;
pub mod logs;
pub(crate) mod map;
pub(crate) mod metric;
pub(crate) mod plot;
pub(crate) mod red;
pub(crate) mod scatter;
pub mod waterfall;

/// An `onresize` handler keeping `width` at its element's content width (whole CSS px), so a
/// chart lays itself out at the size it is drawn and its labels keep their font size.
pub(crate) fn track_width(
    mut width: dioxus::prelude::Signal<f64>,
) -> impl FnMut(dioxus::prelude::Event<dioxus::prelude::ResizeData>) {
    use dioxus::prelude::{ReadableExt, WritableExt};
    move |event| {
        if let Ok(size) = event.get_content_box_size() {
            let measured = size.width.round();
            if (measured - *width.peek()).abs() >= 1.0 {
                width.set(measured);
            }
        }
    }
}
