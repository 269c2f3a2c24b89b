//! Which products the demo's traffic asks for: Zipf-distributed popularity over the catalog
//! (a few bestsellers, a long tail), so hit rates look like real ones, plus a small share of
//! ids that cannot exist (the lookups the bloom filter is there to stop).

use rand::Rng;
use rand_distr::{Distribution, Zipf};

/// Ids from here on are never in the catalog.
pub(crate) const IMPOSSIBLE_FROM: u64 = 1_000_000_000;

/// The key chooser.
pub(crate) struct Keys {
    zipf: Zipf<f64>,
    impossible_share: f64,
}

impl Keys {
    /// Ids 1..=`products` with Zipf exponent `exponent`, and `impossible_share` of lookups
    /// for ids that do not exist.
    pub(crate) fn new(products: u64, exponent: f64, impossible_share: f64) -> Keys {
        let zipf = Zipf::new(products.max(1) as f64, exponent)
            .unwrap_or_else(|_| Zipf::new(products.max(1) as f64, 1.0).expect("valid Zipf"));
        Keys { zipf, impossible_share }
    }

    /// The next id to look up.
    pub(crate) fn sample(&self, rng: &mut impl Rng) -> u64 {
        if rng.random::<f64>() < self.impossible_share {
            return IMPOSSIBLE_FROM + rng.random_range(0..IMPOSSIBLE_FROM);
        }
        self.zipf.sample(rng) as u64
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    #[test]
    fn popularity_is_skewed_and_impossible_ids_are_a_small_share() {
        let keys = Keys::new(10_000, 1.1, 0.03);
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let n = 100_000;
        let (mut top_100, mut impossible, mut seen) = (0, 0, std::collections::HashSet::new());
        for _ in 0..n {
            let id = keys.sample(&mut rng);
            match id {
                1..=100 => top_100 += 1,
                IMPOSSIBLE_FROM.. => impossible += 1,
                _ => {}
            }
            assert!(id >= 1);
            seen.insert(id);
        }
        // The top 1% of products take far more than 1% of the lookups…
        assert!(top_100 > n / 3, "top 100 ids got {top_100} of {n}");
        // …while the tail is still visited.
        assert!(seen.len() > 5_000, "only {} distinct ids", seen.len());
        let share = impossible as f64 / n as f64;
        assert!((0.02..0.04).contains(&share), "impossible share {share}");
    }
}
