//! `ParamError`: why a query string was refused. Each message names the parameter and, where
//! there is one, the value; the API answers it as a 400 (`From<ParamError> for ApiError`).

use otelscope_app::model::{MAX_LOG_LIMIT, MAX_TRACE_LIMIT as MAX_LIMIT};

/// The largest time or duration in nanoseconds the store can compare: it keeps them as SQLite
/// integers (`i64`), where a larger `u64` would wrap to a negative number and match everything
/// (`since=18446744073709551615` found every trace).
pub use otelscope_app::model::params::MAX_NS;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ParamError {
    #[error("{key} must be a number of milliseconds, not {value:?}")]
    Millis { key: String, value: String },
    #[error("{key} must be a non-negative number of milliseconds")]
    NegativeMillis { key: String },
    #[error("{key} must be less than {} milliseconds", MAX_NS / 1_000_000)]
    MillisTooLarge { key: String },
    #[error("{key} must be RFC 3339, Unix nanoseconds or a duration like 15m, not {value:?}")]
    Time { key: String, value: String },
    #[error("{key} must be at most {MAX_NS} (Unix nanoseconds), not {value:?}")]
    TimeTooLate { key: String, value: String },
    /// `since` after `until` (or `base_since` after `base_until`).
    #[error("{since} must not be after {until}")]
    Backwards { since: &'static str, until: &'static str },
    /// A duration parameter (`step`); `example` is one that would do.
    #[error("{key} must be a duration like {example}, not {value:?}")]
    Duration { key: &'static str, example: &'static str, value: String },
    #[error("limit must be a whole number from 1 (at most {MAX_LIMIT}), not {0:?}")]
    Limit(String),
    /// The metrics `limit`, which is clamped rather than refused past its bounds.
    #[error("limit must be a number, not {0:?}")]
    MetricLimit(String),
    #[error("{key} must be a number 0-24 or a level (trace, debug, info, warn, error, fatal), not {value:?}")]
    Severity { key: String, value: String },
    #[error("limit must be a whole number from 1 (at most {MAX_LOG_LIMIT}), not {0:?}")]
    LogLimit(String),
    #[error("cursor must be a cursor from an earlier answer (older or newer), not {0:?}")]
    Cursor(String),
    #[error("{key} must be {digits} hex digits, not {value:?}")]
    HexId { key: &'static str, digits: usize, value: String },
    #[error("{key} must be a whole number of records, not {value:?}")]
    Context { key: String, value: String },
    #[error("status must be error, ok or any, not {0:?}")]
    Status(String),
    #[error("attr must be KEY=VALUE, not {0:?}")]
    Attr(String),
    #[error("{key} must be 1 or 0, not {value:?}")]
    Flag { key: String, value: String },
    #[error("{key} must be 32 hex digits, not {value:?}")]
    TraceId { key: &'static str, value: String },
    #[error("match must be any or root, not {0:?}")]
    Match(String),
    #[error("{0} is given twice")]
    Twice(String),
    #[error("name needs service")]
    NameNeedsService,
    #[error("give either trace_id or service, not both")]
    TraceAndService,
    #[error("say what to fold: trace_id=ID, or service=S (with name=N) and since/until")]
    NothingToFold,
    /// An operation's parameter (`name`, `match`, `since`, `until`) with `trace_id`.
    #[error("{0} selects spans of an operation; it does not go with trace_id")]
    NotWithTraceId(&'static str),
    #[error("give either base_trace_id or base_since/base_until, not both")]
    TwoBases,
    #[error("base_until needs base_since")]
    BaseUntilAlone,
    #[error(
        "base_since compares two ranges of one operation; use it with service, or give base_trace_id"
    )]
    BaseSinceWithTrace,
    /// A parameter the route does not take.
    #[error("unknown parameter {0:?}")]
    Unknown(String),
    /// A parameter with a fixed set of values (`selection`, `baseline`, `kind`, `pct`).
    #[error("{key} must be {allowed}, not {value:?}")]
    OneOf { key: &'static str, allowed: &'static str, value: String },
    /// A parameter that needs another (`window_since` needs `selection=window`).
    #[error("{0}")]
    Needs(&'static str),
}
