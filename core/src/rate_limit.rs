//! A token bucket: the requests a key may make per minute, shared by every worker that
//! uses that key.

use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

/// Requests allowed per minute, with bursts up to `burst`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateLimit {
    /// Sustained rate.
    pub requests_per_minute: u32,
    /// Most requests at once after a quiet period.
    pub burst: u32,
}

/// A token bucket driven by the caller's clock (milliseconds), so it runs the same in
/// simulated and real time.
#[derive(Debug)]
pub struct TokenBucket {
    limit: RateLimit,
    /// Tokens in thousandths, so refill is exact integer arithmetic.
    milli_tokens: u64,
    refilled_at_ms: u64,
}

impl TokenBucket {
    /// A full bucket at time `now_ms`.
    pub fn new(limit: RateLimit, now_ms: u64) -> Self {
        let milli_tokens = u64::from(limit.burst.max(1)) * 1000;
        Self { limit, milli_tokens, refilled_at_ms: now_ms }
    }

    /// Takes a token, or says how long to wait for one.
    ///
    /// # Errors
    /// The wait in milliseconds when the bucket is empty.
    pub fn try_acquire(&mut self, now_ms: u64) -> Result<(), u64> {
        self.refill(now_ms);
        if self.milli_tokens >= 1000 {
            self.milli_tokens -= 1000;
            return Ok(());
        }
        let per_minute = u64::from(self.limit.requests_per_minute.max(1));
        // milli-tokens per ms = per_minute * 1000 / 60_000 = per_minute / 60.
        let missing = 1000 - self.milli_tokens;
        Err((missing * 60).div_ceil(per_minute))
    }

    fn refill(&mut self, now_ms: u64) {
        let elapsed = now_ms.saturating_sub(self.refilled_at_ms);
        let per_minute = u64::from(self.limit.requests_per_minute.max(1));
        let gained = elapsed * per_minute / 60;
        if gained > 0 {
            let cap = u64::from(self.limit.burst.max(1)) * 1000;
            self.milli_tokens = (self.milli_tokens + gained).min(cap);
            // Advance only by the time that produced whole milli-tokens: no drift.
            self.refilled_at_ms += gained * 60 / per_minute;
        }
    }
}

/// A bucket shared by every worker using one key.
pub type SharedLimiter = Arc<Mutex<TokenBucket>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bursts_then_paces() {
        let mut bucket = TokenBucket::new(RateLimit { requests_per_minute: 60, burst: 2 }, 0);
        assert!(bucket.try_acquire(0).is_ok());
        assert!(bucket.try_acquire(0).is_ok());
        let wait = bucket.try_acquire(0).unwrap_err();
        assert_eq!(wait, 1000, "60 per minute is one per second");
        assert!(bucket.try_acquire(999).is_err());
        assert!(bucket.try_acquire(1000).is_ok());
    }

    #[test]
    fn never_exceeds_the_rate_over_a_long_run() {
        let mut bucket = TokenBucket::new(RateLimit { requests_per_minute: 120, burst: 5 }, 0);
        let mut granted = 0;
        for now in 0..60_000u64 {
            if bucket.try_acquire(now).is_ok() {
                granted += 1;
            }
        }
        assert!((120..=125).contains(&granted), "granted {granted}");
    }
}
