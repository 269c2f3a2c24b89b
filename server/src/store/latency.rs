//! Latency histograms small enough to sit in every rollup row and be merged by SQLite, whose
//! quantiles are within 1% of the exact ones.
//!
//! Buckets are log-linear (HdrHistogram's layout): exact below 128 ns, then 64 per power of
//! two, so a bucket is at most 1/64 of its lowest duration wide and its midpoint within 1/128
//! (0.78%) of any duration in it. A quantile is the midpoint of the bucket holding the
//! rank-`ceil(q·n)` duration, so it is within 0.78% of the exact (nearest-rank) quantile.
//!
//! Stored form: `[0xFF, 0x02]`, then per non-empty bucket in ascending order two LEB128 varints
//! (prost's): the gap from the previous bucket's index (the first: its index) and the count.
//! A bucket costs 2–4 bytes stored and 8 bytes in memory, where a histogram is a dense window
//! of counts from its lowest to its highest non-empty bucket (merging thousands of rows is then
//! an index add per bucket). Hand-written rather than `hdrhistogram` (at 1% it allocates a
//! ~37 KB count array per decode, and its V2 form heads each row with 40 bytes) or
//! `sketches-ddsketch` (serde only, no subtraction for retention), and because old rows stay read.
//!
//! The first form (before v2): `(bucket: u16 LE, count: u32 LE)` pairs with 8 buckets per power
//! of two (6.25%). Such rows are still read and merge with new ones: each old bucket's count
//! goes to the fine bucket holding the old bucket's midpoint, so old data keeps its old error.
//! Bucket ids as `buckets` gives them (ClickHouse's `service_latency` keeps one row per id) are
//! `FINE_BASE + index`, apart from the old ids (0..=495), so either kind can be added.

use prost::encoding::{decode_varint, encode_varint};

/// Sub-buckets per power of two: `2^SUB_BITS`.
const SUB_BITS: u32 = 6;
/// Durations below this are their own bucket (a bucket is at least 1 ns wide from here on).
const EXACT: u64 = 1 << (SUB_BITS + 1);
/// How many fine buckets there are (the last holds `u64::MAX`).
const FINE_LEN: usize = (EXACT + (63 - SUB_BITS as u64) * (1 << SUB_BITS)) as usize;
/// The id of fine bucket 0 in `buckets` and `add_bucket` (old ids are below it).
const FINE_BASE: u16 = 1024;
/// The stored form's first two bytes; an old blob cannot start so (its first bucket would be
/// 0x02FF, past the last old bucket).
const MAGIC: [u8; 2] = [0xFF, 0x02];

/// The fine bucket holding a duration of `ns`.
fn index_of(ns: u64) -> usize {
    if ns < EXACT {
        return ns as usize;
    }
    let octave = 63 - ns.leading_zeros(); // >= SUB_BITS + 1
    let sub = (ns >> (octave - SUB_BITS)) & ((1 << SUB_BITS) - 1);
    (EXACT + u64::from(octave - SUB_BITS - 1) * (1 << SUB_BITS) + sub) as usize
}

/// The smallest duration in fine bucket `index` and the bucket's width.
fn index_range(index: usize) -> (u64, u64) {
    let i = index as u64;
    if i < EXACT {
        return (i, 1);
    }
    let octave = (i - EXACT) / (1 << SUB_BITS) + u64::from(SUB_BITS) + 1;
    let sub = (i - EXACT) % (1 << SUB_BITS);
    let width = 1u64 << (octave - u64::from(SUB_BITS));
    ((1u64 << octave) + sub * width, width)
}

/// The duration a fine bucket stands for: its midpoint.
fn midpoint(index: usize) -> u64 {
    let (low, width) = index_range(index);
    low + width / 2
}

/// The first form's buckets: exact below 16 ns, then 8 per power of two.
mod v1 {
    pub const PAIR: usize = 6;
    const EXACT: u64 = 16;
    const SUB_BITS: u32 = 3;
    /// The highest old bucket (for `u64::MAX`).
    pub const LAST: u16 = (EXACT as u16) + (63 - 4) * (1 << SUB_BITS) + (1 << SUB_BITS) - 1;

    /// The fine bucket holding old bucket `bucket`'s midpoint.
    pub fn to_index(bucket: u16) -> usize {
        let b = u64::from(bucket);
        if b < EXACT {
            return b as usize;
        }
        let octave = (b - EXACT) / (1 << SUB_BITS) + 4;
        let sub = (b - EXACT) % (1 << SUB_BITS);
        let width = 1u64 << (octave - u64::from(SUB_BITS));
        super::index_of((1u64 << octave) + sub * width + width / 2)
    }

    /// The old bucket of `ns` (tests write old rows with it).
    #[cfg(test)]
    pub fn bucket_of(ns: u64) -> u16 {
        if ns < EXACT {
            return ns as u16;
        }
        let octave = 63 - ns.leading_zeros();
        let sub = (ns >> (octave - SUB_BITS)) & ((1 << SUB_BITS) - 1);
        (EXACT + u64::from(octave - 4) * (1 << SUB_BITS) + sub) as u16
    }
}

/// Counts per fine bucket: a dense window from `first` (empty when nothing was recorded).
#[derive(Clone, Debug, Default)]
pub struct Histogram {
    /// The fine bucket of `counts[0]`.
    first: usize,
    counts: Vec<u64>,
}

impl PartialEq for Histogram {
    /// Equal when every bucket holds the same count (whatever the windows).
    fn eq(&self, other: &Histogram) -> bool {
        self.entries().eq(other.entries())
    }
}

impl Eq for Histogram {}

impl Histogram {
    pub fn record(&mut self, ns: u64) {
        *self.slot(index_of(ns)) += 1;
    }

    pub fn count(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// The non-empty buckets (as ids `add_bucket` takes) and their counts, in bucket order (a
    /// store that sums buckets in its own rows, such as ClickHouse's `service_latency`).
    pub fn buckets(&self) -> impl Iterator<Item = (u16, u64)> + '_ {
        self.entries().map(|(index, count)| (FINE_BASE + index as u16, count))
    }

    /// Adds `count` durations to bucket `id` (as `buckets` gives it now, or an old id); an id no
    /// duration falls in is ignored.
    pub fn add_bucket(&mut self, id: u16, count: u64) {
        let index = match id {
            _ if count == 0 => return,
            0..=v1::LAST => v1::to_index(id),
            _ if id >= FINE_BASE && usize::from(id - FINE_BASE) < FINE_LEN => {
                usize::from(id - FINE_BASE)
            }
            _ => return,
        };
        *self.slot(index) += count;
    }

    /// Adds every count of `other`.
    pub fn add(&mut self, other: &Histogram) {
        if other.counts.is_empty() {
            return;
        }
        self.slot(other.first);
        self.slot(other.first + other.counts.len() - 1);
        let from = other.first - self.first;
        self.counts[from..from + other.counts.len()]
            .iter_mut()
            .zip(&other.counts)
            .for_each(|(a, b)| *a += b);
    }

    /// Adds a histogram in its stored form (either form); malformed bytes (a torn varint or
    /// pair, a bucket no duration falls in) end or skip what is read, never misread.
    pub fn merge_encoded(&mut self, bytes: &[u8]) {
        for (index, count) in entries(bytes) {
            *self.slot(index) += count;
        }
    }

    /// Takes away a histogram in its stored form (one that was added before), never going
    /// below zero in a bucket.
    pub fn subtract_encoded(&mut self, bytes: &[u8]) {
        for (index, count) in entries(bytes) {
            if let Some(have) = index.checked_sub(self.first).and_then(|i| self.counts.get_mut(i)) {
                *have = have.saturating_sub(count);
            }
        }
    }

    /// The stored form (empty when nothing was recorded).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Encoder::with_capacity(MAGIC.len() + 3 * self.counts.len().min(64));
        for (index, count) in self.entries() {
            out.push(index, count);
        }
        out.finish()
    }

    /// The duration below which a fraction `q` (0..=1) of the recorded ones fall: the midpoint
    /// of the bucket holding the rank-`ceil(q·n)` duration. `None` when empty.
    pub fn quantile(&self, q: f64) -> Option<u64> {
        self.quantiles([q])[0]
    }

    /// p50, p95 and p99.
    pub fn percentiles(&self) -> [Option<u64>; 3] {
        self.quantiles([0.5, 0.95, 0.99])
    }

    /// `quantile` of each of `qs` (in ascending order), in one pass.
    pub fn quantiles<const N: usize>(&self, qs: [f64; N]) -> [Option<u64>; N] {
        let total = self.count();
        let mut out = [None; N];
        if total == 0 {
            return out;
        }
        let rank = |q: f64| ((q.clamp(0.0, 1.0) * total as f64).ceil() as u64).clamp(1, total);
        let (mut seen, mut next) = (0, 0);
        for (index, count) in self.entries() {
            seen += count;
            while next < N && seen >= rank(qs[next]) {
                out[next] = Some(midpoint(index));
                next += 1;
            }
            if next == N {
                break;
            }
        }
        out
    }

    /// The non-empty fine buckets and their counts, in order.
    fn entries(&self) -> impl Iterator<Item = (usize, u64)> + '_ {
        let first = self.first;
        self.counts.iter().enumerate().filter(|(_, c)| **c > 0).map(move |(i, &c)| (first + i, c))
    }

    /// The count of fine bucket `index`, the window grown to hold it.
    fn slot(&mut self, index: usize) -> &mut u64 {
        if self.counts.is_empty() {
            self.first = index;
            self.counts.push(0);
        } else if index < self.first {
            // At least doubled (a trace's spans come longest first, so a histogram often grows
            // down one bucket at a time): amortised O(1) like `Vec`'s own growth at the end.
            let grow = (self.first - index).max(self.counts.len()).min(self.first);
            self.counts.splice(0..0, std::iter::repeat_n(0, grow));
            self.first -= grow;
        } else if index - self.first >= self.counts.len() {
            self.counts.resize(index - self.first + 1, 0);
        }
        &mut self.counts[index - self.first]
    }
}

/// `latency_merge(a, b)`: the stored form of the sum of two stored histograms (NULL = empty).
/// Both are read in bucket order and merged as they are read, without a histogram in between
/// (the writer calls this for every rollup row it updates).
pub fn merge_stored(a: Option<&[u8]>, b: Option<&[u8]>) -> Vec<u8> {
    let (a, b) = (a.unwrap_or_default(), b.unwrap_or_default());
    let mut out = Encoder::with_capacity(a.len() + b.len());
    let (mut x, mut y) = (entries(a).peekable(), entries(b).peekable());
    loop {
        let next = match (x.peek(), y.peek()) {
            (None, None) => break,
            (Some(_), None) => x.next(),
            (None, Some(_)) => y.next(),
            (Some(p), Some(q)) if p.0 <= q.0 => x.next(),
            _ => y.next(),
        };
        let Some((index, count)) = next else { break };
        if !out.push(index, count) {
            // Out of order (a damaged row): merge through a histogram instead.
            let mut sum = Histogram::default();
            sum.merge_encoded(a);
            sum.merge_encoded(b);
            return sum.encode();
        }
    }
    out.finish()
}

/// Writes the stored form from buckets in ascending order, adding up repeats of a bucket.
#[derive(Default)]
struct Encoder {
    out: Vec<u8>,
    /// The bucket written last (`None` before the first).
    last: Option<usize>,
    /// The bucket being added up, not yet written.
    pending: Option<(usize, u64)>,
}

impl Encoder {
    fn with_capacity(bytes: usize) -> Encoder {
        Encoder { out: Vec::with_capacity(bytes), ..Encoder::default() }
    }

    /// Adds `count` to bucket `index`; false when `index` is below a bucket already pushed.
    fn push(&mut self, index: usize, count: u64) -> bool {
        match &mut self.pending {
            Some((at, sum)) if *at == index => {
                *sum = sum.saturating_add(count);
                return true;
            }
            Some((at, _)) if *at > index => return false,
            _ => {}
        }
        self.flush();
        self.pending = Some((index, count));
        true
    }

    fn flush(&mut self) {
        let Some((index, count)) = self.pending.take() else { return };
        if count == 0 {
            return;
        }
        if self.out.is_empty() {
            self.out.extend_from_slice(&MAGIC);
        }
        let gap = index - self.last.unwrap_or(0);
        encode_varint(gap as u64, &mut self.out);
        encode_varint(count, &mut self.out);
        self.last = Some(index);
    }

    fn finish(mut self) -> Vec<u8> {
        self.flush();
        self.out
    }
}

/// The `(fine bucket, count)` entries of a stored histogram of either form, in stored order.
fn entries(bytes: &[u8]) -> Entries<'_> {
    match bytes.strip_prefix(&MAGIC) {
        Some(rest) => Entries::Current { rest, last: None },
        None => Entries::Old(bytes.chunks_exact(v1::PAIR)),
    }
}

enum Entries<'a> {
    Current { rest: &'a [u8], last: Option<usize> },
    Old(std::slice::ChunksExact<'a, u8>),
}

impl Iterator for Entries<'_> {
    type Item = (usize, u64);

    fn next(&mut self) -> Option<(usize, u64)> {
        match self {
            Entries::Current { rest, last } => {
                if rest.is_empty() {
                    return None;
                }
                let entry = (|| {
                    let gap = usize::try_from(decode_varint(rest).ok()?).ok()?;
                    let count = decode_varint(rest).ok()?;
                    let index = last.unwrap_or(0).checked_add(gap).filter(|&i| i < FINE_LEN)?;
                    Some((index, count))
                })();
                match entry {
                    Some((index, count)) => {
                        *last = Some(index);
                        Some((index, count))
                    }
                    // Damaged from here on: stop.
                    None => {
                        *rest = &[];
                        None
                    }
                }
            }
            Entries::Old(pairs) => pairs.find_map(|pair| {
                let bucket = u16::from_le_bytes([pair[0], pair[1]]);
                let count = u32::from_le_bytes([pair[2], pair[3], pair[4], pair[5]]);
                (bucket <= v1::LAST).then(|| (v1::to_index(bucket), u64::from(count)))
            }),
        }
    }
}

#[cfg(test)]
#[path = "latency_tests.rs"]
mod tests;
