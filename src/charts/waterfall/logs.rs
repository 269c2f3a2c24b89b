//! Pure: a trace's log records by span, for the span details' list and the rows' "error logs"
//! mark. Records without a span id belong to the trace as a whole and show under its root.

use std::collections::{HashMap, HashSet};

use crate::model::{LogEntry, SeverityBand};

/// A trace's records (as `/api/v1/logs?trace_id=` answered them, newest first), indexed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SpanLogs {
    pub entries: Vec<LogEntry>,
    /// Span id → indexes into `entries`, oldest first.
    pub by_span: HashMap<String, Vec<usize>>,
    /// Records with no span id, oldest first.
    pub unlinked: Vec<usize>,
    /// Spans with a record at ERROR or above.
    pub error_spans: HashSet<String>,
    /// The answer held fewer records than the trace has.
    pub partial: bool,
}

impl SpanLogs {
    /// Indexes `entries`; `partial` when the answer was cut at its limit.
    pub fn new(entries: Vec<LogEntry>, partial: bool) -> SpanLogs {
        let mut logs = SpanLogs { partial, ..SpanLogs::default() };
        for (i, entry) in entries.iter().enumerate().rev() {
            match entry.record.span_id.as_deref().filter(|s| !s.is_empty()) {
                Some(span) => {
                    logs.by_span.entry(span.to_owned()).or_default().push(i);
                    if SeverityBand::of(entry.record.severity_number) >= SeverityBand::Error {
                        logs.error_spans.insert(span.to_owned());
                    }
                }
                None => logs.unlinked.push(i),
            }
        }
        logs.entries = entries;
        logs
    }

    /// The records a span's details list: its own, and for a root (`with_unlinked`) the
    /// trace's records without a span id after them.
    pub fn of_span(&self, span_id: &str, with_unlinked: bool) -> Vec<&LogEntry> {
        let own = self.by_span.get(span_id).into_iter().flatten();
        let rest = self.unlinked.iter().filter(|_| with_unlinked);
        own.chain(rest).map(|&i| &self.entries[i]).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AttrValue, LogRecord, Scope};

    fn entry(id: &str, span: Option<&str>, severity: i32) -> LogEntry {
        LogEntry {
            id: id.into(),
            record: LogRecord {
                time_ns: 0,
                observed_time_ns: 0,
                severity_number: severity,
                severity_text: String::new(),
                body: AttrValue::String(format!("log {id}")),
                attributes: vec![],
                trace_id: Some("t".into()),
                span_id: span.map(Into::into),
                event_name: String::new(),
                service: "s".into(),
                resource: vec![],
                scope: Scope::default(),
            },
        }
    }

    #[test]
    fn records_go_to_their_span_oldest_first_and_the_rest_to_the_root() {
        // Newest first, as the API answers.
        let logs = SpanLogs::new(
            vec![
                entry("4", Some("a"), 17),
                entry("3", None, 9),
                entry("2", Some("a"), 9),
                entry("1", Some("b"), 13),
                entry("0", Some(""), 21),
            ],
            false,
        );
        let ids = |list: Vec<&LogEntry>| list.iter().map(|e| e.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(logs.of_span("a", false)), ["2", "4"]);
        assert_eq!(ids(logs.of_span("b", true)), ["1", "0", "3"]);
        assert!(logs.of_span("c", false).is_empty());
        assert_eq!(logs.error_spans, HashSet::from(["a".to_owned()]), "warn is not an error");
    }
}
