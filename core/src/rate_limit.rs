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
        self.try_acquire_many(now_ms, 1)
    }

    /// Takes `count` tokens at once (a request's estimated LLM tokens, say), or says
    /// how long to wait for them. `count` is capped at the burst, so that a request
    /// larger than the bucket still passes, alone, once the bucket is full.
    ///
    /// # Errors
    /// The wait in milliseconds until `count` tokens are there; none are taken.
    pub fn try_acquire_many(&mut self, now_ms: u64, count: u32) -> Result<(), u64> {
        match self.wait_ms(now_ms, count) {
            0 => {
                self.milli_tokens -= self.needed_milli_tokens(count);
                Ok(())
            }
            wait_ms => Err(wait_ms),
        }
    }

    /// Milliseconds until `count` tokens (capped at the burst) are there, 0 when they
    /// are there now; takes none. Lets a caller check several buckets before taking
    /// from any.
    pub fn wait_ms(&mut self, now_ms: u64, count: u32) -> u64 {
        self.refill(now_ms);
        let needed = self.needed_milli_tokens(count);
        if self.milli_tokens >= needed {
            return 0;
        }
        let per_minute = u64::from(self.limit.requests_per_minute.max(1));
        // milli-tokens per ms = per_minute * 1000 / 60_000 = per_minute / 60.
        let missing = needed - self.milli_tokens;
        (missing * 60).div_ceil(per_minute)
    }

    fn needed_milli_tokens(&self, count: u32) -> u64 {
        u64::from(count.clamp(1, self.limit.burst.max(1))) * 1000
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
    fn takes_many_at_once_or_none() {
        let mut bucket = TokenBucket::new(RateLimit { requests_per_minute: 600, burst: 100 }, 0);
        assert!(bucket.try_acquire_many(0, 70).is_ok());
        let wait = bucket.try_acquire_many(0, 50).unwrap_err();
        assert_eq!(wait, 2000, "20 missing at 10 per second");
        assert_eq!(bucket.wait_ms(0, 30), 0, "a failed take took nothing");
        assert!(bucket.try_acquire_many(0, 30).is_ok());
        // A request above the burst waits for a full bucket, then passes alone.
        assert_eq!(bucket.wait_ms(0, 1_000), 10_000);
        assert!(bucket.try_acquire_many(10_000, 1_000).is_ok());
        assert!(bucket.try_acquire(10_000).is_err());
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
