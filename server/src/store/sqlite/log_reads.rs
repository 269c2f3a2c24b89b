//! Log reads in SQLite: pages, the histogram, facets, context and the patterns' sample. Filters
//! become SQL over `log_records` (and an FTS5 `MATCH` for text, attributes, trace and span);
//! only the records answered are decoded.
use std::collections::{BTreeMap, HashMap};

use otelscope_app::model::{
    BandCount, FacetValue, LogBucket, LogContext, LogEntry, LogFacets, LogHistogram, LogPage,
    LogRecord, SeverityBand, MAX_LOG_MATCHED, SELF_SERVICES,
};
use rusqlite::types::Value;
use rusqlite::{params, params_from_iter, Connection, OptionalExtension};

use super::super::logs::{
    attr_token, id_token, read_chunk, IdKind, LogSample, FACET_TOP, MAX_FACET_SCAN, MAX_LOG_CONTEXT,
};
use super::super::request::{LogCursor, LogHistogramQuery, LogQuery, MAX_LOG_BUCKETS};
use super::super::StoreError;
use super::log_counts;

/// Matches past which a page walks `log_records` in time order, checking each row against the
/// full-text matches, instead of looking each match up and sorting them: a page of `limit` then
/// reads about `limit / density` rows. Ten pages' worth (measured on the bench's store: a word
/// in one record of 12 over the last hour, 10.7 ms looked up and sorted, 4.4 ms walked; a rare
/// word 0.1 ms against 10.7 ms).
const WALK_PAST_PAGES: usize = 10;

/// A query's `WHERE` conditions over `log_records`, their arguments, and the full-text part.
struct Filter {
    /// Conditions on `log_records`' own columns.
    sql: String,
    args: Vec<Value>,
    text: Option<TextMatch>,
    /// Whether the conditions read only what the `id` index holds (time and id): then the
    /// full-text matches can drive a count, each looked up there; a service or severity
    /// condition would add a lookup of the row per match (measured: a service and an
    /// attribute counted 6× slower), so those read as before.
    by_id: bool,
}

/// The full-text part of a filter: records whose text matches (or, `exclude`, does not).
struct TextMatch {
    /// The placeholder number of the `MATCH` expression among the filter's arguments.
    arg: usize,
    /// ` AND log_text.rowid BETWEEN lo AND hi` when a time range bounds the ids, else empty.
    ids: String,
    exclude: bool,
}

impl Filter {
    fn new() -> Filter {
        Filter { sql: "1 = 1".into(), args: Vec::new(), text: None, by_id: true }
    }

    /// `FROM … WHERE …` of the matching records, in the form that reads them in time order:
    /// the full-text matches as a subquery. `walk` makes SQLite walk `log_records` in time order
    /// checking rows against them (worth it when they are dense); otherwise it may look each
    /// match up by id instead (when few).
    fn sql_ordered(&self, walk: bool) -> String {
        let Some(t) = &self.text else { return format!("FROM log_records WHERE {}", self.sql) };
        format!(
            "FROM log_records WHERE {} AND {}id {}IN (SELECT rowid FROM log_text
             WHERE log_text MATCH ?{}{})",
            self.sql,
            if walk { "+" } else { "" },
            if t.exclude { "NOT " } else { "" },
            t.arg,
            t.ids
        )
    }

    /// `FROM … WHERE …` of the matching records in no order (to count them): driven by the
    /// full-text matches, each looked up once as it comes (nothing gathered first), when the
    /// text is wanted rather than excluded and the other conditions are on time only.
    fn sql_unordered(&self) -> String {
        match &self.text {
            Some(t) if !t.exclude && self.by_id => format!(
                "FROM log_text CROSS JOIN log_records ON log_records.id = log_text.rowid
                 WHERE log_text MATCH ?{}{} AND {}",
                t.arg, t.ids, self.sql
            ),
            _ => self.sql_ordered(false),
        }
    }

    /// Whether a page of `limit` of `matched` records (counted up to a cap) is best read by
    /// walking `log_records` in time order (`sql_ordered(true)`).
    fn walk(&self, matched: u64, limit: usize) -> bool {
        self.text.as_ref().is_some_and(|t| !t.exclude)
            && matched >= (limit.saturating_mul(WALK_PAST_PAGES)) as u64
    }

    /// Adds a condition on a column the `id` index does not hold (service, severity).
    fn push_row(&mut self, clause: &str, value: Value) {
        self.by_id = false;
        self.push(clause, value);
    }

    fn push(&mut self, clause: &str, value: Value) {
        self.args.push(value);
        self.sql.push_str(&clause.replace('?', &format!("?{}", self.args.len())));
    }

    /// The arguments with `more` after them.
    fn with(&self, more: impl IntoIterator<Item = Value>) -> Vec<Value> {
        self.args.iter().cloned().chain(more).collect()
    }

    /// The next placeholder number.
    fn next(&self) -> usize {
        self.args.len() + 1
    }
}

/// The conditions for `q` (its cursor and limit aside); `None` when nothing can match (an
/// unknown service).
fn filter(conn: &Connection, q: &LogQuery) -> Result<Option<Filter>, StoreError> {
    let mut f = Filter::new();
    if let Some(since) = q.since_ns {
        f.push(" AND time_ns >= ?", Value::Integer(since.min(i64::MAX as u64) as i64));
    }
    if let Some(until) = q.until_ns {
        f.push(" AND time_ns < ?", Value::Integer(until.min(i64::MAX as u64) as i64));
    }
    if !selection(conn, q, &mut f)? {
        return Ok(None);
    }
    let searchable = |text: &str| text.chars().any(char::is_alphanumeric);
    let phrase = |text: &str| format!("\"{}\"", text.replace('"', "\"\""));
    let mut wanted: Vec<String> = q
        .text
        .iter()
        .filter(|t| !t.exclude && searchable(&t.text))
        .map(|t| phrase(&t.text))
        .collect();
    wanted.extend(q.attrs.iter().map(|(k, v)| attr_token(k, v)));
    wanted.extend(q.trace_id.as_deref().map(|id| id_token(IdKind::Trace, id)));
    wanted.extend(q.span_id.as_deref().map(|id| id_token(IdKind::Span, id)));
    let unwanted: Vec<String> = q
        .text
        .iter()
        .filter(|t| t.exclude && searchable(&t.text))
        .map(|t| phrase(&t.text))
        .collect();
    if wanted.is_empty() && unwanted.is_empty() {
        return Ok(Some(f));
    }
    // The ids stored in the time range bound the full-text match (see the schema's doc).
    let mut ids = String::new();
    if q.since_ns.is_some() || q.until_ns.is_some() {
        let at = |t: Option<u64>| t.map(|t| t.min(i64::MAX as u64) as i64);
        let Some((lo, hi)) = log_counts::id_bounds(conn, at(q.since_ns), at(q.until_ns))? else {
            return Ok(None);
        };
        ids = format!(" AND log_text.rowid BETWEEN {lo} AND {hi}");
    }
    let matching = if !wanted.is_empty() {
        // Excluded words in the same MATCH: FTS5 merges the lists, where a `NOT IN` would
        // look every record up in all of the excluded word's matches.
        let mut matching = format!("({})", wanted.join(" AND "));
        if !unwanted.is_empty() {
            matching = format!("{matching} NOT ({})", unwanted.join(" OR "));
        }
        matching
    } else {
        unwanted.join(" OR ")
    };
    f.args.push(Value::Text(matching));
    f.text = Some(TextMatch { arg: f.args.len(), ids, exclude: wanted.is_empty() });
    Ok(Some(f))
}

/// Adds the conditions on `service` and `severity` of `q` (columns of both `log_records` and
/// `log_counts`) to `f`; `false` when nothing can match (an unknown service).
fn selection(conn: &Connection, q: &LogQuery, f: &mut Filter) -> Result<bool, StoreError> {
    let service_id = |name: &str| -> Result<Option<i64>, StoreError> {
        Ok(conn
            .prepare_cached("SELECT id FROM log_services WHERE name = ?1")?
            .query_row([name], |r| r.get(0))
            .optional()?)
    };
    match &q.service {
        Some(name) => match service_id(name)? {
            Some(id) => f.push_row(" AND service = ?", Value::Integer(id)),
            None => return Ok(false),
        },
        None if !q.include_self && q.trace_id.is_none() => {
            for name in SELF_SERVICES {
                if let Some(id) = service_id(name)? {
                    f.push_row(" AND service != ?", Value::Integer(id));
                }
            }
        }
        None => {}
    }
    for name in &q.exclude_services {
        if let Some(id) = service_id(name)? {
            f.push_row(" AND service != ?", Value::Integer(id));
        }
    }
    if let Some(min) = q.min_severity {
        f.push_row(" AND severity >= ?", Value::Integer(i64::from(min)));
    }
    Ok(true)
}

/// The (time, id) of up to `limit` matches of `f` from `cursor` (or the newest), in page
/// order (newest first); `walk` as `Filter::sql_ordered` says.
fn positions(
    conn: &Connection,
    f: &Filter,
    cursor: Option<LogCursor>,
    limit: usize,
    walk: bool,
) -> Result<Vec<(i64, i64)>, StoreError> {
    let n = f.next();
    let (range, order, more) = match cursor {
        None => (String::new(), "DESC", Vec::new()),
        Some(c) => (
            format!(" AND (time_ns, id) {} (?{n}, ?{})", if c.older { "<" } else { ">" }, n + 1),
            if c.older { "DESC" } else { "ASC" },
            vec![Value::Integer(c.time_ns as i64), Value::Integer(c.id)],
        ),
    };
    let limit_at = n + more.len();
    let sql = format!(
        "SELECT time_ns, id {}{range} ORDER BY time_ns {order}, id {order} LIMIT ?{limit_at}",
        f.sql_ordered(walk)
    );
    let args =
        f.with(more.into_iter().chain([Value::Integer(limit.min(i64::MAX as usize) as i64)]));
    let mut rows: Vec<(i64, i64)> = conn
        .prepare_cached(&sql)?
        .query_map(params_from_iter(args), |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    if order == "ASC" {
        rows.reverse();
    }
    Ok(rows)
}

/// Whether a match of `f` lies beyond (time, id) in page order (`older`) or before it.
fn any_beyond(
    conn: &Connection,
    f: &Filter,
    at: (i64, i64),
    older: bool,
) -> Result<bool, StoreError> {
    let n = f.next();
    let sql = format!(
        "SELECT EXISTS (SELECT 1 {} AND (time_ns, id) {} (?{n}, ?{}))",
        f.sql_ordered(false),
        if older { "<" } else { ">" },
        n + 1
    );
    let args = f.with([Value::Integer(at.0), Value::Integer(at.1)]);
    Ok(conn.prepare_cached(&sql)?.query_row(params_from_iter(args), |r| r.get(0))?)
}

/// How many records match `f`, counting at most `cap`.
fn count(conn: &Connection, f: &Filter, cap: Option<u64>) -> Result<u64, StoreError> {
    let sql = match cap {
        Some(cap) => format!(
            "SELECT COUNT(*) FROM (SELECT 1 {} LIMIT {})",
            f.sql_unordered(),
            cap.min(i64::MAX as u64)
        ),
        None => format!("SELECT COUNT(*) {}", f.sql_unordered()),
    };
    let n: i64 =
        conn.prepare_cached(&sql)?.query_row(params_from_iter(f.with([])), |r| r.get(0))?;
    Ok(n.max(0) as u64)
}

/// The records of `ids`, in that order, read from their chunks (each chunk decompressed once).
fn entries(conn: &Connection, ids: &[i64]) -> Result<Vec<LogEntry>, StoreError> {
    let mut sorted: Vec<i64> = ids.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut found: HashMap<i64, LogRecord> = HashMap::with_capacity(sorted.len());
    let mut find_chunk = conn.prepare_cached(
        "SELECT id, records, data FROM log_chunks WHERE id <= ?1 ORDER BY id DESC LIMIT 1",
    )?;
    let mut at = 0;
    while at < sorted.len() {
        let chunk = find_chunk
            .query_row([sorted[at]], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, Vec<u8>>(2)?))
            })
            .optional()?;
        let Some((first, records, data)) = chunk.filter(|c| sorted[at] < c.0 + c.1) else {
            // Not stored (any more): left out.
            at += 1;
            continue;
        };
        let end = sorted[at..]
            .iter()
            .position(|&id| id >= first + records)
            .map_or(sorted.len(), |n| at + n);
        let positions: Vec<usize> =
            sorted[at..end].iter().map(|&id| (id - first) as usize).collect();
        for (position, record) in positions.iter().zip(read_chunk(&data, &positions)?) {
            found.insert(first + *position as i64, record);
        }
        at = end;
    }
    Ok(ids
        .iter()
        .filter_map(|id| {
            found.get(id).map(|record| LogEntry { id: id.to_string(), record: record.clone() })
        })
        .collect())
}

/// `Store::log_page`.
pub(super) fn page(conn: &Connection, q: &LogQuery) -> Result<LogPage, StoreError> {
    let Some(f) = filter(conn, q)? else { return Ok(LogPage::default()) };
    let limit = q.limit.max(1);
    // Counted first: how many match decides how the page is best read.
    let matched = count(conn, &f, Some(MAX_LOG_MATCHED + 1))?;
    let mut found = positions(conn, &f, q.cursor, limit + 1, f.walk(matched, limit + 1))?;
    let going_newer = q.cursor.is_some_and(|c| !c.older);
    let more = found.len() > limit;
    if more {
        if going_newer {
            found.remove(0);
        } else {
            found.truncate(limit);
        }
    }
    let cursor = |at: (i64, i64), older: bool| {
        LogCursor { time_ns: at.0.max(0) as u64, id: at.1, older }.encode()
    };
    let (older, newer) = match (found.first(), found.last()) {
        (Some(&first), Some(&last)) => {
            let older = if going_newer { any_beyond(conn, &f, last, true)? } else { more };
            let newer = match q.cursor {
                None => false,
                Some(_) if going_newer => more,
                Some(_) => any_beyond(conn, &f, first, false)?,
            };
            (older.then(|| cursor(last, true)), newer.then(|| cursor(first, false)))
        }
        _ => match q.cursor {
            None => (None, None),
            Some(c) => {
                let at = (c.time_ns as i64, c.id);
                let back = any_beyond(conn, &f, at, !c.older)?;
                match (back, c.older) {
                    (true, true) => (None, Some(cursor(at, false))),
                    (true, false) => (Some(cursor(at, true)), None),
                    (false, _) => (None, None),
                }
            }
        },
    };
    let ids: Vec<i64> = found.iter().map(|&(_, id)| id).collect();
    Ok(LogPage {
        logs: entries(conn, &ids)?,
        matched: matched.min(MAX_LOG_MATCHED),
        matched_capped: matched > MAX_LOG_MATCHED,
        older,
        newer,
    })
}

/// `Store::log_histogram`: whole 10 s cells from the rollup (`log_counts`) when only time,
/// service and severity select; records from `log_records` for the rest.
pub(super) fn histogram(
    conn: &Connection,
    q: &LogHistogramQuery,
) -> Result<LogHistogram, StoreError> {
    let step = q.step_ns.max(1);
    let since = q.since_ns.min(i64::MAX as u64);
    let steps = q.until_ns.saturating_sub(since).div_ceil(step).min(MAX_LOG_BUCKETS);
    let until = since.saturating_add(steps.saturating_mul(step)).min(q.until_ns.max(since));
    let mut buckets: Vec<LogBucket> =
        (0..steps).map(|i| LogBucket { start_ns: since + i * step, counts: Vec::new() }).collect();
    let answer =
        |buckets| LogHistogram { since_ns: since, until_ns: until, step_ns: step, buckets };
    let logs = LogQuery { since_ns: Some(since), until_ns: Some(until), ..q.logs.clone() };
    let mut counts: BTreeMap<(usize, SeverityBand), u64> = BTreeMap::new();
    let band_of = |severity: i64| {
        SeverityBand::of(severity.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32)
    };
    let bucket_of = |time: u64| (time.saturating_sub(since) / step) as usize;
    let rollup = logs.text.is_empty()
        && logs.attrs.is_empty()
        && logs.trace_id.is_none()
        && logs.span_id.is_none()
        && step >= log_counts::CELL_NS;
    // The ranges counted record by record: all of it, or the parts the rollup cannot answer.
    let mut exact: Vec<(u64, u64)> = Vec::new();
    if rollup {
        let mut selected = Filter::new();
        if !selection(conn, &logs, &mut selected)? {
            return Ok(answer(buckets));
        }
        let cell = log_counts::CELL_NS;
        // Cells first..end lie inside the range; of those, the ones a bucket's edge cuts
        // (at most one per edge, as a step is at least a cell) are counted from the records.
        let (first, end) = (since.div_ceil(cell), until / cell);
        let whole = |c: u64| bucket_of(c * cell) == bucket_of((c + 1) * cell - 1);
        if first < end {
            exact.push((since, first * cell));
            for k in 1..steps {
                let edge = since + k * step;
                let c = edge / cell;
                if !edge.is_multiple_of(cell) && c >= first && c < end {
                    exact.push((c * cell, (c + 1) * cell));
                }
            }
            exact.push((end * cell, until));
            let cells =
                log_counts::cells(conn, &selected.sql, &selected.args, first as i64, end as i64)?;
            for (c, severity, n) in cells {
                let c = c.max(0) as u64;
                if whole(c) {
                    *counts.entry((bucket_of(c * cell), band_of(severity))).or_default() += n;
                }
            }
        } else {
            exact.push((since, until));
        }
    } else {
        exact.push((since, until));
    }
    for (from, to) in exact {
        if from >= to {
            continue;
        }
        let part = LogQuery { since_ns: Some(from), until_ns: Some(to), ..logs.clone() };
        let Some(f) = filter(conn, &part)? else { continue };
        // Rows in any order (driven by the full-text matches when there are), counted here:
        // cheaper than SQL's GROUP BY, which sorts them first.
        let sql = format!("SELECT time_ns, severity {}", f.sql_unordered());
        let mut stmt = conn.prepare_cached(&sql)?;
        let mut rows = stmt.query(params_from_iter(f.with([])))?;
        while let Some(row) = rows.next()? {
            let (time, severity): (i64, i64) = (row.get(0)?, row.get(1)?);
            *counts.entry((bucket_of(time.max(0) as u64), band_of(severity))).or_default() += 1;
        }
    }
    for ((bucket, band), count) in counts {
        if let Some(b) = buckets.get_mut(bucket) {
            b.counts.push(BandCount { band, count });
        }
    }
    Ok(answer(buckets))
}

/// `Store::log_facets`.
pub(super) fn facets(conn: &Connection, q: &LogQuery) -> Result<LogFacets, StoreError> {
    let Some(f) = filter(conn, q)? else { return Ok(LogFacets::default()) };
    let n = f.next();
    let sql = format!(
        "SELECT service, severity, keyset {} ORDER BY time_ns DESC, id DESC LIMIT ?{n}",
        f.sql_ordered(false)
    );
    let args = f.with([Value::Integer(MAX_FACET_SCAN as i64 + 1)]);
    let mut services: HashMap<i64, u64> = HashMap::new();
    let mut bands: HashMap<SeverityBand, u64> = HashMap::new();
    let mut keysets: HashMap<i64, u64> = HashMap::new();
    let mut scanned = 0u64;
    let mut sampled = false;
    {
        let mut stmt = conn.prepare_cached(&sql)?;
        let mut rows = stmt.query(params_from_iter(args))?;
        while let Some(row) = rows.next()? {
            if scanned == MAX_FACET_SCAN as u64 {
                sampled = true;
                break;
            }
            scanned += 1;
            *services.entry(row.get(0)?).or_default() += 1;
            let severity: i64 = row.get(1)?;
            let band =
                SeverityBand::of(severity.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32);
            *bands.entry(band).or_default() += 1;
            *keysets.entry(row.get(2)?).or_default() += 1;
        }
    }
    let mut name_of = conn.prepare_cached("SELECT name FROM log_services WHERE id = ?1")?;
    let mut service_counts = Vec::new();
    for (id, count) in services {
        if let Some(name) = name_of.query_row([id], |r| r.get::<_, String>(0)).optional()? {
            service_counts.push(FacetValue { value: name, count });
        }
    }
    let mut keys_of = conn.prepare_cached("SELECT keys FROM log_keysets WHERE id = ?1")?;
    let mut keys: HashMap<String, u64> = HashMap::new();
    for (id, count) in keysets {
        if let Some(set) = keys_of.query_row([id], |r| r.get::<_, String>(0)).optional()? {
            for key in set.split('\n').filter(|k| !k.is_empty()) {
                *keys.entry(key.to_owned()).or_default() += count;
            }
        }
    }
    let bands =
        bands.into_iter().map(|(band, count)| FacetValue { value: band.to_string(), count });
    let keys = keys.into_iter().map(|(value, count)| FacetValue { value, count });
    Ok(LogFacets {
        services: top(service_counts),
        severities: top(bands.collect()),
        attribute_keys: top(keys.collect()),
        sampled,
        scanned,
    })
}

/// The `FACET_TOP` largest counts, ties by value.
fn top(mut values: Vec<FacetValue>) -> Vec<FacetValue> {
    values.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
    values.truncate(FACET_TOP);
    values
}

/// `Store::log_context`.
pub(super) fn context(
    conn: &Connection,
    id: &str,
    before: usize,
    after: usize,
) -> Result<Option<LogContext>, StoreError> {
    let Ok(id) = id.parse::<i64>() else { return Ok(None) };
    let anchor: Option<(i64, i64)> = conn
        .prepare_cached("SELECT time_ns, service FROM log_records WHERE id = ?1")?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let Some((time, service)) = anchor else { return Ok(None) };
    let side = |older: bool, n: usize| -> Result<Vec<i64>, StoreError> {
        let (op, order) = if older { ("<", "DESC") } else { (">", "ASC") };
        let sql = format!(
            "SELECT id FROM log_records WHERE service = ?1 AND (time_ns, id) {op} (?2, ?3)
             ORDER BY time_ns {order}, id {order} LIMIT ?4"
        );
        let n = n.min(MAX_LOG_CONTEXT) as i64;
        Ok(conn
            .prepare_cached(&sql)?
            .query_map(params![service, time, id, n], |r| r.get(0))?
            .collect::<Result<_, _>>()?)
    };
    let mut before_ids = side(true, before)?;
    before_ids.reverse();
    let after_ids = side(false, after)?;
    let all: Vec<i64> =
        before_ids.iter().copied().chain([id]).chain(after_ids.iter().copied()).collect();
    let mut records = entries(conn, &all)?;
    let Some(at) = records.iter().position(|e| e.id == id.to_string()) else { return Ok(None) };
    let after = records.split_off(at + 1);
    let Some(record) = records.pop() else { return Ok(None) };
    Ok(Some(LogContext { anchor: id.to_string(), before: records, record, after }))
}

/// `Store::log_sample`.
pub(super) fn sample(
    conn: &Connection,
    q: &LogQuery,
    max_records: usize,
) -> Result<LogSample, StoreError> {
    let Some(f) = filter(conn, q)? else { return Ok(LogSample::default()) };
    let total = count(conn, &f, None)?;
    let found = positions(conn, &f, None, max_records, f.walk(total, max_records))?;
    let ids: Vec<i64> = found.iter().map(|&(_, id)| id).collect();
    Ok(LogSample { entries: entries(conn, &ids)?, total })
}
