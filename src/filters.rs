//! `TraceFilters` and `InsightFilters`: the trace search and the cache/retries range as they live
//! in the URL (`/traces?service=..&status=error`, `/cache?since=6h`). The same query string is
//! what the API takes, so the page URL and the API call cannot drift apart.

use std::fmt;

/// Time-range presets offered by the search form (values the API's `since` accepts).
pub const RANGES: [(&str, &str); 6] = [
    ("15m", "Last 15 minutes"),
    ("1h", "Last hour"),
    ("6h", "Last 6 hours"),
    ("24h", "Last 24 hours"),
    ("7days", "Last 7 days"),
    ("", "All"),
];

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TraceFilters {
    pub service: String,
    pub name: String,
    pub min_duration_ms: String,
    pub max_duration_ms: String,
    /// `""`, `"error"` or `"ok"`.
    pub status: String,
    /// `KEY=VALUE`.
    pub attr: String,
    /// A preset from [`RANGES`], or empty for all time.
    pub since: String,
    pub limit: String,
}

impl TraceFilters {
    fn pairs(&self) -> [(&'static str, &str); 8] {
        [
            ("service", &self.service),
            ("name", &self.name),
            ("min_duration_ms", &self.min_duration_ms),
            ("max_duration_ms", &self.max_duration_ms),
            ("status", &self.status),
            ("attr", &self.attr),
            ("since", &self.since),
            ("limit", &self.limit),
        ]
    }

    /// The API path of this search.
    pub fn api_path(&self) -> String {
        let query = self.to_string();
        if query.is_empty() {
            "/api/v1/traces".to_owned()
        } else {
            format!("/api/v1/traces?{query}")
        }
    }
}

impl From<&str> for TraceFilters {
    fn from(query: &str) -> Self {
        let mut filters = TraceFilters::default();
        parse_query(query, &mut filters, TraceFilters::field_mut);
        filters
    }
}

impl TraceFilters {
    /// The field a query key names.
    fn field_mut<'a>(&'a mut self, key: &str) -> Option<&'a mut String> {
        let filters = self;
        Some(match key {
            "service" => &mut filters.service,
            "name" => &mut filters.name,
            "min_duration_ms" => &mut filters.min_duration_ms,
            "max_duration_ms" => &mut filters.max_duration_ms,
            "status" => &mut filters.status,
            "attr" => &mut filters.attr,
            "since" => &mut filters.since,
            "limit" => &mut filters.limit,
            _ => return None,
        })
    }
}

/// The query string (without `?`), empty values left out.
impl fmt::Display for TraceFilters {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_query(f, &self.pairs())
    }
}

/// Time-range presets of the cache and retries pages; the first empty value means the default.
pub const INSIGHT_RANGES: [(&str, &str); 4] = [
    ("15m", "Last 15 minutes"),
    ("1h", "Last hour"),
    ("6h", "Last 6 hours"),
    ("24h", "Last 24 hours"),
];

/// The range an insight page shows when its URL names none.
pub const DEFAULT_INSIGHT_RANGE: &str = "1h";

/// The range and service of the cache and retries pages (`/cache?since=6h&service=shop`);
/// `until` (any time the API takes) pins the end, for links and tests that need fixed numbers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InsightFilters {
    /// A preset from [`INSIGHT_RANGES`] (or any time the API takes); empty for the default.
    pub since: String,
    pub until: String,
    pub service: String,
}

impl InsightFilters {
    fn pairs(&self) -> [(&'static str, &str); 3] {
        [("since", &self.since), ("until", &self.until), ("service", &self.service)]
    }

    /// The range in effect: `since`, else the default.
    pub fn since_or_default(&self) -> &str {
        if self.since.is_empty() {
            DEFAULT_INSIGHT_RANGE
        } else {
            &self.since
        }
    }

    /// `endpoint` (e.g. `/api/v1/cache`) with this range and service.
    pub fn api_path(&self, endpoint: &str) -> String {
        let with_range =
            InsightFilters { since: self.since_or_default().to_owned(), ..self.clone() };
        format!("{endpoint}?{with_range}")
    }
}

impl From<&str> for InsightFilters {
    fn from(query: &str) -> Self {
        let mut filters = InsightFilters::default();
        parse_query(query, &mut filters, InsightFilters::field_mut);
        filters
    }
}

impl InsightFilters {
    /// The field a query key names.
    fn field_mut<'a>(&'a mut self, key: &str) -> Option<&'a mut String> {
        Some(match key {
            "since" => &mut self.since,
            "until" => &mut self.until,
            "service" => &mut self.service,
            _ => return None,
        })
    }
}

impl fmt::Display for InsightFilters {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_query(f, &self.pairs())
    }
}

/// Decodes each `key=value` of `query` into the field `slot(key)` names (unknown keys skipped).
fn parse_query<F>(
    query: &str,
    target: &mut F,
    slot: for<'a> fn(&'a mut F, &str) -> Option<&'a mut String>,
) {
    for pair in query.trim_start_matches('?').split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        if let Some(field) = slot(target, key) {
            *field = decode(value);
        }
    }
}

/// `key=value` pairs joined by `&`, encoded, empty values left out.
fn write_query(f: &mut fmt::Formatter<'_>, pairs: &[(&str, &str)]) -> fmt::Result {
    let mut first = true;
    for &(key, value) in pairs {
        if value.is_empty() {
            continue;
        }
        if !first {
            f.write_str("&")?;
        }
        first = false;
        write!(f, "{key}={}", encode(value))?;
    }
    Ok(())
}

/// Percent-encodes everything but unreserved characters.
fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

/// Decodes `%XX` and `+` (as forms send spaces); invalid escapes are kept as they are.
fn decode(value: &str) -> String {
    fn hex(b: u8) -> Option<u8> {
        (b as char).to_digit(16).map(|d| d as u8)
    }
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => match (
                bytes.get(i + 1).copied().and_then(hex),
                bytes.get(i + 2).copied().and_then(hex),
            ) {
                (Some(hi), Some(lo)) => {
                    out.push(hi << 4 | lo);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_the_url() {
        let filters = TraceFilters {
            service: "checkout api".into(),
            name: "GET /items".into(),
            status: "error".into(),
            attr: "http.route=/a&b".into(),
            since: "1h".into(),
            ..TraceFilters::default()
        };
        let query = filters.to_string();
        assert_eq!(query, "service=checkout%20api&name=GET%20%2Fitems&status=error&attr=http.route%3D%2Fa%26b&since=1h");
        assert_eq!(TraceFilters::from(query.as_str()), filters);
        assert_eq!(filters.api_path(), format!("/api/v1/traces?{query}"));
        assert_eq!(TraceFilters::default().api_path(), "/api/v1/traces");
    }

    #[test]
    fn insight_filters_round_trip_and_default_to_an_hour() {
        let filters = InsightFilters {
            since: "6h".into(),
            service: "<b>shop</b>".into(),
            ..Default::default()
        };
        assert_eq!(filters.to_string(), "since=6h&service=%3Cb%3Eshop%3C%2Fb%3E");
        assert_eq!(InsightFilters::from(filters.to_string().as_str()), filters);
        assert_eq!(InsightFilters::default().api_path("/api/v1/cache"), "/api/v1/cache?since=1h");
        let pinned = InsightFilters::from("since=0&until=59000000000&junk=1");
        assert_eq!(pinned.api_path("/api/v1/retries"), "/api/v1/retries?since=0&until=59000000000");
    }

    #[test]
    fn form_encoding_and_junk_are_accepted() {
        let filters = TraceFilters::from("?service=a+b&min_duration_ms=5&bogus=1&name=%zz&status");
        assert_eq!(filters.service, "a b");
        assert_eq!(filters.min_duration_ms, "5");
        assert_eq!(filters.name, "%zz");
        assert_eq!(filters.status, "");
    }
}
