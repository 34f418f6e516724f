//! A task's life after submission: scheduled into rounds, answers evaluated, a round
//! closed (finish, retry or escalate), and its one result emitted.

use std::collections::BTreeSet;

use super::super::config::ROUND_RETRY_DELAY_MS_MAX;
use super::super::task_state::TaskState;
use super::{Command, SupervisorMachine};
use crate::consensus::{Decision, EarlyStop, decide, early_stop};
use crate::link::{ExecuteRequest, LinkError};
use crate::result::{FailureReason, Outcome, ResultMetadata, TaskResult};
use crate::{TaskId, WorkerId};

/// Why `decide` and `early_stop` cannot refuse a task's ballots: every answer's size
/// and confidence was checked at the boundary (`admission`), powers and calibrated
/// confidences come bounded from `VotingPowers`, a task holds at most
/// `ANSWERS_PER_DECISION_MAX` votes, and its consensus config was validated at submit.
const BALLOTS_VALID: &str = "admitted ballots are valid (checked at the boundary)";

/// A task looked up earlier in the same function, with nothing in between that
/// finishes tasks.
const STILL_THERE: &str = "the task looked up above is still open";

impl SupervisorMachine {
    /// Starts queued tasks while workers and running slots allow, in queue order.
    pub(super) fn schedule(&mut self, now_ms: u64) {
        self.clock_ms = self.clock_ms.max(now_ms);
        while self.running < self.config.running_tasks_max && !self.shutting_down {
            // The first task whose retry delay has passed, in queue order.
            let eligible = |t: &&TaskId| self.tasks.get(*t).is_some_and(|s| s.eligible_at_ms <= now_ms);
            let Some(task) = self.queue.iter().find(eligible).cloned() else {
                return;
            };
            let Some(state) = self.tasks.get(&task) else { return };
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

    pub(super) fn start_round(&mut self, task: &TaskId, attempt: u32, workers: Vec<WorkerId>, now_ms: u64) {
        let Some(state) = self.tasks.get_mut(task) else { return };
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
        self.journal_round(task, attempt);
    }

    /// After an answer: decide early if the rest cannot matter, or close the round
    /// when nothing is pending.
    pub(super) fn evaluate(&mut self, task: &TaskId, now_ms: u64) {
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
        let outstanding: Vec<f64> = state.assignments.iter().filter(|(_, a)| a.pending).map(|(_, a)| a.power).collect();
        let ballots = state.ballots();
        let settled = early_stop(&ballots, &state.consensus, &outstanding).expect(BALLOTS_VALID);
        if settled != EarlyStop::Wait {
            if let Some(state) = self.tasks.get_mut(task) {
                state.early_stopped = true;
            }
            self.cancel_pending(task, now_ms);
            self.close_round(task, now_ms);
        }
    }

    pub(super) fn expire_round(&mut self, task: &TaskId, now_ms: u64) {
        let Some(state) = self.tasks.get_mut(task) else { return };
        let attempt = state.attempt;
        for worker in state.pending() {
            state.record_failure(worker.clone(), attempt, LinkError::Timeout);
        }
        self.cancel_pending(task, now_ms);
        self.close_round(task, now_ms);
    }

    pub(super) fn cancel_pending(&mut self, task: &TaskId, now_ms: u64) {
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
    pub(super) fn close_round(&mut self, task: &TaskId, now_ms: u64) {
        let Some(state) = self.tasks.get_mut(task) else { return };
        if state.deadline_ms.take().is_some() {
            self.running -= 1;
        }
        let voters = state.voters().len();
        let quorum = state.quorum();
        let decision = decide(&state.ballots(), &state.consensus).expect(BALLOTS_VALID);
        if voters >= quorum && decision.is_agreed() {
            self.finish(task, decision, None, now_ms);
            return;
        }
        if voters < quorum {
            let priority = state.task.priority;
            let attempt = state.attempt;
            state.last_round_failures = state.failures.iter().filter(|f| f.attempt == attempt).count();
            let delay_ms = self.round_retry_delay_ms(task);
            let state = self.tasks.get_mut(task).expect(STILL_THERE);
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
                let state = self.tasks.get_mut(task).expect(STILL_THERE);
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
            let state = self.tasks.get_mut(task).expect(STILL_THERE);
            state.escalated = true;
            state.target_workers = voters + escalation;
            state.queued_since_ms = Some(now_ms);
            return;
        }
        self.finish(task, decision, None, now_ms);
    }

    /// The wait before `task`'s next round: the base delay doubled per round taken.
    pub(super) fn round_retry_delay_ms(&self, task: &TaskId) -> u64 {
        let rounds = self.queue.attempts_used(task).clamp(1, 16);
        (self.config.round_retry_delay_ms << (rounds - 1)).min(ROUND_RETRY_DELAY_MS_MAX)
    }

    /// Ends a queued task with whatever answers it has.
    pub(super) fn finish_with_what_is_there(
        &mut self,
        task: &TaskId,
        now_ms: u64,
        reason: impl FnOnce(u64) -> FailureReason,
    ) {
        self.queue.remove(task);
        let Some(state) = self.tasks.get(task) else { return };
        let waited_ms = now_ms.saturating_sub(state.queued_since_ms.unwrap_or(now_ms));
        let voters = state.voters().len();
        let quorum = state.quorum();
        let decision = decide(&state.ballots(), &state.consensus).expect(BALLOTS_VALID);
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
    pub(super) fn finish(&mut self, task: &TaskId, decision: Decision, failure: Option<FailureReason>, now_ms: u64) {
        self.cancel_pending(task, now_ms);
        let Some(mut state) = self.tasks.remove(task) else { return };
        if state.deadline_ms.take().is_some() {
            self.running -= 1;
        }
        self.queue.forget(task);
        let outcome = match &failure {
            Some(reason) => Outcome::Failed { reason: reason.clone() },
            None => Outcome::of_decision(&decision),
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
                llm_calls: state.spent.llm_calls,
                prompt_tokens: state.spent.prompt_tokens,
                completion_tokens: state.spent.completion_tokens,
                rate_limit_wait_ms: state.spent.rate_limit_wait_ms,
            },
        };
        self.journal_finished(&result);
        self.remember(result.clone());
        self.results.push_back(result);
    }

    /// Extends each answering worker's record: agreeing with the accepted answer
    /// earns, disagreeing costs; a twin caught equivocating is counted as disagreeing.
    /// The confidence recorded is the one the worker reported (its first vote's), so
    /// that its record can tell how far those reports predict agreement.
    pub(super) fn learn(&mut self, state: &TaskState, decision: &Decision) {
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

    pub(super) fn remember(&mut self, result: TaskResult) {
        let task = result.task.clone();
        self.completed.insert(task.clone(), result);
        self.completed_order.push_back(task);
        while self.completed_order.len() > self.config.completed_results_max {
            if let Some(oldest) = self.completed_order.pop_front() {
                self.completed.remove(&oldest);
            }
        }
    }
}
