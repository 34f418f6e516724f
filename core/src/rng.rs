//! A small seeded PRNG owned by quorum, so that a seed means the same run on every
//! machine and with every version of every dependency (a `rand` upgrade may change its
//! streams; ours never changes silently).

use serde::{Deserialize, Serialize};

/// xoshiro256** seeded through SplitMix64. Not cryptographic; only for jitter,
/// simulation and tie-free sampling.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeededRng {
    state: [u64; 4],
}

impl SeededRng {
    /// A generator whose whole stream is decided by `seed`.
    pub fn new(seed: u64) -> Self {
        let mut mix = seed;
        let mut next = || {
            mix = mix.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = mix;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        };
        Self { state: [next(), next(), next(), next()] }
    }

    /// A generator for a named sub-stream, so that adding draws to one part of a
    /// simulation does not shift the draws of another.
    pub fn derive(seed: u64, stream: &str) -> Self {
        // FNV-1a: stable across platforms, unlike std's RandomState.
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for byte in stream.bytes() {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        Self::new(seed ^ hash.rotate_left(17))
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let result = self.state[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let shifted = self.state[1] << 17;
        self.state[2] ^= self.state[0];
        self.state[3] ^= self.state[1];
        self.state[1] ^= self.state[2];
        self.state[0] ^= self.state[3];
        self.state[2] ^= shifted;
        self.state[3] = self.state[3].rotate_left(45);
        result
    }

    /// Uniform in `[0, 1)`.
    pub fn next_f64(&mut self) -> f64 {
        // 53 high bits: every value is exactly representable.
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in `[low, high)`; `low` when the range is empty.
    pub fn range_u64(&mut self, low: u64, high: u64) -> u64 {
        if high <= low {
            return low;
        }
        // Multiply-shift avoids the modulo bias that matters for small ranges.
        let span = high - low;
        low + ((u128::from(self.next_u64()) * u128::from(span)) >> 64) as u64
    }

    /// True with probability `probability` (clamped to 0..=1).
    pub fn chance(&mut self, probability: f64) -> bool {
        self.next_f64() < probability.clamp(0.0, 1.0)
    }

    /// An index into a non-empty slice of `len` items.
    ///
    /// # Panics
    /// When `len` is zero: choosing from nothing is a caller bug.
    pub fn index(&mut self, len: usize) -> usize {
        assert!(len > 0, "SeededRng::index on an empty range");
        self.range_u64(0, len as u64) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream_different_seed_different_stream() {
        let first: Vec<u64> = {
            let mut rng = SeededRng::new(7);
            (0..8).map(|_| rng.next_u64()).collect()
        };
        let again: Vec<u64> = {
            let mut rng = SeededRng::new(7);
            (0..8).map(|_| rng.next_u64()).collect()
        };
        let other: Vec<u64> = {
            let mut rng = SeededRng::new(8);
            (0..8).map(|_| rng.next_u64()).collect()
        };
        assert_eq!(first, again);
        assert_ne!(first, other);
    }

    #[test]
    fn pinned_stream_never_changes() {
        // Regression pin: seeds in snapshots and replay commands stay valid only while
        // this stream stays exactly the same.
        let mut rng = SeededRng::new(0);
        assert_eq!(rng.next_u64(), 0x99EC_5F36_CB75_F2B4);
    }

    #[test]
    fn ranges_stay_in_bounds() {
        let mut rng = SeededRng::derive(3, "bounds");
        for _ in 0..10_000 {
            let value = rng.range_u64(10, 13);
            assert!((10..13).contains(&value));
            let unit = rng.next_f64();
            assert!((0.0..1.0).contains(&unit));
        }
        assert_eq!(rng.range_u64(5, 5), 5);
    }
}
