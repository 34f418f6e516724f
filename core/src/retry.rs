//! Retry timing: exponential backoff with full jitter, honouring Retry-After.

use serde::{Deserialize, Serialize};

use crate::SeededRng;
use crate::config::ConfigError;

/// How often and how patiently to retry a failed call.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetryPolicy {
    /// Calls in all, the first included. Default 4.
    pub attempts_max: u32,
    /// Backoff before the second call; doubles each time. Default 200 ms.
    pub backoff_base_ms: u64,
    /// Backoff cap. Default 10 s.
    pub backoff_max_ms: u64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self { attempts_max: 4, backoff_base_ms: 200, backoff_max_ms: 10_000 }
    }
}

impl RetryPolicy {
    /// Checks the fields.
    ///
    /// # Errors
    /// [`ConfigError`] naming the field.
    pub fn validate(&self, field_prefix: &'static str) -> Result<(), ConfigError> {
        if self.attempts_max == 0 || self.attempts_max > 100 {
            return Err(ConfigError::invalid(field_prefix, self.attempts_max, "retry.attempts_max in 1..=100"));
        }
        if self.backoff_base_ms > self.backoff_max_ms {
            return Err(ConfigError::invalid(
                field_prefix,
                self.backoff_base_ms,
                "retry.backoff_base_ms <= retry.backoff_max_ms",
            ));
        }
        Ok(())
    }

    /// The wait before retry number `retry` (1 for the first retry): a uniform draw
    /// from `0..=min(max, base * 2^(retry-1))` ("full jitter", so that many clients
    /// hit by one outage do not retry in lockstep), but never less than the server's
    /// `retry_after_ms`.
    pub fn delay_ms(&self, retry: u32, retry_after_ms: Option<u64>, rng: &mut SeededRng) -> u64 {
        let exponent = retry.saturating_sub(1).min(32);
        let ceiling = self.backoff_base_ms.saturating_mul(1u64 << exponent).min(self.backoff_max_ms);
        let jittered = rng.range_u64(0, ceiling.saturating_add(1));
        jittered.max(retry_after_ms.unwrap_or(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_are_capped_and_honour_retry_after() {
        let policy = RetryPolicy::default();
        let mut rng = SeededRng::new(1);
        for retry in 1..20 {
            let delay = policy.delay_ms(retry, None, &mut rng);
            let ceiling = (200u64 << (retry - 1).min(32)).min(10_000);
            assert!(delay <= ceiling, "retry {retry}: {delay} > {ceiling}");
        }
        assert!(policy.delay_ms(1, Some(5_000), &mut rng) >= 5_000);
    }

    #[test]
    fn validation_rejects_zero_attempts() {
        let policy = RetryPolicy { attempts_max: 0, ..RetryPolicy::default() };
        assert!(policy.validate("worker").is_err());
    }
}
