//! The grid every rollup shares: 10 s buckets, and the example traces kept per bucket.

/// The width of a rollup bucket; query steps are whole multiples of it.
pub const BUCKET_NS: u64 = 10_000_000_000;

/// The bucket (its start, Unix ns) holding time `ns`.
pub fn bucket_of(ns: u64) -> i64 {
    (ns - ns % BUCKET_NS).min(i64::MAX as u64) as i64
}

/// Example trace ids kept per bucket, operation and kind.
pub const EXAMPLES_PER_BUCKET: usize = 3;

#[cfg(test)]
mod tests {
    #[test]
    fn a_time_falls_in_the_bucket_starting_at_or_before_it() {
        assert_eq!(super::bucket_of(25_000_000_001), 20_000_000_000);
    }
}
