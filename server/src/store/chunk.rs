//! How one chunk of spans (one trace's spans from one export request) is kept on disk: a JSON
//! array compressed with zstd. Chunks written before compression (plain JSON) are still read.

use otelscope_app::model::Span;

use super::StoreError;

/// zstd's frame magic number; a plain JSON chunk starts with `[`.
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];
/// Level 3 (zstd's default): about 8x on typical spans at a few hundred MB/s, so compressing
/// costs the writer less than writing the uncompressed pages would.
const LEVEL: i32 = 3;

/// The stored form of `spans`.
pub(super) fn encode(spans: &[&Span]) -> Result<Vec<u8>, StoreError> {
    let json = serde_json::to_vec(spans).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    zstd::bulk::compress(&json, LEVEL).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// The spans of a stored chunk, compressed or from before compression.
pub(super) fn decode(blob: &[u8]) -> Result<Vec<Span>, StoreError> {
    let corrupt = |e: &dyn std::fmt::Display| StoreError::Corrupt(format!("span chunk: {e}"));
    if blob.starts_with(&ZSTD_MAGIC) {
        let json = zstd::stream::decode_all(blob).map_err(|e| corrupt(&e))?;
        serde_json::from_slice(&json).map_err(|e| corrupt(&e))
    } else {
        serde_json::from_slice(blob).map_err(|e| corrupt(&e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    }

    #[test]
    fn plain_json_chunks_from_older_stores_are_read() {
        let spans = spans();
        assert_eq!(decode(&serde_json::to_vec(&spans).unwrap()).unwrap(), spans);
    }

    #[test]
    fn damaged_chunks_are_an_error_not_a_panic() {
        let mut blob = encode(&spans().iter().collect::<Vec<_>>()).unwrap();
        blob.truncate(blob.len() / 2);
        assert!(matches!(decode(&blob), Err(StoreError::Corrupt(_))));
        assert!(matches!(decode(b"\x28\xb5\x2f\xfdgarbage"), Err(StoreError::Corrupt(_))));
    }
}
