//! `SqliteStore`: the embedded engine. One writer connection (fed by the ingest writer thread)
//! and a small pool of read connections; on disk in WAL mode, or one in-memory database.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use otelscope_app::model::{
    AttrValue, LogRecord, MetricsAnswer, ServiceSummary, Span, TraceSummary,
};
use rusqlite::functions::FunctionFlags;
use rusqlite::{params, Connection, OpenFlags, OptionalExtension};

use super::latency::{self, Histogram};
use super::query::{LogQuery, MetricQuery, TraceQuery};
use super::{schema, signals, Retention, Store, StoreError, WriteBatch};

/// Candidate traces an attribute filter may decode before search gives up and returns what it
/// found (keeps one query from scanning the whole store).
const ATTR_SCAN_LIMIT: usize = 5_000;

pub struct SqliteStore {
    /// `None` for the in-memory store, whose one connection serves reads too.
    path: Option<PathBuf>,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
    /// Spans currently stored, kept in step with writes and deletions for retention.
    total_spans: AtomicU64,
}

impl SqliteStore {
    /// Opens (creating if needed) `otelscope.db` in `dir`.
    pub fn open(dir: &Path) -> Result<SqliteStore, StoreError> {
        std::fs::create_dir_all(dir)
            .map_err(|source| StoreError::DataDir { path: dir.display().to_string(), source })?;
        let path = dir.join("otelscope.db");
        let mut conn = Connection::open(&path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // In WAL mode NORMAL keeps every commit across a process crash (kill -9); only an OS
        // crash or power loss can lose the last commits.
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        schema::migrate(&mut conn, &path.display().to_string())?;
        SqliteStore::with_writer(Some(path), conn)
    }

    /// A store that writes no file.
    pub fn in_memory() -> Result<SqliteStore, StoreError> {
        let mut conn = Connection::open_in_memory()?;
        schema::migrate(&mut conn, ":memory:")?;
        SqliteStore::with_writer(None, conn)
    }

    fn with_writer(path: Option<PathBuf>, conn: Connection) -> Result<SqliteStore, StoreError> {
        conn.create_scalar_function(
            "latency_merge",
            2,
            FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
            |ctx| {
                let a: Option<Vec<u8>> = ctx.get(0)?;
                let b: Option<Vec<u8>> = ctx.get(1)?;
                Ok(latency::merge_stored(a.as_deref(), b.as_deref()))
            },
        )?;
        let total: i64 =
            conn.query_row("SELECT COALESCE(SUM(span_count), 0) FROM traces", [], |r| r.get(0))?;
        Ok(SqliteStore {
            path,
            writer: Mutex::new(conn),
            readers: Mutex::new(Vec::new()),
            total_spans: AtomicU64::new(total as u64),
        })
    }

    fn writer(&self) -> Result<MutexGuard<'_, Connection>, StoreError> {
        self.writer.lock().map_err(|_| StoreError::Unavailable("writer lock poisoned".into()))
    }

    /// Runs `f` on a read connection: a pooled one on disk, the only one in memory.
    fn read<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let Some(path) = &self.path else {
            return f(&*self.writer()?);
        };
        let pooled = self.readers.lock().ok().and_then(|mut pool| pool.pop());
        let conn = match pooled {
            Some(conn) => conn,
            None => {
                let conn = Connection::open_with_flags(
                    path,
                    OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )?;
                conn.busy_timeout(std::time::Duration::from_secs(5))?;
                conn
            }
        };
        let result = f(&conn);
        if let Ok(mut pool) = self.readers.lock() {
            if pool.len() < 8 {
                pool.push(conn);
            }
        }
        result
    }

    pub fn total_spans(&self) -> u64 {
        self.total_spans.load(Ordering::Relaxed)
    }
}

impl Store for SqliteStore {
    fn write(&self, batches: &[WriteBatch]) -> Result<(), StoreError> {
        let mut by_trace: BTreeMap<&str, Vec<&Span>> = BTreeMap::new();
        for span in batches.iter().flat_map(|b| &b.spans) {
            by_trace.entry(span.trace_id.as_str()).or_default().push(span);
        }
        let logs: Vec<_> = batches.iter().flat_map(|b| &b.logs).collect();
        let metrics: Vec<_> = batches.iter().flat_map(|b| &b.metrics).collect();
        if by_trace.is_empty() && logs.is_empty() && metrics.is_empty() {
            return Ok(());
        }
        let mut conn = self.writer()?;
        let tx = conn.transaction()?;
        signals::insert(&tx, &logs, &metrics)?;
        let mut added = 0u64;
        {
            let mut insert_chunk = tx.prepare_cached(
                "INSERT INTO span_chunks (trace_id, span_count, spans) VALUES (?1, ?2, ?3)",
            )?;
            let mut upsert_trace = tx.prepare_cached(UPSERT_TRACE)?;
            let mut upsert_op = tx.prepare_cached(
                "INSERT INTO trace_ops (trace_id, service, name, span_count, error_count, latency)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (trace_id, service, name) DO UPDATE SET
                   span_count = span_count + excluded.span_count,
                   error_count = error_count + excluded.error_count,
                   latency = latency_merge(latency, excluded.latency)",
            )?;
            // Per service, for `service_stats`: spans, errors, durations.
            let mut per_service: BTreeMap<&str, ServiceDelta> = BTreeMap::new();
            for (trace_id, spans) in &by_trace {
                let blob =
                    serde_json::to_vec(spans).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                insert_chunk.execute(params![trace_id, spans.len() as i64, blob])?;
                let s = summarize(spans);
                upsert_trace.execute(params![
                    trace_id,
                    s.start_ns as i64,
                    s.end_ns as i64,
                    spans.len() as i64,
                    s.errors as i64,
                    s.root_service,
                    s.root_name,
                    s.has_root as i64,
                ])?;
                let mut ops: BTreeMap<(&str, &str), (i64, i64, Histogram)> = BTreeMap::new();
                for span in spans {
                    let op = ops.entry((&span.service, &span.name)).or_default();
                    op.0 += 1;
                    op.1 += i64::from(span.is_error());
                    op.2.record(span.duration_ns());
                    let service = per_service.entry(&span.service).or_default();
                    service.spans += 1;
                    service.errors += i64::from(span.is_error());
                    service.latency.record(span.duration_ns());
                }
                for ((service, name), (n, errors, durations)) in ops {
                    upsert_op.execute(params![
                        trace_id,
                        service,
                        name,
                        n,
                        errors,
                        durations.encode()
                    ])?;
                }
                added += spans.len() as u64;
            }
            let mut upsert_service = tx.prepare_cached(
                "INSERT INTO service_stats (service, span_count, error_count, latency)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (service) DO UPDATE SET
                   span_count = span_count + excluded.span_count,
                   error_count = error_count + excluded.error_count,
                   latency = latency_merge(latency, excluded.latency)",
            )?;
            for (service, delta) in per_service {
                upsert_service.execute(params![
                    service,
                    delta.spans,
                    delta.errors,
                    delta.latency.encode()
                ])?;
            }
        }
        tx.commit()?;
        self.total_spans.fetch_add(added, Ordering::Relaxed);
        Ok(())
    }

    fn enforce_retention(
        &self,
        retention: Retention,
        now_ns: u64,
        budget: u64,
    ) -> Result<u64, StoreError> {
        let cutoff = now_ns.saturating_sub(retention.max_age_ns);
        let excess = self.total_spans().saturating_sub(retention.max_spans);
        let mut conn = self.writer()?;
        signals::retain(&conn, cutoff, retention.max_spans)?;
        let oldest_start: Option<i64> = conn
            .query_row("SELECT MIN(start_ns) FROM traces", [], |r| r.get(0))
            .optional()?
            .flatten();
        let too_old = oldest_start.is_some_and(|s| (s as u64) < cutoff);
        if excess == 0 && !too_old {
            return Ok(0);
        }
        // Oldest traces first, whole traces only, until the excess is covered or the budget
        // for this pass is spent.
        let mut victims = Vec::new();
        let mut dropped = 0u64;
        {
            let mut oldest = conn.prepare_cached(
                "SELECT trace_id, span_count, start_ns FROM traces ORDER BY start_ns LIMIT 1000",
            )?;
            let mut rows = oldest.query([])?;
            while let Some(row) = rows.next()? {
                let (id, count, start): (String, i64, i64) =
                    (row.get(0)?, row.get(1)?, row.get(2)?);
                if dropped >= excess && (start as u64) >= cutoff {
                    break;
                }
                if dropped >= budget.max(1) {
                    break;
                }
                dropped += count as u64;
                victims.push(id);
            }
        }
        let tx = conn.transaction()?;
        subtract_service_stats(&tx, &victims)?;
        for table in ["span_chunks", "trace_ops", "traces"] {
            let mut delete =
                tx.prepare_cached(&format!("DELETE FROM {table} WHERE trace_id = ?1"))?;
            for id in &victims {
                delete.execute([id])?;
            }
        }
        tx.commit()?;
        self.total_spans.fetch_sub(dropped.min(self.total_spans()), Ordering::Relaxed);
        Ok(dropped)
    }

    fn trace_version(&self, trace_id: &str) -> Result<Option<u64>, StoreError> {
        self.read(|conn| {
            let count: Option<i64> = conn
                .prepare_cached("SELECT span_count FROM traces WHERE trace_id = ?1")?
                .query_row([trace_id], |r| r.get(0))
                .optional()?;
            Ok(count.map(|c| c as u64))
        })
    }

    fn services(&self) -> Result<Vec<ServiceSummary>, StoreError> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT service, span_count, error_count, latency FROM service_stats
                 ORDER BY service",
            )?;
            let rows = stmt.query_map([], |row| {
                let mut durations = Histogram::default();
                if let Some(bytes) = row.get::<_, Option<Vec<u8>>>(3)? {
                    durations.merge_encoded(&bytes);
                }
                Ok(ServiceSummary {
                    span_count: row.get::<_, i64>(1)?.max(0) as u64,
                    error_count: row.get::<_, i64>(2)?.max(0) as u64,
                    p50_ns: durations.quantile(0.50),
                    p95_ns: durations.quantile(0.95),
                    p99_ns: durations.quantile(0.99),
                    ..ServiceSummary::new(row.get::<_, String>(0)?)
                })
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }

    fn search_traces(&self, query: &TraceQuery) -> Result<Vec<TraceSummary>, StoreError> {
        self.read(|conn| search(conn, query))
    }

    fn trace(&self, trace_id: &str) -> Result<Vec<Span>, StoreError> {
        self.read(|conn| load_trace(conn, trace_id))
    }

    fn logs(&self, query: &LogQuery) -> Result<Vec<LogRecord>, StoreError> {
        self.read(|conn| signals::logs(conn, query))
    }

    fn metrics(&self, query: &MetricQuery) -> Result<MetricsAnswer, StoreError> {
        self.read(|conn| signals::metrics(conn, query))
    }
}

/// What a write adds to (or retention takes from) one service's `service_stats` row.
#[derive(Default)]
struct ServiceDelta {
    spans: i64,
    errors: i64,
    latency: Histogram,
}

/// Takes the `trace_ops` rows of the traces about to be deleted off `service_stats`; a service
/// left with no spans loses its row.
fn subtract_service_stats(
    tx: &rusqlite::Transaction<'_>,
    victims: &[String],
) -> Result<(), StoreError> {
    let mut removed: BTreeMap<String, ServiceDelta> = BTreeMap::new();
    {
        let mut ops = tx.prepare_cached(
            "SELECT service, span_count, error_count, latency FROM trace_ops WHERE trace_id = ?1",
        )?;
        for id in victims {
            let mut rows = ops.query([id])?;
            while let Some(row) = rows.next()? {
                let delta = removed.entry(row.get(0)?).or_default();
                delta.spans += row.get::<_, i64>(1)?;
                delta.errors += row.get::<_, i64>(2)?;
                if let Some(bytes) = row.get::<_, Option<Vec<u8>>>(3)? {
                    delta.latency.merge_encoded(&bytes);
                }
            }
        }
    }
    let mut read = tx.prepare_cached(
        "SELECT span_count, error_count, latency FROM service_stats WHERE service = ?1",
    )?;
    let mut update = tx.prepare_cached(
        "UPDATE service_stats SET span_count = ?2, error_count = ?3, latency = ?4 WHERE service = ?1",
    )?;
    let mut delete = tx.prepare_cached("DELETE FROM service_stats WHERE service = ?1")?;
    for (service, delta) in removed {
        let Some((spans, errors, latency)) = read
            .query_row([&service], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, Option<Vec<u8>>>(2)?))
            })
            .optional()?
        else {
            continue;
        };
        let spans = spans - delta.spans;
        if spans <= 0 {
            delete.execute([&service])?;
            continue;
        }
        let mut left = Histogram::default();
        left.merge_encoded(&latency.unwrap_or_default());
        left.subtract_encoded(&delta.latency.encode());
        update.execute(params![service, spans, (errors - delta.errors).max(0), left.encode()])?;
    }
    Ok(())
}

const UPSERT_TRACE: &str = "
    INSERT INTO traces (trace_id, start_ns, end_ns, span_count, error_count, root_service, root_name, has_root)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
    ON CONFLICT (trace_id) DO UPDATE SET
        root_service = CASE WHEN has_root = 0 AND (excluded.has_root = 1 OR excluded.start_ns < start_ns)
                            THEN excluded.root_service ELSE root_service END,
        root_name    = CASE WHEN has_root = 0 AND (excluded.has_root = 1 OR excluded.start_ns < start_ns)
                            THEN excluded.root_name ELSE root_name END,
        has_root     = MAX(has_root, excluded.has_root),
        start_ns     = MIN(start_ns, excluded.start_ns),
        end_ns       = MAX(end_ns, excluded.end_ns),
        span_count   = span_count + excluded.span_count,
        error_count  = error_count + excluded.error_count";

struct ChunkSummary<'a> {
    start_ns: u64,
    end_ns: u64,
    errors: usize,
    root_service: &'a str,
    root_name: &'a str,
    has_root: bool,
}

/// Start, end, errors and the root (or earliest) span of one trace's spans in one chunk.
fn summarize<'a>(spans: &[&'a Span]) -> ChunkSummary<'a> {
    let root = spans.iter().find(|s| s.parent_span_id.is_none());
    let earliest = spans.iter().min_by_key(|s| s.start_ns).expect("a chunk has spans");
    let head = root.unwrap_or(earliest);
    ChunkSummary {
        start_ns: spans.iter().map(|s| s.start_ns).min().unwrap_or(0),
        end_ns: spans.iter().map(|s| s.end_ns.max(s.start_ns)).max().unwrap_or(0),
        errors: spans.iter().filter(|s| s.is_error()).count(),
        root_service: &head.service,
        root_name: &head.name,
        has_root: root.is_some(),
    }
}

fn load_trace(conn: &Connection, trace_id: &str) -> Result<Vec<Span>, StoreError> {
    let mut stmt =
        conn.prepare_cached("SELECT spans FROM span_chunks WHERE trace_id = ?1 ORDER BY id")?;
    let mut rows = stmt.query([trace_id])?;
    let mut spans: Vec<Span> = Vec::new();
    let mut seen = HashSet::new();
    while let Some(row) = rows.next()? {
        let blob: Vec<u8> = row.get(0)?;
        let chunk: Vec<Span> =
            serde_json::from_slice(&blob).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        // An exporter that retried after a timeout may have sent a span twice: keep the first.
        spans.extend(chunk.into_iter().filter(|s| seen.insert(s.span_id.clone())));
    }
    spans.sort_by(|a, b| a.start_ns.cmp(&b.start_ns).then_with(|| a.span_id.cmp(&b.span_id)));
    Ok(spans)
}

fn search(conn: &Connection, q: &TraceQuery) -> Result<Vec<TraceSummary>, StoreError> {
    let mut sql = String::from(
        "SELECT trace_id, root_service, root_name, start_ns, end_ns - start_ns, span_count, error_count
         FROM traces t WHERE 1 = 1",
    );
    let mut args: Vec<rusqlite::types::Value> = Vec::new();
    let mut arg = |sql: &mut String, clause: &str, value: rusqlite::types::Value| {
        args.push(value);
        sql.push_str(&clause.replace('?', &format!("?{}", args.len())));
    };
    if let Some(since) = q.since_ns {
        arg(&mut sql, " AND start_ns >= ?", (since as i64).into());
    }
    if let Some(until) = q.until_ns {
        arg(&mut sql, " AND start_ns <= ?", (until as i64).into());
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
        };
        if !q.attrs.is_empty() {
            scanned += 1;
            if scanned > ATTR_SCAN_LIMIT {
                break;
            }
            let spans = load_trace(conn, &summary.trace_id)?;
            if !spans.iter().any(|s| span_has_attrs(s, &q.attrs)) {
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

/// Whether `span` (its attributes or its resource's) carries every `KEY=VALUE` in `attrs`.
fn span_has_attrs(span: &Span, attrs: &[(String, String)]) -> bool {
    attrs.iter().all(|(key, want)| {
        span.attributes
            .iter()
            .chain(&span.resource)
            .any(|kv| &kv.key == key && value_text(&kv.value).as_deref() == Some(want))
    })
}

/// The text a scalar attribute value is compared as; `None` for arrays, maps and empties.
fn value_text(value: &AttrValue) -> Option<String> {
    match value {
        AttrValue::String(s) => Some(s.clone()),
        AttrValue::Bool(b) => Some(b.to_string()),
        AttrValue::Int(i) => Some(i.to_string()),
        AttrValue::Double(d) => Some(d.to_string()),
        AttrValue::Bytes(b) => Some(b.clone()),
        AttrValue::Array(_) | AttrValue::KvList(_) | AttrValue::Empty => None,
    }
}

#[cfg(test)]
#[path = "sqlite_tests.rs"]
mod tests;
