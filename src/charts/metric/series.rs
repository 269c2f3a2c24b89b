//! From the series API's answers to what a metric page draws: which aggregations share a chart
//! (the percentiles, over the heatmap), each chart's lines with stable keys and colours, and the
//! legend's rows with each line's last, lowest, highest and mean value. Pure.

use super::layout::Line;
use super::units::Per;
use crate::filters::is_percentile;
use crate::model::{value_text, MetricAgg, MetricGroup, MetricSeriesAnswer};

/// The aggregations of each chart, in the order asked: every percentile in the first
/// percentile's chart, each other aggregation alone.
pub(crate) fn chart_groups(aggs: &[MetricAgg]) -> Vec<Vec<MetricAgg>> {
    let mut charts: Vec<Vec<MetricAgg>> = Vec::new();
    for &agg in aggs {
        match charts.iter_mut().find(|c| is_percentile(agg) && c.iter().copied().all(is_percentile))
        {
            Some(chart) => chart.push(agg),
            None => charts.push(vec![agg]),
        }
    }
    charts
}

/// How a chart of `agg` relates to the metric's unit.
pub(crate) fn per(agg: MetricAgg) -> Per {
    match agg {
        MetricAgg::Rate => Per::Second,
        MetricAgg::Count => Per::Count,
        _ => Per::Value,
    }
}

/// The chart's heading.
pub(crate) fn chart_title(aggs: &[MetricAgg]) -> &'static str {
    match aggs.first() {
        Some(agg) if is_percentile(*agg) => "Percentiles over the bucket heatmap",
        Some(MetricAgg::Rate) => "Rate per second",
        Some(MetricAgg::Value) => "Value (last in each step)",
        Some(MetricAgg::Avg) => "Average",
        Some(MetricAgg::Min) => "Minimum",
        Some(MetricAgg::Max) => "Maximum",
        Some(MetricAgg::Count) => "Observations per second",
        Some(MetricAgg::Sum) => "Sum of observations per step",
        Some(MetricAgg::Quantiles) => "Quantiles as sent",
        _ => "",
    }
}

/// A group's label: its `group_by` values (`route=/a`), `others`, or `all` when not grouped.
pub(crate) fn group_label(group: &MetricGroup) -> String {
    if group.others {
        return "others".into();
    }
    if group.labels.is_empty() {
        return "all".into();
    }
    group
        .labels
        .iter()
        .map(|kv| format!("{}={}", kv.key, value_text(&kv.value)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The lines of one chart: one per group of each answer (one answer per aggregation).
pub(crate) fn lines_of(answers: &[(MetricAgg, &MetricSeriesAnswer)]) -> Vec<Line> {
    let several = answers.len() > 1;
    let mut lines = Vec::new();
    for (agg, answer) in answers {
        for group in &answer.groups {
            let group_text = group_label(group);
            let label = match (several, group.labels.is_empty() && !group.others) {
                (true, true) => agg.as_str().to_owned(),
                (true, false) => format!("{agg} · {group_text}"),
                (false, _) => group_text.clone(),
            };
            lines.push(Line {
                key: format!("{agg}:{group_text}"),
                label,
                values: group.values.clone(),
                color: lines.len(),
            });
        }
    }
    lines
}

/// One row of a chart's legend.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct LegendRow {
    pub key: String,
    pub label: String,
    pub color: usize,
    pub hidden: bool,
    pub last: Option<f64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub mean: Option<f64>,
}

/// The legend of `lines`, with those whose key is in `hidden` marked.
pub(crate) fn legend_rows(lines: &[Line], hidden: &[&str]) -> Vec<LegendRow> {
    lines
        .iter()
        .map(|line| {
            let values: Vec<f64> =
                line.values.iter().flatten().copied().filter(|v| v.is_finite()).collect();
            let mean =
                (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64);
            LegendRow {
                key: line.key.clone(),
                label: line.label.clone(),
                color: line.color,
                hidden: hidden.contains(&line.key.as_str()),
                last: values.last().copied(),
                min: values.iter().copied().reduce(f64::min),
                max: values.iter().copied().reduce(f64::max),
                mean,
            }
        })
        .collect()
}
