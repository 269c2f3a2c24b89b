//! How the UI words numbers: durations, times of day and dates, and counts with their noun.

/// `1.25 ms`, `3.20 s`, `850 ns`, `2 µs`.
pub(crate) fn format_duration(ns: u64) -> String {
    match ns {
        0..=999 => format!("{ns} ns"),
        1_000..=999_999 => format!("{:.0} µs", ns as f64 / 1e3),
        1_000_000..=999_999_999 => format!("{:.2} ms", ns as f64 / 1e6),
        _ => format!("{:.2} s", ns as f64 / 1e9),
    }
}

/// A Unix-nanosecond time in a zone `offset_min` minutes east of UTC, as seen at `now_ns`: the
/// time of day to the millisecond when it is today there (`14:03:12.345`), else the date too
/// (`2026-11-25 14:03:12`).
pub(crate) fn format_start(ns: u64, now_ns: u64, offset_min: i32) -> String {
    let local = |ns: u64| (ns / 1_000_000) as i64 + i64::from(offset_min) * 60_000;
    let (ms, today) = (local(ns), local(now_ns));
    let day = ms.div_euclid(86_400_000);
    let of_day = ms.rem_euclid(86_400_000);
    let (h, m, s, milli) =
        (of_day / 3_600_000, of_day / 60_000 % 60, of_day / 1000 % 60, of_day % 1000);
    if day == today.div_euclid(86_400_000) {
        format!("{h:02}:{m:02}:{s:02}.{milli:03}")
    } else {
        let (y, mo, d) = civil_date(day);
        format!("{y}-{mo:02}-{d:02} {h:02}:{m:02}:{s:02}")
    }
}

/// Year, month, day of a day count since 1970-01-01 (proleptic Gregorian; H. Hinnant's
/// `civil_from_days`: the year shifted to start in March, in 400-year eras).
pub(crate) fn civil_date(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// How long before `now_ns` the time `ns` was: `just now`, `45 s ago`, `2 min ago`, `3 h ago`,
/// `4 days ago`; a time ahead of now (a sender's clock) says `in 5 min`.
pub(crate) fn format_ago(ns: u64, now_ns: u64) -> String {
    let (secs, ahead) = if ns <= now_ns {
        ((now_ns - ns) / 1_000_000_000, false)
    } else {
        ((ns - now_ns) / 1_000_000_000, true)
    };
    let amount = match secs {
        0..=4 => return "just now".into(),
        5..=59 => format!("{secs} s"),
        60..=3_599 => format!("{} min", secs / 60),
        3_600..=86_399 => format!("{} h", secs / 3_600),
        _ => counted((secs / 86_400) as usize, "day"),
    };
    if ahead {
        format!("in {amount}")
    } else {
        format!("{amount} ago")
    }
}

/// The zone times are shown in: `UTC`, or `UTC+01:00` / `UTC-05:30` for a local offset.
pub(crate) fn zone_name(offset_min: i32) -> String {
    if offset_min == 0 {
        return "UTC".into();
    }
    let sign = if offset_min < 0 { '-' } else { '+' };
    let abs = offset_min.unsigned_abs();
    format!("UTC{sign}{:02}:{:02}", abs / 60, abs % 60)
}

/// A share 0..=1 as a percentage with one decimal (`87.5%`); `–` when there is none.
pub(crate) fn format_rate(rate: Option<f64>) -> String {
    match rate {
        Some(rate) => format!("{:.1}%", rate * 100.0),
        None => "–".into(),
    }
}

/// `1 span`, `3 spans`, `0 errors` (nouns that take an `s`).
pub(crate) fn counted(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(format_duration(850), "850 ns");
        assert_eq!(format_duration(1_500), "2 µs");
        assert_eq!(format_duration(1_250_000), "1.25 ms");
        assert_eq!(format_duration(3_200_000_000), "3.20 s");
    }

    /// 2026-11-27 10:00:00 UTC, in ns.
    const NOW: u64 = 1_795_773_600_000_000_000;

    #[test]
    fn start_times_carry_the_date_unless_today_in_their_zone() {
        let min = 60_000_000_000;
        assert_eq!(format_start(NOW - 5 * min + 123_000_000, NOW, 0), "09:55:00.123");
        assert_eq!(format_start(NOW - 11 * 60 * min, NOW, 0), "2026-11-26 23:00:00");
        // 23:00 UTC yesterday is today at UTC+01:00 (00:00), and yesterday at UTC-05:00.
        assert_eq!(format_start(NOW - 11 * 60 * min, NOW, 60), "00:00:00.000");
        assert_eq!(format_start(NOW - 11 * 60 * min, NOW, -300), "2026-11-26 18:00:00");
        assert_eq!(format_start(0, NOW, 0), "1970-01-01 00:00:00");
        // Leap day, and a sender's clock a year ahead.
        assert_eq!(format_start(1_709_164_800_000_000_000, NOW, 0), "2024-02-29 00:00:00");
        assert_eq!(format_start(NOW + 365 * 24 * 60 * min, NOW, 0), "2027-11-27 10:00:00");
    }

    #[test]
    fn ages_read_naturally_and_future_times_say_so() {
        let s = 1_000_000_000;
        assert_eq!(format_ago(NOW - 2 * s, NOW), "just now");
        assert_eq!(format_ago(NOW - 45 * s, NOW), "45 s ago");
        assert_eq!(format_ago(NOW - 150 * s, NOW), "2 min ago");
        assert_eq!(format_ago(NOW - 3 * 3600 * s, NOW), "3 h ago");
        assert_eq!(format_ago(NOW - 86_400 * s, NOW), "1 day ago");
        assert_eq!(format_ago(NOW - 4 * 86_400 * s, NOW), "4 days ago");
        assert_eq!(format_ago(NOW + 300 * s, NOW), "in 5 min");
    }

    #[test]
    fn zones_are_named_by_their_offset() {
        assert_eq!(zone_name(0), "UTC");
        assert_eq!(zone_name(60), "UTC+01:00");
        assert_eq!(zone_name(-330), "UTC-05:30");
    }

    #[test]
    fn rates_have_one_decimal() {
        assert_eq!(format_rate(Some(0.875)), "87.5%");
        assert_eq!(format_rate(Some(2.0 / 3.0)), "66.7%");
        assert_eq!(format_rate(Some(1.0)), "100.0%");
        assert_eq!(format_rate(None), "–");
    }

    #[test]
    fn counts_agree_with_their_noun() {
        assert_eq!(counted(0, "error"), "0 errors");
        assert_eq!(counted(1, "service"), "1 service");
        assert_eq!(counted(2, "span"), "2 spans");
    }
}
