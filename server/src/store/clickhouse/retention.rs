//! Retention in ClickHouse: whole day partitions (the UTC day otelscope received the rows)
//! dropped with `ALTER TABLE … DROP PARTITION ID`, oldest first, from every table at once, so
//! a trace's chunks, summaries, links and rollup rows of that day go together.
//!
//! - Age: every day that ended before `now - max_age` goes (a day still partly inside the age
//!   stays whole: the bound is kept to within a day, never early).
//! - Spans (`span_chunks` counts) and bytes (`system.parts`, active parts on disk): while over,
//!   the oldest day goes, but never the newest one (the day being written; dropping it would
//!   empty the store rather than trim it).
//!
//! A partition is dropped whole whatever the pass's `budget` (a drop is a metadata operation,
//! its cost does not grow with the rows). Dropping a partition another otelscope server dropped
//! already does nothing, so several servers over one database may all run retention.

use std::collections::BTreeMap;

use super::super::{Retention, StoreError};
use super::http::{quote, Reader};
use super::write::DAY_NS;
use super::ClickHouseStore;

/// The day-partitioned tables (the Null table and the view have no parts).
const TABLES: &[&str] = &[
    "span_chunks",
    "traces",
    "trace_ops",
    "service_ops",
    "service_latency",
    "span_links",
    "cache_rollup",
    "cache_examples",
    "retry_rollup",
    "retry_examples",
    "red_rollup",
    "map_edges",
    "map_halves",
    "map_nodes",
];

/// One day partition: its id, bytes on disk (all tables) and spans stored.
#[derive(Default)]
struct Day {
    id: String,
    bytes: u64,
    spans: u64,
}

/// See `Store::enforce_retention`; returns the spans of the days dropped.
pub(super) fn enforce(
    store: &ClickHouseStore,
    retention: Retention,
    now_ns: u64,
) -> Result<u64, StoreError> {
    let db = &store.config.database;
    let tables: Vec<String> = TABLES.iter().map(|t| quote(t)).collect();
    let parts = store.http.query(&format!(
        "SELECT toUInt16(toDate(partition)) AS day, partition_id, toUInt64(sum(bytes_on_disk))
         FROM system.parts WHERE database = {} AND table IN ({}) AND active
         GROUP BY day, partition_id FORMAT RowBinary",
        quote(db),
        tables.join(", ")
    ))?;
    let mut days: BTreeMap<u16, Day> = BTreeMap::new();
    let mut r = Reader::new(&parts);
    while !r.done() {
        let (day, id, bytes) = (r.u16()?, r.string()?, r.u64()?);
        let entry = days.entry(day).or_default();
        entry.id = id;
        entry.bytes += bytes;
    }
    if days.is_empty() {
        return Ok(0);
    }
    let spans = store.http.query(&format!(
        "SELECT toUInt16(day), toUInt64(sum(span_count)) FROM {db}.span_chunks GROUP BY day
         FORMAT RowBinary"
    ))?;
    let mut r = Reader::new(&spans);
    while !r.done() {
        let (day, spans) = (r.u16()?, r.u64()?);
        if let Some(entry) = days.get_mut(&day) {
            entry.spans = spans;
        }
    }
    let doomed = doomed(&days, retention, now_ns);
    let mut dropped = 0;
    for day in doomed {
        let Some(entry) = days.get(&day) else { continue };
        let on =
            store.config.cluster.as_ref().map(|c| format!(" ON CLUSTER {c}")).unwrap_or_default();
        for table in TABLES {
            store.http.query(&format!(
                "ALTER TABLE {db}.{table}{on} DROP PARTITION ID {}",
                quote(&entry.id)
            ))?;
        }
        dropped += entry.spans;
        tracing::info!(day = %entry.id, spans = entry.spans, "Retention dropped a day from ClickHouse.");
    }
    Ok(dropped)
}

/// The days to drop, oldest first (see the module docs).
fn doomed(days: &BTreeMap<u16, Day>, retention: Retention, now_ns: u64) -> Vec<u16> {
    let cutoff_day = now_ns.saturating_sub(retention.max_age_ns) / DAY_NS;
    let newest = days.keys().next_back().copied();
    let (mut spans, mut bytes) =
        days.values().fold((0u64, 0u64), |(s, b), d| (s + d.spans, b + d.bytes));
    let mut out = Vec::new();
    for (&day, d) in days {
        let too_old = retention.max_age_ns < now_ns && u64::from(day) < cutoff_day;
        let over = spans > retention.max_spans || bytes > retention.max_bytes;
        if !(too_old || (over && Some(day) != newest)) {
            break;
        }
        out.push(day);
        spans -= d.spans;
        bytes -= d.bytes;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn days(list: &[(u16, u64, u64)]) -> BTreeMap<u16, Day> {
        list.iter()
            .map(|&(day, spans, bytes)| (day, Day { id: day.to_string(), spans, bytes }))
            .collect()
    }

    #[test]
    fn whole_days_go_by_age_then_oldest_first_while_over_never_the_newest() {
        let stored = days(&[(10, 5, 100), (11, 5, 100), (12, 5, 100)]);
        let now = 12 * DAY_NS + 5;
        let keep = Retention::UNBOUNDED;
        assert!(doomed(&stored, keep, now).is_empty());
        // Day 11 ended at 12 * DAY_NS: older than a cutoff of now - 1 ns; day 12 is not.
        let age = Retention { max_age_ns: 1, ..keep };
        assert_eq!(doomed(&stored, age, now), [10, 11]);
        // Day 11 ends after now - DAY_NS: it stays whole.
        let day = Retention { max_age_ns: DAY_NS, ..keep };
        assert_eq!(doomed(&stored, day, now), [10]);
        assert_eq!(doomed(&stored, Retention { max_spans: 10, ..keep }, now), [10]);
        assert_eq!(doomed(&stored, Retention { max_bytes: 150, ..keep }, now), [10, 11]);
        assert_eq!(
            doomed(&stored, Retention { max_spans: 0, ..keep }, now),
            [10, 11],
            "not the newest"
        );
    }
}
