//! The attempts histogram of one retried operation: how many calls took 1, 2, 3… attempts, a
//! bar each with its count (calls an open circuit refused before trying at 0). Pure: the operation's counts in, a recorded `Drawing` out.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::axis::Ticked;
use super::backend::Recorder;
use super::{Drawing, AXIS, GRID, LABEL, PALETTE, TEXT};
use crate::model::AttemptCount;

pub(crate) const WIDTH: u32 = 520;
pub(crate) const HEIGHT: u32 = 240;

/// Lays out the histogram of `attempts` (any order; zero counts allowed).
pub(crate) fn attempts_chart(attempts: &[AttemptCount]) -> Drawing {
    let max_attempts = attempts.iter().filter(|a| a.calls > 0).map(|a| a.attempts).max();
    let Some(max_attempts) = max_attempts else {
        return Drawing::note(WIDTH, HEIGHT, "No calls in this range.");
    };
    let mut primitives = Vec::new();
    // As in the line chart: plotters' own layout errors cannot happen at this size.
    let _ = draw(&mut primitives, attempts, max_attempts.max(1));
    Drawing { width: WIDTH, height: HEIGHT, primitives, empty: false }
}

type DrawResult = Result<(), DrawingAreaErrorKind<super::backend::NeverFails>>;

fn draw(out: &mut Vec<super::Primitive>, attempts: &[AttemptCount], max: u64) -> DrawResult {
    let root = Recorder { size: (WIDTH, HEIGHT), out }.into_drawing_area();
    let top = attempts.iter().map(|a| a.calls).max().unwrap_or(1).max(1);
    // Head room for the count above the tallest bar.
    let y_max = top + top.div_ceil(8).max(1);
    // Calls an open circuit refused before any attempt stand at 0.
    let min = u64::from(!attempts.iter().any(|a| a.attempts == 0 && a.calls > 0));
    let x_ticks: Vec<f64> = (min..=max).map(|a| a as f64).collect();
    let mut chart = ChartBuilder::on(&root)
        .margin(14)
        .x_label_area_size(34)
        .y_label_area_size(52)
        .build_cartesian_2d(
            Ticked { range: min as f64 - 0.5..max as f64 + 0.5, ticks: x_ticks },
            0u64..y_max,
        )?;
    let x_format = |a: &f64| format!("{a:.0}");
    chart
        .configure_mesh()
        .axis_style(AXIS)
        .bold_line_style(GRID)
        .light_line_style(TRANSPARENT)
        .disable_x_mesh()
        .y_labels(5)
        .label_style(("sans-serif", 11).into_font().color(&LABEL))
        .axis_desc_style(("sans-serif", 11).into_font().color(&LABEL))
        .x_desc("attempts")
        .y_desc("calls")
        .x_label_formatter(&x_format)
        .draw()?;
    let width = 0.35;
    chart.draw_series(attempts.iter().filter(|a| a.calls > 0).map(|a| {
        let x = a.attempts as f64;
        let color = match a.attempts {
            0 => super::retry_steps::KINDS[2].1,
            1 => PALETTE[0],
            _ => PALETTE[2],
        };
        Rectangle::new([(x - width, 0), (x + width, a.calls)], color.filled())
    }))?;
    let label =
        ("sans-serif", 11).into_font().color(&TEXT).pos(Pos::new(HPos::Center, VPos::Bottom));
    // Each count 4 px above its bar.
    chart.draw_series(attempts.iter().filter(|a| a.calls > 0).map(|a| {
        EmptyElement::at((a.attempts as f64, a.calls))
            + Text::new(a.calls.to_string(), (0, -4), label.clone())
    }))?;
    Ok(())
}
