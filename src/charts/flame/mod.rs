//! Flame graphs: `layout` (pure: the tree flattened, rectangles for a zoom and a width) and
//! `analysis` (pure: search share, sandwich, diff colour), then `FlameChart`, which draws the
//! rectangles as SVG.

pub mod analysis;
pub mod layout;

#[cfg(test)]
mod tests;
