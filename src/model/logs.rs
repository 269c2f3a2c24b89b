//! The logs API's answers (`/api/v1/logs` and its histogram, facets, patterns and context).

use serde::{Deserialize, Serialize};

use super::LogRecord;

/// A stored log record with the id the API knows it by (opaque to clients: pass it back to
/// `/api/v1/logs/{id}/context`; it also orders records that share a timestamp).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LogEntry {
    pub id: String,
    #[serde(flatten)]
    pub record: LogRecord,
}

/// `GET /api/v1/logs`: one page of records, newest first.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LogPage {
    pub logs: Vec<LogEntry>,
    /// How many records match the filters, the page aside: exact up to `MAX_LOG_MATCHED`,
    /// then `matched_capped` says "at least".
    pub matched: u64,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub matched_capped: bool,
    /// Cursor for the next (older) page; `None` at the oldest record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub older: Option<String>,
    /// Cursor for the previous (newer) page; `None` when this page starts at the newest match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub newer: Option<String>,
}

/// The largest `matched` counted exactly.
pub const MAX_LOG_MATCHED: u64 = 10_000;
/// The page size when none is asked for, and the largest.
pub const DEFAULT_LOG_LIMIT: usize = 100;
pub const MAX_LOG_LIMIT: usize = 1000;

/// The severity bands the UI colours and the histogram splits by: OTel severity numbers
/// 1-4 TRACE, 5-8 DEBUG, 9-12 INFO, 13-16 WARN, 17-20 ERROR, 21-24 FATAL; 0 (unset) and
/// anything outside 1..=24 is `Unset`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SeverityBand {
    Unset,
    Trace,
    Debug,
    Info,
    Warn,
    Error,
    Fatal,
}

wire_kind!(SeverityBand {
    Unset = "unset",
    Trace = "trace",
    Debug = "debug",
    Info = "info",
    Warn = "warn",
    Error = "error",
    Fatal = "fatal",
});

impl SeverityBand {
    pub const ALL: [SeverityBand; 7] = [
        SeverityBand::Unset,
        SeverityBand::Trace,
        SeverityBand::Debug,
        SeverityBand::Info,
        SeverityBand::Warn,
        SeverityBand::Error,
        SeverityBand::Fatal,
    ];

    /// The band of an OTel severity number.
    pub fn of(number: i32) -> SeverityBand {
        match number {
            1..=4 => SeverityBand::Trace,
            5..=8 => SeverityBand::Debug,
            9..=12 => SeverityBand::Info,
            13..=16 => SeverityBand::Warn,
            17..=20 => SeverityBand::Error,
            21..=24 => SeverityBand::Fatal,
            _ => SeverityBand::Unset,
        }
    }

    /// The lowest severity number in the band (what `severity=warn` means as a minimum).
    pub fn min_number(self) -> i32 {
        match self {
            SeverityBand::Unset => 0,
            SeverityBand::Trace => 1,
            SeverityBand::Debug => 5,
            SeverityBand::Info => 9,
            SeverityBand::Warn => 13,
            SeverityBand::Error => 17,
            SeverityBand::Fatal => 21,
        }
    }
}

/// `GET /api/v1/logs/histogram`: counts per time bucket, split by severity band.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LogHistogram {
    pub since_ns: u64,
    pub until_ns: u64,
    pub step_ns: u64,
    /// One per step from `since_ns`, empty steps included.
    pub buckets: Vec<LogBucket>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LogBucket {
    pub start_ns: u64,
    /// Non-zero bands only.
    pub counts: Vec<BandCount>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BandCount {
    pub band: SeverityBand,
    pub count: u64,
}

/// `GET /api/v1/logs/facets`: the top values in the filtered set.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LogFacets {
    pub services: Vec<FacetValue>,
    /// Severity bands with counts (`value` is the band's text).
    pub severities: Vec<FacetValue>,
    /// Attribute keys present, with how many records carry each.
    pub attribute_keys: Vec<FacetValue>,
    /// The counts came from the newest `scanned` records of a larger set.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sampled: bool,
    pub scanned: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FacetValue {
    pub value: String,
    pub count: u64,
}

/// `GET /api/v1/logs/patterns`: the filtered records clustered into templates.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LogPatterns {
    /// Largest count first.
    pub patterns: Vec<LogPattern>,
    /// Records that match the filters.
    pub total: u64,
    /// Records clustered (the newest ones); when fewer than `total`, counts are scaled up by
    /// `total / scanned` and `sampled` is set.
    pub scanned: u64,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sampled: bool,
    /// The range the sparklines cover, in equal steps: the asked range, from the oldest record
    /// clustered when sampled (0 and 0 when nothing matched).
    #[serde(default)]
    pub since_ns: u64,
    #[serde(default)]
    pub until_ns: u64,
    /// Patterns left out past the largest `patterns.len()` (the smallest ones).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub omitted: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LogPattern {
    /// Stable for the same template text: a filter value (`pattern=ID` on `/api/v1/logs`).
    pub id: String,
    /// The template, `<*>` for the variable parts: `user <*> logged in from <*>`.
    pub template: String,
    /// Records of this pattern (scaled when sampled).
    pub count: u64,
    /// `count / total`, 0..=1.
    pub share: f64,
    /// Per severity band, non-zero only.
    pub severities: Vec<BandCount>,
    pub first_seen_ns: u64,
    pub last_seen_ns: u64,
    /// Counts over the range in equal steps (for a sparkline), oldest first.
    #[serde(default)]
    pub sparkline: Vec<u64>,
    pub example: LogEntry,
}

/// `GET /api/v1/logs/{id}/context`: records of the same service around one, oldest first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LogContext {
    pub anchor: String,
    pub before: Vec<LogEntry>,
    pub record: LogEntry,
    pub after: Vec<LogEntry>,
}
