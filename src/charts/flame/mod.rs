//! Flame graphs: `layout` (pure: the tree flattened, rectangles for a zoom and a width) and
//! `analysis` (pure: search share, sandwich, diff colour), then `chart::FlameChart`, which
//! draws the rectangles as SVG.

pub mod analysis;
mod chart;
pub mod functions;
pub mod layout;
mod panel;

pub(crate) use chart::{page_href, ChartLink};
pub(crate) use panel::{FlamePanel, SharedGraph};

#[cfg(test)]
mod tests;
