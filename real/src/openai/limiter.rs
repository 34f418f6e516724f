//! One limiter per key in a process: requests and tokens per minute, and the pause a
//! server's 429 imposes on every client of that key.
//!
//! Workers of one process that share a key share its limits at the provider, so they
//! share one limiter here: without it each would pace itself alone and together they
//! would overrun the key. The buckets are core's [`TokenBucket`], driven by tokio's
//! clock.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use quorum_core::{RateLimit, TokenBucket};
use tokio::time::Instant;

use super::api_key::ApiKey;

/// The limits of one key, shared by its clients.
#[derive(Debug)]
pub struct KeyLimiter {
    origin: Instant,
    state: Mutex<LimiterState>,
}

#[derive(Debug)]
struct LimiterState {
    requests: TokenBucket,
    tokens: TokenBucket,
    paused_until_ms: u64,
}

impl KeyLimiter {
    /// Full buckets. Requests come in bursts of up to ten seconds' worth, so a pool
    /// starting at once does not spend the minute in its first second; tokens in bursts
    /// of a full minute, since one request may need thousands.
    pub fn new(requests_per_minute: u32, tokens_per_minute: u32) -> Self {
        let requests = RateLimit { requests_per_minute, burst: requests_per_minute.div_ceil(6).max(1) };
        let tokens = RateLimit { requests_per_minute: tokens_per_minute, burst: tokens_per_minute.max(1) };
        Self {
            origin: Instant::now(),
            state: Mutex::new(LimiterState {
                requests: TokenBucket::new(requests, 0),
                tokens: TokenBucket::new(tokens, 0),
                paused_until_ms: 0,
            }),
        }
    }

    /// Takes one request and `tokens` tokens, both or neither.
    ///
    /// # Errors
    /// The wait in milliseconds until both are there and no pause holds.
    pub fn try_reserve(&self, tokens: u32) -> Result<(), u64> {
        let now_ms = self.now_ms();
        let mut state = self.lock();
        let wait_ms = state
            .paused_until_ms
            .saturating_sub(now_ms)
            .max(state.requests.wait_ms(now_ms, 1))
            .max(state.tokens.wait_ms(now_ms, tokens));
        if wait_ms > 0 {
            return Err(wait_ms);
        }
        let taken = state.requests.try_acquire(now_ms).and(state.tokens.try_acquire_many(now_ms, tokens));
        assert!(taken.is_ok(), "both buckets had room a moment ago, under the same lock");
        Ok(())
    }

    /// Holds every client of the key back for `wait_ms` (a server's Retry-After):
    /// the next request of any of them would hit the same limit.
    pub fn pause(&self, wait_ms: u64) {
        let until_ms = self.now_ms().saturating_add(wait_ms);
        let mut state = self.lock();
        state.paused_until_ms = state.paused_until_ms.max(until_ms);
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.origin.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LimiterState> {
        // Every update is a few assignments under the lock: a panic elsewhere cannot
        // leave the buckets half-written.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Which limiter a client uses: one per endpoint and key.
type LimiterKey = (String, Option<ApiKey>);

/// The process's limiter for `key` at `base_url`, made with these limits by its
/// first client (later clients of the key share it as it is).
pub(crate) fn shared_limiter(
    base_url: &str,
    key: Option<&ApiKey>,
    requests_per_minute: u32,
    tokens_per_minute: u32,
) -> Arc<KeyLimiter> {
    static LIMITERS: OnceLock<Mutex<BTreeMap<LimiterKey, Arc<KeyLimiter>>>> = OnceLock::new();
    let mut limiters = LIMITERS.get_or_init(Mutex::default).lock().unwrap_or_else(PoisonError::into_inner);
    let limiter = limiters
        .entry((base_url.to_owned(), key.cloned()))
        .or_insert_with(|| Arc::new(KeyLimiter::new(requests_per_minute, tokens_per_minute)));
    Arc::clone(limiter)
}

#[cfg(test)]
mod tests {
    use core::time::Duration;

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn both_limits_hold_and_a_refusal_takes_nothing() {
        let limiter = KeyLimiter::new(60, 1_000);
        // Ten seconds' worth of requests at once: 10.
        for _ in 0..10 {
            assert!(limiter.try_reserve(10).is_ok());
        }
        assert_eq!(limiter.try_reserve(10), Err(1_000), "requests out: one per second");
        tokio::time::advance(Duration::from_secs(1)).await;
        // One request is back, but only 916.67 tokens: a call needing the whole
        // bucket waits, and takes nothing while it waits.
        let wait_ms = limiter.try_reserve(1_000).unwrap_err();
        assert_eq!(wait_ms, 5_001, "83.3 tokens at 1000 a minute, rounded up");
        assert!(limiter.try_reserve(10).is_ok(), "the refused call took no request");
        assert!(limiter.try_reserve(10).is_err());
    }

    #[tokio::test(start_paused = true)]
    async fn a_pause_holds_every_client() {
        let limiter = KeyLimiter::new(600, 100_000);
        limiter.pause(2_000);
        assert_eq!(limiter.try_reserve(1), Err(2_000));
        tokio::time::advance(Duration::from_millis(1_500)).await;
        assert_eq!(limiter.try_reserve(1), Err(500));
        tokio::time::advance(Duration::from_millis(500)).await;
        assert!(limiter.try_reserve(1).is_ok());
    }

    #[test]
    fn one_limiter_per_key_and_endpoint() {
        let key = ApiKey::new("sk-limiter-test").unwrap();
        let other = ApiKey::new("sk-limiter-other").unwrap();
        let url = "http://127.0.0.1:1/limiter-test";
        let first = shared_limiter(url, Some(&key), 10, 10);
        assert!(Arc::ptr_eq(&first, &shared_limiter(url, Some(&key), 99, 99)));
        assert!(!Arc::ptr_eq(&first, &shared_limiter(url, Some(&other), 10, 10)));
        assert!(!Arc::ptr_eq(&first, &shared_limiter("http://127.0.0.1:2/v1", Some(&key), 10, 10)));
    }
}
