//! The switches a harness flips on running mock models.

use std::sync::{Arc, Mutex, PoisonError};

/// Switches the harness flips during a run (error storms).
#[derive(Clone, Debug, Default)]
pub struct LlmControl {
    storm_rate: Arc<Mutex<f64>>,
}

impl LlmControl {
    /// Adds rate-limit errors with probability `rate` to every call (0 ends the storm).
    pub fn set_storm(&self, rate: f64) {
        *self.storm_rate.lock().unwrap_or_else(PoisonError::into_inner) = rate.clamp(0.0, 1.0);
    }

    pub(super) fn storm_rate(&self) -> f64 {
        *self.storm_rate.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
