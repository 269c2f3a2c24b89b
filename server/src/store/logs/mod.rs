//! Log records for any backend: a batch's records made ready on the receiving thread (chunks
//! of JSON compressed with zstd, one index row per record, the text full-text search reads),
//! reading records back out of a chunk, and the bounds of the log answers. The SQLite layout
//! is in `schema.rs`'s module doc; the SQL in `sqlite/logs.rs` and `sqlite/log_reads.rs`.

use otelscope_app::model::{value_text, LogEntry, LogRecord};
use serde::de::{Deserializer as _, IgnoredAny, SeqAccess, Visitor};

use super::StoreError;

/// Records read at most to count facets (the newest matches); `LogFacets.sampled` says when
/// more matched.
pub const MAX_FACET_SCAN: usize = 10_000;
/// Values kept per facet (services, severities, attribute keys).
pub const FACET_TOP: usize = 20;
/// The most records `log_context` gives on each side.
pub const MAX_LOG_CONTEXT: usize = 100;
/// Records per stored chunk: large enough that zstd finds the repeated resource, scope and
/// attribute keys (most of a record), small enough that reading one record decompresses
/// little.
pub(crate) const CHUNK_RECORDS: usize = 128;
/// Bytes of a record's body, and of its attribute values together, that full-text search
/// indexes (the rest is stored, shown, but not searchable): a 1 MB body costs the index no
/// more than a 64 KiB one.
pub(crate) const MAX_INDEXED_TEXT: usize = 64 * 1024;
/// Attribute keys of one record kept for the key facet (the first, sorted).
pub(crate) const MAX_FACET_KEYS: usize = 64;
/// zstd's level for log chunks (its default).
const LEVEL: i32 = 3;

/// `Store::log_sample`: the newest records matching a query and how many match in all.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LogSample {
    /// Newest first.
    pub entries: Vec<LogEntry>,
    pub total: u64,
}

/// A batch's log records ready to write.
#[derive(Debug, Default)]
pub struct PreparedLogs {
    pub(crate) chunks: Vec<PreparedChunk>,
}

impl PreparedLogs {
    pub fn is_empty(&self) -> bool {
        self.chunks.is_empty()
    }

    pub fn records(&self) -> usize {
        self.chunks.iter().map(|c| c.rows.len()).sum()
    }
}

/// Up to `CHUNK_RECORDS` records of a batch: their JSON array compressed, and a row each.
#[derive(Debug)]
pub(crate) struct PreparedChunk {
    pub data: Vec<u8>,
    pub rows: Vec<PreparedRow>,
}

/// What the index and full-text search keep of one record.
#[derive(Debug)]
pub(crate) struct PreparedRow {
    pub time_ns: i64,
    pub service: String,
    pub severity: i32,
    /// The record's attribute keys, sorted, distinct, at most `MAX_FACET_KEYS`, one per line.
    pub keys: String,
    /// The body as text (`model::value_text`), at most `MAX_INDEXED_TEXT` bytes.
    pub body: String,
    /// The attribute values as text, one per line, at most `MAX_INDEXED_TEXT` bytes in all.
    pub attrs: String,
    /// One token per attribute, `attr_token(key, value)`, then the trace's and the span's
    /// (`id_token`), space-separated: `attr=K=V`, `trace_id` and `span_id` find records by
    /// them exactly, without decoding.
    pub tokens: String,
}

impl PreparedRow {
    /// The document full-text search indexes for the record: body, attribute values and
    /// tokens, a line each. Retention deletes a record's entries by giving this text again,
    /// so it must stay a function of the stored record alone.
    pub(crate) fn text(&self) -> String {
        let mut text =
            String::with_capacity(self.body.len() + self.attrs.len() + self.tokens.len() + 3);
        for part in [&self.body, &self.attrs, &self.tokens] {
            text.push_str(part);
            text.push('\n');
        }
        text
    }
}

/// Prepares `logs` (all of one batch) for the store.
pub fn prepare(logs: &[LogRecord]) -> Result<PreparedLogs, StoreError> {
    let corrupt = |e: &dyn std::fmt::Display| StoreError::Corrupt(format!("log chunk: {e}"));
    let mut chunks = Vec::with_capacity(logs.len().div_ceil(CHUNK_RECORDS));
    for records in logs.chunks(CHUNK_RECORDS) {
        let json = serde_json::to_vec(records).map_err(|e| corrupt(&e))?;
        let data = zstd::bulk::compress(&json, LEVEL).map_err(|e| corrupt(&e))?;
        chunks.push(PreparedChunk { data, rows: records.iter().map(row).collect() });
    }
    Ok(PreparedLogs { chunks })
}

/// What the index and full-text search keep of `record`.
pub(crate) fn row(record: &LogRecord) -> PreparedRow {
    let mut keys: Vec<&str> = record.attributes.iter().map(|kv| kv.key.as_str()).collect();
    keys.sort_unstable();
    keys.dedup();
    keys.truncate(MAX_FACET_KEYS);
    let mut attrs = String::new();
    let mut tokens = String::new();
    for kv in &record.attributes {
        let text = value_text(&kv.value);
        if attrs.len() < MAX_INDEXED_TEXT {
            if !attrs.is_empty() {
                attrs.push('\n');
            }
            attrs.push_str(&text);
        }
        if !tokens.is_empty() {
            tokens.push(' ');
        }
        tokens.push_str(&attr_token(&kv.key, &text));
    }
    for (kind, id) in [(IdKind::Trace, &record.trace_id), (IdKind::Span, &record.span_id)] {
        if let Some(id) = id {
            if !tokens.is_empty() {
                tokens.push(' ');
            }
            tokens.push_str(&id_token(kind, id));
        }
    }
    PreparedRow {
        time_ns: record.time_ns.min(i64::MAX as u64) as i64,
        service: record.service.clone(),
        severity: record.severity_number,
        keys: keys.join("\n"),
        body: cut(value_text(&record.body), MAX_INDEXED_TEXT),
        attrs: cut(attrs, MAX_INDEXED_TEXT),
        tokens,
    }
}

/// `text` cut to at most `max` bytes at a character boundary.
fn cut(mut text: String, max: usize) -> String {
    if text.len() > max {
        let mut end = max;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    text
}

/// Which id an `id_token` stands for.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum IdKind {
    Trace,
    Span,
}

/// The full-text token standing for a record's trace id (`t…`) or span id (`s…`) as its
/// text reads (ingest writes lowercase hex): the letter and the 64-bit FNV-1a hash of the
/// text in hex. A trace's records are found through it (schema v20) instead of an index of
/// 16-byte ids. Stable: it is stored.
pub(crate) fn id_token(kind: IdKind, id: &str) -> String {
    let letter = match kind {
        IdKind::Trace => 't',
        IdKind::Span => 's',
    };
    format!("{letter}{:016x}", fnv1a([id.as_bytes()]))
}

/// The full-text token standing for attribute `key` reading as `value` (`model::value_text`):
/// `a` and the 64-bit FNV-1a hash of key, NUL, value in hex. Stable: it is stored.
pub(crate) fn attr_token(key: &str, value: &str) -> String {
    format!("a{:016x}", fnv1a([key.as_bytes(), &[0], value.as_bytes()]))
}

/// 64-bit FNV-1a over `parts` in order.
fn fnv1a<const N: usize>(parts: [&[u8]; N]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in parts.into_iter().flatten() {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// The records at `positions` (ascending) of a stored chunk, in that order; a position past
/// the chunk's end is left out. Records not asked for are skipped without being built.
pub(crate) fn read_chunk(data: &[u8], positions: &[usize]) -> Result<Vec<LogRecord>, StoreError> {
    let corrupt = |e: &dyn std::fmt::Display| StoreError::Corrupt(format!("log chunk: {e}"));
    let json = zstd::stream::decode_all(data).map_err(|e| corrupt(&e))?;
    let mut de = serde_json::Deserializer::from_slice(&json);
    let mut picker = Pick { positions, found: Vec::with_capacity(positions.len()) };
    de.deserialize_seq(&mut picker).map_err(|e| corrupt(&e))?;
    Ok(picker.found)
}

/// Builds the records at `positions` of a JSON array, skipping the others.
struct Pick<'a> {
    positions: &'a [usize],
    found: Vec<LogRecord>,
}

impl<'de> Visitor<'de> for &mut Pick<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an array of log records")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut at = 0;
        let mut wanted = self.positions.iter().peekable();
        while let Some(&&next) = wanted.peek() {
            if at == next {
                match seq.next_element::<LogRecord>()? {
                    Some(record) => self.found.push(record),
                    None => return Ok(()),
                }
                while wanted.peek() == Some(&&next) {
                    wanted.next();
                }
            } else if seq.next_element::<IgnoredAny>()?.is_none() {
                return Ok(());
            }
            at += 1;
        }
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use otelscope_app::model::{AttrValue, KeyValue, Scope};

    use super::*;

    fn record(n: usize) -> LogRecord {
        LogRecord {
            time_ns: n as u64,
            observed_time_ns: n as u64,
            severity_number: 9,
            severity_text: "INFO".into(),
            body: AttrValue::String(format!("record {n}")),
            attributes: vec![
                KeyValue { key: "n".into(), value: AttrValue::Int(n as i64) },
                KeyValue { key: "b".into(), value: AttrValue::Bool(true) },
            ],
            trace_id: Some("0af7651916cd43dd8448eb211c80319c".into()),
            span_id: Some("Not-Hex".into()),
            event_name: String::new(),
            service: "web".into(),
            resource: Vec::new(),
            scope: Scope::default(),
        }
    }

    #[test]
    fn chunks_hold_the_records_and_give_back_the_ones_asked_for() {
        let logs: Vec<LogRecord> = (0..300).map(record).collect();
        let prepared = prepare(&logs).unwrap();
        assert_eq!(prepared.chunks.len(), 3);
        assert_eq!(prepared.records(), 300);
        let second = &prepared.chunks[1];
        let got = read_chunk(&second.data, &[0, 5, 5, 127, 200]).unwrap();
        assert_eq!(got, [record(128), record(133), record(255)]);
        let row = &second.rows[0];
        assert_eq!((row.keys.as_str(), row.body.as_str()), ("b\nn", "record 128"));
        assert_eq!(row.attrs, "128\ntrue");
        let trace = id_token(IdKind::Trace, "0af7651916cd43dd8448eb211c80319c");
        let span = id_token(IdKind::Span, "Not-Hex");
        assert_eq!(
            row.tokens,
            format!("{} {} {trace} {span}", attr_token("n", "128"), attr_token("b", "true"))
        );
        assert_eq!(row.text(), format!("record 128\n128\ntrue\n{}\n", row.tokens));
    }

    #[test]
    fn attribute_tokens_are_stable_and_tell_key_from_value() {
        assert_eq!(attr_token("k", "v"), attr_token("k", "v"));
        assert_ne!(attr_token("k", "v"), attr_token("kv", ""));
        assert_eq!(attr_token("", ""), "aaf63bd4c8601b7df");
    }

    #[test]
    fn id_tokens_are_stable_and_tell_traces_from_spans() {
        assert_eq!(id_token(IdKind::Trace, ""), "tcbf29ce484222325");
        assert_eq!(id_token(IdKind::Span, "ab"), id_token(IdKind::Span, "ab"));
        assert_ne!(id_token(IdKind::Span, "ab"), id_token(IdKind::Span, "AB"));
        assert_eq!(id_token(IdKind::Trace, "ab")[1..], id_token(IdKind::Span, "ab")[1..]);
    }

    #[test]
    fn indexed_text_is_cut_at_a_character_boundary() {
        let cut_text = cut("é".repeat(40_000), MAX_INDEXED_TEXT);
        assert!(cut_text.len() <= MAX_INDEXED_TEXT && cut_text.len() > MAX_INDEXED_TEXT - 2);
    }
}
