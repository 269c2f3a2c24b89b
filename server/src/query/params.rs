//! The query strings of `GET /api/v1/{traces,logs,metrics,cache,retries}`, each parsed in one
//! pure function into the store's request type (`store::request`) so every rule is unit-tested.

use std::time::Duration;

use crate::store::{CacheQuery, LogQuery, MetricQuery, RetryQuery, TraceQuery};

use super::cache::MISS_EXAMPLES;
use super::retries::EXAMPLES_PER_KIND;

pub use otelscope_app::model::{
    DEFAULT_TRACE_LIMIT as DEFAULT_LIMIT, MAX_TRACE_LIMIT as MAX_LIMIT,
};

/// Parses a query string. Times (`since`, `until`) are RFC 3339 (`2026-11-26T10:00:00Z`),
/// integers of Unix nanoseconds, or durations back from `now_ns` (`15m`, `2h`).
pub fn parse_trace_query(raw: &str, now_ns: u64) -> Result<TraceQuery, String> {
    let mut q = TraceQuery { limit: DEFAULT_LIMIT, ..TraceQuery::default() };
    for (key, value) in params(raw) {
        match key.as_str() {
            "service" => q.service = Some(value),
            "name" => q.name = Some(value),
            "include_self" => q.include_self = flag(&key, &value)?,
            "min_duration_ms" => q.min_duration_ns = Some(millis(&key, &value)?),
            "max_duration_ms" => q.max_duration_ns = Some(millis(&key, &value)?),
            "status" => {
                q.error = match value.as_str() {
                    "error" => Some(true),
                    "ok" => Some(false),
                    "any" => None,
                    other => return Err(format!("status must be error, ok or any, not {other:?}")),
                }
            }
            "attr" => {
                let (k, v) = value
                    .split_once('=')
                    .ok_or_else(|| format!("attr must be KEY=VALUE, not {value:?}"))?;
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

/// The largest time or duration in nanoseconds the store can compare: it keeps them as SQLite
/// integers (`i64`), where a larger `u64` would wrap to a negative number and match everything
/// (`since=18446744073709551615` found every trace).
pub const MAX_NS: u64 = i64::MAX as u64;

fn millis(key: &str, value: &str) -> Result<u64, String> {
    let ms: f64 = value
        .parse()
        .map_err(|_| format!("{key} must be a number of milliseconds, not {value:?}"))?;
    if !(ms >= 0.0 && ms.is_finite()) {
        return Err(format!("{key} must be a non-negative number of milliseconds"));
    }
    // Compared in f64: `MAX_NS as f64` rounds up to 2^63, which is itself out of range.
    let ns = ms * 1e6;
    if ns >= MAX_NS as f64 {
        return Err(format!("{key} must be less than {} milliseconds", MAX_NS / 1_000_000));
    }
    Ok(ns as u64)
}

/// A time: Unix nanoseconds, a duration back from `now_ns`, or RFC 3339; past [`MAX_NS`]
/// (the year 2262) it is refused, naming `key`.
pub(crate) fn time(key: &str, value: &str, now_ns: u64) -> Result<u64, String> {
    let ns = if let Ok(ns) = value.parse::<u64>() {
        ns
    } else if let Ok(ago) = humantime::parse_duration(value) {
        now_ns.saturating_sub(ago.as_nanos().min(u128::from(u64::MAX)) as u64)
    } else if let Ok(at) = humantime::parse_rfc3339_weak(value) {
        let since_epoch = at.duration_since(std::time::UNIX_EPOCH).unwrap_or(Duration::ZERO);
        since_epoch.as_nanos().min(u128::from(u64::MAX)) as u64
    } else {
        return Err(format!(
            "{key} must be RFC 3339, Unix nanoseconds or a duration like 15m, not {value:?}"
        ));
    };
    if ns > MAX_NS {
        return Err(format!("{key} must be at most {MAX_NS} (Unix nanoseconds), not {value:?}"));
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
        assert!(parse_trace_query("include_self=yes", NOW).unwrap_err().contains("include_self"));
        for zero_or_less in ["limit=0", "limit=-3", "limit=ten"] {
            let error = parse_trace_query(zero_or_less, NOW).unwrap_err();
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
            parse_trace_query("min_duration_ms=fast", NOW).unwrap_err(),
            "min_duration_ms must be a number of milliseconds, not \"fast\""
        );
        assert!(parse_trace_query("attr=novalue", NOW).unwrap_err().starts_with("attr must be"));
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
            let error = parse_trace_query(raw, NOW).unwrap_err();
            let key = raw.split('=').next().unwrap();
            assert!(error.starts_with(key), "{raw}: {error}");
        }
        for raw in
            ["min_duration_ms=1e20", "max_duration_ms=9223372036854.776", "min_duration_ms=inf"]
        {
            assert!(parse_trace_query(raw, NOW).unwrap_err().contains("_duration_ms"), "{raw}");
        }
        let edge =
            parse_trace_query("since=9223372036854775807&min_duration_ms=9223372036854", NOW);
        assert_eq!(edge.as_ref().map(|q| q.since_ns), Ok(Some(MAX_NS)), "{edge:?}");
        assert!(parse_log_query("since=18446744073709551615", NOW).is_err());
        assert!(parse_metric_query("until=18446744073709551615", NOW).is_err());
        assert!(parse_cache_query("since=18446744073709551615", NOW).is_err());
    }
}

/// `service`, `trace_id`, `min_severity`, `since`, `until`, `limit` (default 100).
pub fn parse_log_query(raw: &str, now_ns: u64) -> Result<LogQuery, String> {
    let mut q = LogQuery { limit: 100, ..LogQuery::default() };
    for (key, value) in params(raw) {
        match key.as_str() {
            "service" => q.service = Some(value),
            "trace_id" => q.trace_id = Some(value.to_ascii_lowercase()),
            "min_severity" => {
                q.min_severity =
                    Some(value.parse().map_err(|_| {
                        format!("min_severity must be a number 1-24, not {value:?}")
                    })?)
            }
            "since" => q.since_ns = Some(time(&key, &value, now_ns)?),
            "until" => q.until_ns = Some(time(&key, &value, now_ns)?),
            "limit" => q.limit = parse_limit(&value)?,
            _ => {}
        }
    }
    Ok(q)
}

/// Points (or catalog names) a metrics answer holds unless `limit` says otherwise.
pub const DEFAULT_METRIC_LIMIT: usize = 10_000;
/// The most a metrics answer ever holds, whatever `limit` asks: ~300 bytes a point, so an
/// answer stays around 30 MB in the server and the browser.
pub const MAX_METRIC_LIMIT: usize = 100_000;

/// `name`, `service`, `since`, `until`, `step` (a duration such as `10s`), `limit`.
pub fn parse_metric_query(raw: &str, now_ns: u64) -> Result<MetricQuery, String> {
    let mut q = MetricQuery { limit: DEFAULT_METRIC_LIMIT, ..MetricQuery::default() };
    for (key, value) in params(raw) {
        match key.as_str() {
            "name" => q.name = Some(value),
            "service" => q.service = Some(value),
            "since" => q.since_ns = Some(time(&key, &value, now_ns)?),
            "until" => q.until_ns = Some(time(&key, &value, now_ns)?),
            "step" => {
                let step = humantime::parse_duration(&value)
                    .map_err(|_| format!("step must be a duration like 10s, not {value:?}"))?;
                q.step_ns = Some((step.as_nanos() as u64).max(1));
            }
            "limit" => {
                let n: usize =
                    value.parse().map_err(|_| format!("limit must be a number, not {value:?}"))?;
                q.limit = n.clamp(1, MAX_METRIC_LIMIT);
            }
            _ => {}
        }
    }
    Ok(q)
}

/// A `limit`: a whole number from 1; more than [`MAX_LIMIT`] reads as the most.
fn parse_limit(value: &str) -> Result<usize, String> {
    match value.parse::<usize>() {
        Ok(0) | Err(_) => {
            Err(format!("limit must be a whole number from 1 (at most {MAX_LIMIT}), not {value:?}"))
        }
        Ok(n) => Ok(n.min(MAX_LIMIT)),
    }
}

#[cfg(test)]
mod signal_tests {
    use super::*;

    #[test]
    fn log_and_metric_queries() {
        let q = parse_log_query("service=api&trace_id=ABC&min_severity=17&limit=5", 0).unwrap();
        assert_eq!(
            q,
            LogQuery {
                service: Some("api".into()),
                trace_id: Some("abc".into()),
                min_severity: Some(17),
                since_ns: None,
                until_ns: None,
                limit: 5
            }
        );
        let m = parse_metric_query("name=cache.gets&step=10s&since=100", 0).unwrap();
        assert_eq!(m.name.as_deref(), Some("cache.gets"));
        assert_eq!(m.step_ns, Some(10_000_000_000));
        assert_eq!(m.since_ns, Some(100));
        assert_eq!(m.limit, DEFAULT_METRIC_LIMIT);
        assert_eq!(parse_metric_query("limit=5", 0).unwrap().limit, 5);
        assert_eq!(parse_metric_query("limit=99999999", 0).unwrap().limit, MAX_METRIC_LIMIT);
        assert!(parse_metric_query("limit=all", 0).is_err());
        assert!(parse_metric_query("step=often", 0).is_err());
        assert!(parse_log_query("min_severity=loud", 0).is_err());
    }
}

/// The range `/cache` and `/retries` cover unless `since` says otherwise.
pub const DEFAULT_INSIGHT_RANGE_NS: u64 = 3_600_000_000_000;
/// Steps a default `step` splits the range into.
pub const DEFAULT_INSIGHT_STEPS: u64 = 60;
/// The most points a cache series holds; a smaller `step` is widened to fit.
pub const MAX_INSIGHT_POINTS: u64 = 1_000;

/// `since`, `until`, `step` (a duration such as `1m`), `service`.
pub fn parse_cache_query(raw: &str, now_ns: u64) -> Result<CacheQuery, String> {
    let (mut since, mut until, mut step, mut service) = (None, None, None, None);
    for (key, value) in params(raw) {
        match key.as_str() {
            "since" => since = Some(time(&key, &value, now_ns)?),
            "until" => until = Some(time(&key, &value, now_ns)?),
            "service" => service = Some(value),
            "step" => {
                let d = humantime::parse_duration(&value)
                    .map_err(|_| format!("step must be a duration like 1m, not {value:?}"))?;
                step = Some(d.as_nanos().min(u128::from(u64::MAX)) as u64);
            }
            _ => {}
        }
    }
    let (since_ns, until_ns) = insight_range(since, until, now_ns)?;
    let step_ns = insight_step(until_ns - since_ns, step);
    Ok(CacheQuery { since_ns, until_ns, step_ns, service, miss_examples: MISS_EXAMPLES })
}

/// `since`, `until`, `service`.
pub fn parse_retry_query(raw: &str, now_ns: u64) -> Result<RetryQuery, String> {
    let mut q = RetryQuery { examples_per_kind: EXAMPLES_PER_KIND, ..RetryQuery::default() };
    let (mut since, mut until) = (None, None);
    for (key, value) in params(raw) {
        match key.as_str() {
            "since" => since = Some(time(&key, &value, now_ns)?),
            "until" => until = Some(time(&key, &value, now_ns)?),
            "service" => q.service = Some(value),
            _ => {}
        }
    }
    (q.since_ns, q.until_ns) = insight_range(since, until, now_ns)?;
    Ok(q)
}

fn insight_range(
    since: Option<u64>,
    until: Option<u64>,
    now_ns: u64,
) -> Result<(u64, u64), String> {
    let until = until.unwrap_or(now_ns);
    let since = since.unwrap_or(until.saturating_sub(DEFAULT_INSIGHT_RANGE_NS));
    if since > until {
        return Err("since must not be after until".into());
    }
    Ok((since, until))
}

/// A step of whole buckets: the one asked for (rounded up), else a 60th of the range, widened
/// so the range has at most `MAX_INSIGHT_POINTS` steps.
fn insight_step(range_ns: u64, asked: Option<u64>) -> u64 {
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
                service: Some("web".into()),
                examples_per_kind: EXAMPLES_PER_KIND
            }
        );
        assert!(parse_retry_query("until=whenever", NOW).is_err());
    }
}

/// `1`/`true` or `0`/`false`.
pub fn flag(key: &str, value: &str) -> Result<bool, String> {
    match value {
        "1" | "true" => Ok(true),
        "0" | "false" | "" => Ok(false),
        _ => Err(format!("{key} must be 1 or 0, not {value:?}")),
    }
}
