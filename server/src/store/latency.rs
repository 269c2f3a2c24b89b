//! Latency histograms small enough to sit in every `trace_ops` row and be merged by SQLite.
//!
//! Buckets are log-linear: exact below 16 ns, then 8 per power of two, so a bucket's midpoint
//! is within 1/16 (6.25%) of any duration in it. A histogram is stored sparse, as sorted
//! `(bucket: u16 LE, count: u32 LE)` pairs. Hand-written rather than `hdrhistogram` because
//! per-service percentiles merge one histogram per index row, and an HDR histogram allocates
//! its whole count array per decode (tens of KB per row here).

use std::collections::BTreeMap;

const EXACT: u64 = 16;
const SUB_BITS: u32 = 3;
const PAIR: usize = 6;

/// The bucket holding a duration of `ns`.
pub fn bucket_of(ns: u64) -> u16 {
    if ns < EXACT {
        return ns as u16;
    }
    let octave = 63 - ns.leading_zeros(); // >= 4
    let sub = (ns >> (octave - SUB_BITS)) & ((1 << SUB_BITS) - 1);
    (EXACT + u64::from(octave - 4) * (1 << SUB_BITS) + sub) as u16
}

/// The smallest duration in `bucket` and the bucket's width.
fn bucket_range(bucket: u16) -> (u64, u64) {
    let b = u64::from(bucket);
    if b < EXACT {
        return (b, 1);
    }
    let octave = (b - EXACT) / (1 << SUB_BITS) + 4;
    let sub = (b - EXACT) % (1 << SUB_BITS);
    let width = 1u64 << (octave - u64::from(SUB_BITS));
    ((1u64 << octave) + sub * width, width)
}

/// The highest bucket `bucket_of` gives (for `u64::MAX`).
const LAST_BUCKET: u16 = (EXACT as u16) + (63 - 4) * (1 << SUB_BITS) + (1 << SUB_BITS) - 1;

/// Counts per bucket.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Histogram {
    counts: BTreeMap<u16, u64>,
}

impl Histogram {
    pub fn record(&mut self, ns: u64) {
        *self.counts.entry(bucket_of(ns)).or_default() += 1;
    }

    pub fn count(&self) -> u64 {
        self.counts.values().sum()
    }

    /// The non-empty buckets and their counts, in bucket order (a store that sums buckets in
    /// its own rows, such as ClickHouse's `service_latency`).
    pub fn buckets(&self) -> impl Iterator<Item = (u16, u64)> + '_ {
        self.counts.iter().map(|(&bucket, &count)| (bucket, count))
    }

    /// Adds `count` durations to `bucket` (as `buckets` gave it); a bucket no duration falls
    /// in is ignored.
    pub fn add_bucket(&mut self, bucket: u16, count: u64) {
        if bucket <= LAST_BUCKET && count > 0 {
            *self.counts.entry(bucket).or_default() += count;
        }
    }

    /// Adds a histogram in its stored form; malformed bytes (a torn trailing pair, a bucket
    /// no duration falls in) are ignored.
    pub fn merge_encoded(&mut self, bytes: &[u8]) {
        for (bucket, count) in pairs(bytes) {
            *self.counts.entry(bucket).or_default() += count;
        }
    }

    /// Takes away a histogram in its stored form (one that was added before), never going
    /// below zero in a bucket; emptied buckets are dropped.
    pub fn subtract_encoded(&mut self, bytes: &[u8]) {
        for (bucket, count) in pairs(bytes) {
            if let Some(have) = self.counts.get_mut(&bucket) {
                *have = have.saturating_sub(count);
                if *have == 0 {
                    self.counts.remove(&bucket);
                }
            }
        }
    }

    /// The stored form. Counts past `u32::MAX` in one bucket of one row are split over pairs
    /// with the same bucket, which `merge_encoded` adds back up.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.counts.len() * PAIR);
        for (&bucket, &count) in &self.counts {
            let mut left = count;
            while left > 0 {
                let part = left.min(u64::from(u32::MAX));
                out.extend_from_slice(&bucket.to_le_bytes());
                out.extend_from_slice(&(part as u32).to_le_bytes());
                left -= part;
            }
        }
        out
    }

    /// The duration below which a fraction `q` (0..=1) of the recorded ones fall: the midpoint
    /// of the bucket holding the rank-`ceil(q·n)` duration. `None` when empty.
    pub fn quantile(&self, q: f64) -> Option<u64> {
        let total = self.count();
        if total == 0 {
            return None;
        }
        let rank = ((q.clamp(0.0, 1.0) * total as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (&bucket, &count) in &self.counts {
            seen += count;
            if seen >= rank {
                let (low, width) = bucket_range(bucket);
                return Some(low + width / 2);
            }
        }
        None
    }
}

/// The valid `(bucket, count)` pairs of a stored histogram.
fn pairs(bytes: &[u8]) -> impl Iterator<Item = (u16, u64)> + '_ {
    bytes.chunks_exact(PAIR).filter_map(|pair| {
        let bucket = u16::from_le_bytes([pair[0], pair[1]]);
        let count = u32::from_le_bytes([pair[2], pair[3], pair[4], pair[5]]);
        (bucket <= LAST_BUCKET).then_some((bucket, u64::from(count)))
    })
}

/// `latency_merge(a, b)`: the stored form of the sum of two stored histograms (NULL = empty).
pub fn merge_stored(a: Option<&[u8]>, b: Option<&[u8]>) -> Vec<u8> {
    let mut sum = Histogram::default();
    sum.merge_encoded(a.unwrap_or_default());
    sum.merge_encoded(b.unwrap_or_default());
    sum.encode()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_ordered_and_tight() {
        let mut last = 0;
        for (i, ns) in
            (0..100_000u64).chain((0..64).map(|s| 1u64 << s)).chain([u64::MAX]).enumerate()
        {
            let b = bucket_of(ns);
            let (low, width) = bucket_range(b);
            assert!(low <= ns && ns - low < width, "{ns} in bucket {b} = [{low}, +{width})");
            let mid = low + width / 2;
            assert!(mid.abs_diff(ns) as f64 <= ns as f64 / 16.0 + 0.5, "{ns} vs {mid}");
            if i < 100_000 {
                assert!(b >= last);
                last = b;
            }
        }
    }

    #[test]
    fn quantiles_of_a_known_distribution() {
        let mut h = Histogram::default();
        assert_eq!(h.quantile(0.5), None);
        for ms in 1..=100u64 {
            h.record(ms * 1_000_000);
        }
        let within = |got: Option<u64>, want_ms: u64| {
            let got = got.unwrap() as f64 / 1e6;
            assert!((got - want_ms as f64).abs() <= want_ms as f64 / 16.0, "{got} vs {want_ms}");
        };
        within(h.quantile(0.5), 50);
        within(h.quantile(0.95), 95);
        within(h.quantile(0.99), 99);
        within(h.quantile(1.0), 100);
        within(h.quantile(0.0), 1);
    }

    #[test]
    fn stored_form_round_trips_and_merges() {
        let mut a = Histogram::default();
        let mut b = Histogram::default();
        for ns in [5, 1_000, 1_000, 70_000] {
            a.record(ns);
        }
        for ns in [1_000, 9_000_000_000] {
            b.record(ns);
        }
        let merged = merge_stored(Some(&a.encode()), Some(&b.encode()));
        let mut back = Histogram::default();
        back.merge_encoded(&merged);
        assert_eq!(back.count(), 6);
        assert_eq!(back.counts[&bucket_of(1_000)], 3);
        assert_eq!(merge_stored(None, Some(&a.encode())), a.encode());
        // A torn pair is ignored, not misread.
        let mut torn = a.encode();
        torn.push(7);
        let mut h = Histogram::default();
        h.merge_encoded(&torn);
        assert_eq!(h, a);
        // So is a bucket past the last one (a damaged store), which must not overflow.
        let mut bogus = a.encode();
        bogus.extend_from_slice(&[0xff, 0xff, 1, 0, 0, 0]);
        let mut h = Histogram::default();
        h.merge_encoded(&bogus);
        assert_eq!(h, a);
        assert_eq!(bucket_of(u64::MAX), LAST_BUCKET);
    }

    #[test]
    fn subtracting_what_was_added_restores_the_rest() {
        let mut a = Histogram::default();
        let mut b = Histogram::default();
        for ns in [5, 1_000, 70_000] {
            a.record(ns);
        }
        for ns in [1_000, 9_000] {
            b.record(ns);
        }
        let mut sum = a.clone();
        sum.merge_encoded(&b.encode());
        sum.subtract_encoded(&b.encode());
        assert_eq!(sum, a);
        sum.subtract_encoded(&a.encode());
        sum.subtract_encoded(&a.encode());
        assert_eq!(sum, Histogram::default(), "never below zero");
    }

    #[test]
    fn huge_counts_split_into_pairs() {
        let mut h = Histogram::default();
        h.counts.insert(3, u64::from(u32::MAX) + 5);
        let mut back = Histogram::default();
        back.merge_encoded(&h.encode());
        assert_eq!(back, h);
    }
}
