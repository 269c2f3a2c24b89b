//! The query strings of `GET /api/v1/{traces,metrics,cache,retries}` (logs: `log_params.rs`),
//! each parsed in one pure function into the store's request type (`store::request`) so every
//! rule is unit-tested.

use std::time::Duration;

use otelscope_app::model::params::{
    attr_filter, duration_ms_ns, page_limit, status_filter, MillisError,
};

use crate::store::{CacheQuery, MetricQuery, RetryQuery, TraceQuery};

use super::cache::MISS_EXAMPLES;
use super::error::ParamError;
use super::retries::EXAMPLES_PER_KIND;

pub use otelscope_app::model::{
    DEFAULT_TRACE_LIMIT as DEFAULT_LIMIT, MAX_TRACE_LIMIT as MAX_LIMIT,
};

/// Parses a query string. Times (`since`, `until`) are RFC 3339 (`2026-11-26T10:00:00Z`),
/// integers of Unix nanoseconds, or durations back from `now_ns` (`15m`, `2h`).
pub fn parse_trace_query(raw: &str, now_ns: u64) -> Result<TraceQuery, ParamError> {
    let mut q = TraceQuery { limit: DEFAULT_LIMIT, ..TraceQuery::default() };
    for (key, value) in params(raw) {
        match key.as_str() {
            "service" => q.service = Some(value),
            "name" => q.name = Some(value),
            "include_self" => q.include_self = flag(&key, &value)?,
            "min_duration_ms" => q.min_duration_ns = Some(millis(&key, &value)?),
            "max_duration_ms" => q.max_duration_ns = Some(millis(&key, &value)?),
            "status" => {
                q.error = status_filter(&value).ok_or_else(|| ParamError::Status(value.clone()))?;
            }
            "attr" => {
                let (k, v) = attr_filter(&value).ok_or_else(|| ParamError::Attr(value.clone()))?;
                q.attrs.push((k.to_owned(), v.to_owned()));
            }
            "since" => q.since_ns = Some(time(&key, &value, now_ns)?),
            "until" => q.until_ns = Some(time(&key, &value, now_ns)?),
            "limit" => q.limit = parse_limit(&value)?,
            // Unknown parameters are ignored, as browsers and scripts add their own.
            _ => {}
        }
    }
    Ok(q)
}

/// The query string's pairs, decoded by the app's decoder (so a page URL and the API read a
/// value alike); an empty value means "no filter" and is skipped.
pub(crate) fn params(raw: &str) -> impl Iterator<Item = (String, String)> + '_ {
    otelscope_app::filters::query_pairs(raw).filter(|(_, value)| !value.is_empty())
}

pub use super::error::MAX_NS;

/// A duration in milliseconds, as `model::params::duration_ms_ns` reads it (the app's search
/// form marks the field by the same function).
fn millis(key: &str, value: &str) -> Result<u64, ParamError> {
    let key = key.to_owned();
    duration_ms_ns(value).map_err(|error| match error {
        MillisError::NotANumber => ParamError::Millis { key, value: value.to_owned() },
        MillisError::NotNonNegative => ParamError::NegativeMillis { key },
        MillisError::TooLarge => ParamError::MillisTooLarge { key },
    })
}

/// A time: Unix nanoseconds, a duration back from `now_ns`, or RFC 3339; past [`MAX_NS`]
/// (the year 2262) it is refused, naming `key`.
pub(crate) fn time(key: &str, value: &str, now_ns: u64) -> Result<u64, ParamError> {
    let ns = if let Ok(ns) = value.parse::<u64>() {
        ns
    } else if let Ok(ago) = humantime::parse_duration(value) {
        now_ns.saturating_sub(ago.as_nanos().min(u128::from(u64::MAX)) as u64)
    } else if let Ok(at) = humantime::parse_rfc3339_weak(value) {
        let since_epoch = at.duration_since(std::time::UNIX_EPOCH).unwrap_or(Duration::ZERO);
        since_epoch.as_nanos().min(u128::from(u64::MAX)) as u64
    } else {
        return Err(ParamError::Time { key: key.to_owned(), value: value.to_owned() });
    };
    if ns > MAX_NS {
        return Err(ParamError::TimeTooLate { key: key.to_owned(), value: value.to_owned() });
    }
    Ok(ns)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_800_000_000_000_000_000;

    #[test]
    fn every_filter() {
        let q = parse_trace_query(
            "service=api&name=GET+%2Fusers&min_duration_ms=1.5&max_duration_ms=20&status=error\
             &attr=http.route%3D%2Fusers&attr=k%3Da%3Db&since=15m&until=1700000000000000000&limit=5000&x=1\
             &include_self=1",
            NOW,
        )
        .unwrap();
        assert_eq!(
            q,
            TraceQuery {
                service: Some("api".into()),
                name: Some("GET /users".into()),
                min_duration_ns: Some(1_500_000),
                max_duration_ns: Some(20_000_000),
                error: Some(true),
                attrs: vec![("http.route".into(), "/users".into()), ("k".into(), "a=b".into())],
                since_ns: Some(NOW - 15 * 60 * 1_000_000_000),
                until_ns: Some(1_700_000_000_000_000_000),
                limit: MAX_LIMIT,
                include_self: true,
            }
        );
        assert!(parse_trace_query("include_self=yes", NOW)
            .unwrap_err()
            .to_string()
            .contains("include_self"));
        for zero_or_less in ["limit=0", "limit=-3", "limit=ten"] {
            let error = parse_trace_query(zero_or_less, NOW).unwrap_err().to_string();
            assert!(error.starts_with("limit must be a whole number from 1"), "{error}");
        }
    }

    #[test]
    fn empty_values_mean_no_filter_and_rfc3339_is_accepted() {
        let q = parse_trace_query("service=&since=2026-11-26T00:00:00Z", NOW).unwrap();
        assert_eq!(q.service, None);
        assert_eq!(q.since_ns, Some(1_795_651_200_000_000_000));
        assert_eq!(q.limit, DEFAULT_LIMIT);
    }

    #[test]
    fn bad_values_are_explained() {
        assert_eq!(
            parse_trace_query("min_duration_ms=fast", NOW).unwrap_err().to_string(),
            "min_duration_ms must be a number of milliseconds, not \"fast\""
        );
        assert!(parse_trace_query("attr=novalue", NOW)
            .unwrap_err()
            .to_string()
            .starts_with("attr must be"));
        assert!(parse_trace_query("status=weird", NOW).is_err());
        assert!(parse_trace_query("since=yesterday-ish", NOW).is_err());
    }

    #[test]
    fn times_and_durations_past_i64_are_refused_not_wrapped() {
        for raw in [
            "since=18446744073709551615",
            "since=9223372036854775808",
            "until=9999-01-01T00:00:00Z",
        ] {
            let error = parse_trace_query(raw, NOW).unwrap_err().to_string();
            let key = raw.split('=').next().unwrap();
            assert!(error.starts_with(key), "{raw}: {error}");
        }
        for raw in
            ["min_duration_ms=1e20", "max_duration_ms=9223372036854.776", "min_duration_ms=inf"]
        {
            assert!(
                parse_trace_query(raw, NOW).unwrap_err().to_string().contains("_duration_ms"),
                "{raw}"
            );
        }
        let edge =
            parse_trace_query("since=9223372036854775807&min_duration_ms=9223372036854", NOW);
        assert_eq!(edge.as_ref().map(|q| q.since_ns).ok(), Some(Some(MAX_NS)), "{edge:?}");
        assert!(
            super::super::log_params::parse_log_query("since=18446744073709551615", NOW).is_err()
        );
        assert!(parse_metric_query("until=18446744073709551615", NOW).is_err());
        assert!(parse_cache_query("since=18446744073709551615", NOW).is_err());
    }
}

/// Points (or catalog names) a metrics answer holds unless `limit` says otherwise.
pub const DEFAULT_METRIC_LIMIT: usize = 10_000;
/// The most a metrics answer ever holds, whatever `limit` asks: ~300 bytes a point, so an
/// answer stays around 30 MB in the server and the browser.
pub const MAX_METRIC_LIMIT: usize = 100_000;

/// `name`, `service`, `since`, `until`, `step` (a duration such as `10s`), `limit`.
pub fn parse_metric_query(raw: &str, now_ns: u64) -> Result<MetricQuery, ParamError> {
    let mut q = MetricQuery { limit: DEFAULT_METRIC_LIMIT, ..MetricQuery::default() };
    for (key, value) in params(raw) {
        match key.as_str() {
            "name" => q.name = Some(value),
            "service" => q.service = Some(value),
            "since" => q.since_ns = Some(time(&key, &value, now_ns)?),
            "until" => q.until_ns = Some(time(&key, &value, now_ns)?),
            "step" => {
                let step = humantime::parse_duration(&value).map_err(|_| ParamError::Duration {
                    key: "step",
                    example: "10s",
                    value: value.clone(),
                })?;
                q.step_ns = Some((step.as_nanos() as u64).max(1));
            }
            "limit" => {
                let n: usize = value.parse().map_err(|_| ParamError::MetricLimit(value))?;
                q.limit = n.clamp(1, MAX_METRIC_LIMIT);
            }
            _ => {}
        }
    }
    Ok(q)
}

/// A `limit`: a whole number from 1; more than [`MAX_LIMIT`] reads as the most.
fn parse_limit(value: &str) -> Result<usize, ParamError> {
    page_limit(value, MAX_LIMIT).ok_or_else(|| ParamError::Limit(value.to_owned()))
}

#[cfg(test)]
#[path = "params_agree_tests.rs"]
mod agree_tests;

#[cfg(test)]
mod signal_tests {
    use super::*;

    #[test]
    fn metric_queries() {
        let m = parse_metric_query("name=cache.gets&step=10s&since=100", 0).unwrap();
        assert_eq!(m.name.as_deref(), Some("cache.gets"));
        assert_eq!(m.step_ns, Some(10_000_000_000));
        assert_eq!(m.since_ns, Some(100));
        assert_eq!(m.limit, DEFAULT_METRIC_LIMIT);
        assert_eq!(parse_metric_query("limit=5", 0).unwrap().limit, 5);
        assert_eq!(parse_metric_query("limit=99999999", 0).unwrap().limit, MAX_METRIC_LIMIT);
        assert!(parse_metric_query("limit=all", 0).is_err());
        assert!(parse_metric_query("step=often", 0).is_err());
    }
}

/// The range `/cache` and `/retries` cover unless `since` says otherwise.
pub const DEFAULT_INSIGHT_RANGE_NS: u64 = 3_600_000_000_000;
/// Steps a default `step` splits the range into.
pub const DEFAULT_INSIGHT_STEPS: u64 = 60;
/// The most points a cache series holds; a smaller `step` is widened to fit.
pub const MAX_INSIGHT_POINTS: u64 = 1_000;

/// `since`, `until`, `step` (a duration such as `1m`), `service`.
pub fn parse_cache_query(raw: &str, now_ns: u64) -> Result<CacheQuery, ParamError> {
    let (mut since, mut until, mut step, mut service) = (None, None, None, None);
    for (key, value) in params(raw) {
        match key.as_str() {
            "since" => since = Some(time(&key, &value, now_ns)?),
            "until" => until = Some(time(&key, &value, now_ns)?),
            "service" => service = Some(value),
            "step" => {
                let d = humantime::parse_duration(&value).map_err(|_| ParamError::Duration {
                    key: "step",
                    example: "1m",
                    value: value.clone(),
                })?;
                step = Some(d.as_nanos().min(u128::from(u64::MAX)) as u64);
            }
            _ => {}
        }
    }
    let (since_ns, until_ns) = insight_range(since, until, now_ns)?;
    let step_ns = insight_step(until_ns - since_ns, step);
    Ok(CacheQuery { since_ns, until_ns, step_ns, service, miss_examples: MISS_EXAMPLES })
}

/// `since`, `until`, `service`, `step` (as for `/api/v1/cache`).
pub fn parse_retry_query(raw: &str, now_ns: u64) -> Result<RetryQuery, ParamError> {
    let mut q = RetryQuery { examples_per_kind: EXAMPLES_PER_KIND, ..RetryQuery::default() };
    let (mut since, mut until, mut step) = (None, None, None);
    for (key, value) in params(raw) {
        match key.as_str() {
            "since" => since = Some(time(&key, &value, now_ns)?),
            "until" => until = Some(time(&key, &value, now_ns)?),
            "service" => q.service = Some(value),
            "step" => step = Some(step_param(&value)?),
            _ => {}
        }
    }
    (q.since_ns, q.until_ns) = insight_range(since, until, now_ns)?;
    q.step_ns = insight_step(q.until_ns - q.since_ns, step);
    Ok(q)
}

/// A `step` duration (`1m`, `30s`) in ns.
pub(crate) fn step_param(value: &str) -> Result<u64, ParamError> {
    let d = humantime::parse_duration(value).map_err(|_| ParamError::Duration {
        key: "step",
        example: "1m",
        value: value.to_owned(),
    })?;
    Ok(d.as_nanos().min(u128::from(u64::MAX)) as u64)
}

pub(crate) fn insight_range(
    since: Option<u64>,
    until: Option<u64>,
    now_ns: u64,
) -> Result<(u64, u64), ParamError> {
    let until = until.unwrap_or(now_ns);
    let since = since.unwrap_or(until.saturating_sub(DEFAULT_INSIGHT_RANGE_NS));
    if since > until {
        return Err(ParamError::Backwards { since: "since", until: "until" });
    }
    Ok((since, until))
}

/// A step of whole buckets: the one asked for (rounded up), else a 60th of the range, widened
/// so the range has at most `MAX_INSIGHT_POINTS` steps.
pub(crate) fn insight_step(range_ns: u64, asked: Option<u64>) -> u64 {
    let bucket = crate::store::ROLLUP_BUCKET_NS;
    let wanted = asked.unwrap_or(range_ns / DEFAULT_INSIGHT_STEPS);
    let step = wanted.max(range_ns.div_ceil(MAX_INSIGHT_POINTS)).max(bucket);
    step.div_ceil(bucket).saturating_mul(bucket)
}

#[cfg(test)]
mod insight_tests {
    use super::*;

    const NOW: u64 = 1_800_000_000_000_000_000;
    const S: u64 = 1_000_000_000;

    #[test]
    fn cache_and_retry_queries() {
        assert_eq!(
            parse_cache_query("", NOW).unwrap(),
            CacheQuery {
                since_ns: NOW - 3600 * S,
                until_ns: NOW,
                step_ns: 60 * S,
                service: None,
                miss_examples: MISS_EXAMPLES
            }
        );
        let q = parse_cache_query("since=1000&until=2000&step=15s&service=api", NOW).unwrap();
        assert_eq!(
            q,
            CacheQuery {
                since_ns: 1000,
                until_ns: 2000,
                step_ns: 20 * S,
                service: Some("api".into()),
                miss_examples: MISS_EXAMPLES
            }
        );
        // A day at 1 s would be 86,400 points: widened to 1,000 at most (90 s steps).
        assert_eq!(parse_cache_query("since=1d&step=1s", NOW).unwrap().step_ns, 90 * S);
        assert!(parse_cache_query("step=often", NOW).is_err());
        assert!(parse_cache_query("since=2000&until=1000", NOW).is_err());
        assert_eq!(
            parse_retry_query("since=15m&service=web", NOW).unwrap(),
            RetryQuery {
                since_ns: NOW - 900 * S,
                until_ns: NOW,
                step_ns: 20 * S,
                service: Some("web".into()),
                examples_per_kind: EXAMPLES_PER_KIND
            }
        );
        assert!(parse_retry_query("until=whenever", NOW).is_err());
        assert_eq!(parse_retry_query("since=1h&step=2m", NOW).unwrap().step_ns, 120 * S);
        assert!(parse_retry_query("step=often", NOW).is_err());
    }
}

/// Whether a query wants otelscope's own services: `include_self=1`, or `service=` naming one
/// of them (the rule every route follows).
pub fn self_wanted(raw: &str) -> Result<bool, ParamError> {
    let mut wanted = false;
    for (key, value) in params(raw) {
        match key.as_str() {
            "include_self" => wanted |= flag(&key, &value)?,
            "service" => wanted |= otelscope_app::model::SELF_SERVICES.contains(&value.as_str()),
            _ => {}
        }
    }
    Ok(wanted)
}

/// `1`/`true` or `0`/`false`.
pub fn flag(key: &str, value: &str) -> Result<bool, ParamError> {
    match value {
        "1" | "true" => Ok(true),
        "0" | "false" | "" => Ok(false),
        _ => Err(ParamError::Flag { key: key.to_owned(), value: value.to_owned() }),
    }
}
