//! How the UI words numbers: durations, and counts with their noun.

/// `1.25 ms`, `3.20 s`, `850 ns`, `2 µs`.
pub(crate) fn format_duration(ns: u64) -> String {
    match ns {
        0..=999 => format!("{ns} ns"),
        1_000..=999_999 => format!("{:.0} µs", ns as f64 / 1e3),
        1_000_000..=999_999_999 => format!("{:.2} ms", ns as f64 / 1e6),
        _ => format!("{:.2} s", ns as f64 / 1e9),
    }
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
