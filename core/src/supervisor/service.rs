//! The client-facing service of a running supervisor: what a sim host and a gRPC
//! server both wrap, each as a thin adapter of its own wire.
//!
//! - Submit with idempotency by task id: resubmitting an id never starts a second
//!   task; it answers [`Submitted::InProgress`] or the stored result.
//! - Status and result by id, read from a bounded table without waiting on the
//!   driver.
//! - A stream of each task's [`TaskEvent`]s, bounded per task: a slow or absent
//!   subscriber never blocks the driver nor grows memory without bound, and the
//!   result is never lost.
//! - Analysis by LLM, when the supervisor has an analyser
//!   ([`crate::Supervisor::with_analyser`]): `submit` plans a new task with it here, on
//!   the caller's task, so a slow model never stalls the driver; an id the service
//!   knows never pays a model call, and a model slower than
//!   [`crate::Deadlines::model_call_ms`] leaves the task to the heuristic plan. (The
//!   answers' embeddings and meaning classes are made by the driver; see
//!   [`crate::Supervisor`].)

mod ledger;
mod task_event;
mod task_events;

use core::time::Duration;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot};

use super::machine::{SubmitError, Submitted, SupervisorStats};
use crate::analysis::{LlmAnalyser, TaskPlan};
use crate::boxed::BoxLlm;
use crate::link::WorkerAnswer;
use crate::pool::WorkerSummary;
use crate::power::PowerRecord;
use crate::result::TaskResult;
use crate::task::Task;
use crate::{TaskId, WorkerId};

pub(crate) use ledger::Ledger;
pub use ledger::{Emission, StatsReader, TaskStatus};
pub use task_event::TaskEvent;
pub use task_events::TaskEvents;

/// Submits tasks to a running supervisor and answers for them. Cheap to clone;
/// the supervisor shuts down once every clone is dropped.
#[derive(Clone, Debug)]
pub struct SupervisorService {
    requests: mpsc::Sender<Request>,
    ledger: Arc<Ledger>,
    analyser: Option<Arc<Analyser>>,
}

/// The model that plans tasks at submit, and how long it may take.
#[derive(Debug)]
pub(crate) struct Analyser {
    pub(crate) analyser: LlmAnalyser<BoxLlm>,
    pub(crate) model_call_ms: u64,
}

/// A snapshot of a running supervisor.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SupervisorStatus {
    /// Every worker and its health.
    pub workers: Vec<WorkerSummary>,
    /// Learned voting power, by worker.
    pub powers: Vec<(WorkerId, PowerRecord)>,
    /// Tasks waiting.
    pub queued: usize,
    /// Tasks running.
    pub running: usize,
    /// Counters of ignored inputs.
    pub stats: SupervisorStats,
}

/// The driver stopped before answering.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the supervisor has stopped")]
pub struct Stopped;

/// A subscription asked for a task this supervisor does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("task {task} is unknown to this supervisor")]
pub struct UnknownTask {
    /// The id asked for.
    pub task: TaskId,
}

/// Called by the driver for every result it emits, in order, before subscribers
/// can read it: for traces and invariant checks. It runs inside the driver, so it
/// must be quick and must not block.
pub struct ResultHook(Box<HookFn>);

type HookFn = dyn Fn(&TaskResult, Emission) + Send + Sync;

impl ResultHook {
    /// Wraps `hook`.
    pub fn new(hook: impl Fn(&TaskResult, Emission) + Send + Sync + 'static) -> Self {
        Self(Box::new(hook))
    }

    pub(crate) fn call(&self, result: &TaskResult, emission: Emission) {
        (self.0)(result, emission);
    }
}

impl core::fmt::Debug for ResultHook {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("ResultHook")
    }
}

/// What the service asks the driver.
#[derive(Debug)]
pub(crate) enum Request {
    Submit { task: Task, plan: Option<TaskPlan>, reply: oneshot::Sender<Result<Submitted, SubmitError>> },
    Status { reply: oneshot::Sender<SupervisorStatus> },
    Deliver { answer: WorkerAnswer },
    ResultDelivered { task: TaskId },
    Shutdown { done: oneshot::Sender<()> },
}

impl SupervisorService {
    pub(crate) fn new(requests: mpsc::Sender<Request>, ledger: Arc<Ledger>, analyser: Option<Analyser>) -> Self {
        Self { requests, ledger, analyser: analyser.map(Arc::new) }
    }

    /// Submits a task, planned by the supervisor's analyser
    /// ([`crate::Supervisor::with_analyser`]) if it has one, else by the heuristic.
    /// Idempotent by id: an id this supervisor knows is never analysed again.
    ///
    /// # Errors
    /// [`SubmitError`] when refused; a stopped supervisor gives
    /// [`SubmitError::ShuttingDown`].
    pub async fn submit(&self, task: Task) -> Result<Submitted, SubmitError> {
        let Some(analyser) = self.analyser.as_ref() else { return self.submit_planned(task, None).await };
        // No model call when the plan would not be used: a known id, an invalid task.
        if task.validate().is_err() || self.ledger.is_known(&task.id) {
            return self.submit_planned(task, None).await;
        }
        // One analysis per id at a time: a client that retries while the model thinks
        // (its call deadline may be shorter than the model's) hears `InProgress`
        // instead of paying for a second call. The mark goes when this submit ends,
        // however it ends.
        let id = task.id.clone();
        let Some(_analysing) = Analysing::begin(&self.ledger, &id) else { return Ok(Submitted::InProgress) };
        let plan = analyse(analyser, &task).await;
        self.submit_planned(task, plan).await
    }

    /// Submits a task with a plan made elsewhere (an [`crate::LlmAnalyser`], say).
    ///
    /// # Errors
    /// As [`SupervisorService::submit`].
    pub async fn submit_planned(&self, task: Task, plan: Option<TaskPlan>) -> Result<Submitted, SubmitError> {
        let (reply, answer) = oneshot::channel();
        if self.requests.send(Request::Submit { task, plan, reply }).await.is_err() {
            return Err(SubmitError::ShuttingDown);
        }
        answer.await.unwrap_or(Err(SubmitError::ShuttingDown))
    }

    /// Where `task` stands in this incarnation.
    pub fn task_status(&self, task: &TaskId) -> TaskStatus {
        let status = self.ledger.status(task);
        if matches!(status, TaskStatus::Done(_)) {
            self.result_delivered(task);
        }
        status
    }

    /// The result of `task`, if it finished and is still remembered (the latest
    /// `completed_results_max` are).
    pub fn result(&self, task: &TaskId) -> Option<TaskResult> {
        let result = self.ledger.result(task);
        if result.is_some() {
            self.result_delivered(task);
        }
        result
    }

    /// A client received `task`'s result (the end of its event stream, say; a status
    /// or result read by id notes itself). A journaling supervisor writes it down,
    /// so compaction drops delivered results first. Never waits: a mark that finds
    /// the request queue full is dropped, which costs only an earlier compaction.
    pub fn result_delivered(&self, task: &TaskId) {
        if self.ledger.deliver(task) {
            let _ = self.requests.try_send(Request::ResultDelivered { task: task.clone() });
        }
    }

    /// The events of `task`: of a live task from its oldest event still buffered
    /// ([`TaskEvent::Accepted`] unless the buffer turned over), of a finished one its
    /// result alone.
    ///
    /// # Errors
    /// [`UnknownTask`] when this supervisor does not know `task`.
    pub fn subscribe(&self, task: &TaskId) -> Result<TaskEvents, UnknownTask> {
        self.ledger.subscribe(task).ok_or_else(|| UnknownTask { task: task.clone() })
    }

    /// Results emitted twice for one task by this incarnation: 0 unless the
    /// one-result promise broke.
    pub fn duplicate_results(&self) -> u64 {
        self.ledger.duplicate_results()
    }

    /// The machine's counters (rejections, repeats, rounds) as of the driver's last
    /// step, without a round trip through the driver: readable after it stopped too.
    pub fn stats(&self) -> SupervisorStats {
        self.ledger.stats_reader().get()
    }

    /// A reader of [`SupervisorService::stats`] that keeps nothing else of this
    /// supervisor alive (a report can keep one per incarnation).
    pub fn stats_reader(&self) -> StatsReader {
        self.ledger.stats_reader()
    }

    /// Hands the supervisor an answer a worker pushed outside its execute call (after
    /// a broken connection, say). It counts only if that worker was asked for that
    /// task and has not answered it yet; a different answer for the same round marks
    /// the worker as equivocating.
    ///
    /// # Errors
    /// [`Stopped`] when the supervisor no longer runs.
    pub async fn deliver(&self, answer: WorkerAnswer) -> Result<(), Stopped> {
        self.requests.send(Request::Deliver { answer }).await.map_err(|_| Stopped)
    }

    /// A snapshot of workers, powers and load.
    ///
    /// # Errors
    /// [`Stopped`] when the supervisor no longer runs.
    pub async fn status(&self) -> Result<SupervisorStatus, Stopped> {
        let (reply, answer) = oneshot::channel();
        self.requests.send(Request::Status { reply }).await.map_err(|_| Stopped)?;
        answer.await.map_err(|_| Stopped)
    }

    /// Stops taking tasks and waits until every accepted task has its result.
    pub async fn shutdown(&self) {
        let (done, finished) = oneshot::channel();
        if self.requests.send(Request::Shutdown { done }).await.is_ok() {
            let _ = finished.await;
        }
    }
}

#[cfg(test)]
mod tests;

/// The analyser's plan for `task`; `None` (the heuristic's) when the model is slower
/// than [`crate::Deadlines::model_call_ms`]. A model that fails or answers nonsense is
/// the analyser's own fallback to the heuristic.
async fn analyse(analyser: &Analyser, task: &Task) -> Option<TaskPlan> {
    let limit = Duration::from_millis(analyser.model_call_ms);
    match tokio::time::timeout(limit, analyser.analyser.analyse(&task.text)).await {
        Ok(analysis) => Some(analysis.plan),
        Err(_) => {
            tracing::warn!(task = %task.id, "task analysis timed out; the heuristic plans it");
            None
        }
    }
}

/// A task being analysed before its submission: marked in the ledger (its status is
/// pending) until dropped.
struct Analysing<'a> {
    ledger: &'a Ledger,
    task: &'a TaskId,
}

impl<'a> Analysing<'a> {
    /// Marks `task`; `None` when it is being analysed already.
    fn begin(ledger: &'a Ledger, task: &'a TaskId) -> Option<Self> {
        ledger.begin_analysis(task).then_some(Self { ledger, task })
    }
}

impl Drop for Analysing<'_> {
    fn drop(&mut self) {
        self.ledger.end_analysis(self.task);
    }
}
