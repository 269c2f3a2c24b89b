//! Trace search and its count: the indexed filters in SQL, attribute filters span by span over
//! a bounded number of candidates.

use otelscope_app::model::{has_attr_text, Span, TraceSummary, SELF_SERVICES};
use rusqlite::Connection;

use super::super::request::TraceQuery;
use super::super::StoreError;
use super::traces::each_span;

/// Candidate traces an attribute filter may decode before search gives up and returns what it
/// found (keeps one query from scanning the whole store).
const ATTR_SCAN_LIMIT: usize = 5_000;

/// The `WHERE` conditions of a trace search (after `WHERE 1 = 1`) and their arguments; the
/// attribute filters are not among them (they are checked span by span).
fn search_filter(q: &TraceQuery) -> (String, Vec<rusqlite::types::Value>) {
    let mut sql = String::new();
    let mut args: Vec<rusqlite::types::Value> = Vec::new();
    let mut arg = |sql: &mut String, clause: &str, value: rusqlite::types::Value| {
        args.push(value);
        sql.push_str(&clause.replace('?', &format!("?{}", args.len())));
    };
    if let Some(since) = q.since_ns {
        arg(&mut sql, " AND start_ns >= ?", (since as i64).into());
    }
    if let Some(until) = q.until_ns {
        arg(&mut sql, " AND start_ns < ?", (until as i64).into());
    }
    if let Some(min) = q.min_duration_ns {
        arg(&mut sql, " AND end_ns - start_ns >= ?", (min as i64).into());
    }
    if let Some(max) = q.max_duration_ns {
        arg(&mut sql, " AND end_ns - start_ns <= ?", (max as i64).into());
    }
    match q.error {
        Some(true) => sql.push_str(" AND error_count > 0"),
        Some(false) => sql.push_str(" AND error_count = 0"),
        None => {}
    }
    match (&q.service, &q.name) {
        (Some(service), Some(name)) => {
            arg(&mut sql, " AND EXISTS (SELECT 1 FROM trace_ops o WHERE o.trace_id = t.trace_id AND o.service = ?", service.clone().into());
            arg(&mut sql, " AND o.name = ?)", name.clone().into());
        }
        (Some(service), None) => arg(
            &mut sql,
            " AND EXISTS (SELECT 1 FROM trace_ops o WHERE o.trace_id = t.trace_id AND o.service = ?)",
            service.clone().into(),
        ),
        (None, Some(name)) => arg(
            &mut sql,
            " AND EXISTS (SELECT 1 FROM trace_ops o WHERE o.trace_id = t.trace_id AND o.name = ?)",
            name.clone().into(),
        ),
        (None, None) => {}
    }
    let names_self = q.service.as_deref().is_some_and(|s| SELF_SERVICES.contains(&s));
    if !q.include_self && !names_self {
        // Literally the condition of the partial index `traces_start_others` (schema v9), so
        // the planner can walk it; the names are our constants, not input.
        sql.push_str(" AND root_service NOT IN ('otelscope', 'otelscope-ui')");
    }
    (sql, args)
}

/// How many traces match `q`, counting at most `cap` (so a count costs at most `cap` index
/// rows); `None` when attribute filters make counting a scan of spans.
pub(super) fn count(
    conn: &Connection,
    q: &TraceQuery,
    cap: usize,
) -> Result<Option<u64>, StoreError> {
    if !q.attrs.is_empty() {
        return Ok(None);
    }
    let (filter, args) = search_filter(q);
    let sql =
        format!("SELECT COUNT(*) FROM (SELECT 1 FROM traces t WHERE 1 = 1{filter} LIMIT {cap})");
    let n: i64 = conn.query_row(&sql, rusqlite::params_from_iter(args), |row| row.get(0))?;
    Ok(Some(n as u64))
}

/// Trace summaries matching `q`, newest first (see `Store::search_traces`).
pub(super) fn search(conn: &Connection, q: &TraceQuery) -> Result<Vec<TraceSummary>, StoreError> {
    let (filter, args) = search_filter(q);
    let mut sql = format!(
        "SELECT trace_id, root_service, root_name, start_ns, end_ns - start_ns, span_count, error_count,
                has_root
         FROM traces t WHERE 1 = 1{filter}"
    );
    sql.push_str(" ORDER BY start_ns DESC");
    if q.attrs.is_empty() {
        sql.push_str(&format!(" LIMIT {}", q.limit));
    }
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query(rusqlite::params_from_iter(args))?;
    let mut found = Vec::new();
    let mut scanned = 0;
    while let Some(row) = rows.next()? {
        let summary = TraceSummary {
            trace_id: row.get(0)?,
            root_service: row.get(1)?,
            root_name: row.get(2)?,
            start_ns: row.get::<_, i64>(3)? as u64,
            duration_ns: row.get::<_, i64>(4)? as u64,
            span_count: row.get::<_, i64>(5)? as u64,
            error_count: row.get::<_, i64>(6)? as u64,
            root_missing: row.get::<_, i64>(7)? == 0,
            ..TraceSummary::default()
        };
        if !q.attrs.is_empty() {
            scanned += 1;
            if scanned > ATTR_SCAN_LIMIT {
                break;
            }
            // Span by span, stopping at the first match: a candidate may be a huge trace.
            let mut matched = false;
            each_span(conn, &summary.trace_id, &mut |span| {
                matched = span_has_attrs(&span, &q.attrs);
                !matched
            })?;
            if !matched {
                continue;
            }
        }
        found.push(summary);
        if found.len() >= q.limit {
            break;
        }
    }
    Ok(found)
}

/// Whether `span` (its attributes or its resource's) carries every `KEY=VALUE` in `attrs`, the
/// value compared as the details panel shows it (`model::has_attr_text`).
fn span_has_attrs(span: &Span, attrs: &[(String, String)]) -> bool {
    attrs.iter().all(|(key, want)| has_attr_text(span, key, want))
}
