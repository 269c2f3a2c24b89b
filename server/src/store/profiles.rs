//! Profiles in SQLite (`profiles`, schema v7): one row each, its folded text zstd-compressed,
//! and only the newest few kept ([`ProfileBounds`]), trimmed in the transaction that adds one.

use std::io::Read as _;

use otelscope_app::model::ProfileSummary;
use rusqlite::{params, Connection, OptionalExtension};

use super::StoreError;

/// How many profiles are kept, and how many bytes of compressed folded text; past either the
/// oldest go, but never the newest one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProfileBounds {
    pub max_profiles: u64,
    pub max_bytes: u64,
}

impl ProfileBounds {
    pub const DEFAULT: ProfileBounds = ProfileBounds { max_profiles: 200, max_bytes: 64 << 20 };
}

impl Default for ProfileBounds {
    fn default() -> Self {
        ProfileBounds::DEFAULT
    }
}

/// A kept profile: what the list says of it, and its folded text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredProfile {
    pub summary: ProfileSummary,
    pub folded: String,
}

/// The largest folded text a stored row may inflate to (imports are refused well before).
const MAX_TEXT_BYTES: u64 = 256 << 20;

/// Compresses `folded` (on the caller's thread, before the writer connection is taken).
pub(crate) fn compress(folded: &str) -> Result<Vec<u8>, StoreError> {
    zstd::encode_all(folded.as_bytes(), 3)
        .map_err(|e| StoreError::Unavailable(format!("cannot compress a profile: {e}")))
}

/// Adds one profile and trims to `bounds`, on the writer connection inside its transaction.
pub(crate) fn insert(
    conn: &Connection,
    summary: &ProfileSummary,
    blob: &[u8],
    bounds: ProfileBounds,
) -> Result<(), StoreError> {
    let int = |v: u64| v.min(i64::MAX as u64) as i64;
    conn.prepare_cached(
        "INSERT INTO profiles (id, created_ns, source, name, unit, stacks, total, stored_bytes, folded, nodes,
                               duration_ns)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?
    .execute(params![
        summary.id,
        int(summary.created_ns),
        summary.source.as_str(),
        summary.name,
        summary.unit,
        int(summary.stacks),
        int(summary.total),
        blob.len() as i64,
        blob,
        summary.nodes.map(int),
        summary.duration_ns.map(int),
    ])?;
    // Newest first by creation, then by insertion for equal times.
    conn.prepare_cached(
        "DELETE FROM profiles WHERE rowid IN (
           SELECT rowid FROM (
             SELECT rowid,
                    ROW_NUMBER() OVER newest AS n,
                    SUM(stored_bytes) OVER newest AS running
             FROM profiles
             WINDOW newest AS (ORDER BY created_ns DESC, rowid DESC)
           ) WHERE n > 1 AND (n > ?1 OR running > ?2))",
    )?
    .execute(params![int(bounds.max_profiles), int(bounds.max_bytes)])?;
    Ok(())
}

/// Every kept profile, newest first.
pub(crate) fn list(conn: &Connection) -> Result<Vec<ProfileSummary>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {SUMMARY} FROM profiles ORDER BY created_ns DESC, rowid DESC"
    ))?;
    let rows = stmt.query_map([], summary)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// One profile with its folded text; `None` for an unknown id.
pub(crate) fn get(conn: &Connection, id: &str) -> Result<Option<StoredProfile>, StoreError> {
    let row = conn
        .prepare_cached(&format!("SELECT {SUMMARY}, folded FROM profiles WHERE id = ?1"))?
        .query_row([id], |r| Ok((summary(r)?, r.get::<_, Vec<u8>>(9)?)))
        .optional()?;
    let Some((summary, blob)) = row else { return Ok(None) };
    let corrupt = |why: String| StoreError::Corrupt(format!("profile {id}: {why}"));
    let mut text = Vec::new();
    zstd::stream::read::Decoder::new(&blob[..])
        .and_then(|d| d.take(MAX_TEXT_BYTES + 1).read_to_end(&mut text))
        .map_err(|e| corrupt(e.to_string()))?;
    if text.len() as u64 > MAX_TEXT_BYTES {
        return Err(corrupt("its folded text is too large".into()));
    }
    let folded = String::from_utf8(text).map_err(|_| corrupt("not UTF-8".into()))?;
    Ok(Some(StoredProfile { summary, folded }))
}

/// Removes one profile; whether it was kept.
pub(crate) fn delete(conn: &Connection, id: &str) -> Result<bool, StoreError> {
    Ok(conn.prepare_cached("DELETE FROM profiles WHERE id = ?1")?.execute([id])? > 0)
}

const SUMMARY: &str = "id, source, name, created_ns, stacks, total, unit, nodes, duration_ns";

fn summary(r: &rusqlite::Row<'_>) -> rusqlite::Result<ProfileSummary> {
    let uint = |i: usize| r.get::<_, i64>(i).map(|v| v.max(0) as u64);
    Ok(ProfileSummary {
        id: r.get(0)?,
        source: super::rows::wire_kind(r, 1)?,
        name: r.get(2)?,
        created_ns: uint(3)?,
        stacks: uint(4)?,
        total: uint(5)?,
        unit: r.get(6)?,
        nodes: r.get::<_, Option<i64>>(7)?.map(|v| v.max(0) as u64),
        duration_ns: r.get::<_, Option<i64>>(8)?.map(|v| v.max(0) as u64),
    })
}
