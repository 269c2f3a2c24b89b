//! Pure: a trace's log records by span, for the span details' list and the rows' "error logs"
//! mark. Records without a span id belong to the trace as a whole and show under its root.
//! `/api/v1/logs?trace_id=` is read into a lean type of its own (`TraceLogs`: only the fields
//! the waterfall shows, no `serde(flatten)`), since this is in the main web bundle.

use serde::Deserialize;

use crate::model::{AttrValue, SeverityBand};

/// `/api/v1/logs?trace_id=…` as the waterfall reads it (other fields are skipped).
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct TraceLogs {
    pub logs: Vec<TraceLog>,
    /// Set when the trace has more records than the answer holds.
    #[serde(default)]
    pub older: Option<String>,
}

/// One record of a trace: what a span's details list.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct TraceLog {
    pub id: String,
    pub time_ns: u64,
    pub severity_number: i32,
    #[serde(default)]
    pub severity_text: String,
    pub body: AttrValue,
    #[serde(default)]
    pub span_id: Option<String>,
}

impl TraceLog {
    fn span(&self) -> Option<&str> {
        self.span_id.as_deref().filter(|s| !s.is_empty())
    }
}

/// A trace's records indexed for the waterfall.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SpanLogs {
    /// Oldest first.
    pub entries: Vec<TraceLog>,
    /// Spans with a record at ERROR or above, sorted.
    error_spans: Vec<String>,
    /// The answer held fewer records than the trace has.
    pub partial: bool,
}

impl SpanLogs {
    /// Indexes an answer (newest first, as the API gives it).
    pub fn new(answer: &TraceLogs) -> SpanLogs {
        let mut entries = answer.logs.clone();
        entries.reverse();
        let mut error_spans: Vec<String> = entries
            .iter()
            .filter(|e| SeverityBand::of(e.severity_number) >= SeverityBand::Error)
            .filter_map(|e| e.span().map(str::to_owned))
            .collect();
        error_spans.sort_unstable();
        error_spans.dedup();
        SpanLogs { entries, error_spans, partial: answer.older.is_some() }
    }

    /// Whether span `span_id` has a record at ERROR or above.
    pub fn has_error(&self, span_id: &str) -> bool {
        self.error_spans.binary_search_by(|s| s.as_str().cmp(span_id)).is_ok()
    }

    /// The records a span's details list, oldest first: its own, then for a root
    /// (`with_unlinked`) the trace's records without a span id.
    pub fn of_span(&self, span_id: &str, with_unlinked: bool) -> Vec<&TraceLog> {
        let own = self.entries.iter().filter(|e| e.span() == Some(span_id));
        let rest = self.entries.iter().filter(|e| with_unlinked && e.span().is_none());
        own.chain(rest).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: &str, span: Option<&str>, severity: i32) -> TraceLog {
        TraceLog {
            id: id.into(),
            time_ns: 0,
            severity_number: severity,
            severity_text: String::new(),
            body: AttrValue::String(format!("log {id}")),
            span_id: span.map(Into::into),
        }
    }

    #[test]
    fn records_go_to_their_span_oldest_first_and_the_rest_to_the_root() {
        // Newest first, as the API answers.
        let answer = TraceLogs {
            logs: vec![
                entry("4", Some("a"), 17),
                entry("3", None, 9),
                entry("2", Some("a"), 9),
                entry("1", Some("b"), 13),
                entry("0", Some(""), 21),
            ],
            older: None,
        };
        let logs = SpanLogs::new(&answer);
        let ids = |list: Vec<&TraceLog>| list.iter().map(|e| e.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(logs.of_span("a", false)), ["2", "4"]);
        assert_eq!(ids(logs.of_span("b", true)), ["1", "0", "3"]);
        assert!(logs.of_span("c", false).is_empty());
        assert!(logs.has_error("a") && !logs.has_error("b"), "warn is not an error");
        assert!(!logs.partial);
    }

    #[test]
    fn the_api_answer_reads_without_the_fields_it_skips() {
        let json = r#"{"logs":[{"id":"7","time_ns":5,"observed_time_ns":6,"severity_number":17,
            "body":{"string":"boom"},"attributes":[],"trace_id":"t","span_id":"s","service":"x",
            "resource":[],"scope":{"name":""}}],"matched":1,"older":"o-1-2"}"#;
        let answer: TraceLogs = serde_json::from_str(json).unwrap();
        assert_eq!(answer.logs[0].id, "7");
        let logs = SpanLogs::new(&answer);
        assert!(logs.partial && logs.has_error("s"));
    }
}
