//! `MetricFilters` and `MetricPageFilters`: the metric catalogue's search and one metric's
//! page as they live in the URL (`/metrics?q=http`, `/metrics/NAME?group_by=route&agg=p99`),
//! and the API calls they make.

use std::fmt;

use super::{encode, query_pairs, with_query, write_query_repeated, DEFAULT_INSIGHT_RANGE};
use crate::model::{MetricAgg, MetricKind};
use crate::routes::Route;

/// A metric page's query string as the router keeps it: the pages parse it themselves (in
/// their split module), so the main web bundle carries no parser or printer of their filters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RawQuery(pub String);

impl From<&str> for RawQuery {
    fn from(query: &str) -> Self {
        RawQuery(query.trim_start_matches('?').to_owned())
    }
}

impl fmt::Display for RawQuery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A metric's name as the one path segment of its page (`/metrics/{name}`). `Display` escapes
/// `%`, `/` and `\\` (the router escapes the other characters a path cannot hold, and decodes
/// the segment before `FromStr`, which takes it as it is), so a name with any of them still
/// has a page. (A name of only dots cannot: browsers resolve `.` and `..` segments.)
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MetricName(pub String);

impl fmt::Display for MetricName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in self.0.chars() {
            match c {
                '%' => f.write_str("%25")?,
                '/' => f.write_str("%2F")?,
                '\\' => f.write_str("%5C")?,
                c => fmt::Write::write_char(f, c)?,
            }
        }
        Ok(())
    }
}

impl std::str::FromStr for MetricName {
    type Err = std::convert::Infallible;
    fn from_str(decoded: &str) -> Result<Self, Self::Err> {
        Ok(MetricName(decoded.to_owned()))
    }
}

/// The catalogue (`/metrics?q=&service=`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MetricFilters {
    pub q: String,
    pub service: String,
}

query_fields!(MetricFilters: q, service);

impl MetricFilters {
    /// The catalogue's page with these filters.
    pub fn route(&self) -> Route {
        Route::Metrics { filters: RawQuery(self.to_string()) }
    }

    pub fn api_path(&self) -> String {
        with_query("/api/v1/metrics", &self.to_string())
    }
}

/// One metric's page (`/metrics/{name}?...`): the API's filters, the aggregations drawn
/// (`agg`, comma-separated; empty for the metric type's default) and the legend entries
/// hidden (`hide`, group keys separated by `|`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MetricPageFilters {
    pub service: String,
    /// `KEY=VALUE`.
    pub attr: String,
    pub group_by: String,
    pub since: String,
    pub until: String,
    /// A duration such as `1m`; empty for the API's default.
    pub step: String,
    pub agg: String,
    pub hide: String,
}

query_fields!(MetricPageFilters: service, attr, group_by, since, until, step, agg, hide);

/// Step choices of the metric page's form (values the API's `step` takes; empty = automatic).
pub const METRIC_STEPS: [(&str, &str); 6] = [
    ("", "auto"),
    ("10s", "10 s"),
    ("1m", "1 min"),
    ("5m", "5 min"),
    ("15m", "15 min"),
    ("1h", "1 h"),
];

impl MetricPageFilters {
    /// Metric `name`'s page with these filters.
    pub fn route(&self, name: &str) -> Route {
        Route::MetricDetail {
            name: MetricName(name.to_owned()),
            filters: RawQuery(self.to_string()),
        }
    }

    /// `/api/v1/metrics/{name}/series?..` for one aggregation (`None`: the type's default).
    pub fn api_path(&self, name: &str, agg: Option<MetricAgg>) -> String {
        let since = if self.since.is_empty() { DEFAULT_INSIGHT_RANGE } else { &self.since };
        let agg = agg.map(MetricAgg::as_str).unwrap_or("");
        let pairs = [
            ("service", self.service.as_str()),
            ("attr", self.attr.as_str()),
            ("group_by", self.group_by.as_str()),
            ("since", since),
            ("until", self.until.as_str()),
            ("step", self.step.as_str()),
            ("agg", agg),
        ];
        let query = super::Query(&pairs).to_string();
        format!("/api/v1/metrics/{}/series?{query}", encode(name))
    }

    /// The aggregations asked for in the URL that the kind has, in the URL's order; else the
    /// kind's defaults.
    pub fn aggs(&self, kind: MetricKind, monotonic: bool) -> Vec<MetricAgg> {
        let offered = offered_aggs(kind, monotonic);
        let mut asked: Vec<MetricAgg> = Vec::new();
        for agg in self.agg.split(',').filter_map(|a| a.trim().parse::<MetricAgg>().ok()) {
            if offered.contains(&agg) && !asked.contains(&agg) {
                asked.push(agg);
            }
        }
        if asked.is_empty() {
            default_aggs(kind, monotonic)
        } else {
            asked
        }
    }

    /// The group keys hidden from the charts.
    pub fn hidden(&self) -> Vec<&str> {
        self.hide.split('|').filter(|k| !k.is_empty()).collect()
    }

    /// This page with group `key` shown if it was hidden, hidden if it was shown.
    pub fn toggled(&self, key: &str) -> MetricPageFilters {
        let mut hidden: Vec<&str> = self.hidden();
        if let Some(at) = hidden.iter().position(|k| *k == key) {
            hidden.remove(at);
        } else {
            hidden.push(key);
        }
        MetricPageFilters { hide: hidden.join("|"), ..self.clone() }
    }

    /// This page with aggregation `agg` added or removed (the others as shown now).
    pub fn with_agg_toggled(&self, shown: &[MetricAgg], agg: MetricAgg) -> MetricPageFilters {
        let mut next: Vec<MetricAgg> = shown.to_vec();
        if let Some(at) = next.iter().position(|a| *a == agg) {
            next.remove(at);
        } else {
            next.push(agg);
        }
        let agg = next.iter().map(|a| a.as_str()).collect::<Vec<_>>().join(",");
        MetricPageFilters { agg, ..self.clone() }
    }
}

/// What a chart of each kind can show, in the order the form lists them.
pub fn offered_aggs(kind: MetricKind, monotonic: bool) -> Vec<MetricAgg> {
    use MetricAgg::*;
    match kind {
        MetricKind::Sum if monotonic => vec![Rate],
        MetricKind::Sum | MetricKind::Gauge => vec![Value, Avg, Min, Max],
        MetricKind::Histogram | MetricKind::ExponentialHistogram => {
            vec![P50, P90, P95, P99, Count, Sum, Avg]
        }
        MetricKind::Summary => vec![Quantiles, Count, Sum],
    }
}

/// What a metric's page shows when the URL names nothing.
pub fn default_aggs(kind: MetricKind, monotonic: bool) -> Vec<MetricAgg> {
    use MetricAgg::*;
    match kind {
        MetricKind::Sum if monotonic => vec![Rate],
        MetricKind::Sum | MetricKind::Gauge => vec![Value],
        MetricKind::Histogram | MetricKind::ExponentialHistogram => {
            vec![P50, P90, P95, P99, Count]
        }
        MetricKind::Summary => vec![Quantiles, Count],
    }
}

/// Whether `agg` is a percentile (drawn together, over the heatmap).
pub fn is_percentile(agg: MetricAgg) -> bool {
    matches!(agg, MetricAgg::P50 | MetricAgg::P90 | MetricAgg::P95 | MetricAgg::P99)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_and_its_api_calls_round_trip() {
        let filters = MetricPageFilters::from(
            "service=shop&attr=http.route%3D%2Fa&group_by=http.route&since=6h&step=1m&agg=p99,count&hide=a%7Cb",
        );
        assert_eq!(filters.group_by, "http.route");
        assert_eq!(MetricPageFilters::from(filters.to_string().as_str()), filters);
        assert_eq!(
            filters.api_path("http.server.request.duration", Some(MetricAgg::P99)),
            "/api/v1/metrics/http.server.request.duration/series?service=shop&attr=http.route%3D%2Fa&group_by=http.route&since=6h&step=1m&agg=p99"
        );
        // A name with a slash or markup stays one path segment.
        assert_eq!(
            MetricPageFilters::default().api_path("a/<b>", None),
            "/api/v1/metrics/a%2F%3Cb%3E/series?since=1h"
        );
        assert_eq!(filters.hidden(), ["a", "b"]);
        assert_eq!(filters.toggled("a").hide, "b");
        assert_eq!(filters.toggled("c").hide, "a|b|c");
        // The router hands the query over decoded; the filters read the same from it.
        let parsed = filters.route("a<b> c").to_string().parse::<Route>().unwrap();
        let Route::MetricDetail { name, filters: raw } = parsed else { panic!("{parsed:?}") };
        assert_eq!((name.0.as_str(), MetricPageFilters::from(raw.0.as_str())), ("a<b> c", filters));
        // Names with URL-special characters are one path segment, and come back as they were.
        for name in ["a/b", "a%2Fb", "100%", "a\\b", "q?x=1#y", "a b/c%d", "é/ü", "a..b", "/"] {
            let path = MetricPageFilters::default().route(name).to_string();
            assert_eq!(path.matches('/').count(), 2, "{name:?}: {path}");
            let Ok(Route::MetricDetail { name: back, .. }) = path.parse::<Route>() else {
                panic!("{name:?}: {path} is not a metric page")
            };
            assert_eq!(back.0, name, "{path}");
        }
        assert_eq!(MetricPageFilters::default().route("a/b%").to_string(), "/metrics/a%2Fb%25?");
    }

    #[test]
    fn aggregations_are_the_kinds_own_or_its_defaults() {
        let asked =
            MetricPageFilters { agg: "count,rate,p99,p99,junk".into(), ..Default::default() };
        assert_eq!(asked.aggs(MetricKind::Histogram, false), [MetricAgg::Count, MetricAgg::P99]);
        assert_eq!(asked.aggs(MetricKind::Sum, true), [MetricAgg::Rate]);
        assert_eq!(asked.aggs(MetricKind::Gauge, false), [MetricAgg::Value]);
        let none = MetricPageFilters::default();
        assert_eq!(none.aggs(MetricKind::Summary, false), [MetricAgg::Quantiles, MetricAgg::Count]);
        let toggled = none.with_agg_toggled(&[MetricAgg::P50, MetricAgg::Count], MetricAgg::P50);
        assert_eq!(toggled.agg, "count");
        assert_eq!(MetricFilters::from("q=http").api_path(), "/api/v1/metrics?q=http");
    }
}
