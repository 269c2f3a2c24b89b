//! The values of the trace and log searches' parameters in one rule for both ends: the
//! server's parser (`query::params`) reads them with these, and the app's search form marks a
//! field the server would refuse with the same functions. No float parser: a duration is read
//! exactly, in integers (the float parser alone is ~15 KB of wasm).

/// The largest time or duration in nanoseconds the store can compare: it keeps them as SQLite
/// integers (`i64`), where a larger `u64` would wrap to a negative number and match everything.
pub const MAX_NS: u64 = i64::MAX as u64;

/// Why a duration in milliseconds was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MillisError {
    /// Not a decimal number (`fast`, `1e`, `0x10`).
    NotANumber,
    /// Below zero, not a number at all (`NaN`) or infinite.
    NotNonNegative,
    /// [`MAX_NS`] nanoseconds or more (`1e20`, `1e400`).
    TooLarge,
}

/// A duration in milliseconds as nanoseconds (a fraction of a nanosecond dropped): a decimal
/// number as Rust writes floats (`5`, `1.5`, `.5`, `5.`, `1e3`, `2E-1`, an optional sign), at
/// least 0 (`-0` is 0) and less than [`MAX_NS`] nanoseconds. Read exactly, so `1e400` is too
/// large rather than a float's infinity.
pub fn duration_ms_ns(value: &str) -> Result<u64, MillisError> {
    let (negative, body) = match value.as_bytes().first() {
        Some(b'-') => (true, &value[1..]),
        Some(b'+') => (false, &value[1..]),
        _ => (false, value),
    };
    if ["inf", "infinity", "nan"].iter().any(|word| body.eq_ignore_ascii_case(word)) {
        return Err(MillisError::NotNonNegative);
    }
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(at) => (&body[..at], Some(&body[at + 1..])),
        None => (body, None),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (whole.is_empty() && fraction.is_empty()) || !digits(whole) || !digits(fraction) {
        return Err(MillisError::NotANumber);
    }
    let exponent = match exponent {
        None => 0,
        Some(e) => {
            let unsigned = e.strip_prefix(['+', '-']).unwrap_or(e);
            if unsigned.is_empty() || !digits(unsigned) {
                return Err(MillisError::NotANumber);
            }
            // Past a million the answer is 0 or too large either way.
            let size = unsigned.trim_start_matches('0');
            let size: i64 = if size.len() > 7 { 10_000_000 } else { size.parse().unwrap_or(0) };
            if e.starts_with('-') {
                -size
            } else {
                size
            }
        }
    };
    // The significant digits D and the power E of ten with value = D × 10^E nanoseconds.
    let all: String = [whole, fraction].concat();
    let significant = all.trim_start_matches('0');
    if significant.is_empty() {
        return Ok(0);
    }
    if negative {
        return Err(MillisError::NotNonNegative);
    }
    let power = exponent - fraction.len() as i64 + 6;
    // D × 10^E has len(D) + E digits before the point; 20 or more is at least 10^19 > MAX_NS.
    let integer_digits = significant.len() as i64 + power;
    if integer_digits <= 0 {
        return Ok(0);
    }
    if integer_digits > 19 {
        return Err(MillisError::TooLarge);
    }
    let kept = &significant[..significant.len().min(integer_digits as usize)];
    let mut ns: u128 = kept.parse().map_err(|_| MillisError::NotANumber)?;
    for _ in kept.len() as i64..integer_digits {
        ns *= 10;
    }
    if ns > u128::from(MAX_NS) {
        return Err(MillisError::TooLarge);
    }
    Ok(ns as u64)
}

/// A page size: a whole number from 1 (an optional `+`); more than `max` reads as `max`.
pub fn page_limit(value: &str, max: usize) -> Option<usize> {
    match value.parse::<u64>() {
        Ok(0) | Err(_) => None,
        Ok(n) => Some(usize::try_from(n).unwrap_or(usize::MAX).min(max)),
    }
}

/// The `status` filter: `error` (traces with an error span, `Some(true)`), `ok` (traces
/// without one, `Some(false)`) or `any` (`None`); the outer `None` for anything else.
pub fn status_filter(value: &str) -> Option<Option<bool>> {
    match value {
        "error" => Some(Some(true)),
        "ok" => Some(Some(false)),
        "any" => Some(None),
        _ => None,
    }
}

/// An `attr` filter's `KEY=VALUE`, split at the first `=`.
pub fn attr_filter(value: &str) -> Option<(&str, &str)> {
    value.split_once('=')
}

/// The `severity` filter of `/api/v1/logs` (a minimum): an OTel severity number 0-24, or a
/// band's name in any case (`warn`, `WARN`, `Warning`, `err`), read as the band's lowest number
/// (`SeverityBand::min_number`); `None` for anything else.
pub fn min_severity(value: &str) -> Option<i32> {
    if let Ok(number) = value.parse::<i32>() {
        return (0..=24).contains(&number).then_some(number);
    }
    let lower = value.to_ascii_lowercase();
    let band = match lower.as_str() {
        "warning" => super::SeverityBand::Warn,
        "err" => super::SeverityBand::Error,
        "critical" => super::SeverityBand::Fatal,
        other => other.parse().ok()?,
    };
    Some(band.min_number())
}

/// One term of a log search's `q`: a word, or a `"quoted phrase"`; with a leading `-`, records
/// containing it are left out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TextTerm {
    pub text: String,
    pub phrase: bool,
    pub exclude: bool,
}

/// Splits a log search's `q` into terms, all of which must hold (AND): words separated by
/// white space, `"quoted phrases"` (an unclosed quote runs to the end), and either prefixed
/// by `-` to exclude it. A lone `-` is a word like any other; empty phrases are dropped.
pub fn text_terms(q: &str) -> Vec<TextTerm> {
    let mut terms = Vec::new();
    let mut rest = q.trim_start();
    while !rest.is_empty() {
        let (exclude, body) = match rest.strip_prefix('-') {
            Some(after) if !after.is_empty() && !after.starts_with(char::is_whitespace) => {
                (true, after)
            }
            _ => (false, rest),
        };
        let (text, phrase, next) = if let Some(quoted) = body.strip_prefix('"') {
            match quoted.find('"') {
                Some(end) => (&quoted[..end], true, &quoted[end + 1..]),
                None => (quoted, true, ""),
            }
        } else {
            let end = body.find(char::is_whitespace).unwrap_or(body.len());
            (&body[..end], false, &body[end..])
        };
        if !text.trim().is_empty() {
            terms.push(TextTerm { text: text.to_owned(), phrase, exclude });
        }
        rest = next.trim_start();
    }
    terms
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_in_milliseconds_are_read_exactly() {
        let ok = |v: &str| duration_ms_ns(v).unwrap_or_else(|e| panic!("{v}: {e:?}"));
        assert_eq!(ok("5"), 5_000_000);
        assert_eq!(ok("1.5"), 1_500_000);
        assert_eq!(ok(".5"), 500_000);
        assert_eq!(ok("5."), 5_000_000);
        assert_eq!(ok("+2e3"), 2_000_000_000);
        assert_eq!(ok("25E-1"), 2_500_000);
        assert_eq!(ok("0.0000015"), 1, "a fraction of a nanosecond is dropped");
        assert_eq!(ok("1e-400"), 0);
        assert_eq!(ok("0e400"), 0);
        assert_eq!(ok("-0"), 0);
        assert_eq!(ok("9223372036854.775807"), MAX_NS);
        assert_eq!(ok("1.005"), 1_005_000, "exact, where a float gives 1004999");
        use MillisError::*;
        for (value, error) in [
            ("9223372036854.775808", TooLarge),
            ("1e20", TooLarge),
            // The app's check once let this one through, as a float it is infinity.
            ("1e400", TooLarge),
            ("-1", NotNonNegative),
            ("-1e-9", NotNonNegative),
            ("inf", NotNonNegative),
            ("-Infinity", NotNonNegative),
            ("NaN", NotNonNegative),
            ("", NotANumber),
            (".", NotANumber),
            ("e5", NotANumber),
            ("1e", NotANumber),
            ("1e+", NotANumber),
            ("1.2.3", NotANumber),
            ("1e5e5", NotANumber),
            ("++1", NotANumber),
            (" 5", NotANumber),
            ("0x10", NotANumber),
            ("fast", NotANumber),
        ] {
            assert_eq!(duration_ms_ns(value), Err(error), "{value:?}");
        }
    }

    #[test]
    fn limits_statuses_and_attrs() {
        assert_eq!(page_limit("20", 1000), Some(20));
        assert_eq!(page_limit("+20", 1000), Some(20));
        assert_eq!(page_limit("5000", 1000), Some(1000));
        assert_eq!(page_limit("99999999999999999999", 1000), None, "past u64");
        assert_eq!(page_limit("0", 1000), None);
        assert_eq!(page_limit("-1", 1000), None);
        assert_eq!(status_filter("ok"), Some(Some(false)));
        assert_eq!(status_filter("any"), Some(None));
        assert_eq!(status_filter("Error"), None);
        assert_eq!(attr_filter("k=v=w"), Some(("k", "v=w")));
        assert_eq!(attr_filter("k"), None);
    }

    #[test]
    fn severities_by_number_or_band_name() {
        assert_eq!(min_severity("13"), Some(13));
        assert_eq!(min_severity("0"), Some(0));
        assert_eq!(min_severity("warn"), Some(13));
        assert_eq!(min_severity("WARN"), Some(13));
        assert_eq!(min_severity("Warning"), Some(13));
        assert_eq!(min_severity("error"), Some(17));
        assert_eq!(min_severity("fatal"), Some(21));
        for bad in ["25", "-1", "loud", "", "13.5"] {
            assert_eq!(min_severity(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn search_text_splits_into_words_phrases_and_exclusions() {
        let t = |text: &str, phrase, exclude| TextTerm { text: text.into(), phrase, exclude };
        assert_eq!(
            text_terms(r#"  timeout "user 42" -debug -"cache hit" a-b - "open"#),
            [
                t("timeout", false, false),
                t("user 42", true, false),
                t("debug", false, true),
                t("cache hit", true, true),
                t("a-b", false, false),
                t("-", false, false),
                t("open", true, false),
            ]
        );
        assert!(text_terms(r#"  "" -"  " "#).is_empty());
    }
}
