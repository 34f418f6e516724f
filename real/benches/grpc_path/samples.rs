//! [`Samples`]: measured durations and their percentiles.

use core::time::Duration;

/// Durations of one kind of operation, sorted.
#[derive(Clone, Debug)]
pub struct Samples {
    sorted: Vec<Duration>,
}

impl Samples {
    /// The samples `values`.
    ///
    /// # Panics
    /// When `values` is empty: every measurement takes at least one sample (the
    /// sample count is checked at start).
    pub fn new(mut values: Vec<Duration>) -> Self {
        assert!(!values.is_empty(), "a measurement took no samples");
        values.sort_unstable();
        Self { sorted: values }
    }

    /// The `percent`th percentile by nearest rank: the least sample that at least
    /// `percent`% of the samples do not exceed.
    pub fn percentile(&self, percent: u32) -> Duration {
        let count = self.sorted.len();
        let rank = (count * percent.min(100) as usize).div_ceil(100).max(1);
        self.sorted[rank - 1]
    }

    /// The median.
    pub fn p50(&self) -> Duration {
        self.percentile(50)
    }

    /// The 99th percentile.
    pub fn p99(&self) -> Duration {
        self.percentile(99)
    }
}
