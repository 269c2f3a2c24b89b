//! `LogFilters`: the `/logs` page as it lives in the URL (`/logs?service=shop&severity=warn&q=..`).
//! The first fields are the API's own (`/api/v1/logs` and its histogram, facets and patterns
//! take the same query), the rest are the page's: the tab, the opened record and its context.

use std::fmt;

use super::{query_pairs, write_query_repeated, Query};
use crate::model::{params, MAX_LOG_LIMIT};

/// The `/logs` page's filters and view.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LogFilters {
    pub service: String,
    /// A service whose records are left out (a service facet's alt-click).
    pub not_service: String,
    /// A minimum: an OTel severity number or a band's name (`warn`).
    pub severity: String,
    /// Full text: words, `"phrases"`, `-excluded`.
    pub q: String,
    /// `KEY=VALUE`.
    pub attr: String,
    pub trace_id: String,
    pub span_id: String,
    /// A pattern's id (`/api/v1/logs/patterns`): its records only.
    pub pattern: String,
    /// A preset from `RANGES` or any time the API takes (Unix ns, RFC 3339).
    pub since: String,
    pub until: String,
    pub limit: String,
    /// Where the page starts (`LogPage::older` / `newer`).
    pub cursor: String,
    /// `patterns` for the Patterns tab; empty for the records.
    pub tab: String,
    /// The id of the record whose details are open.
    pub open: String,
    /// `1`: the opened record's details show the records around it.
    pub context: String,
}

query_fields!(LogFilters: service, not_service, severity, q, attr, trace_id, span_id, pattern, since, until,
    limit, cursor, tab, open, context);

/// How many of [`LogFilters`]' fields (from the first) select records: what the histogram,
/// facets and patterns take.
const SELECTING_FIELDS: usize = 10;
/// How many (from the first) `/api/v1/logs` takes: the selection, its page size and cursor.
const PAGE_FIELDS: usize = 12;

/// How many records around an opened one its context shows, each side.
pub const CONTEXT_RECORDS: usize = 10;

impl LogFilters {
    /// `/api/v1/logs?…`: the page of records.
    pub fn api_path(&self) -> String {
        let pairs = self.pairs();
        super::with_query("/api/v1/logs", &Query(&pairs[..PAGE_FIELDS]).to_string())
    }

    /// `/api/v1/logs/{what}?…` (`histogram`, `facets`, `patterns`): the same selection.
    pub fn aggregate_path(&self, what: &str) -> String {
        let pairs = self.pairs();
        let path = format!("/api/v1/logs/{what}");
        super::with_query(&path, &Query(&pairs[..SELECTING_FIELDS]).to_string())
    }

    /// `/api/v1/logs?…&since=NS&limit=1`: how many records of this selection arrived at or
    /// after `since_ns` (its `matched`), for "N new" while the live tail is paused.
    pub fn newer_path(&self, since_ns: u64) -> String {
        let since = since_ns.to_string();
        let mut pairs: Vec<(&str, &str)> = self.pairs()[..SELECTING_FIELDS].to_vec();
        for pair in pairs.iter_mut() {
            if pair.0 == "since" {
                pair.1 = &since;
            }
        }
        pairs.push(("limit", "1"));
        format!("/api/v1/logs?{}", Query(&pairs))
    }

    /// `/api/v1/logs/{id}/context?…` of the opened record: with its neighbours when `context`.
    pub fn context_path(&self) -> Option<String> {
        if self.open.is_empty() {
            return None;
        }
        let around = if self.context.is_empty() { 0 } else { CONTEXT_RECORDS };
        let id = super::encode(&self.open);
        Some(format!("/api/v1/logs/{id}/context?before={around}&after={around}"))
    }

    /// The fields whose value the API would refuse: the form marks them.
    pub fn invalid_fields(&self) -> Vec<&'static str> {
        let checks: [(&'static str, bool); 3] = [
            ("severity", params::min_severity(&self.severity).is_some()),
            ("attr", params::attr_filter(&self.attr).is_some()),
            ("limit", params::page_limit(&self.limit, MAX_LOG_LIMIT).is_some()),
        ];
        checks
            .into_iter()
            .filter(|(key, ok)| !ok && !self.field(key).is_empty())
            .map(|(key, _)| key)
            .collect()
    }

    /// A new selection keeps the view's tab but starts at the newest record, nothing opened.
    fn reselected(&self) -> LogFilters {
        LogFilters {
            cursor: String::new(),
            open: String::new(),
            context: String::new(),
            ..self.clone()
        }
    }

    /// Only the records of `service` (a facet's click).
    pub fn with_service(&self, service: &str) -> LogFilters {
        LogFilters { service: service.to_owned(), ..self.reselected() }
    }

    /// Without the records of `service` (a service facet's alt-click): `not_service`.
    pub fn without_service(&self, service: &str) -> LogFilters {
        let kept = if self.service == service { String::new() } else { self.service.clone() };
        LogFilters { service: kept, not_service: service.to_owned(), ..self.reselected() }
    }

    /// At least `band`'s severity (a facet's click).
    pub fn with_severity(&self, band: &str) -> LogFilters {
        LogFilters { severity: band.to_owned(), ..self.reselected() }
    }

    /// Without the records that contain `text` (a facet's alt-click): a `-"text"` term of `q`.
    pub fn excluding(&self, text: &str) -> LogFilters {
        let term = format!("-\"{}\"", text.replace('"', " "));
        let q = if self.q.trim().is_empty() { term } else { format!("{} {term}", self.q.trim()) };
        LogFilters { q, ..self.reselected() }
    }

    /// The range `since_ns`..`until_ns` (a histogram bar's click).
    pub fn zoomed(&self, since_ns: u64, until_ns: u64) -> LogFilters {
        LogFilters { since: since_ns.to_string(), until: until_ns.to_string(), ..self.reselected() }
    }

    /// The records of pattern `id` (a pattern's click), on the records tab.
    pub fn of_pattern(&self, id: &str) -> LogFilters {
        LogFilters { pattern: id.to_owned(), tab: String::new(), ..self.reselected() }
    }

    /// The page that starts at `cursor`.
    pub fn at_cursor(&self, cursor: &str) -> LogFilters {
        LogFilters { cursor: cursor.to_owned(), open: String::new(), ..self.clone() }
    }

    /// The same page with record `id`'s details open (or closed, for an empty `id`).
    pub fn opened(&self, id: &str, context: bool) -> LogFilters {
        LogFilters {
            open: id.to_owned(),
            context: if context { "1".into() } else { String::new() },
            ..self.clone()
        }
    }

    /// The tab `tab` (`""` records, `patterns`).
    pub fn on_tab(&self, tab: &str) -> LogFilters {
        LogFilters { tab: tab.to_owned(), open: String::new(), ..self.clone() }
    }

    /// The records around record `id` of a trace (a span's log link): its trace, opened with
    /// its context.
    pub fn around(trace_id: &str, id: &str) -> LogFilters {
        LogFilters {
            trace_id: trace_id.to_owned(),
            open: id.to_owned(),
            context: "1".into(),
            ..LogFilters::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_paths_take_the_selection_and_leave_the_view_out() {
        let filters = LogFilters::from(
            "service=shop&severity=warn&q=%22timed+out%22+-retry&attr=k%3Dv&since=1h&limit=50&cursor=o-1-2&tab=patterns&open=7&context=1",
        );
        assert_eq!(
            filters.api_path(),
            "/api/v1/logs?service=shop&severity=warn&q=%22timed%20out%22%20-retry&attr=k%3Dv&since=1h&limit=50&cursor=o-1-2"
        );
        assert_eq!(
            filters.aggregate_path("histogram"),
            "/api/v1/logs/histogram?service=shop&severity=warn&q=%22timed%20out%22%20-retry&attr=k%3Dv&since=1h"
        );
        assert_eq!(filters.context_path().unwrap(), "/api/v1/logs/7/context?before=10&after=10");
        assert_eq!(LogFilters::default().api_path(), "/api/v1/logs");
        assert_eq!(LogFilters::default().context_path(), None);
        assert_eq!(LogFilters::from(filters.to_string().as_str()), filters);
    }

    #[test]
    fn new_records_are_counted_from_a_time_within_the_selection() {
        let filters = LogFilters::from("service=a&since=1h&cursor=x&limit=5");
        assert_eq!(filters.newer_path(42), "/api/v1/logs?service=a&since=42&limit=1");
        assert_eq!(LogFilters::default().newer_path(7), "/api/v1/logs?since=7&limit=1");
    }

    #[test]
    fn clicks_make_new_selections() {
        let filters = LogFilters::from("q=boom&cursor=c&open=9&tab=patterns");
        let svc = filters.with_service("checkout");
        assert_eq!(svc.to_string(), "service=checkout&q=boom&tab=patterns");
        assert_eq!(filters.excluding("a \"b\"").q, "boom -\"a  b \"");
        assert_eq!(
            svc.without_service("checkout").to_string(),
            "not_service=checkout&q=boom&tab=patterns"
        );
        assert_eq!(
            filters.without_service("a&b").aggregate_path("facets"),
            "/api/v1/logs/facets?not_service=a%26b&q=boom"
        );
        assert_eq!(LogFilters::default().excluding("x").q, "-\"x\"");
        assert_eq!(filters.zoomed(10, 20).to_string(), "q=boom&since=10&until=20&tab=patterns");
        assert_eq!(filters.of_pattern("p1").to_string(), "q=boom&pattern=p1");
        assert_eq!(filters.at_cursor("o-2").to_string(), "q=boom&cursor=o-2&tab=patterns");
        assert_eq!(LogFilters::around("ab", "5").to_string(), "trace_id=ab&open=5&context=1");
    }

    #[test]
    fn refused_values_are_named() {
        let bad = LogFilters::from("severity=loud&attr=nokey&limit=0");
        assert_eq!(bad.invalid_fields(), ["severity", "attr", "limit"]);
        for good in ["severity=WARN", "severity=17", "severity=warning", "attr=a%3Db&limit=1000"] {
            assert!(LogFilters::from(good).invalid_fields().is_empty(), "{good}");
        }
    }
}
