//! How one chunk of spans (one trace's spans from one export request) is kept on disk: a JSON
//! array compressed with zstd. Chunks written before compression (plain JSON) are still read.

use std::collections::HashSet;
use std::io::BufReader;

use otelscope_app::model::Span;
use serde::de::{Deserializer as _, SeqAccess, Visitor};

use super::{Store, StoreError};

/// One stored chunk of a trace's spans, still in its stored form; `Store::trace_chunk` reads
/// them one at a time so a reader of a huge trace never holds more than one.
pub struct SpanChunk {
    /// Its row id: chunks of a trace are read in id order, which is the order they arrived.
    pub id: i64,
    pub(super) blob: Vec<u8>,
}

impl SpanChunk {
    /// Calls `each` with the chunk's spans in order, decoding one span at a time. A chunk of at
    /// most [`WHOLE_CHUNK_MAX`] bytes of JSON is decompressed whole first (parsing from a slice
    /// is several times faster than from a stream); a larger one is streamed, so it is never
    /// in memory whole. `each` returns `false` to stop early; the result is whether every span
    /// was given.
    pub fn for_each_span(&self, each: &mut dyn FnMut(Span) -> bool) -> Result<bool, StoreError> {
        let corrupt = |e: &dyn std::fmt::Display| StoreError::Corrupt(format!("span chunk: {e}"));
        let mut visitor = EachSpan { each, stopped: false };
        let whole = self
            .blob
            .starts_with(&ZSTD_MAGIC)
            .then(|| zstd::zstd_safe::get_frame_content_size(&self.blob).ok().flatten())
            .flatten()
            .filter(|&size| size <= WHOLE_CHUNK_MAX as u64);
        let result = if let Some(size) = whole {
            let json = decompress(&self.blob, size as usize).map_err(|e| corrupt(&e))?;
            let mut de = serde_json::Deserializer::from_slice(&json);
            de.deserialize_seq(&mut visitor).and_then(|done| de.end().map(|()| done))
        } else if self.blob.starts_with(&ZSTD_MAGIC) {
            let decoder =
                zstd::stream::read::Decoder::new(&self.blob[..]).map_err(|e| corrupt(&e))?;
            // serde_json reads a byte at a time: the buffer keeps that off zstd's stream API.
            let reader = BufReader::with_capacity(64 << 10, decoder);
            let mut de = serde_json::Deserializer::from_reader(reader);
            de.deserialize_seq(&mut visitor).and_then(|done| de.end().map(|()| done))
        } else {
            let mut de = serde_json::Deserializer::from_slice(&self.blob);
            de.deserialize_seq(&mut visitor).and_then(|done| de.end().map(|()| done))
        };
        match result {
            // Stopping leaves the array unfinished, which serde_json reports; that is no error.
            _ if visitor.stopped => Ok(false),
            Ok(done) => Ok(done),
            Err(e) => Err(corrupt(&e)),
        }
    }
}

/// Every stored span of one trace, once each, by start time (then span id); empty when the
/// trace is unknown. Reads through `Store::trace_chunk`, so any backend answers it; it holds
/// the whole trace, so the API streams chunks instead and this is for tests and tools.
pub fn whole_trace(store: &dyn Store, trace_id: &str) -> Result<Vec<Span>, StoreError> {
    let mut spans = Vec::new();
    let mut seen = SeenSpans::default();
    let mut after = i64::MIN;
    while let Some(chunk) = store.trace_chunk(trace_id, after)? {
        after = chunk.id;
        // An exporter that retried after a timeout may have sent a span twice: keep the first.
        chunk.for_each_span(&mut |span| {
            if seen.first_time(&span.span_id) {
                spans.push(span);
            }
            true
        })?;
    }
    spans.sort_by(|a, b| a.start_ns.cmp(&b.start_ns).then_with(|| a.span_id.cmp(&b.span_id)));
    Ok(spans)
}

/// Ids of the spans of one trace seen so far, to keep only the first copy of a span an exporter
/// sent twice (a retry after a timeout). Ids are 16 hex digits, kept as 8-byte integers, so a
/// million spans cost about 16 MiB rather than a `String` each.
#[derive(Default)]
pub struct SeenSpans {
    ids: HashSet<u64>,
    /// Ids that are not 16 lowercase hex digits (none from our ingest; older or odd data).
    other: HashSet<String>,
}

impl SeenSpans {
    /// Room for `spans` ids up front, so the set does not grow by doubling.
    pub fn with_capacity(spans: usize) -> SeenSpans {
        SeenSpans { ids: HashSet::with_capacity(spans), other: HashSet::new() }
    }

    /// Whether `span_id` is seen for the first time (and remembers it).
    pub fn first_time(&mut self, span_id: &str) -> bool {
        let hex = |b: u8| b.is_ascii_digit() || (b'a'..=b'f').contains(&b);
        if span_id.len() == 16 && span_id.bytes().all(hex) {
            if let Ok(id) = u64::from_str_radix(span_id, 16) {
                return self.ids.insert(id);
            }
        }
        self.other.insert(span_id.to_owned())
    }
}

/// Hands the elements of a JSON array of spans to a callback as they are parsed.
struct EachSpan<'a> {
    each: &'a mut dyn FnMut(Span) -> bool,
    stopped: bool,
}

impl<'de> Visitor<'de> for &mut EachSpan<'_> {
    type Value = bool;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an array of spans")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
        while let Some(span) = seq.next_element::<Span>()? {
            if !(self.each)(span) {
                self.stopped = true;
                return Ok(false);
            }
        }
        Ok(true)
    }
}

/// The largest chunk (in bytes of JSON) decompressed whole to be read; larger ones stream.
pub const WHOLE_CHUNK_MAX: usize = 8 << 20;

/// zstd's frame magic number; a plain JSON chunk starts with `[`.
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];
/// Level 3 (zstd's default): about 8x on typical spans at a few hundred MB/s, so compressing
/// costs the writer less than writing the uncompressed pages would.
const LEVEL: i32 = 3;

thread_local! {
    /// A zstd context per receiving thread: making one per chunk (several per batch) cost
    /// about as much as compressing the chunk (its tables are allocated and zeroed each time).
    static COMPRESSOR: std::cell::RefCell<Option<zstd::bulk::Compressor<'static>>> =
        const { std::cell::RefCell::new(None) };
}

thread_local! {
    /// Likewise a decompression context per reading thread (the flame fold thread decodes
    /// every chunk once: a context per chunk was about 6% of its time).
    static DECOMPRESSOR: std::cell::RefCell<Option<zstd::bulk::Decompressor<'static>>> =
        const { std::cell::RefCell::new(None) };
}

/// A zstd frame of at most `size` bytes decompressed whole, with this thread's context.
pub(super) fn decompress(blob: &[u8], size: usize) -> std::io::Result<Vec<u8>> {
    DECOMPRESSOR.with(|d| {
        let mut d = d.borrow_mut();
        if d.is_none() {
            *d = Some(zstd::bulk::Decompressor::new()?);
        }
        match d.as_mut() {
            Some(d) => d.decompress(blob, size),
            None => zstd::bulk::decompress(blob, size),
        }
    })
}

/// The stored form of `spans` (the same bytes whichever context compresses them).
pub(super) fn encode(spans: &[&Span]) -> Result<Vec<u8>, StoreError> {
    let json = serde_json::to_vec(spans).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let corrupt = |e: std::io::Error| StoreError::Corrupt(e.to_string());
    COMPRESSOR.with(|c| {
        let mut c = c.borrow_mut();
        if c.is_none() {
            *c = Some(zstd::bulk::Compressor::new(LEVEL).map_err(corrupt)?);
        }
        match c.as_mut() {
            Some(c) => c.compress(&json).map_err(corrupt),
            None => zstd::bulk::compress(&json, LEVEL).map_err(corrupt),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The spans of a stored chunk, compressed or from before compression.
    fn decode(blob: &[u8]) -> Result<Vec<Span>, StoreError> {
        let mut spans = Vec::new();
        SpanChunk { id: 1, blob: blob.to_vec() }.for_each_span(&mut |s| {
            spans.push(s);
            true
        })?;
        Ok(spans)
    }

    fn spans() -> Vec<Span> {
        (0..64u64)
            .map(|i| Span {
                start_ns: i,
                end_ns: i + 10,
                ..Span::new(
                    format!("{:032x}", 7),
                    format!("{:016x}", i + 1),
                    format!("op {}", i % 4),
                )
            })
            .collect()
    }

    #[test]
    fn chunks_round_trip_and_shrink() {
        let spans = spans();
        let refs: Vec<&Span> = spans.iter().collect();
        let blob = encode(&refs).unwrap();
        let json = serde_json::to_vec(&refs).unwrap();
        assert!(blob.len() * 4 < json.len(), "{} vs {} bytes", blob.len(), json.len());
        assert_eq!(decode(&blob).unwrap(), spans);
        // The thread's kept context gives what a fresh one does, however often it is reused.
        let fresh = zstd::bulk::compress(&json, LEVEL).unwrap();
        assert_eq!(blob, fresh);
        encode(&refs[..1]).unwrap();
        assert_eq!(encode(&refs).unwrap(), fresh);
    }

    #[test]
    fn plain_json_chunks_from_older_stores_are_read() {
        let spans = spans();
        assert_eq!(decode(&serde_json::to_vec(&spans).unwrap()).unwrap(), spans);
    }

    /// Every span, in order, from compressed and plain chunks; stopping early is no error.
    #[test]
    fn chunks_are_read_one_span_at_a_time() {
        let spans = spans();
        let refs: Vec<&Span> = spans.iter().collect();
        // Whole (the frame names its size), streamed (a frame without a size, as a large chunk
        // takes), and plain JSON.
        let json = serde_json::to_vec(&spans).unwrap();
        let streamed = zstd::stream::encode_all(&json[..], LEVEL).unwrap();
        assert_eq!(zstd::zstd_safe::get_frame_content_size(&streamed).ok().flatten(), None);
        for blob in [encode(&refs).unwrap(), streamed, json] {
            let chunk = SpanChunk { id: 1, blob };
            let mut seen = Vec::new();
            assert!(chunk
                .for_each_span(&mut |s| {
                    seen.push(s);
                    true
                })
                .unwrap());
            assert_eq!(seen, spans);
            let mut taken = 0;
            let stop_at_three = &mut |_| {
                taken += 1;
                taken < 3
            };
            assert!(!chunk.for_each_span(stop_at_three).unwrap());
            assert_eq!(taken, 3);
        }
        let mut blob = encode(&refs).unwrap();
        blob.truncate(blob.len() / 2);
        let damaged = SpanChunk { id: 1, blob };
        assert!(matches!(damaged.for_each_span(&mut |_| true), Err(StoreError::Corrupt(_))));
    }

    #[test]
    fn span_ids_are_deduplicated_as_integers_and_odd_ones_as_text() {
        let mut seen = SeenSpans::with_capacity(4);
        assert!(seen.first_time("00000000000000ff"));
        assert!(!seen.first_time("00000000000000ff"));
        // Not lowercase hex: kept apart, so it never collides with the integer of another id.
        assert!(seen.first_time("00000000000000FF"));
        assert!(seen.first_time("+0000000000000ff"));
        assert!(!seen.first_time("+0000000000000ff"));
        assert!(seen.first_time("short"));
    }

    #[test]
    fn damaged_chunks_are_an_error_not_a_panic() {
        let mut blob = encode(&spans().iter().collect::<Vec<_>>()).unwrap();
        blob.truncate(blob.len() / 2);
        assert!(matches!(decode(&blob), Err(StoreError::Corrupt(_))));
        assert!(matches!(decode(b"\x28\xb5\x2f\xfdgarbage"), Err(StoreError::Corrupt(_))));
    }
}
