//! The cache hit-rate chart: one line per cache (name, layer, service; the page picks the source) over time, 0–100%,
//! with clock-time ticks and a legend. Pure: its series in, a recorded `Drawing` out.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::axis::Ticked;
use super::backend::Recorder;
use super::{Drawing, AXIS, GRID, LABEL, PALETTE, TEXT};
use crate::model::CacheStats;

pub(crate) const WIDTH: u32 = 1200;
pub(crate) const HEIGHT: u32 = 280;
/// The plot's share of the width; the legend takes the rest.
/// The legend's share beside the plot: 300 px wide, 180 at the least.
const LEGEND_WIDTH: u32 = 300;
const LEGEND_MIN: u32 = 180;
/// Longest legend line drawn whole; longer ones end in `…` (the table has them whole).
const LEGEND_CHARS: usize = 36;
/// Legend entries drawn (two lines each, `LEGEND_PITCH` apart); the rest are counted.
const LEGEND_ROWS: usize = 7;
const LEGEND_PITCH: i32 = 36;
/// Points per series drawn as dots too (beyond that the line alone reads better).
const MAX_DOTS: usize = 120;

/// One line of the chart.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Series {
    /// The cache's name (the legend's first line).
    pub name: String,
    /// `layer · service (source)` (its second line).
    pub detail: String,
    /// (step start in Unix ns, hit rate 0..=1), in time order.
    pub points: Vec<(u64, f64)>,
}

/// The line of one cache's entry: its steps that saw lookups.
pub(crate) fn series_of(c: &CacheStats) -> Series {
    Series {
        name: c.name.clone(),
        detail: series_detail(&c.layer, &c.service, c.source.as_str()),
        points: c.series.iter().filter_map(|p| p.hit_rate.map(|rate| (p.time_ns, rate))).collect(),
    }
}

/// `layer · service (source)`, the layer left out when the telemetry names none.
pub(crate) fn series_detail(layer: &str, service: &str, source: &str) -> String {
    if layer.is_empty() {
        format!("{service} ({source})")
    } else {
        format!("{layer} · {service} ({source})")
    }
}

/// How the time axis reads: the zone its labels are in and whether it fits the data.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ChartTime {
    /// Minutes east of UTC.
    pub offset_min: i32,
    /// The zone's name on the axis (`UTC`, `UTC+01:00`).
    pub zone: String,
    /// `Some(step_ns)`: fit the axis to the steps with data (each `step_ns` wide) when they
    /// cover under half the range, so 10 minutes of data in an hour is not squeezed.
    pub fit_step_ns: Option<u64>,
}

/// The one rule of fitting a time axis to its data (the cache page, a service's RED charts):
/// `Some((from_ns, to_ns))`, the steps with data (`times`, each step `step_ns` wide from its
/// time), when they cover under half of `since_ns..until_ns`; `None`: draw the whole range.
pub(crate) fn fit_to_data(
    since_ns: u64,
    until_ns: u64,
    times: &[u64],
    step_ns: u64,
) -> Option<(u64, u64)> {
    let (&first, &last) = (times.iter().min()?, times.iter().max()?);
    let range = until_ns.saturating_sub(since_ns).max(1_000_000_000);
    let a = first.max(since_ns);
    let b = last.saturating_add(step_ns).min(until_ns).max(a + 1);
    (b.saturating_sub(a).saturating_mul(2) < range).then_some((a, b))
}

/// The x range (Unix s) to draw: the range, or the data's steps when `fit` and they cover
/// under half of it ([`fit_to_data`]).
pub(crate) fn fitted_range(
    since_ns: u64,
    until_ns: u64,
    times: &[u64],
    fit: Option<u64>,
) -> (f64, f64, bool) {
    let x0 = since_ns as f64 / 1e9;
    let x1 = (until_ns as f64 / 1e9).max(x0 + 1.0);
    match fit.and_then(|step| fit_to_data(since_ns, until_ns, times, step)) {
        Some((a, b)) => (a as f64 / 1e9, (b as f64 / 1e9).max(a as f64 / 1e9 + 1.0), true),
        None => (x0, x1, false),
    }
}

/// Lays out the hit-rate chart of `series` over `since_ns..until_ns`, `width` px wide (its
/// box's width, so its 11 px labels are drawn at 11 px; at least 480), its time axis in
/// `time`'s zone, fitted to the data if asked.
pub(crate) fn hit_rate_chart_in(
    since_ns: u64,
    until_ns: u64,
    series: &[Series],
    width: u32,
    time: ChartTime,
) -> Drawing {
    let width = width.max(480);
    if series.iter().all(|s| s.points.is_empty()) {
        return Drawing::note(width, HEIGHT, "No cache lookups in this range.");
    }
    let times: Vec<u64> = series.iter().flat_map(|s| s.points.iter().map(|p| p.0)).collect();
    let (x0, x1, fitted) = fitted_range(since_ns, until_ns, &times, time.fit_step_ns);
    let mut primitives = Vec::new();
    // Plotters reports only its own layout errors (none with these fixed sizes); whatever was
    // recorded up to one is still drawn.
    let _ = draw(&mut primitives, x0, x1, series, width, (&time, fitted));
    Drawing { width, height: HEIGHT, primitives, empty: false }
}

type DrawResult = Result<(), DrawingAreaErrorKind<super::backend::NeverFails>>;

fn draw(
    out: &mut Vec<super::Primitive>,
    x0: f64,
    x1: f64,
    series: &[Series],
    width: u32,
    (time, fitted): (&ChartTime, bool),
) -> DrawResult {
    let root = Recorder { size: (width, HEIGHT), out }.into_drawing_area();
    let legend = LEGEND_WIDTH.min(width / 3).max(LEGEND_MIN);
    let (plot_area, legend_area) = root.split_horizontally(width - legend);
    // About one time label per 110 px of plot, on whole clock steps of the zone shown.
    let shift = f64::from(time.offset_min) * 60.0;
    let ticks: Vec<f64> =
        time_ticks(x0 + shift, x1 + shift, ((width - legend) / 110).clamp(3, 8) as usize)
            .into_iter()
            .map(|t| t - shift)
            .collect();
    let step = if ticks.len() >= 2 { ticks[1] - ticks[0] } else { x1 - x0 };
    let mut chart = ChartBuilder::on(&plot_area)
        .margin(14)
        .x_label_area_size(34)
        .y_label_area_size(46)
        .build_cartesian_2d(
            Ticked { range: x0..x1, ticks },
            Ticked { range: 0.0..100.0, ticks: vec![0.0, 25.0, 50.0, 75.0, 100.0] },
        )?;
    let x_format = |t: &f64| clock(*t + shift, step);
    let x_desc = if fitted {
        format!("time ({}) · fitted to the data", time.zone)
    } else {
        format!("time ({})", time.zone)
    };
    let y_format = |v: &f64| format!("{v:.0}%");
    chart
        .configure_mesh()
        .axis_style(AXIS)
        .bold_line_style(GRID)
        .light_line_style(TRANSPARENT)
        .label_style(("sans-serif", 11).into_font().color(&LABEL))
        .axis_desc_style(("sans-serif", 11).into_font().color(&LABEL))
        .x_desc(x_desc)
        .y_desc("hit rate")
        .x_label_formatter(&x_format)
        .y_label_formatter(&y_format)
        .draw()?;
    for (i, s) in series.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        let points: Vec<(f64, f64)> =
            s.points.iter().map(|&(t, rate)| (t as f64 / 1e9, rate * 100.0)).collect();
        if points.len() > 1 {
            chart.draw_series(std::iter::once(PathElement::new(
                points.clone(),
                color.stroke_width(2),
            )))?;
        }
        if points.len() <= MAX_DOTS {
            chart.draw_series(points.iter().map(|&p| Circle::new(p, 3, color.filled())))?;
        }
    }
    let name_style = ("sans-serif", 12).into_font().color(&TEXT);
    let detail_style = ("sans-serif", 11).into_font().color(&LABEL);
    let left = Pos::new(HPos::Left, VPos::Center);
    for (i, s) in series.iter().take(LEGEND_ROWS).enumerate() {
        let y = 20 + i as i32 * LEGEND_PITCH;
        let color = PALETTE[i % PALETTE.len()];
        legend_area.draw(&Rectangle::new([(8, y - 5), (22, y + 5)], color.filled()))?;
        legend_area.draw(&Text::new(
            ellipsis(&s.name, LEGEND_CHARS.min(legend as usize / 7)),
            (30, y),
            name_style.pos(left),
        ))?;
        legend_area.draw(&Text::new(
            ellipsis(&s.detail, LEGEND_CHARS.min(legend as usize / 7)),
            (30, y + 14),
            detail_style.pos(left),
        ))?;
    }
    if series.len() > LEGEND_ROWS {
        let y = 20 + LEGEND_ROWS as i32 * LEGEND_PITCH;
        let more = format!("and {} more (see the table)", series.len() - LEGEND_ROWS);
        legend_area.draw(&Text::new(more, (8, y), detail_style.pos(left)))?;
    }
    Ok(())
}

/// `text` cut to `max` characters, ending in `…` when cut.
pub(crate) fn ellipsis(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let mut cut: String = text.chars().take(max - 1).collect();
        cut.push('…');
        cut
    }
}

/// Tick positions (Unix seconds) on whole clock steps, at most `max` of them.
pub(crate) fn time_ticks(x0: f64, x1: f64, max: usize) -> Vec<f64> {
    const STEPS: [f64; 16] = [
        1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0, 7200.0,
        10800.0, 21600.0,
    ];
    let span = (x1 - x0).max(1.0);
    let step = STEPS
        .iter()
        .copied()
        .find(|step| span / step <= max as f64)
        .unwrap_or_else(|| (span / max as f64 / 86400.0).ceil() * 86400.0);
    let mut ticks = Vec::new();
    let mut t = (x0 / step).ceil() * step;
    while t <= x1 {
        ticks.push(t);
        t += step;
    }
    ticks
}

/// A tick label of Unix seconds `t` (UTC, or shifted into a zone) for ticks `step` seconds apart: `HH:MM:SS` under a
/// minute, `HH:MM` under a day, else the date `YYYY-MM-DD`.
pub(crate) fn clock(t: f64, step: f64) -> String {
    let s = t.round().max(0.0) as u64;
    let (h, m, sec) = ((s / 3600) % 24, (s / 60) % 60, s % 60);
    if step < 60.0 {
        format!("{h:02}:{m:02}:{sec:02}")
    } else if step < 86400.0 {
        format!("{h:02}:{m:02}")
    } else {
        let (y, mo, d) = crate::words::civil_date((s / 86400) as i64);
        format!("{y:04}-{mo:02}-{d:02}")
    }
}
