//! Metric values as people read them, from the metric's UCUM unit as OpenTelemetry sends it:
//! times scaled (`0.0123` `s` → `12.3 ms`), bytes in binary multiples (`By` → `KiB`, `MiB`),
//! annotations without braces (`{request}` → `request`), `1` as a plain number, and rates per
//! second. Pure; the one formatter of every metric chart, legend and table.

/// How a chart's values relate to the metric's unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Per {
    /// In the metric's unit (values, percentiles, sums).
    Value,
    /// The metric's unit per second (a counter's rate).
    Second,
    /// Observations per second (a histogram's count), whatever the metric's unit.
    Count,
}

/// `value` in `unit`, e.g. `format_value(0.25, "s", Per::Value) == "250 ms"`.
pub(crate) fn format_value(value: f64, unit: &str, per: Per) -> String {
    if !value.is_finite() {
        return "–".into();
    }
    match per {
        Per::Value => in_unit(value, unit),
        Per::Count => format!("{}/s", number(value)),
        Per::Second => match unit.trim() {
            "" | "1" => format!("{}/s", number(value)),
            unit => format!("{}/s", in_unit(value, unit)),
        },
    }
}

/// The unit's name for headings and the catalogue: `s` → `seconds`, `By` → `bytes`,
/// `{request}` → `request`, `1` → `dimensionless`; others as sent.
pub(crate) fn unit_name(unit: &str) -> String {
    let unit = unit.trim();
    match unit {
        "" => String::new(),
        "1" => "dimensionless".into(),
        "%" => "percent".into(),
        "By" => "bytes".into(),
        "bit" => "bits".into(),
        _ => match time_factor(unit) {
            Some(_) => time_name(unit).into(),
            None => match annotation(unit) {
                Some(word) => word.to_owned(),
                None => unit.to_owned(),
            },
        },
    }
}

/// `value` in `unit`, scaled to the readable multiple.
fn in_unit(value: f64, unit: &str) -> String {
    let unit = unit.trim();
    if let Some(factor) = time_factor(unit) {
        // Zero in the unit sent (an axis of milliseconds starts at `0 ms`, not `0 s`).
        if value == 0.0 {
            return format!("0 {}", if unit == "us" { "µs" } else { unit });
        }
        return seconds(value * factor);
    }
    if let Some(factor) = byte_factor(unit) {
        return bytes(value * factor);
    }
    match unit {
        "" | "1" => number(value),
        "%" => format!("{}%", number(value)),
        _ => match annotation(unit) {
            Some(word) => format!("{} {word}", number(value)),
            // A compound or unknown unit (`By/s`, `Cel`): the number, then the unit as sent.
            None => format!("{} {unit}", number(value)),
        },
    }
}

/// Seconds per one of `unit`, if it is a time.
fn time_factor(unit: &str) -> Option<f64> {
    Some(match unit {
        "ns" => 1e-9,
        "us" | "µs" => 1e-6,
        "ms" => 1e-3,
        "s" => 1.0,
        "min" => 60.0,
        "h" => 3600.0,
        "d" => 86400.0,
        _ => return None,
    })
}

fn time_name(unit: &str) -> &'static str {
    match unit {
        "ns" => "nanoseconds",
        "us" | "µs" => "microseconds",
        "ms" => "milliseconds",
        "s" => "seconds",
        "min" => "minutes",
        "h" => "hours",
        _ => "days",
    }
}

/// Bytes per one of `unit`, if it is an amount of data.
fn byte_factor(unit: &str) -> Option<f64> {
    Some(match unit {
        "By" => 1.0,
        "kBy" => 1e3,
        "MBy" => 1e6,
        "GBy" => 1e9,
        "KiBy" => 1024.0,
        "MiBy" => 1024.0 * 1024.0,
        "GiBy" => 1024.0 * 1024.0 * 1024.0,
        _ => return None,
    })
}

/// The word of a `{word}` annotation (a count of things).
fn annotation(unit: &str) -> Option<&str> {
    let word = unit.strip_prefix('{')?.strip_suffix('}')?;
    (!word.is_empty() && !word.contains(['{', '}'])).then_some(word)
}

/// A duration in seconds, in the largest unit it is at least one of.
fn seconds(s: f64) -> String {
    let a = s.abs();
    let (value, unit) = if a == 0.0 {
        (0.0, "s")
    } else if a < 1e-6 {
        (s * 1e9, "ns")
    } else if a < 1e-3 {
        (s * 1e6, "µs")
    } else if a < 1.0 {
        (s * 1e3, "ms")
    } else if a < 120.0 {
        (s, "s")
    } else if a < 7200.0 {
        (s / 60.0, "min")
    } else {
        (s / 3600.0, "h")
    };
    format!("{} {unit}", number(value))
}

fn bytes(b: f64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = b;
    let mut i = 0;
    while value.abs() >= 1024.0 && i < UNITS.len() - 1 {
        value /= 1024.0;
        i += 1;
    }
    format!("{} {}", number(value), UNITS[i])
}

/// A number to three significant digits (whole numbers below 1,000 exactly), thousands as
/// `k`, `M`, `G`, `T`.
pub(crate) fn number(v: f64) -> String {
    let a = v.abs();
    for (scale, suffix) in [(1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")] {
        if a >= scale {
            return format!("{}{suffix}", significant(v / scale));
        }
    }
    significant(v)
}

/// Three significant digits, trailing zeros dropped (`12.5`, `0.0123`, `100`).
fn significant(v: f64) -> String {
    let a = v.abs();
    if a == 0.0 {
        return "0".into();
    }
    let decimals =
        if a >= 100.0 { 0 } else { (2 - a.log10().floor() as i32).clamp(0, 12) as usize };
    let text = format!("{v:.decimals$}");
    let text = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    };
    if text == "-0" {
        "0".into()
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(cases: &[(f64, &str, Per, &str)]) {
        for &(value, unit, per, want) in cases {
            assert_eq!(format_value(value, unit, per), want, "{value} {unit} {per:?}");
        }
    }

    #[test]
    fn times_scale_to_the_readable_unit() {
        check(&[
            (0.25, "s", Per::Value, "250 ms"),
            (0.0123, "s", Per::Value, "12.3 ms"),
            (1.5, "s", Per::Value, "1.5 s"),
            (0.0000042, "s", Per::Value, "4.2 µs"),
            (3e-8, "s", Per::Value, "30 ns"),
            (300.0, "s", Per::Value, "5 min"),
            (7200.0, "s", Per::Value, "2 h"),
            (250.0, "ms", Per::Value, "250 ms"),
            (1500.0, "ms", Per::Value, "1.5 s"),
            (0.0, "ms", Per::Value, "0 ms"),
            (0.0, "s", Per::Value, "0 s"),
            (12.0, "us", Per::Value, "12 µs"),
            (0.5, "s", Per::Second, "500 ms/s"),
        ]);
    }

    #[test]
    fn bytes_counts_ratios_and_unknown_units() {
        check(&[
            (512.0, "By", Per::Value, "512 B"),
            (1536.0, "By", Per::Value, "1.5 KiB"),
            (3.0 * 1024.0 * 1024.0, "By", Per::Value, "3 MiB"),
            (2048.0, "By", Per::Second, "2 KiB/s"),
            (2.0, "KiBy", Per::Value, "2 KiB"),
            (12.0, "{request}", Per::Value, "12 request"),
            (0.5, "{request}", Per::Second, "0.5 request/s"),
            (1234.0, "1", Per::Value, "1.23k"),
            (0.75, "1", Per::Value, "0.75"),
            (2.5, "1", Per::Second, "2.5/s"),
            (2.5, "s", Per::Count, "2.5/s"),
            (42.0, "%", Per::Value, "42%"),
            (21.5, "Cel", Per::Value, "21.5 Cel"),
            (3.0, "", Per::Value, "3"),
            (f64::NAN, "s", Per::Value, "–"),
            (-0.004, "s", Per::Value, "-4 ms"),
            (2_500_000.0, "{packet}", Per::Value, "2.5M packet"),
        ]);
    }

    #[test]
    fn numbers_keep_three_significant_digits() {
        for (v, want) in [
            (0.0, "0"),
            (1.0, "1"),
            (12.345, "12.3"),
            (123.45, "123"),
            (0.012345, "0.0123"),
            (999.9, "1000"),
            (1000.0, "1k"),
            (-1.25, "-1.25"),
            (1e13, "10T"),
        ] {
            assert_eq!(number(v), want, "{v}");
        }
    }

    #[test]
    fn unit_names() {
        for (unit, want) in [
            ("s", "seconds"),
            ("ms", "milliseconds"),
            ("By", "bytes"),
            ("{request}", "request"),
            ("1", "dimensionless"),
            ("", ""),
            ("<b>x</b>", "<b>x</b>"),
        ] {
            assert_eq!(unit_name(unit), want, "{unit}");
        }
    }
}
