//! Log records in SQLite (schema v11, v13's rollup and v20's leaner index, laid out in
//! `schema.rs`): writing prepared chunks (and their counts, `log_counts.rs`), their retention,
//! and at open the full-text index rebuilt from the chunks (v20) and the move of older stores'
//! `logs` rows; the reads are `log_reads.rs`.

use std::collections::HashMap;

use otelscope_app::model::LogRecord;
use rusqlite::{params, Connection, OptionalExtension};

use super::super::logs::{self, PreparedLogs};
use super::super::StoreError;
use super::log_counts::{self, Counts};

/// Writes `logs` as received at `received`, with their counts in the rollup; returns how
/// many records.
pub(super) fn insert(
    conn: &Connection,
    received: i64,
    logs: &PreparedLogs,
) -> Result<u64, StoreError> {
    let mut counts = Counts::default();
    let written = insert_records(conn, received, logs, &mut counts)?;
    log_counts::add(conn, &counts)?;
    Ok(written)
}

/// Writes the chunks, rows and text of `logs` (a v11 store's part of `insert`), counting them
/// into `counts`.
pub(super) fn insert_records(
    conn: &Connection,
    received: i64,
    logs: &PreparedLogs,
    counts: &mut Counts,
) -> Result<u64, StoreError> {
    if logs.is_empty() {
        return Ok(0);
    }
    let mut next: i64 = conn
        .prepare_cached("SELECT COALESCE(MAX(id), 0) + 1 FROM log_records")?
        .query_row([], |r| r.get(0))?;
    let mut insert_chunk = conn.prepare_cached(
        "INSERT INTO log_chunks (id, records, received_ns, data) VALUES (?1, ?2, ?3, ?4)",
    )?;
    let mut insert_row = conn.prepare_cached(
        "INSERT INTO log_records (time_ns, id, service, severity, keyset)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    let mut insert_text =
        conn.prepare_cached("INSERT INTO log_text (rowid, text) VALUES (?1, ?2)")?;
    let mut services: HashMap<&str, i64> = HashMap::new();
    let mut keysets: HashMap<&str, i64> = HashMap::new();
    let mut written = 0;
    for chunk in &logs.chunks {
        insert_chunk.execute(params![next, chunk.rows.len() as i64, received, chunk.data])?;
        for row in &chunk.rows {
            let service = match services.get(row.service.as_str()) {
                Some(&id) => id,
                None => {
                    let id = intern(conn, "log_services", "name", &row.service)?;
                    *services.entry(&row.service).or_insert(id)
                }
            };
            let keyset = match keysets.get(row.keys.as_str()) {
                Some(&id) => id,
                None => {
                    let id = intern(conn, "log_keysets", "keys", &row.keys)?;
                    *keysets.entry(&row.keys).or_insert(id)
                }
            };
            insert_row.execute(params![row.time_ns, next, service, row.severity, keyset])?;
            counts.record(row.time_ns, service, row.severity, next);
            insert_text.execute(params![next, row.text()])?;
            next += 1;
            written += 1;
        }
    }
    Ok(written)
}

/// The id of `value` in a name table (`log_services`, `log_keysets`), added if new.
fn intern(conn: &Connection, table: &str, column: &str, value: &str) -> Result<i64, StoreError> {
    let mut find = conn.prepare_cached(&format!("SELECT id FROM {table} WHERE {column} = ?1"))?;
    if let Some(id) = find.query_row([value], |r| r.get(0)).optional()? {
        return Ok(id);
    }
    let mut add = conn.prepare_cached(&format!("INSERT INTO {table} ({column}) VALUES (?1)"))?;
    add.execute([value])?;
    Ok(conn.last_insert_rowid())
}

/// Drops log chunks received before `cutoff_ns`, then the oldest beyond `max_records`
/// records; returns the records dropped.
pub(super) fn retain(
    conn: &Connection,
    cutoff_ns: i64,
    max_records: u64,
) -> Result<u64, StoreError> {
    let mut dropped = drop_received_before(conn, cutoff_ns)?;
    let stored: i64 = conn
        .prepare_cached("SELECT COALESCE(SUM(records), 0) FROM log_chunks")?
        .query_row([], |r| r.get(0))?;
    let excess = (stored.max(0) as u64).saturating_sub(max_records);
    if excess > 0 {
        dropped += drop_oldest(conn, excess)?;
    }
    Ok(dropped)
}

/// Drops the chunks (with their records) received before `cutoff_ns`.
pub(super) fn drop_received_before(conn: &Connection, cutoff_ns: i64) -> Result<u64, StoreError> {
    let chunks: Vec<(i64, i64)> = conn
        .prepare_cached("SELECT id, records FROM log_chunks WHERE received_ns < ?1")?
        .query_map([cutoff_ns], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    drop_chunks(conn, &chunks)
}

/// Drops the oldest chunks until at least `records` records went (or none is left).
pub(super) fn drop_oldest(conn: &Connection, records: u64) -> Result<u64, StoreError> {
    let mut chunks = Vec::new();
    let mut counted = 0u64;
    {
        let mut oldest = conn.prepare_cached("SELECT id, records FROM log_chunks ORDER BY id")?;
        let mut rows = oldest.query([])?;
        while counted < records {
            let Some(row) = rows.next()? else { break };
            let chunk: (i64, i64) = (row.get(0)?, row.get(1)?);
            counted += chunk.1.max(0) as u64;
            chunks.push(chunk);
        }
    }
    drop_chunks(conn, &chunks)
}

fn drop_chunks(conn: &Connection, chunks: &[(i64, i64)]) -> Result<u64, StoreError> {
    let mut rows = conn.prepare_cached("DELETE FROM log_records WHERE id >= ?1 AND id < ?2")?;
    let mut data = conn.prepare_cached("SELECT data FROM log_chunks WHERE id = ?1")?;
    let mut chunk = conn.prepare_cached("DELETE FROM log_chunks WHERE id = ?1")?;
    let mut dropped = 0;
    for &(id, records) in chunks {
        log_counts::subtract(conn, id, id + records)?;
        dropped += rows.execute([id, id + records])? as u64;
        let blob: Option<Vec<u8>> = data.query_row([id], |r| r.get(0)).optional()?;
        if let Some(blob) = blob {
            unindex(conn, id, records, &blob)?;
        }
        chunk.execute([id])?;
    }
    Ok(dropped)
}

/// Takes the records of chunk `first` (`records` of them, stored as `data`) out of the
/// full-text index: a contentless table without per-row sizes (v20) deletes a document given
/// its text, which the chunk gives back. A chunk that no longer decodes leaves its entries;
/// they find no record (its rows are gone) and ids are not reused while a newer record is kept.
fn unindex(conn: &Connection, first: i64, records: i64, data: &[u8]) -> Result<(), StoreError> {
    let positions: Vec<usize> = (0..records.max(0) as usize).collect();
    let Ok(decoded) = logs::read_chunk(data, &positions) else { return Ok(()) };
    let mut delete = conn
        .prepare_cached("INSERT INTO log_text (log_text, rowid, text) VALUES ('delete', ?1, ?2)")?;
    for (position, record) in decoded.iter().enumerate() {
        delete.execute(params![first + position as i64, logs::row(record).text()])?;
    }
    Ok(())
}

/// What opening a store does to its logs beyond SQL migrations: the full-text index rebuilt
/// from the chunks after v20 (`reindex`), then the rows of a store older than v11 moved
/// (`move_legacy`, which indexes as it writes).
pub(crate) fn convert_at_open(conn: &mut Connection) -> Result<(), StoreError> {
    reindex(conn)?;
    move_legacy(conn)
}

/// Chunks indexed per transaction of `reindex`.
const REINDEX_CHUNKS: i64 = 64;

/// Indexes the records of the chunks from `log_reindex.next_chunk` on (v20 left the new
/// full-text table empty and the marker at the first chunk), `REINDEX_CHUNKS` a transaction,
/// moving the marker with them so an interrupted open resumes; drops the marker when done.
/// Nothing to do once the marker is gone.
fn reindex(conn: &mut Connection) -> Result<(), StoreError> {
    let pending: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'log_reindex')",
        [],
        |r| r.get(0),
    )?;
    if !pending {
        return Ok(());
    }
    loop {
        let tx = conn.transaction()?;
        let next: i64 = tx.query_row("SELECT next_chunk FROM log_reindex", [], |r| r.get(0))?;
        let chunks: Vec<(i64, i64, Vec<u8>)> = tx
            .prepare(
                "SELECT id, records, data FROM log_chunks WHERE id >= ?1 ORDER BY id LIMIT ?2",
            )?
            .query_map([next, REINDEX_CHUNKS], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<Result<_, _>>()?;
        let Some(&(last, _, _)) = chunks.last() else {
            tx.execute_batch("DROP TABLE log_reindex")?;
            tx.commit()?;
            return Ok(());
        };
        {
            let mut insert =
                tx.prepare_cached("INSERT INTO log_text (rowid, text) VALUES (?1, ?2)")?;
            for (first, records, data) in &chunks {
                let positions: Vec<usize> = (0..(*records).max(0) as usize).collect();
                // A chunk that does not decode stays unsearchable; its records still list.
                let Ok(decoded) = logs::read_chunk(data, &positions) else { continue };
                for (position, record) in decoded.iter().enumerate() {
                    insert.execute(params![first + position as i64, logs::row(record).text()])?;
                }
            }
        }
        tx.execute("UPDATE log_reindex SET next_chunk = ?1", [last + 1])?;
        tx.commit()?;
    }
}

/// Moves the one-JSON-row-each `logs` of a store older than v11 into chunks (with their
/// receipt), a thousand rows per transaction, then drops the table; a row that does not parse
/// is dropped with it. Nothing to do on a store that has no `logs` table.
fn move_legacy(conn: &mut Connection) -> Result<(), StoreError> {
    let legacy: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'logs')",
        [],
        |r| r.get(0),
    )?;
    if !legacy {
        return Ok(());
    }
    loop {
        let tx = conn.transaction()?;
        let rows: Vec<(i64, Vec<u8>, i64)> = tx
            .prepare("SELECT id, record, received_ns FROM logs ORDER BY id LIMIT 1000")?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<Result<_, _>>()?;
        let Some(&(last, _, _)) = rows.last() else {
            tx.execute_batch("DROP TABLE logs")?;
            tx.commit()?;
            return Ok(());
        };
        // Consecutive rows of one receipt stay one batch.
        let mut run: Vec<LogRecord> = Vec::new();
        let mut run_received = None;
        for (_, blob, received) in rows {
            if run_received.is_some_and(|r| r != received) {
                insert(&tx, run_received.unwrap_or(0), &logs::prepare(&run)?)?;
                run.clear();
            }
            run_received = Some(received);
            if let Ok(record) = serde_json::from_slice(&blob) {
                run.push(record);
            }
        }
        insert(&tx, run_received.unwrap_or(0), &logs::prepare(&run)?)?;
        tx.execute("DELETE FROM logs WHERE id <= ?1", [last])?;
        tx.commit()?;
    }
}
