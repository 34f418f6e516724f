//! A worker agent: asks its LLM, retries what is worth retrying, returns a parsed
//! answer. Transport-free: quorum-sim and quorum-real wrap it in a server.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use serde::{Deserialize, Serialize};
use tokio::sync::Notify;
use tokio::time::{Instant, sleep};

use crate::config::ConfigError;
use crate::consensus::Strategy;
use crate::link::{ExecuteRequest, Heartbeat, WorkerAnswer};
use crate::llm::{CompletionRequest, Llm, LlmError};
use crate::pool::WORKER_CAPACITY_MAX;
use crate::rate_limit::SharedLimiter;
use crate::reply::{ReplyError, parse_reply};
use crate::retry::RetryPolicy;
use crate::{SeededRng, TaskId, WorkerId};

/// How a worker behaves. `Default` documents every default.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WorkerConfig {
    /// Tasks it works on at once; more are refused with [`WorkerError::Busy`].
    /// Default 4.
    pub capacity: u32,
    /// Retries of failed LLM calls and unusable replies. Default [`RetryPolicy::default`].
    pub retry: RetryPolicy,
    /// Cap on each completion, in tokens. Default 256: answers are short by design.
    pub completion_tokens_max: u32,
    /// Sampling temperature. Default 0.7, so that workers sharing one model still give
    /// independent samples, which is what makes their agreement informative.
    pub temperature: f32,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self { capacity: 4, retry: RetryPolicy::default(), completion_tokens_max: 256, temperature: 0.7 }
    }
}

impl WorkerConfig {
    /// Checks every field.
    ///
    /// # Errors
    /// [`ConfigError`] naming the field.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.capacity == 0 || self.capacity > WORKER_CAPACITY_MAX {
            return Err(ConfigError::invalid("worker.capacity", self.capacity, "1..=1024"));
        }
        if self.completion_tokens_max == 0 {
            return Err(ConfigError::invalid("worker.completion_tokens_max", 0, "at least 1"));
        }
        if !(self.temperature.is_finite() && (0.0..=2.0).contains(&self.temperature)) {
            return Err(ConfigError::invalid("worker.temperature", self.temperature, "0..=2"));
        }
        self.retry.validate("worker.retry")
    }
}

/// Why a worker could not answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(rename_all = "snake_case")]
pub enum WorkerError {
    /// At capacity.
    #[error("busy ({capacity} tasks at once)")]
    Busy {
        /// The worker's capacity.
        capacity: u32,
    },
    /// The supervisor cancelled the task.
    #[error("cancelled")]
    Cancelled,
    /// The request's time ran out.
    #[error("deadline exceeded")]
    DeadlineExceeded,
    /// The LLM failed in a way retrying did not fix (or cannot fix).
    #[error("llm: {0}")]
    Llm(LlmError),
    /// Every reply was unusable; this is the last reason.
    #[error("unusable reply: {0}")]
    BadReply(ReplyError),
}

/// One worker agent.
#[derive(Debug)]
pub struct Worker<L> {
    id: WorkerId,
    config: WorkerConfig,
    llm: L,
    limiter: Option<SharedLimiter>,
    state: Mutex<WorkerState>,
}

#[derive(Debug)]
struct WorkerState {
    running: BTreeMap<(TaskId, u32), Arc<Notify>>,
    rng: SeededRng,
    origin: Instant,
}

impl<L: Llm> Worker<L> {
    /// A worker; `seed` decides its retry jitter.
    ///
    /// # Errors
    /// [`ConfigError`] for an invalid config.
    pub fn new(id: WorkerId, config: WorkerConfig, llm: L, seed: u64) -> Result<Self, ConfigError> {
        config.validate()?;
        let rng = SeededRng::derive(seed, id.as_str());
        Ok(Self {
            id,
            config,
            llm,
            limiter: None,
            state: Mutex::new(WorkerState { running: BTreeMap::new(), rng, origin: Instant::now() }),
        })
    }

    /// Shares a request limiter (one per API key) with other workers.
    #[must_use]
    pub fn with_limiter(mut self, limiter: SharedLimiter) -> Self {
        self.limiter = Some(limiter);
        self
    }

    /// This worker's id.
    pub fn id(&self) -> &WorkerId {
        &self.id
    }

    /// Its load and capacity.
    pub fn heartbeat(&self) -> Heartbeat {
        let load = self.lock().running.len() as u32;
        Heartbeat { worker: self.id.clone(), load, capacity: self.config.capacity }
    }

    /// Stops work on every round of `task`; returns whether anything was running.
    pub fn cancel(&self, task: &TaskId) -> bool {
        let state = self.lock();
        let mut found = false;
        for ((running_task, _), notify) in &state.running {
            if running_task == task {
                notify.notify_one();
                found = true;
            }
        }
        found
    }

    /// Answers one request within its timeout.
    ///
    /// # Errors
    /// [`WorkerError`] when the worker is busy, cancelled, out of time, or the LLM
    /// could not produce a usable answer.
    pub async fn execute(&self, request: ExecuteRequest) -> Result<WorkerAnswer, WorkerError> {
        let started = Instant::now();
        let key = (request.task.clone(), request.attempt);
        let cancelled = {
            let mut state = self.lock();
            if state.running.len() >= self.config.capacity as usize || state.running.contains_key(&key) {
                return Err(WorkerError::Busy { capacity: self.config.capacity });
            }
            let notify = Arc::new(Notify::new());
            state.running.insert(key.clone(), Arc::clone(&notify));
            notify
        };
        let _running = RunningGuard { worker: self, key };
        let timeout = core::time::Duration::from_millis(request.timeout_ms);
        tokio::select! {
            biased;
            () = cancelled.notified() => Err(WorkerError::Cancelled),
            outcome = tokio::time::timeout(timeout, self.answer(&request, started)) => {
                outcome.unwrap_or(Err(WorkerError::DeadlineExceeded))
            }
        }
    }

    async fn answer(&self, request: &ExecuteRequest, started: Instant) -> Result<WorkerAnswer, WorkerError> {
        let completion_request = prompt(request, &self.config);
        let (mut llm_calls, mut prompt_tokens, mut completion_tokens) = (0u32, 0u64, 0u64);
        let mut rate_limit_wait_ms = 0u64;
        let mut last_error = WorkerError::Llm(LlmError::Timeout);
        for call in 1..=self.config.retry.attempts_max {
            rate_limit_wait_ms = rate_limit_wait_ms.saturating_add(self.wait_for_rate_limit().await);
            let mut rate_limited = false;
            llm_calls += 1;
            let retry_after_ms = match self.llm.complete(completion_request.clone()).await {
                Ok(completion) => {
                    prompt_tokens += u64::from(completion.prompt_tokens);
                    completion_tokens += u64::from(completion.completion_tokens);
                    match parse_reply(&completion.text, completion.truncated) {
                        Ok(parsed) => {
                            return Ok(WorkerAnswer {
                                worker: self.id.clone(),
                                task: request.task.clone(),
                                attempt: request.attempt,
                                text: parsed.answer,
                                confidence: parsed.confidence,
                                llm_calls,
                                prompt_tokens,
                                completion_tokens,
                                latency_ms: started.elapsed().as_millis() as u64,
                                rate_limit_wait_ms,
                            });
                        }
                        Err(reason) => {
                            tracing::debug!(worker = %self.id, task = %request.task, %reason, "unusable reply");
                            last_error = WorkerError::BadReply(reason);
                            None
                        }
                    }
                }
                Err(error) if error.is_retryable() => {
                    tracing::debug!(worker = %self.id, task = %request.task, %error, "llm call failed; retrying");
                    let retry_after = match &error {
                        LlmError::RateLimited { retry_after_ms } => {
                            rate_limited = true;
                            *retry_after_ms
                        }
                        _ => None,
                    };
                    last_error = WorkerError::Llm(error);
                    retry_after
                }
                Err(error) => return Err(WorkerError::Llm(error)),
            };
            if call < self.config.retry.attempts_max {
                let delay = self.config.retry.delay_ms(call, retry_after_ms, &mut self.lock().rng);
                if rate_limited {
                    rate_limit_wait_ms = rate_limit_wait_ms.saturating_add(delay);
                }
                sleep(core::time::Duration::from_millis(delay)).await;
            }
        }
        Err(last_error)
    }

    /// Waits until the worker's limiter lets a call go; returns how long, ms.
    async fn wait_for_rate_limit(&self) -> u64 {
        let Some(limiter) = &self.limiter else { return 0 };
        let mut waited_ms = 0u64;
        loop {
            let now_ms = self.lock().origin.elapsed().as_millis() as u64;
            let verdict = limiter.lock().unwrap_or_else(PoisonError::into_inner).try_acquire(now_ms);
            match verdict {
                Ok(()) => return waited_ms,
                Err(wait_ms) => {
                    let wait_ms = wait_ms.max(1);
                    waited_ms = waited_ms.saturating_add(wait_ms);
                    sleep(core::time::Duration::from_millis(wait_ms)).await;
                }
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, WorkerState> {
        // A panic elsewhere cannot leave the map half-written (inserts and removes are
        // single calls), so a poisoned lock is still consistent.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Removes a request from the running set however `execute` ends (answer, error,
/// cancellation, or the caller dropping the future).
struct RunningGuard<'a, L: Llm> {
    worker: &'a Worker<L>,
    key: (TaskId, u32),
}

impl<L: Llm> Drop for RunningGuard<'_, L> {
    fn drop(&mut self) {
        self.worker.lock().running.remove(&self.key);
    }
}

/// The prompt a worker sends for a request.
pub fn prompt(request: &ExecuteRequest, config: &WorkerConfig) -> CompletionRequest {
    let form = match request.strategy {
        Strategy::Numeric => "The answer must be a single final number.",
        Strategy::Exact => "The answer must be as short as possible: a word, a name, a number or a label.",
        Strategy::Semantic => "The answer must be one or two plain sentences.",
    };
    CompletionRequest {
        system: format!(
            "You are one of several independent agents answering the same question. {form} \
             Reply with only a JSON object: {{\"answer\": \"...\", \"confidence\": <0 to 1>}}."
        ),
        prompt: request.text.clone(),
        completion_tokens_max: config.completion_tokens_max,
        temperature: config.temperature,
    }
}

#[cfg(test)]
mod tests;
