//! A metric's chart laid out by plotters on the recording backend: one line per group and
//! aggregation over time (gaps where a step has no value), over a heatmap of bucket counts for
//! histograms, with exemplars placed as dots the component turns into links to their traces.
//! Pure: lines, a heatmap and exemplars in, a `Drawing` and the dots' places out.

use plotters::prelude::*;

use super::ticks::{nice_ticks, NiceTicks};
use super::units::{format_value, Per};
use crate::charts::plot::line::{clock, time_ticks};
use crate::charts::plot::{Drawing, Primitive, AXIS, GRID, LABEL, PALETTE};
use crate::model::{Exemplar, Heatmap};

pub(crate) const WIDTH: u32 = 1200;
pub(crate) const HEIGHT: u32 = 260;
/// Exemplar dots drawn at most per chart (the newest are kept).
pub(crate) const MAX_EXEMPLARS: usize = 200;
/// Points per line drawn as dots too (beyond that the line alone reads better).
const MAX_DOTS: usize = 90;

/// One line of a chart.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Line {
    /// Names the line in the URL's `hide` and the legend; stable across refreshes.
    pub key: String,
    pub label: String,
    /// One value per step from the chart's start.
    pub values: Vec<Option<f64>>,
    /// Index into the palette (from the line's place among all lines, hidden ones too, so a
    /// toggle does not recolour the others).
    pub color: usize,
}

/// What one chart shows.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Chart<'a> {
    pub since_ns: u64,
    pub until_ns: u64,
    pub step_ns: u64,
    pub unit: &'a str,
    pub per: Per,
    /// The lines drawn (hidden ones left out by the caller).
    pub lines: &'a [Line],
    pub heatmap: Option<&'a Heatmap>,
    /// Placed only when the chart's values are in the metric's unit (`Per::Value`).
    pub exemplars: &'a [Exemplar],
}

/// An exemplar's dot, in percent of the chart's box (so it lands where the SVG scales it).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ExemplarDot {
    pub left_pct: f64,
    pub top_pct: f64,
    pub trace_id: String,
    /// `value · time`, for the dot's tooltip and label.
    pub title: String,
}

/// One bucket of a heatmap: its bounds in the metric's unit (`lower` exclusive).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Bucket {
    pub lower: f64,
    pub upper: f64,
}

/// The buckets of `heatmap`'s bounds: the first from 0 (or below its bound when that is not
/// positive), the last (`+inf`) without an upper bound.
pub(crate) fn buckets(heatmap: &Heatmap) -> Vec<Bucket> {
    let bounds = &heatmap.bounds;
    let mut out = Vec::with_capacity(bounds.len());
    for (i, upper) in bounds.iter().enumerate() {
        let lower = match i {
            0 => match upper {
                Some(b) if *b > 0.0 => 0.0,
                Some(b) => match bounds.get(1).copied().flatten() {
                    Some(next) if next > *b => b - (next - b),
                    _ => b - 1.0,
                },
                None => 0.0,
            },
            _ => bounds[i - 1].unwrap_or(f64::INFINITY),
        };
        out.push(Bucket { lower, upper: upper.unwrap_or(f64::INFINITY) });
    }
    out
}

/// Per bucket, its label (`≤ 5 ms`, the last `> 10 s`) and its count over the whole range.
pub(crate) fn bucket_totals(heatmap: &Heatmap, unit: &str) -> Vec<(String, u64)> {
    buckets(heatmap)
        .iter()
        .enumerate()
        .map(|(j, b)| {
            let label = if b.upper.is_finite() {
                format!("≤ {}", format_value(b.upper, unit, Per::Value))
            } else {
                format!("> {}", format_value(b.lower, unit, Per::Value))
            };
            let total = heatmap.counts.iter().map(|step| step.get(j).copied().unwrap_or(0)).sum();
            (label, total)
        })
        .collect()
}

/// Lays out `chart` `width` px wide (at least 360).
pub(crate) fn metric_chart(chart: &Chart, width: u32) -> (Drawing, Vec<ExemplarDot>) {
    let width = width.max(360);
    let has_heat = chart.heatmap.is_some_and(|h| h.counts.iter().flatten().any(|c| *c > 0));
    let has_values =
        chart.lines.iter().any(|l| l.values.iter().any(|v| v.is_some_and(f64::is_finite)));
    if !has_heat && !has_values {
        return (Drawing::note(width, HEIGHT, "No points in this range."), Vec::new());
    }
    let (lo, hi) = value_range(chart);
    let y = nice_ticks(lo, hi, 5);
    let mut primitives = Vec::new();
    let mut dots = Vec::new();
    // Plotters reports only its own layout errors (none at these sizes); what was recorded up
    // to one is still drawn.
    let _ = draw(&mut primitives, &mut dots, chart, &y, width);
    (Drawing { width, height: HEIGHT, primitives, empty: false }, dots)
}

/// The values the y axis must hold: the visible lines, the non-empty buckets, the exemplars.
fn value_range(chart: &Chart) -> (f64, f64) {
    let mut lo = 0.0f64;
    let mut hi = f64::NEG_INFINITY;
    let mut take = |v: f64| {
        if v.is_finite() {
            lo = lo.min(v);
            hi = hi.max(v);
        }
    };
    for v in chart.lines.iter().flat_map(|l| l.values.iter().flatten()) {
        take(*v);
    }
    if let Some(heatmap) = chart.heatmap {
        let buckets = buckets(heatmap);
        for (j, b) in buckets.iter().enumerate() {
            if heatmap.counts.iter().any(|step| step.get(j).copied().unwrap_or(0) > 0) {
                take(b.lower);
                // The open last bucket reaches half again past its bound.
                take(if b.upper.is_finite() { b.upper } else { b.lower.abs() * 1.5 });
            }
        }
    }
    if chart.per == Per::Value {
        for e in chart.exemplars {
            take(e.value);
        }
    }
    if !hi.is_finite() || hi <= lo {
        hi = lo + 1.0;
    }
    (lo, hi)
}

type DrawResult = Result<(), DrawingAreaErrorKind<crate::charts::plot::backend::NeverFails>>;

fn draw(
    out: &mut Vec<Primitive>,
    dots: &mut Vec<ExemplarDot>,
    chart: &Chart,
    y: &NiceTicks,
    width: u32,
) -> DrawResult {
    let root =
        crate::charts::plot::backend::Recorder { size: (width, HEIGHT), out }.into_drawing_area();
    let x0 = chart.since_ns as f64 / 1e9;
    let x1 = (chart.until_ns as f64 / 1e9).max(x0 + 1.0);
    let ticks = time_ticks(x0, x1, (width / 110).clamp(3, 8) as usize);
    let tick_step = if ticks.len() >= 2 { ticks[1] - ticks[0] } else { x1 - x0 };
    let axis = crate::charts::plot::axis::Ticked { range: x0..x1, ticks };
    let y_axis = crate::charts::plot::axis::Ticked { range: y.lo..y.hi, ticks: y.ticks.clone() };
    let mut plot = ChartBuilder::on(&root)
        .margin(14)
        .x_label_area_size(30)
        .y_label_area_size(70)
        .build_cartesian_2d(axis, y_axis)?;
    let x_format = |t: &f64| clock(*t, tick_step);
    let (unit, per) = (chart.unit, chart.per);
    let y_format = move |v: &f64| format_value(*v, unit, per);
    plot.configure_mesh()
        .axis_style(AXIS)
        .bold_line_style(GRID)
        .light_line_style(TRANSPARENT)
        .label_style(("sans-serif", 11).into_font().color(&LABEL))
        .x_label_formatter(&x_format)
        .y_label_formatter(&y_format)
        .draw()?;
    let step_s = (chart.step_ns.max(1)) as f64 / 1e9;
    let start_of = |i: usize| x0 + i as f64 * step_s;
    if let Some(heatmap) = chart.heatmap {
        let buckets = buckets(heatmap);
        let most = heatmap.counts.iter().flatten().copied().max().unwrap_or(0).max(1) as f64;
        let heat = PALETTE[0];
        let mut cells = Vec::new();
        for (i, step) in heatmap.counts.iter().enumerate() {
            let (left, right) = (start_of(i), (start_of(i + 1)).min(x1));
            if left >= x1 {
                break;
            }
            for (j, count) in step.iter().enumerate().filter(|(_, c)| **c > 0) {
                let Some(b) = buckets.get(j) else { continue };
                let (bottom, top) = (b.lower.max(y.lo), b.upper.min(y.hi));
                if bottom >= top {
                    continue;
                }
                let alpha = 0.15 + 0.75 * (*count as f64 / most);
                cells
                    .push(Rectangle::new([(left, top), (right, bottom)], heat.mix(alpha).filled()));
            }
        }
        plot.draw_series(cells)?;
    }
    for line in chart.lines {
        let color = PALETTE[line.color % PALETTE.len()];
        let points: Vec<Option<(f64, f64)>> = line
            .values
            .iter()
            .enumerate()
            .map(|(i, v)| v.filter(|v| v.is_finite()).map(|v| (start_of(i) + step_s / 2.0, v)))
            .collect();
        // A run of steps with values is one path; a gap ends it.
        for run in points.split(|p| p.is_none()) {
            let run: Vec<(f64, f64)> = run.iter().flatten().copied().collect();
            if run.len() > 1 {
                plot.draw_series(std::iter::once(PathElement::new(run, color.stroke_width(2))))?;
            }
        }
        let all: Vec<(f64, f64)> = points.iter().flatten().copied().collect();
        if all.len() <= MAX_DOTS {
            plot.draw_series(all.iter().map(|&p| Circle::new(p, 3, color.filled())))?;
        }
    }
    if per == Per::Value {
        let mut shown: Vec<&Exemplar> = chart
            .exemplars
            .iter()
            .filter(|e| e.trace_id.is_some() && e.value.is_finite())
            .filter(|e| (x0..=x1).contains(&(e.time_ns as f64 / 1e9)))
            .collect();
        shown.sort_by_key(|e| std::cmp::Reverse(e.time_ns));
        shown.truncate(MAX_EXEMPLARS);
        for e in shown.into_iter().rev() {
            let (px, py) = plot.backend_coord(&(e.time_ns as f64 / 1e9, e.value));
            dots.push(ExemplarDot {
                left_pct: f64::from(px) * 100.0 / f64::from(width),
                top_pct: f64::from(py) * 100.0 / f64::from(HEIGHT),
                trace_id: e.trace_id.clone().unwrap_or_default(),
                title: format!(
                    "exemplar {} at {} UTC",
                    format_value(e.value, unit, Per::Value),
                    clock(e.time_ns as f64 / 1e9, 1.0)
                ),
            });
        }
    }
    Ok(())
}
