//! The `WorkerLink` seam: what the supervisor needs from a worker over some network.

use core::future::Future;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::consensus::Strategy;
use crate::worker::WorkerError;
use crate::{TaskId, WorkerId};

/// Ask a worker to answer a task.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecuteRequest {
    /// Which task.
    pub task: TaskId,
    /// Which assignment round of the task (1 for the first), so that answers of
    /// different rounds are told apart.
    pub attempt: u32,
    /// The question.
    pub text: String,
    /// How answers will be compared, so the worker can ask for the right form.
    pub strategy: Strategy,
    /// Time the worker has, from receipt.
    pub timeout_ms: u64,
}

impl WorkerAnswer {
    /// Whether this answers round `attempt` of `task` as `worker`: what a reply on
    /// that call must be to be read as its answer.
    pub fn is_reply_to(&self, worker: &WorkerId, task: &TaskId, attempt: u32) -> bool {
        self.worker == *worker && self.task == *task && self.attempt == attempt
    }
}

/// A worker's answer to one [`ExecuteRequest`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WorkerAnswer {
    /// Who answered.
    pub worker: WorkerId,
    /// Which task.
    pub task: TaskId,
    /// Which round of the task.
    pub attempt: u32,
    /// The answer.
    pub text: String,
    /// Self-reported confidence, `0..=1`.
    pub confidence: f64,
    /// LLM calls spent (retries included).
    pub llm_calls: u32,
    /// Prompt tokens spent.
    pub prompt_tokens: u64,
    /// Completion tokens spent.
    pub completion_tokens: u64,
    /// Time from receipt to answer.
    pub latency_ms: u64,
    /// Of that, time spent waiting for a rate limit: the worker's own limiter, or a
    /// server's wait after a 429.
    #[serde(default, skip_serializing_if = "crate::result::is_zero")]
    pub rate_limit_wait_ms: u64,
}

/// A worker's report of its state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Heartbeat {
    /// Who reports.
    pub worker: WorkerId,
    /// Tasks it is working on.
    pub load: u32,
    /// Tasks it takes at once.
    pub capacity: u32,
}

/// Why a call to a worker failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(rename_all = "snake_case")]
pub enum LinkError {
    /// The worker cannot be reached (connection refused or broken, host down).
    #[error("worker unavailable")]
    Unavailable,
    /// No reply before the deadline.
    #[error("worker timed out")]
    Timeout,
    /// The worker is reachable but refused or failed the work.
    #[error("worker failed: {0}")]
    Worker(#[from] WorkerError),
    /// A message that does not decode, or is larger than allowed.
    #[error("protocol error: {detail}")]
    Protocol {
        /// For humans; not to be matched.
        detail: String,
    },
}

/// Longest error report kept from a call to a worker: the worker writes part of it
/// (a model's complaint, say), and results and task events keep it.
pub const LINK_ERROR_BYTES_MAX: usize = 1024;

impl LinkError {
    /// This error; or, when its report is longer than [`LINK_ERROR_BYTES_MAX`], one
    /// that keeps the report's start and says how long it was, of the same health
    /// meaning (a protocol error, or a worker's failure that is not its health's).
    #[must_use]
    pub fn bounded(self) -> Self {
        let report = self.to_string();
        if report.len() <= LINK_ERROR_BYTES_MAX {
            return self;
        }
        let mut cut = LINK_ERROR_BYTES_MAX / 2;
        while !report.is_char_boundary(cut) {
            cut -= 1;
        }
        let detail = format!(
            "an error report of {} bytes (at most {LINK_ERROR_BYTES_MAX} are kept): {}…",
            report.len(),
            &report[..cut]
        );
        if self.is_health_failure() {
            Self::Protocol { detail }
        } else {
            Self::Worker(WorkerError::Llm(crate::LlmError::BadResponse { detail }))
        }
    }

    /// Whether this failure says something about the worker's health (as opposed to
    /// the task or the model), so the pool should count it.
    pub fn is_health_failure(&self) -> bool {
        matches!(self, Self::Unavailable | Self::Timeout | Self::Protocol { .. })
    }
}

/// How the supervisor reaches workers: over turmoil in simulation, over gRPC in real
/// mode, in process in tests. A link resolves a worker's address through the
/// [`crate::WorkerRegistry`] it shares with the scaler and the supervisor; a worker
/// that is not registered is [`LinkError::Unavailable`].
pub trait WorkerLink: Send + Sync {
    /// Runs a task on `worker` and returns its answer.
    fn execute(
        &self,
        worker: &WorkerId,
        request: ExecuteRequest,
    ) -> impl Future<Output = Result<WorkerAnswer, LinkError>> + Send;

    /// Asks `worker` for its state.
    fn heartbeat(&self, worker: &WorkerId) -> impl Future<Output = Result<Heartbeat, LinkError>> + Send;

    /// Tells `worker` to stop working on `task` (best effort).
    fn cancel(&self, worker: &WorkerId, task: &TaskId) -> impl Future<Output = Result<(), LinkError>> + Send;
}

impl<T: WorkerLink + ?Sized> WorkerLink for Arc<T> {
    fn execute(
        &self,
        worker: &WorkerId,
        request: ExecuteRequest,
    ) -> impl Future<Output = Result<WorkerAnswer, LinkError>> + Send {
        (**self).execute(worker, request)
    }

    fn heartbeat(&self, worker: &WorkerId) -> impl Future<Output = Result<Heartbeat, LinkError>> + Send {
        (**self).heartbeat(worker)
    }

    fn cancel(&self, worker: &WorkerId, task: &TaskId) -> impl Future<Output = Result<(), LinkError>> + Send {
        (**self).cancel(worker, task)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::LlmError;

    #[test]
    fn a_long_error_report_is_cut_and_keeps_its_health_meaning() {
        let short = LinkError::Protocol { detail: "bad frame".to_owned() };
        assert_eq!(short.clone().bounded(), short);
        let rant = "é".repeat(5_000);
        let long = LinkError::Worker(WorkerError::Llm(LlmError::BadResponse { detail: rant }));
        let bounded = long.bounded();
        let report = bounded.to_string();
        assert!(report.len() <= LINK_ERROR_BYTES_MAX, "{} bytes", report.len());
        assert!(report.contains("an error report of 10"), "{report}");
        assert!(!bounded.is_health_failure(), "a model's long complaint is still no mark against the worker");
        let long_protocol = LinkError::Protocol { detail: "x".repeat(5_000) }.bounded();
        assert!(long_protocol.to_string().len() <= LINK_ERROR_BYTES_MAX);
        assert!(long_protocol.is_health_failure());
    }
}
