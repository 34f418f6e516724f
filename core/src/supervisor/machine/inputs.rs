//! The machine's inputs: every `handle_*`. Each ends by checking the invariants (see
//! [`SupervisorMachine::assert_invariants`]).

use super::super::annotations::Annotations;
use super::super::rejection::{AnswerRejection, HeartbeatRejection};
use super::super::task_state::{TaskState, reported_confidence};
use super::{SubmitError, Submitted, SupervisorMachine};
use crate::analysis::TaskPlan;
use crate::link::{Heartbeat, LinkError, WorkerAnswer};
use crate::result::FailureReason;
use crate::scaler::ScaleError;
use crate::task::Task;
use crate::{TaskId, WorkerId};

impl SupervisorMachine {
    /// A worker joined (or was configured at start).
    pub fn handle_worker_joined(&mut self, worker: WorkerId, now_ms: u64) {
        self.known_offline.remove(&worker);
        self.pool.register(worker, now_ms);
        self.schedule(now_ms);
        self.check_invariants();
    }

    /// Submits a task; `plan` overrides the heuristic analysis (an LLM-assisted
    /// plan, say). Resubmitting an id is idempotent.
    ///
    /// # Errors
    /// [`SubmitError`] when the task is invalid, the queue full, or the supervisor
    /// shutting down.
    pub fn handle_submit(&mut self, task: Task, plan: Option<TaskPlan>, now_ms: u64) -> Result<Submitted, SubmitError> {
        let submitted = self.submit(task, plan, now_ms);
        self.check_invariants();
        submitted
    }

    fn submit(&mut self, task: Task, plan: Option<TaskPlan>, now_ms: u64) -> Result<Submitted, SubmitError> {
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
        self.journal_accepted(&task, &plan);
        self.tasks.insert(id, TaskState::new(task, plan, consensus, now_ms));
        self.schedule(now_ms);
        Ok(Submitted::Accepted)
    }

    /// A worker's call for the `attempt`-th round of `task` returned: its answer, or
    /// why it failed. The reply is checked before it counts (see
    /// [`super::super::AnswerRejection`]): a reply that names another worker, task
    /// or round, or whose content is refused, fails the call like a protocol error.
    pub fn handle_answer(
        &mut self,
        worker: &WorkerId,
        task: &TaskId,
        attempt: u32,
        outcome: Result<WorkerAnswer, LinkError>,
        now_ms: u64,
    ) {
        self.handle_answer_annotated(worker, task, attempt, outcome, Annotations::NONE, now_ms);
    }

    /// [`Self::handle_answer`] with the supervisor's own `annotations` of the answer
    /// (its embedding, its meaning class; see [`Annotations`]), which the vote keeps.
    /// They count only with an answer that is admitted; an unusable embedding is
    /// dropped.
    pub fn handle_answer_annotated(
        &mut self,
        worker: &WorkerId,
        task: &TaskId,
        attempt: u32,
        outcome: Result<WorkerAnswer, LinkError>,
        annotations: Annotations,
        now_ms: u64,
    ) {
        self.call_returned(worker, task, attempt, outcome, annotations.usable(), now_ms);
        self.schedule(now_ms);
        self.check_invariants();
    }

    fn call_returned(
        &mut self,
        worker: &WorkerId,
        task: &TaskId,
        attempt: u32,
        outcome: Result<WorkerAnswer, LinkError>,
        annotations: Annotations,
        now_ms: u64,
    ) {
        // A reply is counted once: refused for its content, or else not placed.
        let mut counted = false;
        let outcome = outcome.map_err(LinkError::bounded).and_then(|answer| {
            let refused = if answer.is_reply_to(worker, task, attempt) {
                AnswerRejection::check(&answer)
            } else {
                Some(AnswerRejection::Misaddressed)
            };
            match refused {
                // The call ended without a usable answer: that round failed, and it
                // counts against the worker's health like any protocol error.
                Some(rejection) => {
                    self.stats.count_rejection(rejection);
                    counted = true;
                    tracing::debug!(%worker, %task, attempt, %rejection, "reply refused");
                    Err(LinkError::Protocol { detail: rejection.to_string() })
                }
                None => Ok(answer),
            }
        });
        let health_failure = outcome.as_ref().is_err_and(LinkError::is_health_failure);
        if let Err(rejection) = self.admit(worker, task, attempt) {
            // A reply to a call the machine cannot place (the driver's own report, so
            // only an answer in it can be the worker's fault).
            let fault = outcome.is_ok() && rejection.is_worker_fault();
            if !counted {
                self.stats.count_rejection(rejection);
            }
            tracing::debug!(%worker, %task, attempt, %rejection, "call reply not placed");
            if fault || health_failure {
                self.mark(worker, now_ms);
            } else if outcome.is_ok() {
                self.pool.handle_success(worker, now_ms);
            }
            return;
        }
        let mut went_offline = false;
        match &outcome {
            Ok(_) => self.pool.handle_success(worker, now_ms),
            Err(_) if health_failure => went_offline = self.pool.handle_failure(worker, now_ms),
            Err(_) => {}
        }
        self.record_outcome(worker, task, attempt, outcome, annotations, now_ms);
        if went_offline {
            self.handle_worker_offline(worker, now_ms);
        }
    }

    /// Records the admitted outcome of a call: ends the call's pending ask, and
    /// records the answer as a vote or the failure against the round.
    fn record_outcome(
        &mut self,
        worker: &WorkerId,
        task: &TaskId,
        attempt: u32,
        outcome: Result<WorkerAnswer, LinkError>,
        annotations: Annotations,
        now_ms: u64,
    ) {
        let Some(state) = self.tasks.get_mut(task) else { return };
        let Some(assignment) = state.assignments.get_mut(worker) else { return };
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
                        self.commands.push_back(super::Command::Cancel { worker: worker.clone(), task: task.clone() });
                    }
                }
                let confidence = self.powers.confidence(worker, reported_confidence(answer.confidence));
                let recorded = state.record_answer(answer, attempt, power, confidence, annotations);
                self.note(worker, task, recorded, now_ms);
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
    /// connection, say). It is a vote if that worker was asked for the task in that
    /// round, but it does not end the pending call: the call still reports its own
    /// outcome, so a second process answering differently under the same id (a twin)
    /// is caught. A worker may push at most one answer per call it was given for the
    /// task; more is a flood, refused.
    pub fn handle_delivered(&mut self, answer: WorkerAnswer, now_ms: u64) {
        self.handle_delivered_annotated(answer, Annotations::NONE, now_ms);
    }

    /// [`Self::handle_delivered`] with the supervisor's own `annotations` of the
    /// answer, as in [`Self::handle_answer_annotated`].
    pub fn handle_delivered_annotated(&mut self, answer: WorkerAnswer, annotations: Annotations, now_ms: u64) {
        self.answer_pushed(answer, annotations.usable(), now_ms);
        self.schedule(now_ms);
        self.check_invariants();
    }

    fn answer_pushed(&mut self, answer: WorkerAnswer, annotations: Annotations, now_ms: u64) {
        let (worker, task, attempt) = (answer.worker.clone(), answer.task.clone(), answer.attempt);
        let admitted = match AnswerRejection::check(&answer) {
            Some(rejection) => Err(rejection),
            None => self.admit(&worker, &task, attempt),
        };
        if let Err(rejection) = admitted {
            self.reject(&worker, &task, rejection, now_ms);
            return;
        }
        let Some(state) = self.tasks.get_mut(&task) else { return };
        let Some(assignment) = state.assignments.get_mut(&worker) else { return };
        assignment.pushed = assignment.pushed.saturating_add(1);
        let calls = u32::try_from(assignment.rounds.len()).unwrap_or(u32::MAX);
        if assignment.pushed > calls {
            let pushed = assignment.pushed;
            self.reject(&worker, &task, AnswerRejection::Flood { pushed, calls }, now_ms);
            return;
        }
        let power = assignment.power;
        let confidence = self.powers.confidence(&worker, reported_confidence(answer.confidence));
        let recorded = state.record_answer(answer, attempt, power, confidence, annotations);
        self.note(&worker, &task, recorded, now_ms);
        self.evaluate(&task, now_ms);
    }

    /// A heartbeat call to `worker` returned. A reply naming another worker, or with
    /// an absurd capacity or load, is refused (see
    /// [`super::super::HeartbeatRejection`]) and counts as a failed heartbeat.
    pub fn handle_heartbeat(&mut self, worker: &WorkerId, outcome: Result<Heartbeat, LinkError>, now_ms: u64) {
        match outcome {
            Ok(heartbeat) => match HeartbeatRejection::check(worker, &heartbeat) {
                None => {
                    self.pool.handle_heartbeat(worker, heartbeat.capacity, now_ms);
                    self.known_offline.remove(worker);
                    self.schedule(now_ms);
                }
                Some(rejection) => {
                    self.stats.count_heartbeat_rejection(&rejection);
                    tracing::debug!(%worker, %rejection, "heartbeat refused");
                    self.mark(worker, now_ms);
                }
            },
            Err(_) => self.mark(worker, now_ms),
        }
        self.check_invariants();
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
        self.check_invariants();
    }

    /// A scale-down request returned.
    pub fn handle_scaled_down(&mut self, worker: &WorkerId, outcome: Result<(), ScaleError>, now_ms: u64) {
        match outcome {
            // Stopped: gone like a worker that left its registry.
            Ok(()) => return self.handle_worker_left(worker, now_ms),
            Err(ScaleError::Unsupported) => self.scaling_supported = false,
            Err(error) => tracing::warn!(%error, %worker, "scale down failed"),
        }
        self.check_invariants();
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
            self.sweep_heartbeats(now_ms);
            self.consider_scaling(now_ms);
        }
        self.schedule(now_ms);
        self.check_invariants();
    }

    /// Stops taking tasks. Queued tasks end now (with what they have); running ones
    /// end at their round's end. The machine is done when [`Self::is_idle`].
    pub fn shutdown(&mut self, now_ms: u64) {
        self.shutting_down = true;
        let queued: Vec<TaskId> = self.queue.iter().cloned().collect();
        for task in queued {
            self.finish_with_what_is_there(&task, now_ms, |_| FailureReason::ShutDown);
        }
        self.check_invariants();
    }
}
