//! `ServicePageFilters` and `MapFilters`: a service's page (`/services/NAME?operation=..`, the
//! operation's own RED page and its "what changed" panel) and the service map (`/map`) as they
//! live in the URL, and the API calls they make. The router keeps them as a [`RawQuery`]; only
//! the services module parses them.

use std::fmt;

use super::{
    encode, query_pairs, with_query, write_query_repeated, RawQuery, DEFAULT_INSIGHT_RANGE,
};
use crate::routes::Route;

/// The range presets of the services pages (what the API's `since` takes).
pub const SERVICE_RANGES: [(&str, &str); 5] = [
    ("15m", "Last 15 minutes"),
    ("1h", "Last hour"),
    ("6h", "Last 6 hours"),
    ("24h", "Last 24 hours"),
    ("7days", "Last 7 days"),
];

/// A service's page, or one of its operations (`operation=`, with `kind=`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServicePageFilters {
    /// A preset, or a time the API takes (Unix ns after a drag); empty for the last hour.
    pub since: String,
    pub until: String,
    pub operation: String,
    pub kind: String,
    /// The operations table's order: `impact` (default), `requests`, `errors`, `p95`, `name`.
    pub sort: String,
    /// What changed: `errors` (default), `slow` or `window`.
    pub selection: String,
    /// `slow`: the percentile the selection is slower than (default 95).
    pub pct: String,
    /// `window`: the dragged window (Unix ns).
    pub window_since: String,
    pub window_until: String,
    /// `rest` (default) or `previous`.
    pub baseline: String,
}

query_fields!(ServicePageFilters: since, until, operation, kind, sort, selection, pct,
    window_since, window_until, baseline);

impl ServicePageFilters {
    /// The range in effect: `since`, else the default.
    pub fn since_or_default(&self) -> &str {
        if self.since.is_empty() {
            DEFAULT_INSIGHT_RANGE
        } else {
            &self.since
        }
    }

    /// The page of service `name` with these filters.
    pub fn route(&self, name: &str) -> Route {
        Route::ServicePage { name: name.to_owned(), filters: RawQuery(self.to_string()) }
    }

    /// The range as the API takes it (`since=..&until=..`).
    fn range(&self) -> String {
        let mut out = format!("since={}", encode(self.since_or_default()));
        if !self.until.is_empty() {
            out.push_str(&format!("&until={}", encode(&self.until)));
        }
        out
    }

    /// The RED series and operations of service `name` (of the operation, with one).
    pub fn red_path(&self, name: &str) -> String {
        let mut path = format!("/api/v1/services/{}/red?{}", encode(name), self.range());
        for (key, value) in [("operation", &self.operation), ("kind", &self.kind)] {
            if !value.is_empty() {
                path.push_str(&format!("&{key}={}", encode(value)));
            }
        }
        path
    }

    /// "What changed" for the operation of service `name`.
    pub fn compare_path(&self, name: &str) -> String {
        let mut path = format!("/api/v1/services/{}/compare?{}", encode(name), self.range());
        let selection = if self.selection.is_empty() { "errors" } else { &self.selection };
        let baseline = if self.baseline.is_empty() { "rest" } else { &self.baseline };
        let pct = if self.pct.is_empty() { "95" } else { &self.pct };
        path.push_str(&format!("&selection={}&baseline={}", encode(selection), encode(baseline)));
        let mut extra = vec![("operation", self.operation.as_str())];
        match selection {
            "slow" => extra.push(("pct", pct)),
            "window" => {
                extra.push(("window_since", &self.window_since));
                extra.push(("window_until", &self.window_until));
            }
            _ => {}
        }
        for (key, value) in extra {
            if !value.is_empty() {
                path.push_str(&format!("&{key}={}", encode(value)));
            }
        }
        path
    }
}

/// The service map (`/map?since=&until=&service=`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MapFilters {
    pub since: String,
    pub until: String,
    /// Centre the map on one service (it and its direct neighbours).
    pub service: String,
}

query_fields!(MapFilters: since, until, service);

impl MapFilters {
    /// The map's page with these filters.
    pub fn route(&self) -> Route {
        Route::ServiceMap { filters: RawQuery(self.to_string()) }
    }

    /// The map's API path.
    pub fn api_path(&self) -> String {
        let with_range = MapFilters {
            since: if self.since.is_empty() {
                DEFAULT_INSIGHT_RANGE.into()
            } else {
                self.since.clone()
            },
            ..self.clone()
        };
        with_query("/api/v1/map", &with_range.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_paths() {
        let f = ServicePageFilters::from("operation=GET+%2Fp%2F%7Bid%7D&selection=slow&pct=99");
        assert_eq!(f.operation, "GET /p/{id}");
        assert_eq!(
            f.red_path("a b/c"),
            "/api/v1/services/a%20b%2Fc/red?since=1h&operation=GET%20%2Fp%2F%7Bid%7D"
        );
        assert_eq!(
            f.compare_path("shop"),
            "/api/v1/services/shop/compare?since=1h&selection=slow&baseline=rest\
             &operation=GET%20%2Fp%2F%7Bid%7D&pct=99"
        );
        let w = ServicePageFilters::from(
            "since=10&until=20&selection=window&window_since=12&window_until=15&baseline=previous",
        );
        assert_eq!(
            w.compare_path("s"),
            "/api/v1/services/s/compare?since=10&until=20&selection=window&baseline=previous\
             &window_since=12&window_until=15"
        );
        assert_eq!(w.route("s").to_string(), "/services/s?since=10&until=20&selection=window&window_since=12&window_until=15&baseline=previous");
        assert_eq!(MapFilters::default().api_path(), "/api/v1/map?since=1h");
        assert_eq!(
            MapFilters::from("service=x&since=6h").api_path(),
            "/api/v1/map?since=6h&service=x"
        );
    }
}
