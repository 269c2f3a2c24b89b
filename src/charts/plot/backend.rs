//! `Recorder`: a plotters drawing backend that keeps what plotters draws (lines, paths, rects,
//! circles, polygons, text) as plain primitives, so a component can draw them as SVG elements.

use std::convert::Infallible;

use plotters::backend::DrawingBackend;
use plotters_backend::text_anchor::{HPos, VPos};
use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingErrorKind, FontTransform,
};

use super::{Anchor, Baseline, Paint, Primitive};

/// Records into `out`; `size` is the canvas (the SVG's view box) in pixels.
pub(crate) struct Recorder<'a> {
    pub(crate) size: (u32, u32),
    pub(crate) out: &'a mut Vec<Primitive>,
}

/// An error the recorder never returns (plotters wants a type).
#[derive(Debug)]
pub(crate) struct NeverFails(Infallible);

impl std::fmt::Display for NeverFails {
    fn fmt(&self, _: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {}
    }
}

impl std::error::Error for NeverFails {}

/// Average glyph width as a share of the font size: good enough to place labels without a font.
const CHAR_WIDTH: f64 = 0.6;

/// How wide and high `text` is at `size` px, estimated per character.
pub(crate) fn text_size(text: &str, size: f64) -> (u32, u32) {
    let chars = text.chars().count() as f64;
    ((chars * size * CHAR_WIDTH).ceil() as u32, size.ceil() as u32)
}

fn paint(color: BackendColor) -> Paint {
    Paint::from_rgb(color.rgb, color.alpha)
}

impl DrawingBackend for Recorder<'_> {
    type ErrorType = NeverFails;

    fn get_size(&self) -> (u32, u32) {
        self.size
    }

    fn ensure_prepared(&mut self) -> Result<(), DrawingErrorKind<NeverFails>> {
        Ok(())
    }

    fn present(&mut self) -> Result<(), DrawingErrorKind<NeverFails>> {
        Ok(())
    }

    fn draw_pixel(
        &mut self,
        point: BackendCoord,
        color: BackendColor,
    ) -> Result<(), DrawingErrorKind<NeverFails>> {
        self.out.push(Primitive::Rect {
            x: point.0,
            y: point.1,
            width: 1,
            height: 1,
            paint: paint(color),
            filled: true,
        });
        Ok(())
    }

    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Result<(), DrawingErrorKind<NeverFails>> {
        if style.color().alpha > 0.0 {
            self.out.push(Primitive::Line {
                from,
                to,
                paint: paint(style.color()),
                width: style.stroke_width(),
            });
        }
        Ok(())
    }

    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<NeverFails>> {
        if style.color().alpha > 0.0 {
            self.out.push(Primitive::Rect {
                x: upper_left.0.min(bottom_right.0),
                y: upper_left.1.min(bottom_right.1),
                width: upper_left.0.abs_diff(bottom_right.0),
                height: upper_left.1.abs_diff(bottom_right.1),
                paint: paint(style.color()),
                filled: fill,
            });
        }
        Ok(())
    }

    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<NeverFails>> {
        if style.color().alpha > 0.0 {
            self.out.push(Primitive::Path {
                points: path.into_iter().collect(),
                paint: paint(style.color()),
                width: style.stroke_width(),
            });
        }
        Ok(())
    }

    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<NeverFails>> {
        if style.color().alpha > 0.0 {
            self.out.push(Primitive::Circle {
                center,
                radius,
                paint: paint(style.color()),
                filled: fill,
            });
        }
        Ok(())
    }

    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<NeverFails>> {
        if style.color().alpha > 0.0 {
            self.out.push(Primitive::Polygon {
                points: vert.into_iter().collect(),
                paint: paint(style.color()),
            });
        }
        Ok(())
    }

    fn draw_text<T: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &T,
        pos: BackendCoord,
    ) -> Result<(), DrawingErrorKind<NeverFails>> {
        let anchor = style.anchor();
        self.out.push(Primitive::Text {
            at: pos,
            text: text.to_owned(),
            size: style.size(),
            anchor: match anchor.h_pos {
                HPos::Left => Anchor::Start,
                HPos::Center => Anchor::Middle,
                HPos::Right => Anchor::End,
            },
            baseline: match anchor.v_pos {
                VPos::Top => Baseline::Top,
                VPos::Center => Baseline::Middle,
                VPos::Bottom => Baseline::Bottom,
            },
            rotate: match style.transform() {
                FontTransform::Rotate90 => 90,
                FontTransform::Rotate180 => 180,
                FontTransform::Rotate270 => 270,
                FontTransform::None => 0,
            },
            paint: paint(style.color()),
        });
        Ok(())
    }

    fn estimate_text_size<T: BackendTextStyle>(
        &self,
        text: &str,
        style: &T,
    ) -> Result<(u32, u32), DrawingErrorKind<NeverFails>> {
        Ok(text_size(text, style.size()))
    }
}
