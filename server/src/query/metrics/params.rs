//! The query strings of `GET /api/v1/metrics?q=&service=` (the catalogue) and
//! `GET /api/v1/metrics/{name}/series?…`, parsed into the store's and the answer's requests.
//! Charts default to the last hour, `DEFAULT_STEPS` steps.

use otelscope_app::model::MetricAgg;

use super::{SeriesRequest, DEFAULT_GROUPS, MAX_GROUPS, MAX_STEPS};
use crate::query::error::ParamError;
use crate::query::params::{params, step_param, time};
use crate::store::MetricCatalogQuery;

/// The range a chart covers unless `since` says otherwise.
pub const DEFAULT_RANGE_NS: u64 = 3_600_000_000_000;
/// Steps a default `step` splits the range into.
pub const DEFAULT_STEPS: u64 = 60;
/// Metrics a catalogue lists unless `limit` says otherwise, and at most.
pub const DEFAULT_CATALOG_LIMIT: usize = 1_000;
pub const MAX_CATALOG_LIMIT: usize = 10_000;
/// The most `attr` filters and `group_by` keys.
pub const MAX_FILTERS: usize = 16;

/// Why a metrics query string was refused (a 400, the message names the parameter).
#[derive(Debug, PartialEq, thiserror::Error)]
pub enum MetricParamError {
    #[error(transparent)]
    Param(#[from] ParamError),
    #[error("agg must be one of rate, value, avg, min, max, p50, p90, p95, p99, count, sum, quantiles, not {0:?}")]
    Agg(String),
    #[error("limit must be a whole number from 1, not {0:?}")]
    Limit(String),
    #[error("at most {MAX_FILTERS} attr filters and {MAX_FILTERS} group_by keys")]
    TooMany,
}

/// `q`, `service`, `include_self`, `limit`.
pub fn parse_catalog(raw: &str) -> Result<MetricCatalogQuery, MetricParamError> {
    let mut q = MetricCatalogQuery { limit: DEFAULT_CATALOG_LIMIT, ..Default::default() };
    for (key, value) in params(raw) {
        match key.as_str() {
            "q" => q.q = Some(value),
            "service" => q.service = Some(value),
            "include_self" => q.include_self = crate::query::params::flag(&key, &value)?,
            "limit" => q.limit = limit(&value)?.min(MAX_CATALOG_LIMIT),
            _ => {}
        }
    }
    Ok(q)
}

fn limit(value: &str) -> Result<usize, MetricParamError> {
    value
        .parse::<usize>()
        .ok()
        .filter(|n| *n >= 1)
        .ok_or_else(|| MetricParamError::Limit(value.into()))
}

/// `service`, `attr=K=V` (repeatable), `group_by=K` (repeatable or comma-separated), `since`,
/// `until`, `step`, `agg`, `limit` (lines, at most `MAX_GROUPS`), `include_self`.
pub fn parse_series(name: &str, raw: &str, now_ns: u64) -> Result<SeriesRequest, MetricParamError> {
    let mut r = SeriesRequest {
        name: name.to_owned(),
        service: None,
        attrs: Vec::new(),
        group_by: Vec::new(),
        since_ns: 0,
        until_ns: 0,
        step_ns: 0,
        agg: None,
        limit: DEFAULT_GROUPS,
        include_self: false,
    };
    let (mut since, mut until, mut step) = (None, None, None);
    for (key, value) in params(raw) {
        match key.as_str() {
            "service" => r.service = Some(value),
            "attr" => {
                let (k, v) =
                    value.split_once('=').ok_or_else(|| ParamError::Attr(value.clone()))?;
                r.attrs.push((k.to_owned(), v.to_owned()));
            }
            "group_by" => r.group_by.extend(
                value.split(',').map(str::trim).filter(|k| !k.is_empty()).map(str::to_owned),
            ),
            "since" => since = Some(time(&key, &value, now_ns)?),
            "until" => until = Some(time(&key, &value, now_ns)?),
            "step" => step = Some(step_param(&value)?),
            "agg" => r.agg = Some(value.parse().map_err(|_| MetricParamError::Agg(value))?),
            "limit" => r.limit = limit(&value)?.min(MAX_GROUPS),
            "include_self" => r.include_self = crate::query::params::flag(&key, &value)?,
            _ => {}
        }
    }
    if r.attrs.len() > MAX_FILTERS || r.group_by.len() > MAX_FILTERS {
        return Err(MetricParamError::TooMany);
    }
    r.group_by.dedup();
    r.until_ns = until.unwrap_or(now_ns);
    r.since_ns = since.unwrap_or(r.until_ns.saturating_sub(DEFAULT_RANGE_NS));
    if r.since_ns > r.until_ns {
        return Err(ParamError::Backwards { since: "since", until: "until" }.into());
    }
    let range = (r.until_ns - r.since_ns).max(1);
    let wanted = step.unwrap_or(range.div_ceil(DEFAULT_STEPS));
    // Whole seconds, and no more than MAX_STEPS steps.
    r.step_ns = wanted.max(range.div_ceil(MAX_STEPS)).max(1_000_000_000).div_ceil(1_000_000_000)
        * 1_000_000_000;
    Ok(r)
}

/// The text of an aggregation, as `agg=` takes it.
pub fn agg_text(agg: MetricAgg) -> &'static str {
    agg.as_str()
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 10_000_000_000_000;

    #[test]
    fn a_chart_defaults_to_the_last_hour_in_sixty_steps() {
        let r = parse_series("m", "", NOW).unwrap();
        assert_eq!(
            (r.since_ns, r.until_ns, r.step_ns),
            (NOW - 3_600_000_000_000, NOW, 60_000_000_000)
        );
        assert_eq!(r.limit, DEFAULT_GROUPS);
    }

    #[test]
    fn filters_group_by_agg_and_bounds() {
        let r = parse_series(
            "m",
            "service=api&attr=http.route%3D%2Fa&group_by=route,code&agg=p99&limit=999&step=1ms&since=1h",
            NOW,
        )
        .unwrap();
        assert_eq!(r.attrs, vec![("http.route".to_owned(), "/a".to_owned())]);
        assert_eq!(r.group_by, vec!["route".to_owned(), "code".to_owned()]);
        assert_eq!(r.agg, Some(MetricAgg::P99));
        assert_eq!(r.limit, MAX_GROUPS);
        // 1 h in at most 1,000 steps: 3.6 s, rounded up to whole seconds.
        assert_eq!(r.step_ns, 4_000_000_000);
        assert!(matches!(parse_series("m", "agg=median", NOW), Err(MetricParamError::Agg(_))));
        assert!(parse_series("m", "attr=novalue", NOW).is_err());
        assert!(parse_series("m", "since=2&until=1", NOW).is_err());
        assert!(parse_series("m", "limit=0", NOW).is_err());
    }

    #[test]
    fn catalogue_query() {
        let q = parse_catalog("q=http&service=api&limit=5").unwrap();
        assert_eq!(
            q,
            MetricCatalogQuery {
                q: Some("http".into()),
                service: Some("api".into()),
                include_self: false,
                limit: 5
            }
        );
    }
}
