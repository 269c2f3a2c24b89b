//! What can be asked of a store: the request types of the `Store` methods. The query layer
//! (`query::params`, `query::flame_query`) parses the API's query strings into them; a store
//! reads them and knows nothing of query strings.

use crate::stacks::Matcher;

/// Filters for trace search. Service and name match any span of the trace (as Jaeger does).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TraceQuery {
    pub service: Option<String>,
    pub name: Option<String>,
    pub min_duration_ns: Option<u64>,
    pub max_duration_ns: Option<u64>,
    /// `Some(true)`: traces with an error span; `Some(false)`: traces without one.
    pub error: Option<bool>,
    /// `KEY=VALUE` pairs that one span of the trace must all carry (values compared as text).
    pub attrs: Vec<(String, String)>,
    pub since_ns: Option<u64>,
    pub until_ns: Option<u64>,
    /// The most summaries returned (at least 1 when parsed).
    pub limit: usize,
    /// Also traces whose root is one of otelscope's own services (`include_self=1`); they are
    /// left out otherwise, unless `service` names one.
    pub include_self: bool,
}

/// Filters for log records (`/api/v1/logs` and its histogram, facets, patterns), all AND-ed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LogQuery {
    /// The record's service, exactly.
    pub service: Option<String>,
    /// Services whose records are left out (`not_service=`, a facet's alt-click), exactly.
    pub exclude_services: Vec<String>,
    /// Lowest OTel severity number kept (e.g. 17 for ERROR and above); records with severity
    /// 0 (unset) are left out by any minimum above 0.
    pub min_severity: Option<i32>,
    /// `q`: full-text terms over the body and the attribute values (each value as
    /// `model::value_text` reads it), by whole words as SQLite FTS5's `unicode61` tokenizer
    /// splits them (case and diacritics folded): a word matches a word, a phrase consecutive
    /// words; `exclude` leaves out the records that contain it.
    pub text: Vec<TextTerm>,
    /// `KEY=VALUE` pairs the record's own attributes must all carry (values compared as
    /// `model::value_text` reads them, exactly).
    pub attrs: Vec<(String, String)>,
    /// Lowercase hex, exactly.
    pub trace_id: Option<String>,
    pub span_id: Option<String>,
    /// The record's time (`time_ns`): `since_ns` inclusive, `until_ns` exclusive.
    pub since_ns: Option<u64>,
    pub until_ns: Option<u64>,
    /// Also otelscope's own services; they are left out otherwise, unless `service` names one
    /// or `trace_id` is given.
    pub include_self: bool,
    /// The most records a page holds (`log_page`); ignored by the other methods.
    pub limit: usize,
    /// Where a page starts (`log_page` only); `None`: at the newest match.
    pub cursor: Option<LogCursor>,
}

pub use otelscope_app::model::params::TextTerm;

/// A position between two records in the order pages use, (time, id) descending, and which
/// way to go from it. On the wire an opaque string (`LogCursor::encode`, `LogCursor::parse`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LogCursor {
    pub time_ns: u64,
    /// The store's record id (`LogEntry.id` read as a number).
    pub id: i64,
    /// `true`: the records after it in page order (older); `false`: before it (newer), the
    /// `limit` nearest of them, still answered newest first.
    pub older: bool,
}

impl LogCursor {
    /// `o` or `n`, then the time and the id in hex: `o-17a3b2c4d5e6f708-2a`.
    pub fn encode(&self) -> String {
        format!("{}-{:x}-{:x}", if self.older { 'o' } else { 'n' }, self.time_ns, self.id)
    }

    /// A cursor `encode` made; `None` for anything else.
    pub fn parse(text: &str) -> Option<LogCursor> {
        let mut parts = text.split('-');
        let older = match parts.next()? {
            "o" => true,
            "n" => false,
            _ => return None,
        };
        let time_ns = u64::from_str_radix(parts.next()?, 16).ok()?;
        let id = i64::from_str_radix(parts.next()?, 16).ok()?;
        if parts.next().is_some() || time_ns > i64::MAX as u64 || id < 0 {
            return None;
        }
        Some(LogCursor { time_ns, id, older })
    }
}

/// Counts of the records `logs` matches per `step_ns` from `since_ns` (inclusive) to
/// `until_ns` (exclusive), split by severity band; `logs.since_ns`/`until_ns` are ignored.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LogHistogramQuery {
    pub logs: LogQuery,
    pub since_ns: u64,
    pub until_ns: u64,
    /// At least 1; the query layer keeps the range within `MAX_LOG_BUCKETS` steps.
    pub step_ns: u64,
}

/// The most buckets a histogram holds; a store refuses more work than this (it answers the
/// first `MAX_LOG_BUCKETS`).
pub const MAX_LOG_BUCKETS: u64 = 1_000;

/// Filters for metrics: the catalog of names, or the series of one name.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MetricQuery {
    /// Without a name the answer is the catalog of metric names.
    pub name: Option<String>,
    pub service: Option<String>,
    pub since_ns: Option<u64>,
    pub until_ns: Option<u64>,
    /// Keep the last point of each series per step.
    pub step_ns: Option<u64>,
    /// With a name: the most points read, newest first (over all its series, before `step`
    /// thins them). Without: the most names in the catalog.
    pub limit: usize,
}

/// Cache lookups over a range, from the rollups.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CacheQuery {
    pub since_ns: u64,
    pub until_ns: u64,
    /// A whole number of rollup buckets (10 s), chosen so the range has at most
    /// `MAX_INSIGHT_POINTS` steps.
    pub step_ns: u64,
    pub service: Option<String>,
    /// Distinct miss example traces wanted per cache: the store reads enough rows for this
    /// many (`query::cache::MISS_EXAMPLES` from the API).
    pub miss_examples: usize,
}

/// Retry behaviour over a range, from the rollups.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RetryQuery {
    pub since_ns: u64,
    pub until_ns: u64,
    /// The width of a point of the answer's series (whole 10 s buckets); the store reads
    /// buckets, the query layer sums them into steps.
    pub step_ns: u64,
    pub service: Option<String>,
    /// Distinct example traces wanted per operation and kind: the store reads enough rows for
    /// this many (`query::retries::EXAMPLES_PER_KIND` from the API).
    pub examples_per_kind: usize,
}

/// An operation over a range of trace starts, for a flame graph.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OperationQuery {
    pub service: String,
    /// `None`: the service's root spans.
    pub name: Option<String>,
    /// `match=root`: only stacks the operation is the first frame of (whole traces);
    /// `match=any`: every span of the operation wherever it sits, as the root of its subtree.
    pub root_only: bool,
    pub since_ns: u64,
    pub until_ns: u64,
}

impl OperationQuery {
    pub fn matcher(&self) -> Matcher<'_> {
        Matcher { service: &self.service, name: self.name.as_deref(), root_only: self.root_only }
    }

    /// Which spans it folds, as the answer's `matched_by` says.
    pub fn matched_by(&self) -> otelscope_app::model::MatchedBy {
        if self.root_only {
            otelscope_app::model::MatchedBy::Root
        } else {
            otelscope_app::model::MatchedBy::Any
        }
    }
}
