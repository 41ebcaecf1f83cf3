//! A tiny non-cryptographic random generator (SplitMix64), seeded from
//! std's per-process random hasher keys. Port picking needs spread, not
//! secrecy, and this avoids a dependency.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};

pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn seeded() -> Rng {
        let mut h = RandomState::new().build_hasher();
        h.write_u64(crate::util::time::now_unix_ms());
        h.write_u32(std::process::id());
        Rng(h.finish())
    }

    #[cfg(test)]
    pub(crate) fn from_seed(seed: u64) -> Rng {
        Rng(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        // SplitMix64 (Steele, Lea, Flood 2014), as in java.util.SplittableRandom.
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A value in `0..n` (`n > 0`), by multiply-shift (bias < 2^-32).
    pub(crate) fn below(&mut self, n: u32) -> u32 {
        (((self.next_u64() >> 32) * u64::from(n)) >> 32) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn below_stays_in_bounds_and_spreads() {
        let mut r = Rng::from_seed(7);
        let mut seen = [0u32; 10];
        for _ in 0..10_000 {
            let v = r.below(10);
            assert!(v < 10);
            seen[v as usize] += 1;
        }
        assert!(seen.iter().all(|&c| c > 800), "{seen:?}");
        assert_eq!(Rng::from_seed(1).below(1), 0);
    }
}
