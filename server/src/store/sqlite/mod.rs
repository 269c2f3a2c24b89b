//! `SqliteStore`: the embedded engine. One writer connection (fed by the ingest writer thread)
//! and a small pool of read connections; on disk in WAL mode, or one in-memory database. Here:
//! opening (the lock, the file checks, migration) and the connections; the `Store` methods are
//! in `write`, `retention`, `stats`, `search`, `traces` and `logs`.

mod log_counts;
mod log_reads;
mod logs;
mod metrics;
mod retention;
mod search;
mod stats;
mod trace_rows;
mod traces;
mod write;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use otelscope_app::model::{
    LinkingSpan, LogContext, LogFacets, LogHistogram, LogPage, MetricCatalog, MetricsAnswer,
    OperationStats, ProfileSummary, ServiceSummary, TraceSummary,
};
use rusqlite::functions::FunctionFlags;
use rusqlite::{Connection, OpenFlags};

use super::latency;
use super::metrics::{MetricCatalogQuery, MetricRows, MetricRowsQuery};
use super::request::{
    CacheQuery, LogHistogramQuery, LogQuery, MetricQuery, OperationQuery, RetryQuery, TraceQuery,
};
use super::rollup::pending::PendingIndex;
use super::rollup::{self, flame as flame_rollup, sql as rollup_sql};
use super::rows::{CacheRows, RetryRows, TraceRowInfo};
use super::service_rows::{MapQuery, MapRows, RedQuery, RedRow};
use super::{
    private, profiles, schema, LogSample, ProfileBounds, Retention, SpanChunk, Store, StoreError,
    StoredProfile, WriteBatch,
};
use crate::stacks::StackTree;

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
    /// fold pass's watermark relies on (`rollup::flame`).
    last_received: AtomicI64,
    /// Runs first in every `write`, on the writer thread (see [`WriteHook`]).
    write_hook: Option<WriteHook>,
    /// The writer's memory of the metric series (taken after `writer`, never before).
    metric_index: Mutex<metrics::SeriesIndex>,
    /// The writer's index of `edge_pending` (taken after `metric_index`, never before).
    pending: Mutex<PendingIndex>,
}

/// Compiled statements kept per connection (rusqlite's default is 16): the writer's path
/// (spans, logs, metrics, rollups, retention) prepares about 70 distinct statements.
const WRITER_STATEMENTS: usize = 256;
const READER_STATEMENTS: usize = 128;

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
        // 8 MiB of pages (SQLite's default is 2 MiB): a batch touches a dozen tables' and
        // indexes' right edges, and each page missed is a read from the OS.
        conn.pragma_update(None, "cache_size", -8192).map_err(refuse)?;
        // SQLite's own errors from here on get the same explanation; ours pass through.
        let refuse_store = |e: StoreError| match e {
            StoreError::Sqlite(e) => refuse(e),
            other => other,
        };
        schema::migrate(&mut conn, &shown).map_err(refuse_store)?;
        logs::convert_at_open(&mut conn).map_err(refuse_store)?;
        let mut store = SqliteStore::with_writer(Some(path), conn).map_err(refuse_store)?;
        store._lock = Some(lock);
        Ok(store)
    }

    /// A store that writes no file.
    pub fn in_memory() -> Result<SqliteStore, StoreError> {
        let mut conn = Connection::open_in_memory()?;
        schema::migrate(&mut conn, ":memory:")?;
        logs::convert_at_open(&mut conn)?;
        SqliteStore::with_writer(None, conn)
    }

    fn with_writer(path: Option<PathBuf>, mut conn: Connection) -> Result<SqliteStore, StoreError> {
        // Every statement of the write path and of retention stays compiled: past rusqlite's
        // default of 16 (the services rollups made it ~60) each batch re-parsed its SQL, which
        // was most of the writer's regression in issue 25.
        conn.set_prepared_statement_cache_capacity(WRITER_STATEMENTS);
        conn.create_scalar_function(
            "latency_merge",
            2,
            FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
            // The blobs are read in place (no copy), so an upsert's merge allocates its answer only.
            |ctx| {
                let blob = |i| {
                    ctx.get_raw(i)
                        .as_blob_or_null()
                        .map_err(|e| rusqlite::Error::UserFunctionError(Box::new(e)))
                };
                Ok(latency::merge_stored(blob(0)?, blob(1)?))
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
        let mut metric_index = metrics::SeriesIndex::load(&conn)?;
        metrics::convert_legacy(&mut conn, &mut metric_index)?;
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
            metric_index: Mutex::new(metric_index),
            pending: Mutex::new(PendingIndex::default()),
        })
    }

    fn writer(&self) -> Result<MutexGuard<'_, Connection>, StoreError> {
        // A panic while writing rolled its transaction back as it unwound, so the connection
        // is fine to use again.
        Ok(self.writer.lock().unwrap_or_else(|poisoned| poisoned.into_inner()))
    }

    /// The writer's index of `edge_pending`. After a panic while it was held it may be behind
    /// the table (the transaction rolled back), so it is read again on its next use.
    fn pending(&self) -> MutexGuard<'_, PendingIndex> {
        self.pending.lock().unwrap_or_else(|poisoned| {
            self.pending.clear_poison();
            let mut index = poisoned.into_inner();
            index.invalidate();
            index
        })
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
                // 8 MiB of pages each (SQLite's default is 2 MiB): a log search walks more
                // index pages than that, and each miss is a read from the OS.
                conn.pragma_update(None, "cache_size", -8192)?;
                conn.set_prepared_statement_cache_capacity(READER_STATEMENTS);
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
        write::write(self, batches)
    }

    fn enforce_retention(
        &self,
        retention: Retention,
        now_ns: u64,
        budget: u64,
    ) -> Result<u64, StoreError> {
        retention::enforce(self, retention, now_ns, budget)
    }

    fn trace_version(&self, trace_id: &str) -> Result<Option<u64>, StoreError> {
        self.read(|conn| traces::trace_version(conn, trace_id))
    }

    fn services(&self) -> Result<Vec<ServiceSummary>, StoreError> {
        self.read(stats::services)
    }

    fn operations(&self, service: &str, limit: usize) -> Result<Vec<String>, StoreError> {
        self.read(|conn| stats::operations(conn, service, limit))
    }

    fn operation_stats(
        &self,
        service: &str,
        since_ns: u64,
        max_rows: usize,
    ) -> Result<(Vec<OperationStats>, bool), StoreError> {
        self.read(|conn| stats::operation_stats(conn, service, since_ns, max_rows))
    }

    fn search_traces(&self, query: &TraceQuery) -> Result<Vec<TraceSummary>, StoreError> {
        self.read(|conn| search::search(conn, query))
    }

    fn trace_rows(&self, trace_ids: &[String]) -> Result<Vec<TraceRowInfo>, StoreError> {
        self.read(|conn| trace_rows::trace_rows(conn, trace_ids))
    }

    fn count_traces(&self, query: &TraceQuery, cap: usize) -> Result<Option<u64>, StoreError> {
        self.read(|conn| search::count(conn, query, cap))
    }

    fn trace_chunk(&self, trace_id: &str, after: i64) -> Result<Option<SpanChunk>, StoreError> {
        self.read(|conn| traces::next_chunk(conn, trace_id, after))
    }

    fn linking_spans(
        &self,
        trace_id: &str,
        span_id: &str,
        limit: usize,
    ) -> Result<Vec<LinkingSpan>, StoreError> {
        self.read(|conn| traces::linking_spans(conn, trace_id, span_id, limit))
    }

    fn log_page(&self, query: &LogQuery) -> Result<LogPage, StoreError> {
        self.read(|conn| log_reads::page(conn, query))
    }

    fn log_histogram(&self, query: &LogHistogramQuery) -> Result<LogHistogram, StoreError> {
        self.read(|conn| log_reads::histogram(conn, query))
    }

    fn log_facets(&self, query: &LogQuery) -> Result<LogFacets, StoreError> {
        self.read(|conn| log_reads::facets(conn, query))
    }

    fn log_context(
        &self,
        id: &str,
        before: usize,
        after: usize,
    ) -> Result<Option<LogContext>, StoreError> {
        self.read(|conn| log_reads::context(conn, id, before, after))
    }

    fn log_sample(&self, query: &LogQuery, max_records: usize) -> Result<LogSample, StoreError> {
        self.read(|conn| log_reads::sample(conn, query, max_records))
    }

    fn metrics(&self, query: &MetricQuery) -> Result<MetricsAnswer, StoreError> {
        self.read(|conn| metrics::raw(conn, query))
    }

    fn metric_catalog(&self, query: &MetricCatalogQuery) -> Result<MetricCatalog, StoreError> {
        self.read(|conn| metrics::catalog(conn, query))
    }

    fn metric_rows(&self, query: &MetricRowsQuery) -> Result<MetricRows, StoreError> {
        self.read(|conn| metrics::rows(conn, query))
    }

    fn cache(&self, query: &CacheQuery) -> Result<CacheRows, StoreError> {
        self.read(|conn| rollup_sql::cache(conn, query))
    }

    fn retries(&self, query: &RetryQuery) -> Result<RetryRows, StoreError> {
        self.read(|conn| rollup_sql::retries(conn, query))
    }

    fn red(&self, query: &RedQuery) -> Result<Vec<RedRow>, StoreError> {
        self.read(|conn| rollup::services_sql::red(conn, query))
    }

    fn service_map(&self, query: &MapQuery) -> Result<MapRows, StoreError> {
        self.read(|conn| rollup::services_sql::map(conn, query))
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

#[cfg(test)]
mod tests;
