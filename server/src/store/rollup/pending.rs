//! The writer's in-memory index of `edge_pending` (issue 22 item 9): which waiting rows a half's
//! other half may be, so pairing costs a hash probe instead of a B-tree insert and a search.
//!
//! `edge_pending` stays the truth: every half is a row, written and deleted in its batch's
//! savepoint, so a restart or a failed batch loses none. This index mirrors it and holds, per
//! row, its id, a keyed hash of its pairing key (caller's trace and span ids, family, side) and
//! its receipt; nothing else. A hash only names candidates: each is read by id and its key
//! compared, so a collision costs a read, never a wrong pair. It is loaded from the table on the
//! writer's first use (after a restart: one scan of at most about `MAX_PENDING` rows), and
//! dropped (`invalidate`) whenever the table may have moved without it (a batch or a group or a
//! retention pass rolled back, a panic while writing), then loaded again on the next use.
//! Bounded as the table is: rows expire past `MAX_PENDING` (see `services_sql::expire`), and an
//! entry is two B-tree entries of 16 and 24 bytes, so about 5 MB at the bound.

use std::collections::hash_map::RandomState;
use std::collections::{BTreeMap, BTreeSet};
use std::hash::BuildHasher;

use rusqlite::Connection;

use super::services::{Family, Side};
use crate::store::StoreError;

/// The index (see the module doc). `Default` is an index not yet loaded.
#[derive(Default)]
pub(in crate::store) struct PendingIndex {
    /// Keys the hash per process, so no sender can aim halves at one chain.
    hasher: RandomState,
    /// `None` until loaded, and after `invalidate`.
    rows: Option<Rows>,
}

#[derive(Default)]
struct Rows {
    /// (key hash, row id): one key's rows in id order.
    by_key: BTreeSet<(u64, i64)>,
    /// Row id → (key hash, receipt), in id order (the order rows expire and leave in).
    by_id: BTreeMap<i64, (u64, i64)>,
}

/// A waiting row as the index knows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(in crate::store) struct PendingRow {
    pub id: i64,
    pub received_ns: i64,
}

impl PendingIndex {
    /// The hash of a pairing key.
    pub fn hash(&self, trace_id: &str, span_id: &str, family: Family, side: Side) -> u64 {
        self.hasher.hash_one((trace_id, span_id, family, side))
    }

    /// Loads the index from `edge_pending` unless it is loaded.
    pub fn ensure(&mut self, conn: &Connection) -> Result<(), StoreError> {
        if self.rows.is_some() {
            return Ok(());
        }
        let mut rows = Rows::default();
        let mut stmt = conn.prepare_cached(
            "SELECT id, trace_id, span_id, family, side, received_ns FROM edge_pending",
        )?;
        let mut read = stmt.query([])?;
        while let Some(r) = read.next()? {
            let id: i64 = r.get(0)?;
            let family = if r.get::<_, i64>(3)? == 1 { Family::Messaging } else { Family::Request };
            let side = if r.get::<_, i64>(4)? == 1 { Side::Callee } else { Side::Caller };
            let (trace_id, span_id): (String, String) = (r.get(1)?, r.get(2)?);
            let hash = self.hash(&trace_id, &span_id, family, side);
            rows.by_key.insert((hash, id));
            rows.by_id.insert(id, (hash, r.get(5)?));
        }
        self.rows = Some(rows);
        Ok(())
    }

    /// Forgets everything: the next `ensure` reads the table again.
    pub fn invalidate(&mut self) {
        self.rows = None;
    }

    /// The ids of the rows whose key has `hash`, oldest first (none when not loaded).
    pub fn candidates(&self, hash: u64) -> Vec<i64> {
        self.rows.as_ref().map_or_else(Vec::new, |rows| {
            rows.by_key.range((hash, i64::MIN)..=(hash, i64::MAX)).map(|&(_, id)| id).collect()
        })
    }

    /// A row the writer inserted.
    pub fn insert(&mut self, hash: u64, row: PendingRow) {
        if let Some(rows) = &mut self.rows {
            rows.by_key.insert((hash, row.id));
            rows.by_id.insert(row.id, (hash, row.received_ns));
        }
    }

    /// A row the writer deleted.
    pub fn remove(&mut self, id: i64) {
        if let Some(rows) = &mut self.rows {
            if let Some((hash, _)) = rows.by_id.remove(&id) {
                rows.by_key.remove(&(hash, id));
            }
        }
    }

    /// Rows deleted as `id < first_kept` (expiry and retention take rows in id order).
    pub fn remove_below(&mut self, first_kept: i64) {
        if let Some(rows) = &mut self.rows {
            let kept = rows.by_id.split_off(&first_kept);
            for (id, (hash, _)) in std::mem::replace(&mut rows.by_id, kept) {
                rows.by_key.remove(&(hash, id));
            }
        }
    }

    /// The oldest row and the newest id, as `edge_pending` has them; `None` when it is empty.
    /// Only when loaded (`ensure`).
    pub fn ends(&self) -> Option<(PendingRow, i64)> {
        let rows = self.rows.as_ref()?;
        let (&id, &(_, received_ns)) = rows.by_id.first_key_value()?;
        let (&newest, _) = rows.by_id.last_key_value()?;
        Some((PendingRow { id, received_ns }, newest))
    }

    /// How many rows the index holds (`None` when not loaded).
    #[cfg(test)]
    pub fn len(&self) -> Option<usize> {
        self.rows.as_ref().map(|rows| rows.by_id.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE edge_pending (id INTEGER PRIMARY KEY, trace_id TEXT NOT NULL,
                 span_id TEXT NOT NULL, family INTEGER NOT NULL, side INTEGER NOT NULL,
                 received_ns INTEGER NOT NULL);
             INSERT INTO edge_pending VALUES (3, 't1', 's1', 0, 0, 30), (5, 't1', 's1', 0, 0, 50),
                 (8, 't2', 's1', 1, 1, 80);",
        )
        .unwrap();
        conn
    }

    #[test]
    fn loads_the_table_and_follows_its_rows() {
        let conn = table();
        let mut index = PendingIndex::default();
        let h = index.hash("t1", "s1", Family::Request, Side::Caller);
        assert_eq!((index.candidates(h), index.ends(), index.len()), (vec![], None, None));
        index.ensure(&conn).unwrap();
        assert_eq!(index.candidates(h), vec![3, 5]);
        // Another family or side is another key.
        let callee = index.hash("t1", "s1", Family::Request, Side::Callee);
        assert!(index.candidates(callee).is_empty());
        let h2 = index.hash("t2", "s1", Family::Messaging, Side::Callee);
        assert_eq!(index.candidates(h2), vec![8]);
        assert_eq!(index.ends(), Some((PendingRow { id: 3, received_ns: 30 }, 8)));

        index.remove(3);
        index.insert(h2, PendingRow { id: 9, received_ns: 90 });
        assert_eq!((index.candidates(h), index.candidates(h2)), (vec![5], vec![8, 9]));
        index.remove_below(9);
        assert_eq!((index.candidates(h), index.candidates(h2)), (vec![], vec![9]));
        assert_eq!(index.ends(), Some((PendingRow { id: 9, received_ns: 90 }, 9)));
        assert_eq!(index.len(), Some(1));

        // Invalidated, it forgets, and reads the table again.
        index.invalidate();
        assert_eq!((index.candidates(h2), index.len()), (vec![], None));
        index.ensure(&conn).unwrap();
        assert_eq!((index.candidates(h), index.len()), (vec![3, 5], Some(3)));
    }
}
