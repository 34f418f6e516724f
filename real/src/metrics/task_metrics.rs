//! [`TaskMetrics`]: counts kept from every result a supervisor emits.

use std::sync::{Arc, Mutex, PoisonError};

use quorum_core::{Emission, Outcome, ResultHook, TaskResult};

use super::exposition::LATENCY_BUCKETS_MS;

/// The counts as of one moment.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TaskCounts {
    /// Tasks whose workers agreed.
    pub agreed: u64,
    /// Tasks answered without agreement.
    pub no_consensus: u64,
    /// Tasks that could not get enough answers.
    pub failed: u64,
    /// Results emitted a second time for one task (0 unless a promise broke); not
    /// in the other counts.
    pub duplicates: u64,
    /// Tasks by latency: entry `i` counts those at most
    /// [`LATENCY_BUCKETS_MS`]`[i]` (cumulative, as Prometheus wants).
    pub latency_buckets: [u64; LATENCY_BUCKETS_MS.len()],
    /// Every task's latency added up, ms.
    pub latency_ms_sum: u64,
    /// LLM calls the workers made for the answers received.
    pub llm_calls: u64,
    /// Prompt tokens spent on them.
    pub prompt_tokens: u64,
    /// Completion tokens spent on them.
    pub completion_tokens: u64,
    /// Of those calls, the repeats after a retryable failure or an unusable reply.
    pub llm_retries: u64,
    /// Time workers spent waiting for rate limits for those answers, ms.
    pub rate_limit_wait_ms: u64,
}

impl TaskCounts {
    /// Tasks with a result (each counted once).
    pub fn tasks(&self) -> u64 {
        self.agreed + self.no_consensus + self.failed
    }

    fn record(&mut self, result: &TaskResult) {
        match result.outcome {
            Outcome::Agreed { .. } => self.agreed += 1,
            Outcome::NoConsensus { .. } => self.no_consensus += 1,
            Outcome::Failed { .. } => self.failed += 1,
        }
        let latency_ms = result.latency_ms();
        for (bucket, bound_ms) in self.latency_buckets.iter_mut().zip(LATENCY_BUCKETS_MS) {
            if latency_ms <= bound_ms {
                *bucket += 1;
            }
        }
        // Saturating: a counter that stops is better than one that wraps to 0.
        self.latency_ms_sum = self.latency_ms_sum.saturating_add(latency_ms);
        let metadata = &result.metadata;
        self.llm_calls = self.llm_calls.saturating_add(metadata.llm_calls);
        self.prompt_tokens = self.prompt_tokens.saturating_add(metadata.prompt_tokens);
        self.completion_tokens = self.completion_tokens.saturating_add(metadata.completion_tokens);
        self.llm_retries = self.llm_retries.saturating_add(metadata.llm_retries());
        self.rate_limit_wait_ms = self.rate_limit_wait_ms.saturating_add(metadata.rate_limit_wait_ms);
    }
}

/// Counts kept from every result; clones share them.
#[derive(Clone, Debug, Default)]
pub struct TaskMetrics {
    counts: Arc<Mutex<TaskCounts>>,
}

impl TaskMetrics {
    /// No results yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts `result` (a duplicate only as a duplicate).
    pub fn record(&self, result: &TaskResult, emission: Emission) {
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        match emission {
            Emission::First => counts.record(result),
            Emission::Duplicate => counts.duplicates += 1,
        }
    }

    /// A hook for [`quorum_core::Supervisor::on_result`] that counts into these
    /// metrics: quick, as a hook must be (one short lock).
    pub fn hook(&self) -> ResultHook {
        let metrics = self.clone();
        ResultHook::new(move |result, emission| metrics.record(result, emission))
    }

    /// The counts now.
    pub fn counts(&self) -> TaskCounts {
        self.counts.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}
