//! Metric charts: pure modules (`units`, `ticks`, `series`, `layout`) turn the series API's
//! answers into recorded plotters drawings, and `MetricChart` draws one with its exemplar links
//! and its legend.

mod chart;
pub(crate) mod layout;
pub(crate) mod series;
mod ticks;
pub(crate) mod units;

pub(crate) use chart::MetricChart;

#[cfg(test)]
pub(crate) mod tests;
