//! Whether an answer may count: the task is known and open, the worker was asked for
//! it, in the round the answer names. And what a refusal costs the worker.

use super::super::rejection::AnswerRejection;
use super::super::task_state::Recorded;
use super::SupervisorMachine;
use crate::{TaskId, WorkerId};

impl SupervisorMachine {
    /// Whether `worker`'s answer for round `attempt` of `task` may be recorded.
    ///
    /// # Errors
    /// The [`AnswerRejection`] saying why not: the task is unknown or finished, the
    /// worker was never asked, or the round is 0, not reached yet, or one the worker
    /// was not asked in.
    pub(super) fn admit(&self, worker: &WorkerId, task: &TaskId, attempt: u32) -> Result<(), AnswerRejection> {
        let Some(state) = self.tasks.get(task) else {
            let finished = self.completed.contains_key(task);
            return Err(if finished { AnswerRejection::Finished } else { AnswerRejection::UnknownTask });
        };
        let Some(assignment) = state.assignments.get(worker) else {
            return Err(AnswerRejection::NotAsked);
        };
        if attempt == 0 || attempt > state.attempt {
            return Err(AnswerRejection::UnknownRound { attempt, latest: state.attempt });
        }
        if !assignment.rounds.contains(&attempt) {
            return Err(AnswerRejection::NotAskedInRound { attempt });
        }
        Ok(())
    }

    /// Counts `rejection`; where only a faulty worker sends such an answer, it is
    /// also a health mark against `worker`.
    pub(super) fn reject(&mut self, worker: &WorkerId, task: &TaskId, rejection: AnswerRejection, now_ms: u64) {
        self.stats.count_rejection(rejection);
        tracing::debug!(%worker, %task, %rejection, "answer refused");
        if rejection.is_worker_fault() {
            self.mark(worker, now_ms);
        }
    }

    /// Counts what recording an answer did; a worker caught equivocating gets a
    /// health mark (its answers are excluded from the vote by `decide` itself).
    pub(super) fn note(&mut self, worker: &WorkerId, task: &TaskId, recorded: Recorded, now_ms: u64) {
        self.stats.count(recorded);
        if matches!(recorded, Recorded::Vote | Recorded::Conflict) {
            self.journal_vote(task);
        }
        if recorded == Recorded::Conflict {
            self.mark(worker, now_ms);
        }
    }

    /// A health mark: `worker` failed as far as the pool is concerned. One that is
    /// offline now has its pending work failed and reassigned.
    pub(super) fn mark(&mut self, worker: &WorkerId, now_ms: u64) {
        if self.pool.handle_failure(worker, now_ms) {
            self.handle_worker_offline(worker, now_ms);
        }
    }
}
