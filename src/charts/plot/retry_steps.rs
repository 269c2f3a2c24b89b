//! Retries over time: per step, resends, give-ups and circuit-open refusals as stacked bars
//! (summed over the operations shown), with clock ticks in the chosen zone and a legend, so an
//! outage shows as a tower of give-ups and refusals. Pure: the points in, a `Drawing` out.

use std::collections::BTreeMap;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::axis::Ticked;
use super::backend::Recorder;
use super::line::{clock, time_ticks};
use super::{Drawing, AXIS, GRID, LABEL, TEXT};
use crate::model::RetryPoint;

pub(crate) const WIDTH: u32 = 1200;
pub(crate) const HEIGHT: u32 = 240;
/// The legend's width beside the plot.
const LEGEND_WIDTH: u32 = 210;

/// The stacked kinds, bottom up: (legend text, colour).
pub(crate) const KINDS: [(&str, RGBColor); 3] = [
    ("resends", RGBColor(0xf0, 0xb4, 0x29)),
    ("gave up", RGBColor(0xf9, 0x70, 0x66)),
    ("circuit open", RGBColor(0xc7, 0x92, 0xea)),
];

/// One step of the chart: its start (Unix ns) and the stacked counts (resends, give-ups,
/// circuit-open refusals).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Step {
    pub time_ns: u64,
    pub counts: [u64; 3],
}

/// The operations' points summed per step, in time order, steps with nothing to stack left
/// out.
pub(crate) fn steps_of<'a>(series: impl IntoIterator<Item = &'a [RetryPoint]>) -> Vec<Step> {
    let mut steps: BTreeMap<u64, [u64; 3]> = BTreeMap::new();
    for points in series {
        for p in points {
            let counts = steps.entry(p.time_ns).or_default();
            counts[0] += p.resends;
            counts[1] += p.give_ups;
            counts[2] += p.circuit_open;
        }
    }
    steps
        .into_iter()
        .filter(|(_, counts)| counts.iter().any(|&n| n > 0))
        .map(|(time_ns, counts)| Step { time_ns, counts })
        .collect()
}

/// Lays out `steps` (each `step_ns` wide) over `since_ns..until_ns`, `width` px wide (at least
/// 480), tick labels in the zone `offset_min` minutes east of UTC, named `zone` on the axis.
pub(crate) fn retry_steps_chart(
    since_ns: u64,
    until_ns: u64,
    step_ns: u64,
    steps: &[Step],
    width: u32,
    offset_min: i32,
    zone: &str,
) -> Drawing {
    let width = width.max(480);
    if steps.is_empty() {
        return Drawing::note(
            width,
            HEIGHT,
            "No resends, give-ups or circuit-open refusals in this range.",
        );
    }
    let x0 = since_ns as f64 / 1e9;
    let x1 = (until_ns as f64 / 1e9).max(x0 + 1.0);
    let step = (step_ns.max(1) as f64 / 1e9).max(1e-9);
    let mut primitives = Vec::new();
    // Plotters reports only its own layout errors (none with these fixed sizes).
    let _ = draw(&mut primitives, (x0, x1, step), steps, width, offset_min, zone);
    Drawing { width, height: HEIGHT, primitives, empty: false }
}

type DrawResult = Result<(), DrawingAreaErrorKind<super::backend::NeverFails>>;

fn draw(
    out: &mut Vec<super::Primitive>,
    (x0, x1, step): (f64, f64, f64),
    steps: &[Step],
    width: u32,
    offset_min: i32,
    zone: &str,
) -> DrawResult {
    let root = Recorder { size: (width, HEIGHT), out }.into_drawing_area();
    let legend = LEGEND_WIDTH.min(width / 3);
    let (plot_area, legend_area) = root.split_horizontally(width - legend);
    // Ticks on whole clock steps of the zone shown: laid out in zone time, drawn in UTC.
    let shift = f64::from(offset_min) * 60.0;
    let ticks: Vec<f64> =
        time_ticks(x0 + shift, x1 + shift, ((width - legend) / 110).clamp(3, 8) as usize)
            .into_iter()
            .map(|t| t - shift)
            .collect();
    let tick_step = if ticks.len() >= 2 { ticks[1] - ticks[0] } else { x1 - x0 };
    let top = steps.iter().map(|s| s.counts.iter().sum::<u64>()).max().unwrap_or(1).max(1);
    let y_max = top + top.div_ceil(8).max(1);
    let mut chart = ChartBuilder::on(&plot_area)
        .margin(14)
        .x_label_area_size(34)
        .y_label_area_size(46)
        .build_cartesian_2d(Ticked { range: x0..x1, ticks }, 0u64..y_max)?;
    let x_format = |t: &f64| clock(*t + shift, tick_step);
    let x_desc = format!("time ({zone})");
    chart
        .configure_mesh()
        .axis_style(AXIS)
        .bold_line_style(GRID)
        .light_line_style(TRANSPARENT)
        .disable_x_mesh()
        .y_labels(5)
        .label_style(("sans-serif", 11).into_font().color(&LABEL))
        .axis_desc_style(("sans-serif", 11).into_font().color(&LABEL))
        .x_desc(x_desc)
        .y_desc("per step")
        .x_label_formatter(&x_format)
        .draw()?;
    // Each step's bar leaves a tenth of the step as a gap (at least a pixel's worth reads).
    let gap = step * 0.1;
    for s in steps {
        let left = (s.time_ns as f64 / 1e9).max(x0);
        let right = (s.time_ns as f64 / 1e9 + step - gap).min(x1);
        let mut base = 0u64;
        for (i, &n) in s.counts.iter().enumerate() {
            if n == 0 {
                continue;
            }
            chart.draw_series(std::iter::once(Rectangle::new(
                [(left, base), (right, base + n)],
                KINDS[i].1.filled(),
            )))?;
            base += n;
        }
    }
    let name_style = ("sans-serif", 12).into_font().color(&TEXT);
    let left = Pos::new(HPos::Left, VPos::Center);
    for (i, (name, color)) in KINDS.iter().enumerate() {
        let y = 24 + i as i32 * 24;
        legend_area.draw(&Rectangle::new([(8, y - 5), (22, y + 5)], color.filled()))?;
        legend_area.draw(&Text::new(name.to_string(), (30, y), name_style.pos(left)))?;
    }
    let step_text = step_text(step.round() as u64);
    let note_style = ("sans-serif", 11).into_font().color(&LABEL);
    legend_area.draw(&Text::new(
        format!("one bar per {step_text}"),
        (8, 24 + 3 * 24),
        note_style.pos(left),
    ))?;
    Ok(())
}

/// A step of whole seconds as people say it: `10 s`, `2 min`, `1 h`.
pub(crate) fn step_text(secs: u64) -> String {
    match secs {
        0 => "step".into(),
        s if s % 3600 == 0 => format!("{} h", s / 3600),
        s if s % 60 == 0 => format!("{} min", s / 60),
        s => format!("{s} s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::charts::plot::Primitive;

    const S: u64 = 1_000_000_000;

    fn point(t: u64, resends: u64, give_ups: u64, circuit_open: u64) -> RetryPoint {
        RetryPoint { time_ns: t * S, calls: 5, resends, give_ups, circuit_open }
    }

    #[test]
    fn steps_sum_the_operations_and_skip_quiet_steps() {
        let a = [point(0, 1, 0, 0), point(10, 4, 2, 0), point(20, 0, 0, 0)];
        let b = [point(10, 0, 0, 3)];
        let steps = steps_of([&a[..], &b[..]]);
        assert_eq!(
            steps,
            [Step { time_ns: 0, counts: [1, 0, 0] }, Step { time_ns: 10 * S, counts: [4, 2, 3] }]
        );
    }

    fn texts(d: &Drawing) -> Vec<String> {
        d.primitives
            .iter()
            .filter_map(|p| match p {
                Primitive::Text { text, .. } => Some(text.clone()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn an_outage_is_a_stacked_bar_and_the_axis_names_the_zone() {
        let steps = [Step { time_ns: 3600 * S, counts: [4, 2, 3] }];
        let utc = retry_steps_chart(3600 * S, 3660 * S, 10 * S, &steps, 900, 0, "UTC");
        assert!(!utc.empty);
        let bars = utc
            .primitives
            .iter()
            .filter(|p| matches!(p, Primitive::Rect { filled: true, height, .. } if *height > 10))
            .count();
        assert_eq!(bars, 3, "one box per kind, stacked");
        let labels = texts(&utc);
        assert!(labels.contains(&"time (UTC)".to_string()), "{labels:?}");
        assert!(labels.contains(&"01:00:00".to_string()), "{labels:?}");
        for name in ["resends", "gave up", "circuit open", "one bar per 10 s"] {
            assert!(labels.contains(&name.to_string()), "{name}: {labels:?}");
        }
        // An hour east: the same instant labelled 02:00:00, the zone named.
        let east = retry_steps_chart(3600 * S, 3660 * S, 10 * S, &steps, 900, 60, "UTC+01:00");
        let labels = texts(&east);
        assert!(labels.contains(&"02:00:00".to_string()), "{labels:?}");
        assert!(labels.contains(&"time (UTC+01:00)".to_string()), "{labels:?}");
        assert!(!labels.contains(&"01:00:00".to_string()), "{labels:?}");
        let none = retry_steps_chart(0, 60 * S, 10 * S, &[], 900, 0, "UTC");
        assert!(none.empty);
    }
}
