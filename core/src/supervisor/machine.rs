//! The supervisor as a deterministic state machine: no I/O, no clock, no randomness.
//!
//! Inputs arrive through `handle_*` methods that take `now_ms`; outputs leave through
//! `poll_command`, `poll_result` and `poll_timeout`. A driver (see
//! [`super::Supervisor`]) feeds it from the network and the clock; tests feed it by
//! hand. After any input, drain `poll_command` and `poll_result`, then sleep until
//! `poll_timeout` and call `handle_timeout`.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use serde::{Deserialize, Serialize};

use super::config::SupervisorConfig;
use super::rejection::AnswerRejection;
use super::task_state::{Recorded, TaskState, reported_confidence};
use crate::analysis::{HeuristicAnalyser, TaskPlan};
use crate::config::ConfigError;
use crate::consensus::{Decision, EarlyStop, Verdict, decide, early_stop};
use crate::link::{ExecuteRequest, Heartbeat, LinkError, WorkerAnswer};
use crate::pool::{ScaleDecision, WorkerPool, WorkerStatus, WorkerSummary};
use crate::power::VotingPowers;
use crate::queue::{QueueError, TaskQueue};
use crate::result::{FailureReason, Outcome, ResultMetadata, TaskResult};
use crate::scaler::ScaleError;
use crate::task::{Task, TaskError};
use crate::{TaskId, WorkerId};

/// Something the driver must do.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Command {
    /// Send a task to a worker; report the outcome with `handle_answer`.
    Execute {
        /// To whom.
        worker: WorkerId,
        /// What.
        request: ExecuteRequest,
    },
    /// Tell a worker to stop (best effort; no report needed).
    Cancel {
        /// Whom.
        worker: WorkerId,
        /// Which task.
        task: TaskId,
    },
    /// Ask a worker for a heartbeat; report with `handle_heartbeat`.
    Heartbeat {
        /// Whom.
        worker: WorkerId,
    },
    /// Start workers; report with `handle_scaled_up`.
    ScaleUp {
        /// How many.
        count: usize,
    },
    /// Stop a worker; report with `handle_scaled_down`.
    ScaleDown {
        /// Which.
        worker: WorkerId,
    },
}

/// What became of a submission.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Submitted {
    /// New task, queued.
    Accepted,
    /// This id is queued or running already; its result will come once.
    InProgress,
    /// This id finished already; here is its result again.
    Completed(Box<TaskResult>),
}

/// Why a submission was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubmitError {
    /// The task itself is invalid.
    #[error(transparent)]
    Invalid(#[from] TaskError),
    /// The queue is full; try later.
    #[error(transparent)]
    Queue(#[from] QueueError),
    /// The supervisor is shutting down.
    #[error("supervisor is shutting down")]
    ShuttingDown,
}

/// Counters of inputs the machine ignored, for reports and invariant checks.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupervisorStats {
    /// Answers for tasks already finished.
    pub late_answers: u64,
    /// Answers from workers never asked for that task (never counted).
    pub unassigned_answers: u64,
    /// Repeated answers (counted once).
    pub repeated_answers: u64,
    /// Workers caught sending two different answers for one round.
    pub equivocations: u64,
    /// Rounds started.
    pub rounds_started: u64,
    /// Answers refused as longer than consensus compares (never counted; a health
    /// mark against the worker).
    #[serde(default)]
    pub rejected_too_long: u64,
    /// Answers refused for a confidence that is not a number in `0..=1`.
    #[serde(default)]
    pub rejected_confidence: u64,
}

impl SupervisorStats {
    fn count_rejection(&mut self, rejection: AnswerRejection) {
        match rejection {
            AnswerRejection::TooLong { .. } => self.rejected_too_long += 1,
            AnswerRejection::InvalidConfidence { .. } => self.rejected_confidence += 1,
        }
    }

    fn count(&mut self, recorded: Recorded) {
        match recorded {
            Recorded::Vote => {}
            Recorded::Repeat => self.repeated_answers += 1,
            Recorded::Conflict => self.equivocations += 1,
        }
    }
}

/// The supervisor's state machine.
#[derive(Debug)]
pub struct SupervisorMachine {
    config: SupervisorConfig,
    analyser: HeuristicAnalyser,
    pool: WorkerPool,
    powers: VotingPowers,
    queue: TaskQueue,
    tasks: BTreeMap<TaskId, TaskState>,
    running: usize,
    completed: BTreeMap<TaskId, TaskResult>,
    completed_order: VecDeque<TaskId>,
    commands: VecDeque<Command>,
    results: VecDeque<TaskResult>,
    next_heartbeat_ms: u64,
    known_offline: BTreeSet<WorkerId>,
    scale_up_pending: usize,
    scaling_supported: bool,
    shutting_down: bool,
    stats: SupervisorStats,
    /// The latest time any input carried: wake-ups at or before it are due already.
    clock_ms: u64,
    /// The latest `handle_timeout` instant.
    last_timeout_ms: Option<u64>,
}

impl SupervisorMachine {
    /// A machine with no workers.
    ///
    /// # Errors
    /// [`ConfigError`] for an invalid config.
    pub fn new(config: SupervisorConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        Ok(Self {
            analyser: HeuristicAnalyser::new(config.analysis.clone())
                .with_base(config.consensus.clone(), config.strategy),
            pool: WorkerPool::new(config.pool.clone()),
            powers: VotingPowers::new(config.power.clone(), config.consensus.weighting),
            queue: TaskQueue::new(config.queue_length_max, config.attempts_max),
            scaling_supported: config.scaling,
            config,
            tasks: BTreeMap::new(),
            running: 0,
            completed: BTreeMap::new(),
            completed_order: VecDeque::new(),
            commands: VecDeque::new(),
            results: VecDeque::new(),
            next_heartbeat_ms: 0,
            known_offline: BTreeSet::new(),
            scale_up_pending: 0,
            shutting_down: false,
            stats: SupervisorStats::default(),
            clock_ms: 0,
            last_timeout_ms: None,
        })
    }

    // ----- inputs -----

    /// A worker joined (or was configured at start).
    pub fn handle_worker_joined(&mut self, worker: WorkerId, now_ms: u64) {
        self.known_offline.remove(&worker);
        self.pool.register(worker, now_ms);
        self.schedule(now_ms);
    }

    /// Submits a task; `plan` overrides the heuristic analysis (an LLM-assisted
    /// plan, say). Resubmitting an id is idempotent.
    ///
    /// # Errors
    /// [`SubmitError`] when the task is invalid, the queue full, or the supervisor
    /// shutting down.
    pub fn handle_submit(&mut self, task: Task, plan: Option<TaskPlan>, now_ms: u64) -> Result<Submitted, SubmitError> {
        task.validate()?;
        if let Some(result) = self.completed.get(&task.id) {
            return Ok(Submitted::Completed(Box::new(result.clone())));
        }
        if self.tasks.contains_key(&task.id) {
            return Ok(Submitted::InProgress);
        }
        if self.shutting_down {
            return Err(SubmitError::ShuttingDown);
        }
        let mut plan = plan.unwrap_or_else(|| self.analyser.analyse(&task.text));
        // An outside plan adapts from the base too: it may raise the bar, never
        // lower it, and a forced strategy holds for it as well.
        plan.threshold = plan.threshold.max(self.config.consensus.threshold);
        plan.strategy = self.config.strategy.unwrap_or(plan.strategy);
        plan.workers = self.config.analysis.clamp_workers(plan.workers);
        plan.timeout_ms = self.config.analysis.clamp_timeout_ms(plan.timeout_ms);
        let consensus = plan.consensus_config(&self.config.consensus);
        if consensus.validate().is_err() {
            // An outside plan with out-of-range numbers: keep the heuristic's.
            plan = self.analyser.analyse(&task.text);
        }
        let consensus = plan.consensus_config(&self.config.consensus);
        self.queue.push(task.id.clone(), task.priority)?;
        let id = task.id.clone();
        self.tasks.insert(id, TaskState::new(task, plan, consensus, now_ms));
        self.schedule(now_ms);
        Ok(Submitted::Accepted)
    }

    /// A worker answered (or failed) the `attempt`-th round of `task`.
    pub fn handle_answer(
        &mut self,
        worker: &WorkerId,
        task: &TaskId,
        attempt: u32,
        outcome: Result<WorkerAnswer, LinkError>,
        now_ms: u64,
    ) {
        let outcome = outcome.and_then(|answer| {
            if &answer.worker != worker || &answer.task != task {
                return Err(LinkError::Protocol {
                    detail: format!("answer for {}/{} on the channel of {worker}/{task}", answer.worker, answer.task),
                });
            }
            match AnswerRejection::check(&answer) {
                // The call ended without a usable answer: that round failed, and it
                // counts against the worker's health like any protocol error.
                Some(rejection) => {
                    self.stats.count_rejection(rejection);
                    Err(LinkError::Protocol { detail: rejection.to_string() })
                }
                None => Ok(answer),
            }
        });
        let mut went_offline = false;
        match &outcome {
            Ok(_) => self.pool.handle_success(worker, now_ms),
            Err(error) if error.is_health_failure() => went_offline = self.pool.handle_failure(worker, now_ms),
            Err(_) => {}
        }
        self.record_outcome(worker, task, attempt, outcome, now_ms);
        if went_offline {
            self.handle_worker_offline(worker, now_ms);
        }
        self.schedule(now_ms);
    }

    fn record_outcome(
        &mut self,
        worker: &WorkerId,
        task: &TaskId,
        attempt: u32,
        outcome: Result<WorkerAnswer, LinkError>,
        now_ms: u64,
    ) {
        let Some(state) = self.tasks.get_mut(task) else {
            self.stats.late_answers += 1;
            return;
        };
        let Some(assignment) = state.assignments.get_mut(worker) else {
            self.stats.unassigned_answers += 1;
            return;
        };
        let power = assignment.power;
        let was_pending = assignment.pending;
        let pending_attempt = assignment.attempt;
        match outcome {
            Ok(answer) => {
                if was_pending {
                    assignment.pending = false;
                    self.pool.release(worker, now_ms);
                    if pending_attempt != attempt {
                        // Answered an older round while asked again: stop the newer ask.
                        self.commands.push_back(Command::Cancel { worker: worker.clone(), task: task.clone() });
                    }
                }
                let confidence = self.powers.confidence(worker, reported_confidence(answer.confidence));
                let recorded = state.record_answer(answer, attempt, power, confidence);
                self.stats.count(recorded);
            }
            Err(error) => {
                if was_pending && pending_attempt == attempt {
                    assignment.pending = false;
                    self.pool.release(worker, now_ms);
                    state.record_failure(worker.clone(), attempt, error);
                }
            }
        }
        self.evaluate(task, now_ms);
    }

    /// An answer a worker pushed outside its execute call (after a broken
    /// connection, say). It is a vote if that worker was asked for the task, but it
    /// does not end the pending call: the call still reports its own outcome, so a
    /// second process answering differently under the same id (a twin) is caught.
    pub fn handle_delivered(&mut self, answer: WorkerAnswer, now_ms: u64) {
        let (worker, task, attempt) = (answer.worker.clone(), answer.task.clone(), answer.attempt);
        if let Some(rejection) = AnswerRejection::check(&answer) {
            self.stats.count_rejection(rejection);
            if self.pool.handle_failure(&worker, now_ms) {
                self.handle_worker_offline(&worker, now_ms);
            }
            self.schedule(now_ms);
            return;
        }
        let Some(state) = self.tasks.get_mut(&task) else {
            self.stats.late_answers += 1;
            return;
        };
        let Some(assignment) = state.assignments.get(&worker) else {
            self.stats.unassigned_answers += 1;
            return;
        };
        let power = assignment.power;
        let confidence = self.powers.confidence(&worker, reported_confidence(answer.confidence));
        let recorded = state.record_answer(answer, attempt, power, confidence);
        self.stats.count(recorded);
        self.evaluate(&task, now_ms);
        self.schedule(now_ms);
    }

    /// A heartbeat call returned.
    pub fn handle_heartbeat(&mut self, worker: &WorkerId, outcome: Result<Heartbeat, LinkError>, now_ms: u64) {
        match outcome {
            Ok(heartbeat) => {
                self.pool.handle_heartbeat(worker, heartbeat.capacity, now_ms);
                self.known_offline.remove(worker);
                self.schedule(now_ms);
            }
            Err(_) => {
                if self.pool.handle_failure(worker, now_ms) {
                    self.handle_worker_offline(worker, now_ms);
                }
            }
        }
    }

    /// A scale-up request of `requested` workers returned.
    pub fn handle_scaled_up(&mut self, requested: usize, outcome: Result<Vec<WorkerId>, ScaleError>, now_ms: u64) {
        self.scale_up_pending = self.scale_up_pending.saturating_sub(requested);
        match outcome {
            Ok(workers) => {
                for worker in workers {
                    self.handle_worker_joined(worker, now_ms);
                }
            }
            Err(ScaleError::Unsupported) => self.scaling_supported = false,
            // The environment is full: an answer, not an accident.
            Err(error @ ScaleError::NoCapacity) => tracing::debug!(%error, "scale up refused"),
            Err(error) => tracing::warn!(%error, "scale up failed"),
        }
    }

    /// A scale-down request returned.
    pub fn handle_scaled_down(&mut self, worker: &WorkerId, outcome: Result<(), ScaleError>, now_ms: u64) {
        match outcome {
            Ok(()) => {
                self.handle_worker_offline(worker, now_ms);
                self.pool.remove(worker);
            }
            Err(ScaleError::Unsupported) => self.scaling_supported = false,
            Err(error) => tracing::warn!(%error, %worker, "scale down failed"),
        }
    }

    /// Time passed: deadlines, heartbeats, queue waits, scaling.
    pub fn handle_timeout(&mut self, now_ms: u64) {
        self.last_timeout_ms = Some(self.last_timeout_ms.map_or(now_ms, |at| at.max(now_ms)));
        let expired: Vec<TaskId> = self
            .tasks
            .iter()
            .filter(|(_, s)| s.deadline_ms.is_some_and(|d| d <= now_ms))
            .map(|(id, _)| id.clone())
            .collect();
        for task in expired {
            self.expire_round(&task, now_ms);
        }
        let waited_out: Vec<TaskId> = self
            .tasks
            .iter()
            .filter(|(_, s)| {
                s.queued_since_ms.is_some_and(|since| now_ms.saturating_sub(since) >= self.config.queue_wait_ms_max)
            })
            .map(|(id, _)| id.clone())
            .collect();
        for task in waited_out {
            self.finish_with_what_is_there(&task, now_ms, |waited_ms| FailureReason::NoWorkers { waited_ms });
        }
        if now_ms >= self.next_heartbeat_ms {
            self.next_heartbeat_ms = now_ms.saturating_add(self.config.pool.heartbeat_interval_ms);
            let workers: Vec<WorkerId> = self.pool.ids().cloned().collect();
            for worker in workers {
                if self.pool.status(&worker, now_ms) == Some(WorkerStatus::Offline)
                    && self.known_offline.insert(worker.clone())
                {
                    self.handle_worker_offline(&worker, now_ms);
                }
                self.commands.push_back(Command::Heartbeat { worker });
            }
            self.consider_scaling(now_ms);
        }
        self.schedule(now_ms);
    }

    /// Stops taking tasks. Queued tasks end now (with what they have); running ones
    /// end at their round's end. The machine is done when [`Self::is_idle`].
    pub fn shutdown(&mut self, now_ms: u64) {
        self.shutting_down = true;
        let queued: Vec<TaskId> = self.queue.iter().cloned().collect();
        for task in queued {
            self.finish_with_what_is_there(&task, now_ms, |_| FailureReason::ShutDown);
        }
    }

    // ----- outputs -----

    /// The next command for the driver.
    #[must_use]
    pub fn poll_command(&mut self) -> Option<Command> {
        self.commands.pop_front()
    }

    /// The next finished task.
    #[must_use]
    pub fn poll_result(&mut self) -> Option<TaskResult> {
        self.results.pop_front()
    }

    /// When to call `handle_timeout` next, in ms on the caller's clock.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<u64> {
        if self.shutting_down && self.tasks.is_empty() {
            return None;
        }
        let deadlines = self.tasks.values().filter_map(|s| s.deadline_ms);
        let waits = self
            .tasks
            .values()
            .filter_map(|s| s.queued_since_ms.map(|since| since.saturating_add(self.config.queue_wait_ms_max)));
        // Only future retry times: a task that may run already waits for workers, and
        // those arrive as inputs, not as time.
        let retries = self
            .tasks
            .values()
            .filter(|s| s.queued_since_ms.is_some() && s.eligible_at_ms > self.clock_ms)
            .map(|s| s.eligible_at_ms);
        let next = deadlines.chain(waits).chain(retries).chain(core::iter::once(self.next_heartbeat_ms)).min()?;
        // Everything due at the last `handle_timeout` was handled by it, so a wake-up
        // at or before that instant would only make the driver spin while time
        // stands still (issue 7, item 2): the next one is always later.
        Some(next.max(self.last_timeout_ms.map_or(0, |at| at.saturating_add(1))))
    }

    /// Whether no task is queued or running.
    pub fn is_idle(&self) -> bool {
        self.tasks.is_empty()
    }

    /// Whether `shutdown` was called.
    pub fn is_shutting_down(&self) -> bool {
        self.shutting_down
    }

    /// Every worker's status.
    pub fn workers(&self, now_ms: u64) -> Vec<WorkerSummary> {
        self.pool.snapshot(now_ms)
    }

    /// Learned voting powers.
    pub fn powers(&self) -> &VotingPowers {
        &self.powers
    }

    /// Time between heartbeats.
    pub fn heartbeat_interval_ms(&self) -> u64 {
        self.config.pool.heartbeat_interval_ms
    }

    /// Counters of ignored inputs.
    pub fn stats(&self) -> &SupervisorStats {
        &self.stats
    }

    /// Tasks queued, tasks running.
    pub fn load(&self) -> (usize, usize) {
        (self.queue.len(), self.running)
    }

    // ----- the flow -----

    /// Starts queued tasks while workers and running slots allow, in queue order.
    fn schedule(&mut self, now_ms: u64) {
        self.clock_ms = self.clock_ms.max(now_ms);
        while self.running < self.config.running_tasks_max && !self.shutting_down {
            // The first task whose retry delay has passed, in queue order.
            let Some(task) = self.queue.iter().find(|t| self.tasks[*t].eligible_at_ms <= now_ms).cloned() else {
                return;
            };
            let state = &self.tasks[&task];
            let voters = state.voters().len();
            let missing = state.target_workers.saturating_sub(voters);
            if missing == 0 {
                // Late answers completed it while it waited.
                self.queue.remove(&task);
                self.close_round(&task, now_ms);
                continue;
            }
            // This round must be able to reach the quorum.
            let minimum = state.quorum().saturating_sub(voters).max(1);
            // A retry also asks one more worker for each that failed the last round,
            // so that a round in a storm of failures can still reach the quorum.
            let needed = missing + state.last_round_failures;
            let selected = self.pool.select(needed, &state.answered(), &self.powers, now_ms);
            if selected.len() < minimum {
                return;
            }
            self.queue.take(&task);
            let attempt = self.queue.attempts_used(&task);
            self.start_round(&task, attempt, selected, now_ms);
        }
    }

    fn start_round(&mut self, task: &TaskId, attempt: u32, workers: Vec<WorkerId>, now_ms: u64) {
        let state = self.tasks.get_mut(task).expect("scheduled tasks exist");
        state.attempt = attempt;
        state.queued_since_ms = None;
        state.deadline_ms = Some(now_ms.saturating_add(state.plan.timeout_ms));
        state.started_ms.get_or_insert(now_ms);
        self.running += 1;
        self.stats.rounds_started += 1;
        for worker in workers {
            let power = self.powers.power(&worker);
            state.assign(worker.clone(), attempt, power);
            self.pool.assign(&worker);
            let request = ExecuteRequest {
                task: task.clone(),
                attempt,
                text: state.task.text.clone(),
                strategy: state.plan.strategy,
                timeout_ms: state.plan.timeout_ms,
            };
            self.commands.push_back(Command::Execute { worker, request });
        }
    }

    /// After an answer: decide early if the rest cannot matter, or close the round
    /// when nothing is pending.
    fn evaluate(&mut self, task: &TaskId, now_ms: u64) {
        let Some(state) = self.tasks.get(task) else { return };
        if !state.is_running() {
            if state.voters().len() >= state.target_workers {
                self.queue.remove(task);
                self.close_round(task, now_ms);
            }
            return;
        }
        let pending = state.pending();
        if pending.is_empty() {
            self.close_round(task, now_ms);
            return;
        }
        if !self.config.early_stop || state.voters().len() < state.quorum() {
            return;
        }
        let outstanding: Vec<f64> = pending.iter().map(|w| state.assignments[w].power).collect();
        let ballots = state.ballots();
        let settled = early_stop(&ballots, &state.consensus, &outstanding).expect("supervisor ballots are valid");
        if settled != EarlyStop::Wait {
            let state = self.tasks.get_mut(task).expect("checked above");
            state.early_stopped = true;
            self.cancel_pending(task, now_ms);
            self.close_round(task, now_ms);
        }
    }

    fn expire_round(&mut self, task: &TaskId, now_ms: u64) {
        let state = self.tasks.get_mut(task).expect("expired tasks exist");
        let attempt = state.attempt;
        for worker in state.pending() {
            state.record_failure(worker.clone(), attempt, LinkError::Timeout);
        }
        self.cancel_pending(task, now_ms);
        self.close_round(task, now_ms);
    }

    fn cancel_pending(&mut self, task: &TaskId, now_ms: u64) {
        let Some(state) = self.tasks.get_mut(task) else { return };
        for worker in state.pending() {
            if let Some(assignment) = state.assignments.get_mut(&worker) {
                assignment.pending = false;
            }
            self.pool.release(&worker, now_ms);
            self.commands.push_back(Command::Cancel { worker, task: task.clone() });
        }
    }

    /// A round is over (every assigned worker answered, failed or timed out, or the
    /// outcome is settled): finish, requeue for more answers, or escalate.
    fn close_round(&mut self, task: &TaskId, now_ms: u64) {
        let state = self.tasks.get_mut(task).expect("closing tasks exist");
        if state.deadline_ms.take().is_some() {
            self.running -= 1;
        }
        let voters = state.voters().len();
        let quorum = state.quorum();
        let decision = decide(&state.ballots(), &state.consensus).expect("supervisor ballots are valid");
        if voters >= quorum && decision.is_agreed() {
            self.finish(task, decision, None, now_ms);
            return;
        }
        if voters < quorum {
            let priority = state.task.priority;
            let attempt = state.attempt;
            state.last_round_failures = state.failures.iter().filter(|f| f.attempt == attempt).count();
            let delay_ms = self.round_retry_delay_ms(task);
            let state = self.tasks.get_mut(task).expect("exists");
            let budget_end_ms = state.started_ms.unwrap_or(now_ms).saturating_add(self.config.retry_budget_ms);
            let out_of_time = now_ms.saturating_add(delay_ms) > budget_end_ms;
            if self.shutting_down || out_of_time || self.queue.requeue(task.clone(), priority).is_err() {
                self.finish(
                    task,
                    decision,
                    Some(FailureReason::NotEnoughAnswers { received: voters, needed: quorum }),
                    now_ms,
                );
            } else {
                let state = self.tasks.get_mut(task).expect("exists");
                state.queued_since_ms = Some(now_ms);
                state.eligible_at_ms = now_ms.saturating_add(delay_ms);
            }
            return;
        }
        // A split vote: ask a few more workers once, if there are any to ask.
        let escalation = self.config.escalation_workers;
        let fresh = self.pool.select(escalation, &state.answered(), &self.powers, now_ms).len();
        let can_escalate = !state.escalated && escalation > 0 && fresh > 0 && !self.shutting_down;
        if can_escalate && self.queue.requeue(task.clone(), state.task.priority).is_ok() {
            let state = self.tasks.get_mut(task).expect("exists");
            state.escalated = true;
            state.target_workers = voters + escalation;
            state.queued_since_ms = Some(now_ms);
            return;
        }
        self.finish(task, decision, None, now_ms);
    }

    /// The wait before `task`'s next round: the base delay doubled per round taken.
    fn round_retry_delay_ms(&self, task: &TaskId) -> u64 {
        let rounds = self.queue.attempts_used(task).clamp(1, 16);
        (self.config.round_retry_delay_ms << (rounds - 1)).min(super::config::ROUND_RETRY_DELAY_MS_MAX)
    }

    /// Ends a queued task with whatever answers it has.
    fn finish_with_what_is_there(&mut self, task: &TaskId, now_ms: u64, reason: impl FnOnce(u64) -> FailureReason) {
        self.queue.remove(task);
        let state = &self.tasks[task];
        let waited_ms = now_ms.saturating_sub(state.queued_since_ms.unwrap_or(now_ms));
        let voters = state.voters().len();
        let quorum = state.quorum();
        let decision = decide(&state.ballots(), &state.consensus).expect("supervisor ballots are valid");
        let failure = if voters >= quorum {
            None
        } else if voters > 0 {
            Some(FailureReason::NotEnoughAnswers { received: voters, needed: quorum })
        } else {
            Some(reason(waited_ms))
        };
        self.finish(task, decision, failure, now_ms);
    }

    /// Emits the one result of `task` and forgets it.
    fn finish(&mut self, task: &TaskId, decision: Decision, failure: Option<FailureReason>, now_ms: u64) {
        self.cancel_pending(task, now_ms);
        let mut state = self.tasks.remove(task).expect("finishing tasks exist");
        if state.deadline_ms.take().is_some() {
            self.running -= 1;
        }
        self.queue.forget(task);
        let outcome = match &failure {
            Some(reason) => Outcome::Failed { reason: reason.clone() },
            None => match decision.verdict {
                Verdict::Agreed => Outcome::Agreed {
                    answer: decision.answer.clone().expect("agreed decisions have an answer"),
                    support: decision.support,
                    margin: decision.margin,
                    confidence: decision.confidence,
                },
                Verdict::NoConsensus(reason) => {
                    Outcome::NoConsensus { reason, support: decision.support, margin: decision.margin }
                }
            },
        };
        if matches!(outcome, Outcome::Agreed { .. }) {
            self.learn(&state, &decision);
        }
        let mut votes = state.votes.clone();
        votes.sort_by(|a, b| (&a.worker, a.attempt, &a.text).cmp(&(&b.worker, b.attempt, &b.text)));
        let result = TaskResult {
            task: task.clone(),
            outcome,
            alternatives: decision.groups.clone(),
            metadata: ResultMetadata {
                threshold: decision.threshold,
                excluded: decision.excluded,
                plan: state.plan,
                workers_asked: state.asked,
                votes,
                failures: state.failures,
                rounds: state.attempt,
                early_stopped: state.early_stopped,
                submitted_at_ms: state.submitted_ms,
                started_at_ms: state.started_ms,
                finished_at_ms: now_ms,
                llm_calls: state.llm_calls,
                prompt_tokens: state.prompt_tokens,
                completion_tokens: state.completion_tokens,
            },
        };
        self.remember(result.clone());
        self.results.push_back(result);
    }

    /// Extends each answering worker's record: agreeing with the accepted answer
    /// earns, disagreeing costs; a twin caught equivocating is counted as disagreeing.
    /// The confidence recorded is the one the worker reported (its first vote's), so
    /// that its record can tell how far those reports predict agreement.
    fn learn(&mut self, state: &TaskState, decision: &Decision) {
        let winners: BTreeSet<&WorkerId> =
            decision.groups.first().map(|g| g.members.iter().collect()).unwrap_or_default();
        let voters = state.voters();
        for worker in state.answered() {
            let agreed = voters.contains(&worker) && winners.contains(&worker);
            let reported = state
                .votes
                .iter()
                .find(|v| v.worker == worker)
                .map_or(0.0, |v| v.reported_confidence.unwrap_or(v.confidence));
            self.powers.record(&worker, agreed, reported);
        }
    }

    fn remember(&mut self, result: TaskResult) {
        let task = result.task.clone();
        self.completed.insert(task.clone(), result);
        self.completed_order.push_back(task);
        while self.completed_order.len() > self.config.completed_results_max {
            if let Some(oldest) = self.completed_order.pop_front() {
                self.completed.remove(&oldest);
            }
        }
    }

    /// A worker is gone: its pending work anywhere is failed now, so those tasks can
    /// be reassigned without waiting for their deadlines.
    fn handle_worker_offline(&mut self, worker: &WorkerId, now_ms: u64) {
        self.known_offline.insert(worker.clone());
        let affected: Vec<TaskId> = self
            .tasks
            .iter()
            .filter(|(_, s)| s.assignments.get(worker).is_some_and(|a| a.pending))
            .map(|(id, _)| id.clone())
            .collect();
        for task in affected {
            let state = self.tasks.get_mut(&task).expect("listed above");
            let attempt = state.assignments[worker].attempt;
            if let Some(assignment) = state.assignments.get_mut(worker) {
                assignment.pending = false;
            }
            state.record_failure(worker.clone(), attempt, LinkError::Unavailable);
            self.pool.release(worker, now_ms);
            self.commands.push_back(Command::Cancel { worker: worker.clone(), task: task.clone() });
            self.evaluate(&task, now_ms);
        }
    }

    fn consider_scaling(&mut self, now_ms: u64) {
        if !self.scaling_supported || self.shutting_down {
            return;
        }
        let queued_slots: usize = self.queue.iter().map(|t| self.tasks[t].target_workers).sum();
        let running_slots: usize = self.tasks.values().map(|s| s.pending().len()).sum();
        let decision =
            self.pool.scaling_decision(queued_slots + running_slots, self.queue.len(), self.scale_up_pending, now_ms);
        tracing::debug!(
            queued_slots,
            running_slots,
            queued = self.queue.len(),
            pending_up = self.scale_up_pending,
            ?decision,
            "scaling"
        );
        match decision {
            ScaleDecision::Up(count) if count > 0 => {
                self.scale_up_pending += count;
                self.pool.record_scaling(now_ms);
                self.commands.push_back(Command::ScaleUp { count });
            }
            ScaleDecision::Down(worker) => {
                self.pool.drain(&worker);
                self.pool.record_scaling(now_ms);
                self.commands.push_back(Command::ScaleDown { worker });
            }
            ScaleDecision::Up(_) | ScaleDecision::Hold => {}
        }
    }
}

mod membership;
#[cfg(test)]
mod tests;
