//! `TraceFilters` and `InsightFilters`: the trace search and the cache/retries range as they live
//! in the URL (`/traces?service=..&status=error`, `/cache?since=6h`). The same query string is
//! what the API takes, so the page URL and the API call cannot drift apart.

use std::fmt;

use crate::model::{params, MAX_TRACE_LIMIT};

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
    /// `KEY=VALUE`, one per line: a trace matches every one (`attr=` repeated in the URL).
    pub attr: String,
    /// A preset from [`RANGES`] (or any time the API takes, with `until`); empty for all time.
    pub since: String,
    /// Empty for now; set by links that carry a page's range (the cache page's "find misses").
    pub until: String,
    pub limit: String,
    /// `"1"` to list otelscope's own traces too (hidden by default).
    pub include_self: String,
}

/// The fields of a URL-borne filter set, once: each field's name is its key in the URL, the
/// API and the form, and `pairs`, `field_mut`, parsing and printing all come from this list, so
/// they cannot disagree.
macro_rules! query_fields {
    ($ty:ident: $($field:ident),* $(,)?) => {
        query_fields!($ty: $($field),*; repeated:);
    };
    // `repeated`: fields a URL may give more than once (`attr=a%3D1&attr=b%3D2`); their values
    // are kept one per line and printed one pair per line.
    ($ty:ident: $($field:ident),*; repeated: $($rep:ident),*) => {
        impl $ty {
            /// The keys whose every value is kept (one per line), not only the last.
            pub const REPEATED: &'static [&'static str] = &[$(stringify!($rep)),*];

            /// Every field as `(key, value)`, in URL order.
            pub fn pairs(&self) -> [(&'static str, &str); query_fields!(@count $($field)*)] {
                [$((query_fields!(@key $field), self.$field.as_str())),*]
            }

            /// The field named `key`, if there is one.
            pub fn field_mut(&mut self, key: &str) -> Option<&mut String> {
                $(if key == query_fields!(@key $field) {
                    return Some(&mut self.$field);
                })*
                None
            }

            /// The value of the field named `key` (empty for an unknown key).
            pub fn field(&self, key: &str) -> &str {
                self.pairs().into_iter().find(|(k, _)| *k == key).map_or("", |(_, v)| v)
            }
        }

        impl From<&str> for $ty {
            fn from(query: &str) -> Self {
                let mut filters = $ty::default();
                for (key, value) in query_pairs(query) {
                    let keep_all = Self::REPEATED.contains(&key.as_str());
                    if let Some(slot) = filters.field_mut(&key) {
                        if keep_all && !slot.is_empty() {
                            slot.push('\n');
                            slot.push_str(&value);
                        } else {
                            *slot = value;
                        }
                    }
                }
                filters
            }
        }

        /// The query string (without `?`), empty values left out.
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write_query_repeated(f, &self.pairs(), Self::REPEATED)
            }
        }
    };
    (@count $($field:ident)*) => { 0 $(+ query_fields!(@one $field))* };
    // A raw identifier (`r#match`) is keyed without its `r#`.
    (@key $field:ident) => { stringify!($field).trim_start_matches("r#") };
    (@one $field:ident) => { 1 };
}

query_fields!(TraceFilters: service, name, min_duration_ms, max_duration_ms, status, attr, since,
    until, limit, include_self; repeated: attr);

impl TraceFilters {
    /// The API path of this search.
    pub fn api_path(&self) -> String {
        with_query("/api/v1/traces", &self.to_string())
    }

    /// The attribute conditions, one per line, empty lines (a field being typed) left out.
    pub fn attrs(&self) -> impl Iterator<Item = &str> {
        self.attr.split('\n').filter(|a| !a.is_empty())
    }

    /// The filters with attribute line `i` set to `value` (a line past the end is added).
    pub fn with_attr_line(&self, i: usize, value: &str) -> TraceFilters {
        let mut lines: Vec<&str> = self.attr.split('\n').collect();
        while lines.len() <= i {
            lines.push("");
        }
        lines[i] = value;
        TraceFilters { attr: lines.join("\n"), ..self.clone() }
    }

    /// Whether the range is not one of the form's presets (a link's `since`/`until` times).
    pub fn custom_range(&self) -> bool {
        !self.until.is_empty() || RANGES.iter().all(|(value, _)| *value != self.since)
    }

    /// The fields whose value the API would refuse (as its parser does): the form marks them.
    pub fn invalid_fields(&self) -> Vec<&'static str> {
        // The server's parser reads each value with these same functions (`model::params`).
        let checks: [(&'static str, bool); 5] = [
            ("min_duration_ms", params::duration_ms_ns(&self.min_duration_ms).is_ok()),
            ("max_duration_ms", params::duration_ms_ns(&self.max_duration_ms).is_ok()),
            ("status", params::status_filter(&self.status).is_some()),
            ("attr", self.attrs().all(|a| params::attr_filter(a).is_some())),
            // A larger limit reads as the largest, as the API's parser has it.
            ("limit", params::page_limit(&self.limit, MAX_TRACE_LIMIT).is_some()),
        ];
        checks
            .into_iter()
            .filter(|(key, ok)| !ok && !self.field(key).is_empty())
            .map(|(key, _)| key)
            .collect()
    }
}

/// `path`, with `?query` when there is one.
fn with_query(path: &str, query: &str) -> String {
    if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{query}")
    }
}

/// The services page (`/services?since=6h`; `include_self=1` lists otelscope's own too).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServiceFilters {
    /// A preset from `SERVICE_RANGES` (or any time the API takes); empty for the last hour.
    pub since: String,
    pub until: String,
    pub include_self: String,
}

query_fields!(ServiceFilters: since, until, include_self);

impl ServiceFilters {
    /// The API path of this list (every service seen, counted over the last hour when no
    /// range is set).
    pub fn api_path(&self) -> String {
        with_query("/api/v1/services", &self.to_string())
    }

    /// The services page's API path: the table and the sparklines over the range in effect
    /// (the last hour by default, as for every aggregate).
    pub fn page_path(&self) -> String {
        let since = if self.since.is_empty() { DEFAULT_INSIGHT_RANGE } else { &self.since };
        let ranged = ServiceFilters { since: since.to_owned(), ..self.clone() };
        format!("/api/v1/services?{ranged}&sparklines=1")
    }
}

/// Time-range presets of the cache and retries pages; the first empty value means the default.
pub const INSIGHT_RANGES: [(&str, &str); 4] = [
    ("15m", "Last 15 minutes"),
    ("1h", "Last hour"),
    ("6h", "Last 6 hours"),
    ("24h", "Last 24 hours"),
];

// The metric pages' filters (declared after `query_fields!`, which they use).
mod metric_filters;
pub use metric_filters::{
    default_aggs, is_percentile, offered_aggs, MetricFilters, MetricName, MetricPageFilters,
    RawQuery, METRIC_STEPS,
};
// The services pages' filters (issue 25), parsed only in their split module.
mod service_filters;
pub use service_filters::{MapFilters, ServicePageFilters, SERVICE_RANGES};

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
    /// `1`: the retries page lists operations that never retried in the range too (hidden by
    /// default; the API answers them either way).
    pub all: String,
}

query_fields!(InsightFilters: since, until, service, all);

impl InsightFilters {
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

/// The flame graph page (`/flamegraph?trace_id=..` or `?service=..&name=..&since=..`): the
/// selection and its base as the API takes them, `base=previous` (the range just before, for
/// links and the form's "compare with"), and the chart's own state.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FlameFilters {
    pub trace_id: String,
    pub service: String,
    /// The operation (span name); empty for the service's roots.
    pub name: String,
    pub since: String,
    pub until: String,
    /// `any` (default) or `root`.
    pub r#match: String,
    pub base_trace_id: String,
    pub base_since: String,
    pub base_until: String,
    /// `previous`: compare with the range of the same length just before `since`.
    pub base: String,
    pub zoom: String,
    pub search: String,
    pub view: String,
    pub frame: String,
}

query_fields!(FlameFilters: trace_id, service, name, since, until, r#match, base_trace_id,
    base_since, base_until, base, zoom, search, view, frame);

/// How many of [`FlameFilters`]' fields (from the first) the API takes.
const FLAME_API_FIELDS: usize = 9;

impl FlameFilters {
    /// Whether the URL names something to draw (a trace or a service).
    pub fn has_selection(&self) -> bool {
        !self.trace_id.is_empty() || !self.service.is_empty()
    }

    /// `/api/v1/flamegraph?..&format=FORMAT` for this selection: an operation's range defaults
    /// to the last hour, and `base=previous` becomes the range before it.
    pub fn api_path(&self, format: &str) -> String {
        let mut api = FlameFilters { zoom: String::new(), ..self.clone() };
        if api.trace_id.is_empty() && api.since.is_empty() {
            api.since = DEFAULT_INSIGHT_RANGE.into();
        }
        if api.base == "previous" && api.base_trace_id.is_empty() {
            if let Some((since, until)) = previous_period(&api.since, &api.until) {
                (api.base_since, api.base_until) = (since, until);
            }
        }
        let pairs = api.pairs();
        let mut query = Query(&pairs[..FLAME_API_FIELDS]).to_string();
        if !query.is_empty() {
            query.push('&');
        }
        format!("/api/v1/flamegraph?{query}format={format}")
    }

    /// The chart's state from this URL.
    pub fn chart(&self) -> ChartParams {
        ChartParams {
            zoom: self.zoom.clone(),
            search: self.search.clone(),
            view: self.view.clone(),
            frame: self.frame.clone(),
        }
    }

    /// This page with the chart's state `chart`.
    pub fn with_chart(&self, chart: ChartParams) -> FlameFilters {
        let ChartParams { zoom, search, view, frame } = chart;
        FlameFilters { zoom, search, view, frame, ..self.clone() }
    }
}

/// The profile page (`/profile?id=..`) and its chart's state.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProfileFilters {
    pub id: String,
    pub zoom: String,
    pub search: String,
    pub view: String,
    pub frame: String,
}

query_fields!(ProfileFilters: id, zoom, search, view, frame);

impl ProfileFilters {
    pub fn chart(&self) -> ChartParams {
        ChartParams {
            zoom: self.zoom.clone(),
            search: self.search.clone(),
            view: self.view.clone(),
            frame: self.frame.clone(),
        }
    }

    pub fn with_chart(&self, chart: ChartParams) -> ProfileFilters {
        let ChartParams { zoom, search, view, frame } = chart;
        ProfileFilters { id: self.id.clone(), zoom, search, view, frame }
    }
}

/// A flame chart's state in its page's URL: `zoom` (the zoomed frame's path, names joined by
/// `;`), `search`, `view` (`""` flame, `icicle`, `sandwich`) and `frame` (the sandwich's).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChartParams {
    pub zoom: String,
    pub search: String,
    pub view: String,
    pub frame: String,
}

/// The range of the same length just before `since`..`until` (`until` empty = now), as the API
/// takes them: `1h` → `2h`..`1h`; Unix nanoseconds → nanoseconds. None for other forms.
pub fn previous_period(since: &str, until: &str) -> Option<(String, String)> {
    if let (Ok(since), Ok(until)) = (since.parse::<u64>(), until.parse::<u64>()) {
        let length = until.checked_sub(since)?;
        return Some((since.checked_sub(length)?.to_string(), since.to_string()));
    }
    if !until.is_empty() {
        return None;
    }
    let digits = since.find(|c: char| !c.is_ascii_digit())?;
    let (amount, unit) = since.split_at(digits);
    let amount: u64 = amount.parse().ok()?;
    Some((format!("{}{unit}", amount * 2), since.to_owned()))
}

/// Pairs printed as a query string.
struct Query<'a>(&'a [(&'a str, &'a str)]);

impl fmt::Display for Query<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_query(f, self.0)
    }
}

/// `key=value` pairs joined by `&`, encoded, empty values left out.
fn write_query(f: &mut fmt::Formatter<'_>, pairs: &[(&str, &str)]) -> fmt::Result {
    write_query_repeated(f, pairs, &[])
}

/// As `write_query`, with each line of a `repeated` key's value as a pair of its own.
fn write_query_repeated(
    f: &mut fmt::Formatter<'_>,
    pairs: &[(&str, &str)],
    repeated: &[&str],
) -> fmt::Result {
    let mut first = true;
    for &(key, value) in pairs {
        let values: Vec<&str> =
            if repeated.contains(&key) { value.split('\n').collect() } else { vec![value] };
        for value in values.into_iter().filter(|v| !v.is_empty()) {
            if !first {
                f.write_str("&")?;
            }
            first = false;
            write!(f, "{key}={}", encode(value))?;
        }
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

/// A query string's `key=value` pairs (a leading `?` allowed), decoded: the one decoder the
/// app and the server's query parsers share.
pub fn query_pairs(query: &str) -> impl Iterator<Item = (String, String)> + '_ {
    query.trim_start_matches('?').split('&').filter(|p| !p.is_empty()).map(|pair| {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        (decode(key), decode(value))
    })
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

mod logs;
pub use logs::{LogFilters, CONTEXT_RECORDS};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fields_the_api_would_refuse_are_named() {
        let typed =
            TraceFilters::from("min_duration_ms=abc&max_duration_ms=-1&attr=x&limit=0&status=ok");
        assert_eq!(typed.invalid_fields(), ["min_duration_ms", "max_duration_ms", "attr", "limit"]);
        let fine =
            TraceFilters::from("min_duration_ms=1.5&max_duration_ms=20&attr=k%3Dv&limit=1000");
        assert_eq!(fine.invalid_fields(), Vec::<&str>::new());
        assert_eq!(TraceFilters::default().invalid_fields(), Vec::<&str>::new());
    }

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
    fn attribute_conditions_repeat_in_the_url_and_each_is_checked() {
        // The cache page's "find misses": the miss, the layer and the page's range (issue 26).
        let query =
            "service=shop&attr=cache.hit%3Dfalse&attr=cache.layer%3Dl1&since=1000&until=2000";
        let filters = TraceFilters::from(query);
        assert_eq!(filters.attr, "cache.hit=false\ncache.layer=l1");
        assert_eq!(filters.attrs().collect::<Vec<_>>(), ["cache.hit=false", "cache.layer=l1"]);
        assert_eq!(filters.to_string(), query);
        assert!(filters.custom_range());
        assert!(!TraceFilters::from("since=1h").custom_range());
        assert!(!TraceFilters::default().custom_range());
        // A line being added or typed; a bad second condition is refused like a first.
        let more = filters.with_attr_line(2, "");
        assert_eq!(more.attrs().count(), 2);
        assert_eq!(more.to_string(), query, "an empty line is not a condition");
        let bad = filters.with_attr_line(1, "nokey");
        assert_eq!(bad.invalid_fields(), ["attr"]);
        assert_eq!(bad.with_attr_line(1, "k=v").attr, "cache.hit=false\nk=v");
        // Other filter sets keep the last of a repeated key, as before.
        assert_eq!(InsightFilters::from("since=1h&since=6h").since, "6h");
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
    fn flame_filters_name_the_api_call_and_keep_the_chart_state() {
        let filters = FlameFilters::from(
            "service=shop&name=GET%20%2Fa&match=root&base=previous&zoom=a%3Bb&search=db&view=icicle",
        );
        assert_eq!(filters.r#match, "root");
        assert_eq!(filters.field("match"), "root");
        assert_eq!(
            filters.api_path("json"),
            "/api/v1/flamegraph?service=shop&name=GET%20%2Fa&since=1h&match=root&base_since=2h&base_until=1h&format=json"
        );
        assert_eq!(FlameFilters::from(filters.to_string().as_str()), filters);
        assert_eq!(filters.chart().zoom, "a;b");
        let trace = FlameFilters { trace_id: "ab".into(), ..Default::default() };
        assert_eq!(trace.api_path("svg"), "/api/v1/flamegraph?trace_id=ab&format=svg");
        assert!(trace.has_selection() && !FlameFilters::default().has_selection());
        let zoomed = trace.with_chart(ChartParams { zoom: "x".into(), ..Default::default() });
        assert_eq!(zoomed.to_string(), "trace_id=ab&zoom=x");
    }

    #[test]
    fn previous_periods() {
        assert_eq!(previous_period("15m", ""), Some(("30m".into(), "15m".into())));
        assert_eq!(previous_period("7days", ""), Some(("14days".into(), "7days".into())));
        assert_eq!(previous_period("100", "150"), Some(("50".into(), "100".into())));
        assert_eq!(previous_period("1h", "10m"), None);
        assert_eq!(previous_period("", ""), None);
    }

    #[test]
    fn every_field_is_reachable_by_its_key() {
        let mut filters = TraceFilters::default();
        for (i, key) in TraceFilters::default().pairs().map(|(k, _)| k).into_iter().enumerate() {
            *filters.field_mut(key).unwrap() = i.to_string();
        }
        assert_eq!(filters.field("status"), "4");
        assert_eq!(filters.limit, "8", "after `until`");
        assert_eq!(filters.field("bogus"), "");
        assert!(filters.field_mut("bogus").is_none());
    }

    #[test]
    fn query_pairs_decode_keys_and_values_like_forms() {
        let pairs: Vec<_> = query_pairs("?a%5Fb=c+d&&e&f=%E2%9C%93&g=%zz").collect();
        let expected = [("a_b", "c d"), ("e", ""), ("f", "✓"), ("g", "%zz")];
        assert_eq!(pairs, expected.map(|(k, v)| (k.to_owned(), v.to_owned())));
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
