//! Plotters charts drawn as SVG elements: plotters lays out scales, ticks and labels on a
//! `Recorder` backend; `Plot` draws the recorded primitives, every label a text node.

pub(crate) mod axis;
pub(crate) mod backend;
pub(crate) mod bars;
pub(crate) mod line;
pub(crate) mod retry_steps;

/// Text width estimated per character, shared with the waterfall's bar labels.
pub(crate) use backend::text_size;

use dioxus::prelude::*;
use plotters::style::RGBColor;

/// A colour plotters was given: the theme's roles (drawn with the stylesheet's variables, so
/// the dark theme holds) or a series colour.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Paint {
    Axis,
    Grid,
    Label,
    Text,
    Rgb(u8, u8, u8, f64),
}

/// Colours that stand for theme roles when handed to plotters (never drawn as themselves).
pub(crate) const AXIS: RGBColor = RGBColor(1, 2, 3);
pub(crate) const GRID: RGBColor = RGBColor(1, 2, 4);
pub(crate) const LABEL: RGBColor = RGBColor(1, 2, 5);
pub(crate) const TEXT: RGBColor = RGBColor(1, 2, 6);

/// Series colours that read on the dark panel.
pub(crate) const PALETTE: [RGBColor; 8] = [
    RGBColor(0x5f, 0xb3, 0xf9),
    RGBColor(0x5f, 0xd3, 0x8d),
    RGBColor(0xf0, 0xb4, 0x29),
    RGBColor(0xf9, 0x70, 0x66),
    RGBColor(0xc7, 0x92, 0xea),
    RGBColor(0x4d, 0xd0, 0xe1),
    RGBColor(0xff, 0x9f, 0x6e),
    RGBColor(0xa3, 0xbe, 0x8c),
];

impl Paint {
    pub(crate) fn from_rgb(rgb: (u8, u8, u8), alpha: f64) -> Paint {
        match rgb {
            (1, 2, 3) => Paint::Axis,
            (1, 2, 4) => Paint::Grid,
            (1, 2, 5) => Paint::Label,
            (1, 2, 6) => Paint::Text,
            (r, g, b) => Paint::Rgb(r, g, b, alpha),
        }
    }

    /// The CSS colour.
    pub(crate) fn css(&self) -> String {
        match self {
            Paint::Axis => "var(--muted)".into(),
            Paint::Grid => "var(--border)".into(),
            Paint::Label => "var(--muted)".into(),
            Paint::Text => "var(--text)".into(),
            Paint::Rgb(r, g, b, a) if *a >= 1.0 => format!("rgb({r},{g},{b})"),
            Paint::Rgb(r, g, b, a) => format!("rgba({r},{g},{b},{a:.2})"),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Anchor {
    Start,
    Middle,
    End,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Baseline {
    Top,
    Middle,
    Bottom,
}

/// One thing plotters drew, in canvas pixels.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Primitive {
    Line {
        from: (i32, i32),
        to: (i32, i32),
        paint: Paint,
        width: u32,
    },
    Path {
        points: Vec<(i32, i32)>,
        paint: Paint,
        width: u32,
    },
    Rect {
        x: i32,
        y: i32,
        width: u32,
        height: u32,
        paint: Paint,
        filled: bool,
    },
    Circle {
        center: (i32, i32),
        radius: u32,
        paint: Paint,
        filled: bool,
    },
    Polygon {
        points: Vec<(i32, i32)>,
        paint: Paint,
    },
    Text {
        at: (i32, i32),
        text: String,
        size: f64,
        anchor: Anchor,
        baseline: Baseline,
        /// Clockwise degrees (270 for a y axis title).
        rotate: u16,
        paint: Paint,
    },
}

/// A chart as recorded: its canvas size and what to draw, in order.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Drawing {
    pub width: u32,
    pub height: u32,
    pub primitives: Vec<Primitive>,
    /// Nothing to plot: the drawing is only a "no data" note.
    pub empty: bool,
}

impl Drawing {
    /// A drawing that only says `note`, centred.
    pub(crate) fn note(width: u32, height: u32, note: &str) -> Drawing {
        let text = Primitive::Text {
            at: (width as i32 / 2, height as i32 / 2),
            text: note.to_owned(),
            size: 13.0,
            anchor: Anchor::Middle,
            baseline: Baseline::Middle,
            rotate: 0,
            paint: Paint::Label,
        };
        Drawing { width, height, primitives: vec![text], empty: true }
    }
}

fn points_attr(points: &[(i32, i32)]) -> String {
    let mut out = String::with_capacity(points.len() * 8);
    for (i, (x, y)) in points.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(&format!("{x},{y}"));
    }
    out
}

fn fill_or_stroke(paint: &Paint, filled: bool) -> String {
    if filled {
        format!("fill: {}", paint.css())
    } else {
        format!("fill: none; stroke: {}", paint.css())
    }
}

/// Draws a recorded chart as an `svg` whose children are the primitives; `label` names it for
/// assistive technology.
#[component]
pub(crate) fn Plot(drawing: Drawing, label: String, class: String) -> Element {
    let Drawing { width, height, primitives, empty } = drawing;
    rsx! {
        svg {
            class: "plot {class}",
            view_box: "0 0 {width} {height}",
            role: "img",
            "aria-label": "{label}",
            "data-empty": if empty { "true" } else { "false" },
            for primitive in primitives {
                match primitive {
                    Primitive::Line { from, to, paint, width } => rsx! {
                        line { x1: "{from.0}", y1: "{from.1}", x2: "{to.0}", y2: "{to.1}", style: "stroke: {paint.css()}; stroke-width: {width}" }
                    },
                    Primitive::Path { points, paint, width } => rsx! {
                        polyline { points: points_attr(&points), style: "fill: none; stroke: {paint.css()}; stroke-width: {width}; stroke-linejoin: round" }
                    },
                    Primitive::Rect { x, y, width, height, paint, filled } => rsx! {
                        rect { x: "{x}", y: "{y}", width: "{width}", height: "{height}", style: fill_or_stroke(&paint, filled) }
                    },
                    Primitive::Circle { center, radius, paint, filled } => rsx! {
                        circle { cx: "{center.0}", cy: "{center.1}", r: "{radius}", style: fill_or_stroke(&paint, filled) }
                    },
                    Primitive::Polygon { points, paint } => rsx! {
                        polygon { points: points_attr(&points), style: "fill: {paint.css()}" }
                    },
                    Primitive::Text { at, text, size, anchor, baseline, rotate, paint } => rsx! {
                        text {
                            x: "{at.0}",
                            y: "{at.1}",
                            "text-anchor": match anchor { Anchor::Start => "start", Anchor::Middle => "middle", Anchor::End => "end" },
                            "dominant-baseline": match baseline { Baseline::Top => "hanging", Baseline::Middle => "central", Baseline::Bottom => "auto" },
                            transform: if rotate != 0 { "rotate({rotate} {at.0} {at.1})" },
                            style: "fill: {paint.css()}; font-size: {size}px",
                            "{text}"
                        }
                    },
                }
            }
        }
    }
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
