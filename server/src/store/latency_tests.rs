//! Known answers for `latency.rs`: bucket bounds, quantiles within 1% of exact ones, the stored
//! form (round trip, damage, size) and old rows merged with new ones.

use prost::encoding::encode_varint;

use super::*;

/// A seeded generator (splitmix64), so the samples are the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in (0, 1].
    fn unit(&mut self) -> f64 {
        ((self.next() >> 11) + 1) as f64 / (1u64 << 53) as f64
    }

    /// Lognormal with median `median_ns` and shape `sigma` (Box–Muller).
    fn lognormal(&mut self, median_ns: f64, sigma: f64) -> u64 {
        let (u, v) = (self.unit(), self.unit());
        let normal = (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos();
        (median_ns * (sigma * normal).exp()) as u64
    }
}

/// The exact nearest-rank quantile of sorted durations (what `quantile` estimates).
fn exact(sorted: &[u64], q: f64) -> u64 {
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn relative_error(got: u64, want: u64) -> f64 {
    got.abs_diff(want) as f64 / want.max(1) as f64
}

/// The first form of `durations` (tests of old rows).
fn old_form(durations: &[u64]) -> Vec<u8> {
    let mut counts = std::collections::BTreeMap::<u16, u32>::new();
    for &ns in durations {
        *counts.entry(v1::bucket_of(ns)).or_default() += 1;
    }
    let mut out = Vec::new();
    for (bucket, count) in counts {
        out.extend_from_slice(&bucket.to_le_bytes());
        out.extend_from_slice(&count.to_le_bytes());
    }
    out
}

#[test]
fn buckets_are_ordered_and_within_a_128th() {
    let mut last = 0;
    let small = 0..200_000u64;
    let powers = (0..64).flat_map(|s| [(1u64 << s) - 1, 1u64 << s, (1u64 << s) + 1]);
    for (i, ns) in small.chain(powers).chain([u64::MAX]).enumerate() {
        let index = index_of(ns);
        assert!(index < FINE_LEN, "{ns} → {index}");
        let (low, width) = index_range(index);
        assert!(low <= ns && ns - low < width, "{ns} in bucket {index} = [{low}, +{width})");
        assert!(relative_error(midpoint(index), ns) <= 1.0 / 128.0, "{ns} vs {}", midpoint(index));
        if i < 200_000 {
            assert!(index >= last);
            last = index;
        }
    }
    assert_eq!(index_of(u64::MAX), FINE_LEN - 1);
    assert!(FINE_LEN + usize::from(FINE_BASE) <= usize::from(u16::MAX), "ids fit a u16");
}

#[test]
fn a_fixed_duration_is_every_percentile_within_one_percent() {
    // The 1 s `Retry-After` of issue 26 read 973.08 ms at p95 and p99 with 8 buckets a power.
    for ns in [1_000_000_000, 973_080_000, 19_920_000, 250_000, 1_500, 77, 0] {
        let mut h = Histogram::default();
        for _ in 0..1000 {
            h.record(ns);
        }
        let [p50, p95, p99] = [0.5, 0.95, 0.99].map(|q| h.quantile(q).unwrap());
        assert_eq!((p50, p95), (p99, p99), "{ns}");
        assert!(relative_error(p99, ns) < 0.01, "{ns}: {p99}");
    }
}

#[test]
fn lognormal_quantiles_are_within_one_percent_of_the_exact_ones() {
    let mut rng = Rng(26);
    for (median_ns, sigma) in [(20e6, 1.0), (300e3, 2.0), (1e9, 0.1)] {
        let mut sample: Vec<u64> = (0..50_000).map(|_| rng.lognormal(median_ns, sigma)).collect();
        let mut h = Histogram::default();
        sample.iter().for_each(|&ns| h.record(ns));
        sample.sort_unstable();
        for q in [0.0, 0.01, 0.1, 0.5, 0.9, 0.95, 0.99, 0.999, 1.0] {
            let (got, want) = (h.quantile(q).unwrap(), exact(&sample, q));
            assert!(
                relative_error(got, want) < 0.01,
                "q{q} of ({median_ns}, {sigma}): {got} vs {want}"
            );
        }
        // The same through the stored form and a merge of two halves.
        let (mut a, mut b) = (Histogram::default(), Histogram::default());
        for (i, &ns) in sample.iter().enumerate() {
            if i % 2 == 0 {
                a.record(ns)
            } else {
                b.record(ns)
            }
        }
        let mut back = Histogram::default();
        back.merge_encoded(&merge_stored(Some(&a.encode()), Some(&b.encode())));
        assert_eq!(back, h);
    }
}

#[test]
fn empty_and_edge_quantiles() {
    let mut h = Histogram::default();
    assert_eq!(h.quantile(0.5), None);
    for ms in 1..=100u64 {
        h.record(ms * 1_000_000);
    }
    let near = |q: f64, ms: u64| relative_error(h.quantile(q).unwrap(), ms * 1_000_000) < 0.01;
    assert!(near(0.0, 1) && near(0.5, 50) && near(0.95, 95) && near(0.99, 99) && near(1.0, 100));
    assert!(near(-1.0, 1) && near(2.0, 100), "q is clamped");
}

#[test]
fn old_rows_are_read_and_merge_with_new_ones_keeping_their_error() {
    // An old row of a fixed 1 s: its bucket's midpoint is the 973.08 ms of issue 26.
    let old = old_form(&[1_000_000_000; 10]);
    let mut h = Histogram::default();
    h.merge_encoded(&old);
    assert_eq!(h.count(), 10);
    let p = h.quantile(0.99).unwrap();
    assert!(relative_error(p, 973_078_528) < 1.0 / 128.0, "the old midpoint, kept: {p}");
    // Merged with a new row of the same, in either order: the new tenth is within 1%.
    let mut new = Histogram::default();
    (0..90).for_each(|_| new.record(1_000_000_000));
    for merged in [
        merge_stored(Some(&old), Some(&new.encode())),
        merge_stored(Some(&new.encode()), Some(&old)),
    ] {
        assert!(merged.starts_with(&MAGIC), "written in the new form");
        let mut both = Histogram::default();
        both.merge_encoded(&merged);
        assert_eq!(both.count(), 100);
        assert!(relative_error(both.quantile(0.5).unwrap(), 1_000_000_000) < 0.01);
        assert!(relative_error(both.quantile(0.05).unwrap(), 973_078_528) < 0.01);
    }
    // Old rows of any durations keep the old 1/16 (plus the fine bucket's 1/128).
    let mut rng = Rng(7);
    let mut sample: Vec<u64> = (0..20_000).map(|_| rng.lognormal(5e6, 1.5)).collect();
    let mut h = Histogram::default();
    h.merge_encoded(&old_form(&sample));
    sample.sort_unstable();
    for q in [0.01, 0.5, 0.99] {
        let (got, want) = (h.quantile(q).unwrap(), exact(&sample, q));
        assert!(relative_error(got, want) <= 1.0 / 16.0 + 1.0 / 128.0, "{got} vs {want}");
    }
    // Subtracting an old row from a new sum that holds it restores the rest.
    let mut sum = new.clone();
    sum.merge_encoded(&old);
    sum.subtract_encoded(&old);
    assert_eq!(sum, new);
}

#[test]
fn bucket_ids_of_either_form_can_be_added() {
    let mut h = Histogram::default();
    for ns in [3, 4_000, 5_000_000] {
        h.record(ns);
    }
    let mut back = Histogram::default();
    h.buckets().for_each(|(id, count)| back.add_bucket(id, count));
    assert_eq!(back, h);
    assert!(h.buckets().all(|(id, _)| id >= FINE_BASE));
    // An old id: the fine bucket of its midpoint; ids in no bucket are ignored.
    back.add_bucket(v1::bucket_of(1_000_000_000), 2);
    back.add_bucket(v1::LAST + 1, 5);
    back.add_bucket(FINE_BASE + FINE_LEN as u16, 5);
    back.add_bucket(u16::MAX, 5);
    back.add_bucket(FINE_BASE, 0);
    assert_eq!(back.count(), 5);
    assert!(relative_error(back.quantile(1.0).unwrap(), 973_078_528) < 0.01);
}

#[test]
fn stored_form_round_trips_merges_and_survives_damage() {
    let (mut a, mut b) = (Histogram::default(), Histogram::default());
    for ns in [5, 1_000, 1_000, 70_000] {
        a.record(ns);
    }
    for ns in [1_000, 9_000_000_000, u64::MAX] {
        b.record(ns);
    }
    let mut back = Histogram::default();
    back.merge_encoded(&merge_stored(Some(&a.encode()), Some(&b.encode())));
    let mut want = a.clone();
    want.add(&b);
    assert_eq!((back.count(), &back), (7, &want));
    assert_eq!(merge_stored(None, Some(&a.encode())), a.encode());
    assert_eq!(merge_stored(Some(&a.encode()), Some(b"".as_slice())), a.encode());
    assert_eq!((merge_stored(None, None), Histogram::default().encode()), (vec![], vec![]));
    // A torn varint ends the read, keeping what came before it.
    let mut torn = a.encode();
    torn.push(0x80);
    let mut h = Histogram::default();
    h.merge_encoded(&torn);
    assert_eq!(h, a);
    // So does a bucket past the last one (a damaged store), which must not overflow.
    let mut bogus = a.encode();
    encode_varint(FINE_LEN as u64, &mut bogus);
    encode_varint(1, &mut bogus);
    encode_varint(1, &mut bogus);
    let mut h = Histogram::default();
    h.merge_encoded(&bogus);
    assert_eq!(h, a);
    assert_eq!(merge_stored(Some(&bogus), None), a.encode());
    // An old blob with a torn pair or a bucket past the last old one.
    let mut old = old_form(&[5, 1_000]);
    old.extend_from_slice(&[0xff, 0x01, 1, 0, 0, 0, 7]);
    let mut h = Histogram::default();
    h.merge_encoded(&old);
    assert_eq!(h.count(), 2);
}

#[test]
fn an_out_of_order_row_still_merges() {
    // A damaged old row with its buckets out of order.
    let mut old = old_form(&[70_000]);
    old.extend_from_slice(&old_form(&[1_000]));
    let mut new = Histogram::default();
    new.record(5_000);
    let mut h = Histogram::default();
    h.merge_encoded(&merge_stored(Some(&old), Some(&new.encode())));
    assert_eq!(h.count(), 3);
    assert!(relative_error(h.quantile(0.5).unwrap(), 5_000) < 0.01);
}

#[test]
fn merging_rows_as_read_agrees_with_a_histogram() {
    let mut rng = Rng(3);
    for _ in 0..200 {
        let (mut a, mut b) = (Histogram::default(), Histogram::default());
        for _ in 0..rng.next() % 40 {
            a.record(rng.lognormal(1e6, 3.0));
        }
        for _ in 0..rng.next() % 40 {
            b.record(rng.lognormal(1e6, 3.0));
        }
        let mut want = a.clone();
        want.add(&b);
        assert_eq!(merge_stored(Some(&a.encode()), Some(&b.encode())), want.encode());
    }
}

#[test]
fn subtracting_what_was_added_restores_the_rest() {
    let (mut a, mut b) = (Histogram::default(), Histogram::default());
    for ns in [5, 1_000, 70_000] {
        a.record(ns);
    }
    for ns in [1_000, 9_000, 3] {
        b.record(ns);
    }
    let mut sum = a.clone();
    sum.merge_encoded(&b.encode());
    sum.subtract_encoded(&b.encode());
    assert_eq!(sum, a);
    sum.subtract_encoded(&a.encode());
    sum.subtract_encoded(&a.encode());
    assert_eq!((sum.count(), sum.encode()), (0, vec![]), "never below zero");
    assert_eq!(sum, Histogram::default());
}

#[test]
fn huge_counts_round_trip() {
    let mut h = Histogram::default();
    h.add_bucket(FINE_BASE + 3, u64::from(u32::MAX) + 5);
    let mut back = Histogram::default();
    back.merge_encoded(&h.encode());
    back.merge_encoded(&merge_stored(Some(&h.encode()), None));
    assert_eq!(back.count(), 2 * (u64::from(u32::MAX) + 5));
}

#[test]
fn a_bucket_costs_two_bytes_stored_when_counts_and_gaps_are_small() {
    // Typical rows: a trace's operation (a few spans) and a 10 s RED row (a few hundred).
    let mut rng = Rng(11);
    for spans in [3, 300] {
        let mut h = Histogram::default();
        let mut durations = Vec::new();
        for _ in 0..spans {
            let ns = rng.lognormal(20e6, 0.5);
            h.record(ns);
            durations.push(ns);
        }
        let buckets = h.buckets().count();
        let bytes = h.encode().len();
        assert!(
            bytes <= MAGIC.len() + 1 + 2 * buckets,
            "{spans} spans: {bytes} B, {buckets} buckets"
        );
        // Eight times the buckets of the first form, in about as many bytes.
        let old = old_form(&durations).len();
        assert!(bytes <= old * 2, "{spans} spans: {bytes} B against {old} B before");
    }
}
