//! The map's zoom, pure: the scale that shows a map whole in its box (never enlarged, never
//! below `MIN_SCALE`, past which the box pans by scrolling), and the zoom buttons' steps.

/// The least scale: past it names are unreadable, so a wider map pans instead.
pub(crate) const MIN_SCALE: f64 = 0.3;
/// The greatest scale the `+` button reaches.
pub(crate) const MAX_SCALE: f64 = 2.0;
/// One press of `+` or `−`.
const STEP: f64 = 1.25;

/// How a map is scaled: fitted to its box (the default), or at a scale picked with the buttons.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Zoom {
    Fit,
    Scale(f64),
}

/// The scale of a `map_w` × `map_h` map under `zoom` in a box `box_w` wide and at most `box_h`
/// high (`None`: any height). A box not measured yet (`box_w` 0: before its first layout, or on
/// the server) shows the map at 1.
pub(crate) fn scale(zoom: Zoom, box_w: f64, box_h: Option<f64>, map_w: f64, map_h: f64) -> f64 {
    match zoom {
        Zoom::Scale(s) => s.clamp(MIN_SCALE, MAX_SCALE),
        Zoom::Fit if box_w <= 0.0 || map_w <= 0.0 => 1.0,
        Zoom::Fit => {
            let by_width = box_w / map_w;
            let by_height = match box_h {
                Some(h) if map_h > 0.0 => h / map_h,
                _ => f64::INFINITY,
            };
            // Two decimals: a box resized by a pixel does not re-render the map.
            (by_width.min(by_height).min(1.0) * 100.0).floor().max(MIN_SCALE * 100.0) / 100.0
        }
    }
}

/// The scale after one press of `+`.
pub(crate) fn zoom_in(scale: f64) -> f64 {
    ((scale * STEP * 100.0).round() / 100.0).min(MAX_SCALE)
}

/// The scale after one press of `−`.
pub(crate) fn zoom_out(scale: f64) -> f64 {
    ((scale / STEP * 100.0).round() / 100.0).max(MIN_SCALE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_shrinks_a_wide_map_to_its_box_and_never_enlarges() {
        // 1,854 px of map in a 927 px box: half.
        assert_eq!(scale(Zoom::Fit, 927.0, None, 1854.0, 262.0), 0.5);
        // A small map stays at 1.
        assert_eq!(scale(Zoom::Fit, 1400.0, None, 600.0, 200.0), 1.0);
        // The height bounds it too (a trace's compact map: 240 px high).
        assert_eq!(scale(Zoom::Fit, 1400.0, Some(240.0), 1000.0, 480.0), 0.5);
        // Very wide: no less than the least scale; the box pans.
        assert_eq!(scale(Zoom::Fit, 300.0, None, 6000.0, 300.0), MIN_SCALE);
        // Not measured yet.
        assert_eq!(scale(Zoom::Fit, 0.0, None, 1854.0, 262.0), 1.0);
        // A box a pixel wider gives the same two-decimal scale.
        assert_eq!(
            scale(Zoom::Fit, 928.0, None, 1854.0, 262.0),
            scale(Zoom::Fit, 927.0, None, 1854.0, 262.0)
        );
    }

    #[test]
    fn buttons_step_within_bounds() {
        assert_eq!(zoom_in(1.0), 1.25);
        assert_eq!(zoom_out(1.0), 0.8);
        assert_eq!(zoom_in(1.9), MAX_SCALE);
        assert_eq!(zoom_out(0.32), MIN_SCALE);
        assert_eq!(scale(Zoom::Scale(5.0), 900.0, None, 100.0, 100.0), MAX_SCALE);
    }
}
