//! `SqliteStore`: the embedded engine. One writer connection (fed by the ingest writer thread)
//! and a small pool of read connections; on disk in WAL mode, or one in-memory database.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use otelscope_app::model::{
    AttrValue, LogRecord, MetricsAnswer, OperationStats, ProfileSummary, ServiceSummary, Span,
    TraceSummary, SELF_SERVICES,
};
use rusqlite::functions::FunctionFlags;
use rusqlite::{params, Connection, OpenFlags, OptionalExtension};

use super::latency::{self, Histogram};
use super::prepare::{self, ServiceDelta};
use super::request::{CacheQuery, LogQuery, MetricQuery, OperationQuery, RetryQuery, TraceQuery};
use super::rows::{CacheRows, RetryRows};
use super::{
    flame_rollup, private, profiles, rollup, rollup_sql, schema, signals, ProfileBounds, Retention,
    SpanChunk, Store, StoreError, StoredProfile, WriteBatch,
};
use crate::stacks::StackTree;

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
    /// The sum of `traces.stored_bytes`, kept likewise: what the size bound converts the
    /// database's measured excess into (see `enforce_retention`).
    total_bytes: AtomicU64,
    /// How many profiles (`/api/v1/profiles`) are kept.
    profile_bounds: ProfileBounds,
    /// `otelscope.lock`, locked for as long as the store is open.
    _lock: Option<std::fs::File>,
    /// Held by a flame fold pass, so two never fold the same trace twice.
    folding: Mutex<()>,
    /// The receipt time the last write stored. Each write stores a later one (its batches'
    /// own, or 1 ns past this), so receipts increase strictly in commit order, which the flame
    /// fold pass's watermark relies on (`flame_rollup`).
    last_received: AtomicI64,
    /// Runs first in every `write`, on the writer thread (see [`WriteHook`]).
    write_hook: Option<WriteHook>,
}

/// Called at the start of each `SqliteStore::write`: an error fails the whole write as the
/// store's own would, and it may block or panic. Tests gate the writer with it (hold writes
/// so the ingest queue fills, fail them, panic in them) without a wrapper store.
pub type WriteHook = std::sync::Arc<dyn Fn() -> Result<(), StoreError> + Send + Sync>;

impl SqliteStore {
    /// Opens (creating if needed) `otelscope.db` in `dir`, after taking `otelscope.lock` there
    /// so a second otelscope on the same directory is refused before anything is migrated. A
    /// damaged, truncated or read-only database is refused with a clear error and left as it is.
    pub fn open(dir: &Path) -> Result<SqliteStore, StoreError> {
        private::create_dir(dir)
            .map_err(|source| StoreError::DataDir { path: dir.display().to_string(), source })?;
        let lock = lock_dir(dir)?;
        let path = dir.join("otelscope.db");
        let shown = path.display().to_string();
        check_file(&path)?;
        private::prepare_database(&path)
            .map_err(|e| StoreError::Open { path: shown.clone(), why: e.to_string() })?;
        let refuse =
            |e: rusqlite::Error| StoreError::Open { path: shown.clone(), why: explain(&e) };
        let mut conn = Connection::open(&path).map_err(refuse)?;
        if conn.is_readonly(rusqlite::MAIN_DB).map_err(refuse)? {
            return Err(StoreError::Open {
                path: shown,
                why: "the file is read-only; otelscope needs to write its store".into(),
            });
        }
        conn.pragma_update(None, "journal_mode", "WAL").map_err(refuse)?;
        // FULL: a commit is fsync'd before the receiver answers, so a 200 survives power loss,
        // not only a crash of the process. Group commit keeps the cost to one sync per group.
        conn.pragma_update(None, "synchronous", "FULL").map_err(refuse)?;
        conn.busy_timeout(std::time::Duration::from_secs(5)).map_err(refuse)?;
        // SQLite's own errors from here on get the same explanation; ours pass through.
        let refuse_store = |e: StoreError| match e {
            StoreError::Sqlite(e) => refuse(e),
            other => other,
        };
        schema::migrate(&mut conn, &shown).map_err(refuse_store)?;
        let mut store = SqliteStore::with_writer(Some(path), conn).map_err(refuse_store)?;
        store._lock = Some(lock);
        Ok(store)
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
        conn.create_scalar_function(
            "counts_merge",
            2,
            FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
            |ctx| {
                let a: Option<Vec<u8>> = ctx.get(0)?;
                let b: Option<Vec<u8>> = ctx.get(1)?;
                Ok(rollup::merge_counts(a.as_deref(), b.as_deref()))
            },
        )?;
        let (total, bytes, last_received): (i64, i64, i64) = conn.query_row(
            "SELECT COALESCE(SUM(span_count), 0), COALESCE(SUM(stored_bytes), 0),
                    COALESCE(MAX(received_ns), 0) FROM traces",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
        Ok(SqliteStore {
            path,
            writer: Mutex::new(conn),
            readers: Mutex::new(Vec::new()),
            total_spans: AtomicU64::new(total as u64),
            total_bytes: AtomicU64::new(bytes.max(0) as u64),
            profile_bounds: ProfileBounds::DEFAULT,
            _lock: None,
            folding: Mutex::new(()),
            last_received: AtomicI64::new(last_received),
            write_hook: None,
        })
    }

    fn writer(&self) -> Result<MutexGuard<'_, Connection>, StoreError> {
        // A panic while writing rolled its transaction back as it unwound, so the connection
        // is fine to use again.
        Ok(self.writer.lock().unwrap_or_else(|poisoned| poisoned.into_inner()))
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

    /// Keeps at most `bounds` of profiles (the newest).
    pub fn with_profile_bounds(mut self, bounds: ProfileBounds) -> SqliteStore {
        self.profile_bounds = bounds;
        self
    }

    /// Runs `hook` first in every write (see [`WriteHook`]).
    pub fn with_write_hook(mut self, hook: WriteHook) -> SqliteStore {
        self.write_hook = Some(hook);
        self
    }

    pub fn total_spans(&self) -> u64 {
        self.total_spans.load(Ordering::Relaxed)
    }
}

/// Takes `otelscope.lock` in `dir` (an advisory lock the OS drops when the process ends, so a
/// crash never leaves it stale) and writes our pid into it for the message of the next one.
fn lock_dir(dir: &Path) -> Result<std::fs::File, StoreError> {
    use std::io::Write as _;
    let path = dir.join("otelscope.lock");
    let shown = || path.display().to_string();
    let mut file = private::open_file(&path)
        .map_err(|e| StoreError::Open { path: shown(), why: e.to_string() })?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            let holder = std::fs::read_to_string(&path).unwrap_or_default();
            let lock = match holder.trim() {
                "" => shown(),
                pid => format!("{}, pid {pid}", shown()),
            };
            return Err(StoreError::Locked { path: dir.display().to_string(), lock });
        }
        Err(std::fs::TryLockError::Error(e)) => {
            return Err(StoreError::Open { path: shown(), why: format!("cannot lock: {e}") })
        }
    }
    let _ = file.set_len(0).and_then(|()| write!(file, "{}", std::process::id()));
    Ok(file)
}

/// Refuses a file that is not a SQLite database, or one shorter than its header says (cut
/// short by a failed copy or a full disk), before SQLite touches it.
fn check_file(path: &Path) -> Result<(), StoreError> {
    use std::io::Read as _;
    let refuse = |why: String| StoreError::Open { path: path.display().to_string(), why };
    let mut file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(refuse(e.to_string())),
    };
    let len = file.metadata().map_err(|e| refuse(e.to_string()))?.len();
    let mut header = [0u8; 100];
    let read = file.read(&mut header).map_err(|e| refuse(e.to_string()))?;
    if len == 0 {
        return Ok(());
    }
    if read < 100 || !header.starts_with(b"SQLite format 3\0") {
        return Err(refuse(
            "the file is not a SQLite database (otelscope left it untouched; move it aside to start a new store)".into(),
        ));
    }
    let page_size = match u16::from_be_bytes([header[16], header[17]]) {
        1 => 65_536,
        n => u64::from(n),
    };
    let pages = u64::from(u32::from_be_bytes([header[28], header[29], header[30], header[31]]));
    // The header's page count is valid when its "version valid for" equals the change counter.
    let valid = header[92..96] == header[24..28];
    if valid && pages > 0 && len < pages * page_size {
        return Err(refuse(format!(
            "the file is truncated ({len} bytes, its header says {} bytes); otelscope left it untouched: restore it or move it aside",
            pages * page_size
        )));
    }
    Ok(())
}

/// SQLite's word for why a database cannot be used, with what to do about it.
fn explain(error: &rusqlite::Error) -> String {
    use rusqlite::ErrorCode;
    match error.sqlite_error_code() {
        Some(ErrorCode::NotADatabase) => {
            "the file is not a SQLite database (otelscope left it untouched; move it aside to start a new store)".into()
        }
        Some(ErrorCode::DatabaseCorrupt) => {
            "the database is damaged (otelscope left it untouched; restore a copy or move it aside)".into()
        }
        Some(ErrorCode::ReadOnly) | Some(ErrorCode::CannotOpen) | Some(ErrorCode::PermissionDenied) => {
            format!("{error}: otelscope needs to read and write the file and its directory")
        }
        Some(ErrorCode::DiskFull) => format!("{error}: the disk is full"),
        _ => error.to_string(),
    }
}

impl Store for SqliteStore {
    fn write(&self, batches: &[WriteBatch]) -> Result<Vec<Result<(), StoreError>>, StoreError> {
        if let Some(hook) = &self.write_hook {
            hook()?;
        }
        if batches.iter().all(WriteBatch::is_empty) {
            return Ok(batches.iter().map(|_| Ok(())).collect());
        }
        let mut conn = self.writer()?;
        let mut tx = conn.transaction()?;
        let mut results = Vec::with_capacity(batches.len());
        let mut added = Written::default();
        let mut last_received = self.last_received.load(Ordering::Relaxed);
        for batch in batches {
            let received = (batch.received_ns.min(i64::MAX as u64) as i64)
                .max(last_received.saturating_add(1));
            // Each batch in its own savepoint: one that fails is rolled back alone, and the
            // others of the group still commit.
            let savepoint = tx.savepoint()?;
            match write_batch(&savepoint, batch, received) {
                Ok(written) => {
                    savepoint.commit()?;
                    last_received = received;
                    added.spans += written.spans;
                    added.bytes += written.bytes;
                    results.push(Ok(()));
                }
                Err(error) => results.push(Err(error)),
            }
        }
        tx.commit()?;
        self.last_received.store(last_received, Ordering::Relaxed);
        self.total_spans.fetch_add(added.spans, Ordering::Relaxed);
        self.total_bytes.fetch_add(added.bytes, Ordering::Relaxed);
        Ok(results)
    }

    fn enforce_retention(
        &self,
        retention: Retention,
        now_ns: u64,
        budget: u64,
    ) -> Result<u64, StoreError> {
        let cutoff = now_ns.saturating_sub(retention.max_age_ns).min(i64::MAX as u64) as i64;
        let excess_spans = self.total_spans().saturating_sub(retention.max_spans);
        let mut conn = self.writer()?;
        signals::retain(&conn, cutoff, retention.max_spans)?;
        // The database's pages are measured; which traces to drop is decided on their
        // `stored_bytes`, so the excess is converted at the measured ratio of the two.
        let used = used_bytes(&conn)?;
        let excess_bytes = used.saturating_sub(retention.max_bytes);
        let stored = self.total_bytes.load(Ordering::Relaxed);
        let excess_stored = if used == 0 {
            0
        } else {
            (excess_bytes as f64 * stored as f64 / used as f64).ceil() as u64
        };
        let oldest: Option<i64> = conn
            .query_row("SELECT MIN(received_ns) FROM traces", [], |r| r.get(0))
            .optional()?
            .flatten();
        let too_old = oldest.is_some_and(|received| received < cutoff);
        if excess_spans == 0 && excess_bytes == 0 && !too_old {
            rollup_sql::retain(&conn)?;
            return Ok(0);
        }
        // Whole traces, oldest received first, until every bound holds again or the budget of
        // this pass is spent.
        let mut victims = Vec::new();
        let (mut spans, mut bytes, mut newest_victim) = (0u64, 0u64, None);
        {
            let mut oldest = conn.prepare_cached(
                "SELECT trace_id, span_count, received_ns, stored_bytes FROM traces
                 ORDER BY received_ns LIMIT 1000",
            )?;
            let mut rows = oldest.query([])?;
            while let Some(row) = rows.next()? {
                let (id, count, received, size): (String, i64, i64, i64) =
                    (row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?);
                let done = spans >= excess_spans && bytes >= excess_stored && received >= cutoff;
                if done || spans >= budget.max(1) {
                    break;
                }
                spans += count.max(0) as u64;
                bytes += size.max(0) as u64;
                newest_victim = Some(received);
                victims.push(id);
            }
        }
        let tx = conn.transaction()?;
        subtract_service_stats(&tx, &victims)?;
        for table in ["span_chunks", "trace_ops", "traces", "flame_folded"] {
            let mut delete =
                tx.prepare_cached(&format!("DELETE FROM {table} WHERE trace_id = ?1"))?;
            for id in &victims {
                delete.execute([id])?;
            }
        }
        // Over the size bound, logs and metric points received no later than the traces just
        // dropped go too, so the oldest data goes first whatever its signal.
        if excess_bytes > 0 {
            signals::drop_received_before(&tx, newest_victim.map_or(i64::MIN, |r| r + 1))?;
            if victims.is_empty() {
                signals::drop_oldest(&tx, SIGNAL_ROWS_PER_PASS)?;
            }
        }
        rollup_sql::retain(&tx)?;
        tx.commit()?;
        self.total_spans.fetch_sub(spans.min(self.total_spans()), Ordering::Relaxed);
        let bytes = bytes.min(self.total_bytes.load(Ordering::Relaxed));
        self.total_bytes.fetch_sub(bytes, Ordering::Relaxed);
        Ok(spans)
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

    fn operations(&self, service: &str, limit: usize) -> Result<Vec<String>, StoreError> {
        self.read(|conn| {
            // A loose index scan: each step asks the index for the next name after the last.
            let mut stmt = conn.prepare_cached(
                "WITH RECURSIVE names(name) AS (
                     SELECT MIN(name) FROM trace_ops WHERE service = ?1
                     UNION ALL
                     SELECT (SELECT MIN(name) FROM trace_ops WHERE service = ?1 AND name > names.name)
                     FROM names WHERE names.name IS NOT NULL
                 )
                 SELECT name FROM names WHERE name IS NOT NULL LIMIT ?2",
            )?;
            let rows = stmt.query_map(rusqlite::params![service, limit as i64], |row| row.get(0))?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }

    fn operation_stats(
        &self,
        service: &str,
        since_ns: u64,
        max_rows: usize,
    ) -> Result<(Vec<OperationStats>, bool), StoreError> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT o.name, o.span_count, o.error_count, o.latency, o.trace_id
                 FROM trace_ops o JOIN traces t ON t.trace_id = o.trace_id
                 WHERE o.service = ?1 AND t.start_ns >= ?2
                 ORDER BY t.start_ns DESC LIMIT ?3",
            )?;
            let limit = max_rows as i64 + 1;
            let mut rows = stmt.query(rusqlite::params![service, since_ns as i64, limit])?;
            // Per name: counts, the merged histogram, and the trace of the slowest span.
            let mut by_name: HashMap<String, (OperationStats, Histogram, u64)> = HashMap::new();
            let mut read = 0;
            while let Some(row) = rows.next()? {
                read += 1;
                if read > max_rows {
                    break;
                }
                let name: String = row.get(0)?;
                let entry = by_name.entry(name.clone()).or_insert_with(|| {
                    let stats = OperationStats { name, ..OperationStats::default() };
                    (stats, Histogram::default(), 0)
                });
                entry.0.span_count += row.get::<_, i64>(1)?.max(0) as u64;
                entry.0.error_count += row.get::<_, i64>(2)?.max(0) as u64;
                if let Some(bytes) = row.get::<_, Option<Vec<u8>>>(3)? {
                    entry.1.merge_encoded(&bytes);
                    let mut this_trace = Histogram::default();
                    this_trace.merge_encoded(&bytes);
                    let slowest = this_trace.quantile(1.0).unwrap_or(0);
                    if slowest > entry.2 || entry.0.slowest_trace_id.is_none() {
                        entry.2 = slowest;
                        entry.0.slowest_trace_id = Some(row.get(4)?);
                    }
                }
            }
            let mut stats: Vec<OperationStats> = by_name
                .into_values()
                .map(|(stats, durations, _)| OperationStats {
                    p50_ns: durations.quantile(0.50),
                    p95_ns: durations.quantile(0.95),
                    max_ns: durations.quantile(1.0),
                    ..stats
                })
                .collect();
            stats.sort_by(|a, b| b.p95_ns.cmp(&a.p95_ns).then_with(|| a.name.cmp(&b.name)));
            Ok((stats, read > max_rows))
        })
    }

    fn search_traces(&self, query: &TraceQuery) -> Result<Vec<TraceSummary>, StoreError> {
        self.read(|conn| search(conn, query))
    }

    fn count_traces(&self, query: &TraceQuery, cap: usize) -> Result<Option<u64>, StoreError> {
        self.read(|conn| count(conn, query, cap))
    }

    fn trace_chunk(&self, trace_id: &str, after: i64) -> Result<Option<SpanChunk>, StoreError> {
        self.read(|conn| next_chunk(conn, trace_id, after))
    }

    fn logs(&self, query: &LogQuery) -> Result<Vec<LogRecord>, StoreError> {
        self.read(|conn| signals::logs(conn, query))
    }

    fn metrics(&self, query: &MetricQuery) -> Result<MetricsAnswer, StoreError> {
        self.read(|conn| signals::metrics(conn, query))
    }

    fn cache(&self, query: &CacheQuery) -> Result<CacheRows, StoreError> {
        self.read(|conn| rollup_sql::cache(conn, query))
    }

    fn retries(&self, query: &RetryQuery) -> Result<RetryRows, StoreError> {
        self.read(|conn| rollup_sql::retries(conn, query))
    }

    fn fold_flames(&self, now_ns: u64) -> Result<usize, StoreError> {
        let _one_pass = self.folding.lock().unwrap_or_else(|p| p.into_inner());
        // Decoding happens on a read connection, so the writer is held only to apply.
        let folds = self.read(|conn| {
            flame_rollup::settled(conn, now_ns)?
                .into_iter()
                .map(|pending| flame_rollup::fold(conn, pending))
                .collect::<Result<Vec<_>, _>>()
        })?;
        if folds.is_empty() {
            return Ok(0);
        }
        let mut conn = self.writer()?;
        let tx = conn.transaction()?;
        flame_rollup::apply(&tx, &folds)?;
        tx.commit()?;
        Ok(folds.len())
    }

    fn flame_operation(&self, query: &OperationQuery) -> Result<StackTree, StoreError> {
        self.read(|conn| flame_rollup::operation(conn, query))
    }

    fn flame_trace(&self, trace_id: &str) -> Result<StackTree, StoreError> {
        self.read(|conn| {
            let (spans, _, _) = flame_rollup::trace_spans(conn, trace_id, None)?;
            Ok(StackTree::from_trace(&spans))
        })
    }

    fn put_profile(&self, summary: &ProfileSummary, folded: &str) -> Result<(), StoreError> {
        let blob = profiles::compress(folded)?;
        let mut conn = self.writer()?;
        let tx = conn.transaction()?;
        profiles::insert(&tx, summary, &blob, self.profile_bounds)?;
        tx.commit()?;
        Ok(())
    }

    fn profiles(&self) -> Result<Vec<ProfileSummary>, StoreError> {
        self.read(profiles::list)
    }

    fn profile(&self, id: &str) -> Result<Option<StoredProfile>, StoreError> {
        self.read(|conn| profiles::get(conn, id))
    }

    fn delete_profile(&self, id: &str) -> Result<bool, StoreError> {
        let conn = self.writer()?;
        profiles::delete(&conn, id)
    }
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

/// What a batch added.
#[derive(Default)]
struct Written {
    spans: u64,
    /// `stored_bytes` added.
    bytes: u64,
}

/// Writes one batch on `conn` (inside the group's transaction) as received at `received`,
/// preparing its spans first unless the receiver already did (`WriteBatch::prepare`).
fn write_batch(
    conn: &Connection,
    batch: &WriteBatch,
    received: i64,
) -> Result<Written, StoreError> {
    signals::insert(conn, received, &batch.logs, &batch.metrics)?;
    match &batch.rollups {
        Some(rollups) => rollup_sql::write(conn, received, rollups)?,
        None => rollup_sql::write(conn, received, &rollup::prepare(&batch.spans, &batch.metrics))?,
    }
    let prepared_here;
    let prepared = match &batch.prepared {
        Some(prepared) => prepared,
        None => {
            prepared_here = prepare::prepare(&batch.spans)?;
            &prepared_here
        }
    };
    let mut insert_chunk = conn.prepare_cached(
        "INSERT INTO span_chunks (trace_id, span_count, spans) VALUES (?1, ?2, ?3)",
    )?;
    let mut upsert_trace = conn.prepare_cached(UPSERT_TRACE)?;
    let mut upsert_op = conn.prepare_cached(
        "INSERT INTO trace_ops (trace_id, service, name, span_count, error_count, latency)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (trace_id, service, name) DO UPDATE SET
           span_count = span_count + excluded.span_count,
           error_count = error_count + excluded.error_count,
           latency = latency_merge(latency, excluded.latency)",
    )?;
    let mut added = Written::default();
    for t in &prepared.traces {
        insert_chunk.execute(params![t.trace_id, t.span_count, t.blob])?;
        upsert_trace.execute(params![
            t.trace_id,
            t.start_ns,
            t.end_ns,
            t.span_count,
            t.errors,
            t.root_service,
            t.root_name,
            t.has_root as i64,
            received,
            t.stored_bytes as i64,
        ])?;
        for op in &t.ops {
            upsert_op.execute(params![
                t.trace_id, op.service, op.name, op.spans, op.errors, op.latency
            ])?;
        }
        added.bytes += t.stored_bytes;
    }
    added.spans = prepared.span_count;
    let mut upsert_service = conn.prepare_cached(
        "INSERT INTO service_stats (service, span_count, error_count, latency)
         VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (service) DO UPDATE SET
           span_count = span_count + excluded.span_count,
           error_count = error_count + excluded.error_count,
           latency = latency_merge(latency, excluded.latency)",
    )?;
    for delta in &prepared.services {
        upsert_service.execute(params![
            delta.service,
            delta.spans,
            delta.errors,
            delta.latency.encode()
        ])?;
    }
    Ok(added)
}

/// Pages of the database in use (not on SQLite's free list, which later writes reuse), in bytes.
fn used_bytes(conn: &Connection) -> Result<u64, StoreError> {
    let pragma = |name: &str| conn.query_row(&format!("PRAGMA {name}"), [], |r| r.get::<_, i64>(0));
    let pages = pragma("page_count")? - pragma("freelist_count")?;
    Ok(pages.max(0) as u64 * pragma("page_size")?.max(0) as u64)
}

/// Log records and metric points one pass drops (each) when only they are over the size bound.
const SIGNAL_ROWS_PER_PASS: u64 = 10_000;

const UPSERT_TRACE: &str = "
    INSERT INTO traces (trace_id, start_ns, end_ns, span_count, error_count, root_service, root_name, has_root, received_ns, stored_bytes)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
    ON CONFLICT (trace_id) DO UPDATE SET
        root_service = CASE WHEN has_root = 0 AND (excluded.has_root = 1 OR excluded.start_ns < start_ns)
                            THEN excluded.root_service ELSE root_service END,
        root_name    = CASE WHEN has_root = 0 AND (excluded.has_root = 1 OR excluded.start_ns < start_ns)
                            THEN excluded.root_name ELSE root_name END,
        has_root     = MAX(has_root, excluded.has_root),
        start_ns     = MIN(start_ns, excluded.start_ns),
        end_ns       = MAX(end_ns, excluded.end_ns),
        span_count   = span_count + excluded.span_count,
        error_count  = error_count + excluded.error_count,
        received_ns  = MAX(received_ns, excluded.received_ns),
        stored_bytes = stored_bytes + excluded.stored_bytes";

/// The chunk of `trace_id` stored next after chunk `after` (`i64::MIN` for the first).
fn next_chunk(
    conn: &Connection,
    trace_id: &str,
    after: i64,
) -> Result<Option<SpanChunk>, StoreError> {
    let chunk = conn
        .prepare_cached(
            "SELECT id, spans FROM span_chunks WHERE trace_id = ?1 AND id > ?2 ORDER BY id LIMIT 1",
        )?
        .query_row(params![trace_id, after], |r| Ok(SpanChunk { id: r.get(0)?, blob: r.get(1)? }))
        .optional()?;
    Ok(chunk)
}

/// Calls `each` with every stored span of `trace_id` in stored order, retried copies included,
/// one chunk in memory at a time, until it returns `false`; returns whether it saw them all.
fn each_span(
    conn: &Connection,
    trace_id: &str,
    each: &mut dyn FnMut(Span) -> bool,
) -> Result<bool, StoreError> {
    let mut after = i64::MIN;
    while let Some(chunk) = next_chunk(conn, trace_id, after)? {
        after = chunk.id;
        if !chunk.for_each_span(each)? {
            return Ok(false);
        }
    }
    Ok(true)
}

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
fn count(conn: &Connection, q: &TraceQuery, cap: usize) -> Result<Option<u64>, StoreError> {
    if !q.attrs.is_empty() {
        return Ok(None);
    }
    let (filter, args) = search_filter(q);
    let sql =
        format!("SELECT COUNT(*) FROM (SELECT 1 FROM traces t WHERE 1 = 1{filter} LIMIT {cap})");
    let n: i64 = conn.query_row(&sql, rusqlite::params_from_iter(args), |row| row.get(0))?;
    Ok(Some(n as u64))
}

fn search(conn: &Connection, q: &TraceQuery) -> Result<Vec<TraceSummary>, StoreError> {
    let (filter, args) = search_filter(q);
    let mut sql = format!(
        "SELECT trace_id, root_service, root_name, start_ns, end_ns - start_ns, span_count, error_count
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
