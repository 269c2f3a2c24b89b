//! `Counts`: small exact counts by key (attempt histograms), as stored and merged in SQL.

use std::collections::BTreeMap;

/// Small exact counts by key, stored as sorted `(key: u32 LE, count: u64 LE)` pairs and summed
/// in SQL by `counts_merge`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counts(pub BTreeMap<u32, u64>);

const COUNT_PAIR: usize = 12;

impl Counts {
    pub fn add(&mut self, key: u32, n: u64) {
        *self.0.entry(key).or_default() += n;
    }

    pub fn merge_encoded(&mut self, bytes: &[u8]) {
        for pair in bytes.chunks_exact(COUNT_PAIR) {
            let key = u32::from_le_bytes(pair[..4].try_into().expect("4 bytes"));
            let n = u64::from_le_bytes(pair[4..].try_into().expect("8 bytes"));
            self.add(key, n);
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.0.len() * COUNT_PAIR);
        for (key, n) in &self.0 {
            out.extend_from_slice(&key.to_le_bytes());
            out.extend_from_slice(&n.to_le_bytes());
        }
        out
    }
}

/// `counts_merge(a, b)`: the stored form of the sum of two stored `Counts` (NULL = empty).
pub fn merge_counts(a: Option<&[u8]>, b: Option<&[u8]>) -> Vec<u8> {
    let mut sum = Counts::default();
    sum.merge_encoded(a.unwrap_or_default());
    sum.merge_encoded(b.unwrap_or_default());
    sum.encode()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_round_trip_and_merge() {
        let mut a = Counts::default();
        a.add(1, 3);
        a.add(70_000, u64::from(u32::MAX) + 1);
        let mut b = Counts::default();
        b.add(1, 2);
        let mut sum = Counts::default();
        sum.merge_encoded(&merge_counts(Some(&a.encode()), Some(&b.encode())));
        assert_eq!(sum.0, BTreeMap::from([(1, 5), (70_000, u64::from(u32::MAX) + 1)]));
        assert_eq!(merge_counts(None, None), Vec::<u8>::new());
    }
}
