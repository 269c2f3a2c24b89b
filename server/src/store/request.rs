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

/// Filters for log records, newest first.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LogQuery {
    pub service: Option<String>,
    pub trace_id: Option<String>,
    /// Lowest OTLP severity number kept (e.g. 17 for ERROR and above).
    pub min_severity: Option<i32>,
    pub since_ns: Option<u64>,
    pub until_ns: Option<u64>,
    pub limit: usize,
}

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

    /// `"root"` or `"any"`, as the answer's `matched_by` says.
    pub fn matched_by(&self) -> &'static str {
        if self.root_only {
            "root"
        } else {
            "any"
        }
    }
}
