//! The query strings of `GET /api/v1/logs` and its histogram, facets and context, each parsed
//! in one pure function into the store's requests (`store::request`). The values' rules (the
//! severity names, the words of `q`, `attr`, `limit`) are `model::params`, which the app's
//! filter bar uses too.

use otelscope_app::model::params::{attr_filter, min_severity, page_limit, text_terms};
use otelscope_app::model::{DEFAULT_LOG_LIMIT, MAX_LOG_LIMIT};

use crate::store::{LogCursor, LogHistogramQuery, LogQuery, MAX_LOG_BUCKETS, MAX_LOG_CONTEXT};

use super::error::ParamError;
use super::params::{flag, params, time};

/// The filters shared by every logs route: `service`, `not_service` (a service left out,
/// repeatable), `severity` (a minimum: a number 0-24 or
/// a level name; `min_severity` is the older spelling), `q`, `attr=KEY=VALUE` (repeatable),
/// `trace_id`, `span_id`, `since`, `until`, `include_self`; and for the list `limit` and
/// `cursor`. Unknown parameters are ignored. Searches cover everything stored unless `since`
/// or `until` say otherwise.
pub fn parse_log_query(raw: &str, now_ns: u64) -> Result<LogQuery, ParamError> {
    let mut q = LogQuery { limit: DEFAULT_LOG_LIMIT, ..LogQuery::default() };
    for (key, value) in params(raw) {
        match key.as_str() {
            "service" => q.service = Some(value),
            "not_service" => q.exclude_services.push(value),
            "severity" | "min_severity" => {
                q.min_severity =
                    Some(min_severity(&value).ok_or(ParamError::Severity { key, value })?);
            }
            "q" => q.text.extend(text_terms(&value)),
            "attr" => {
                let (k, v) = attr_filter(&value).ok_or_else(|| ParamError::Attr(value.clone()))?;
                q.attrs.push((k.to_owned(), v.to_owned()));
            }
            "trace_id" => q.trace_id = Some(hex_id("trace_id", &value, 32)?),
            "span_id" => q.span_id = Some(hex_id("span_id", &value, 16)?),
            "since" => q.since_ns = Some(time(&key, &value, now_ns)?),
            "until" => q.until_ns = Some(time(&key, &value, now_ns)?),
            "include_self" => q.include_self = flag(&key, &value)?,
            "limit" => {
                q.limit = page_limit(&value, MAX_LOG_LIMIT).ok_or(ParamError::LogLimit(value))?
            }
            "cursor" => q.cursor = Some(LogCursor::parse(&value).ok_or(ParamError::Cursor(value))?),
            _ => {}
        }
    }
    if let (Some(since), Some(until)) = (q.since_ns, q.until_ns) {
        if since > until {
            return Err(ParamError::Backwards { since: "since", until: "until" });
        }
    }
    Ok(q)
}

/// A trace or span id: `digits` hex digits, answered in lowercase.
fn hex_id(key: &'static str, value: &str, digits: usize) -> Result<String, ParamError> {
    if value.len() == digits && value.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(value.to_ascii_lowercase())
    } else {
        Err(ParamError::HexId { key, digits, value: value.to_owned() })
    }
}

/// The range a histogram covers unless `since` says otherwise (charts show the last hour).
pub const DEFAULT_HISTOGRAM_RANGE_NS: u64 = 3_600_000_000_000;
/// Steps a histogram's range is split into unless `step` says otherwise.
pub const DEFAULT_HISTOGRAM_STEPS: u64 = 60;

/// The list's filters plus `step` (a duration such as `1m`). The range is `since` to `until`
/// (now unless given; the last hour unless `since` is); the step, unless given, a 60th of it
/// rounded up to a whole second (a millisecond under a minute), and never so small that the
/// range has more than `MAX_LOG_BUCKETS` steps.
pub fn parse_log_histogram_query(raw: &str, now_ns: u64) -> Result<LogHistogramQuery, ParamError> {
    let logs = parse_log_query(raw, now_ns)?;
    let mut step = None;
    for (key, value) in params(raw) {
        if key == "step" {
            let d = humantime::parse_duration(&value).map_err(|_| ParamError::Duration {
                key: "step",
                example: "1m",
                value: value.clone(),
            })?;
            step = Some(d.as_nanos().min(u128::from(u64::MAX)) as u64);
        }
    }
    let until_ns = logs.until_ns.unwrap_or(now_ns);
    let since_ns = logs.since_ns.unwrap_or(until_ns.saturating_sub(DEFAULT_HISTOGRAM_RANGE_NS));
    if since_ns > until_ns {
        return Err(ParamError::Backwards { since: "since", until: "until" });
    }
    let range = until_ns - since_ns;
    let step_ns = match step {
        Some(step) => step.max(1),
        None => {
            let unit = if range >= 60_000_000_000 { 1_000_000_000 } else { 1_000_000 };
            (range / DEFAULT_HISTOGRAM_STEPS).div_ceil(unit).max(1) * unit
        }
    }
    .max(range.div_ceil(MAX_LOG_BUCKETS));
    Ok(LogHistogramQuery { logs, since_ns, until_ns, step_ns })
}

/// Records on each side of a context unless `before`/`after` say otherwise.
pub const DEFAULT_LOG_CONTEXT: usize = 10;

/// `before` and `after` (whole numbers; more than `MAX_LOG_CONTEXT` reads as the most, 0 is
/// none).
pub fn parse_log_context(raw: &str) -> Result<(usize, usize), ParamError> {
    let (mut before, mut after) = (DEFAULT_LOG_CONTEXT, DEFAULT_LOG_CONTEXT);
    for (key, value) in params(raw) {
        let side = match key.as_str() {
            "before" => &mut before,
            "after" => &mut after,
            _ => continue,
        };
        let n: u64 = value.parse().map_err(|_| ParamError::Context { key, value })?;
        *side = usize::try_from(n).unwrap_or(usize::MAX).min(MAX_LOG_CONTEXT);
    }
    Ok((before, after))
}

#[cfg(test)]
mod tests {
    use otelscope_app::model::params::TextTerm;

    use super::*;

    const NOW: u64 = 1_800_000_000_000_000_000;
    const S: u64 = 1_000_000_000;

    #[test]
    fn every_filter() {
        let cursor = LogCursor { time_ns: 77, id: 5, older: true }.encode();
        let q = parse_log_query(
            &format!(
                "service=api&not_service=web&not_service=db+x&severity=WARN\
                 &q=timeout+%22user+42%22+-debug&attr=http.route%3D%2Fu\
                 &attr=k%3Da%3Db&trace_id=0AF7651916CD43DD8448EB211C80319C&span_id=b7ad6b7169203331\
                 &since=15m&until={NOW}&include_self=1&limit=5000&cursor={cursor}&x=1"
            ),
            NOW,
        )
        .unwrap();
        let t = |text: &str, phrase, exclude| TextTerm { text: text.into(), phrase, exclude };
        assert_eq!(
            q,
            LogQuery {
                service: Some("api".into()),
                exclude_services: vec!["web".into(), "db x".into()],
                min_severity: Some(13),
                text: vec![
                    t("timeout", false, false),
                    t("user 42", true, false),
                    t("debug", false, true)
                ],
                attrs: vec![("http.route".into(), "/u".into()), ("k".into(), "a=b".into())],
                trace_id: Some("0af7651916cd43dd8448eb211c80319c".into()),
                span_id: Some("b7ad6b7169203331".into()),
                since_ns: Some(NOW - 900 * S),
                until_ns: Some(NOW),
                include_self: true,
                limit: MAX_LOG_LIMIT,
                cursor: Some(LogCursor { time_ns: 77, id: 5, older: true }),
            }
        );
        assert_eq!(parse_log_query("severity=13", NOW).unwrap().min_severity, Some(13));
        assert_eq!(parse_log_query("min_severity=error", NOW).unwrap().min_severity, Some(17));
        let plain = parse_log_query("", NOW).unwrap();
        assert_eq!((plain.limit, plain.since_ns, plain.until_ns), (DEFAULT_LOG_LIMIT, None, None));
    }

    #[test]
    fn bad_values_are_explained() {
        let error = |raw: &str| parse_log_query(raw, NOW).unwrap_err().to_string();
        assert_eq!(
            error("severity=loud"),
            "severity must be a number 0-24 or a level (trace, debug, info, warn, error, fatal), not \"loud\""
        );
        assert!(error("severity=25").starts_with("severity must be"));
        assert_eq!(error("trace_id=xyz"), "trace_id must be 32 hex digits, not \"xyz\"");
        assert_eq!(error("span_id=12"), "span_id must be 16 hex digits, not \"12\"");
        assert!(error("cursor=abc").starts_with("cursor must be"));
        assert!(error("limit=0").starts_with("limit must be a whole number from 1 (at most 1000)"));
        assert!(error("attr=novalue").starts_with("attr must be"));
        assert!(error("since=2000&until=1000").contains("since must not be after until"));
        assert!(error("since=18446744073709551615").starts_with("since"));
        assert!(error("include_self=yes").contains("include_self"));
    }

    #[test]
    fn histogram_range_and_step() {
        let h = parse_log_histogram_query("", NOW).unwrap();
        assert_eq!((h.since_ns, h.until_ns, h.step_ns), (NOW - 3600 * S, NOW, 60 * S));
        let h = parse_log_histogram_query("since=1000&until=2000&service=a", NOW).unwrap();
        assert_eq!((h.since_ns, h.until_ns, h.step_ns), (1000, 2000, 1_000_000));
        assert_eq!(h.logs.service.as_deref(), Some("a"));
        let h = parse_log_histogram_query("since=1d&step=1s", NOW).unwrap();
        assert_eq!(h.step_ns, 86_400 * S / MAX_LOG_BUCKETS);
        let h = parse_log_histogram_query("since=90m&step=5m", NOW).unwrap();
        assert_eq!(h.step_ns, 300 * S);
        assert!(parse_log_histogram_query("step=often", NOW).is_err());
        assert!(parse_log_histogram_query("since=1m&until=2m", NOW).is_err());
    }

    #[test]
    fn context_sides() {
        assert_eq!(parse_log_context("").unwrap(), (DEFAULT_LOG_CONTEXT, DEFAULT_LOG_CONTEXT));
        assert_eq!(parse_log_context("before=3&after=0").unwrap(), (3, 0));
        assert_eq!(parse_log_context("before=100000").unwrap().0, MAX_LOG_CONTEXT);
        assert_eq!(
            parse_log_context("after=-1").unwrap_err().to_string(),
            "after must be a whole number of records, not \"-1\""
        );
    }
}
