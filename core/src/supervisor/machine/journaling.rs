//! What the machine journals, and how it resumes from a journal.
//!
//! With journaling on (see [`SupervisorMachine::recover`]), every acceptance, round,
//! counted vote and result becomes a [`JournalWrite`] for the driver to write
//! (`poll_journal`) before it acts on the outputs that follow. Off, the machine
//! keeps nothing of the kind and costs nothing.

use super::super::task_state::TaskState;
use super::SupervisorMachine;
use crate::TaskId;
use crate::analysis::TaskPlan;
use crate::journal::{JournalState, JournalWrite};
use crate::result::TaskResult;
use crate::task::Task;

impl SupervisorMachine {
    /// The next write for the journal; drain it before carrying out commands or
    /// publishing results.
    #[must_use]
    pub fn poll_journal(&mut self) -> Option<JournalWrite> {
        self.journal.as_mut()?.pop_front()
    }

    /// Switches journaling on and resumes from `state` (empty for a fresh journal):
    /// finished tasks answer with their results again (a resubmission hears
    /// `Completed`); unfinished ones are queued again with the answers that counted
    /// (their voters are not asked again) and go on from the round after the last one
    /// started; the voting powers are as the journal last saw them. Call it before
    /// any input.
    pub fn recover(&mut self, state: &JournalState, now_ms: u64) {
        self.journal = Some(Default::default());
        if let Some(powers) = &state.powers {
            self.powers = powers.clone();
        }
        for entry in state.finished() {
            if let Some(result) = &entry.result {
                self.remember((**result).clone());
            }
        }
        for entry in state.unfinished() {
            let task = &entry.task;
            // Journal entries are unique by id, so this cannot be a duplicate.
            if self.queue.resume(task.id.clone(), task.priority, entry.attempt).is_err() {
                continue;
            }
            let consensus = entry.plan.consensus_config(&self.config.consensus);
            let mut resumed = TaskState::new(task.clone(), entry.plan.clone(), consensus, now_ms);
            resumed.resume(entry.attempt, &entry.votes, entry.spent, now_ms);
            self.tasks.insert(task.id.clone(), resumed);
        }
        self.schedule(now_ms);
        self.check_invariants();
    }

    pub(super) fn journal_accepted(&mut self, task: &Task, plan: &TaskPlan) {
        if let Some(journal) = self.journal.as_mut() {
            journal.push_back(JournalWrite::Accepted { task: task.clone(), plan: plan.clone() });
        }
    }

    pub(super) fn journal_round(&mut self, task: &TaskId, attempt: u32) {
        if let Some(journal) = self.journal.as_mut() {
            journal.push_back(JournalWrite::RoundStarted { task: task.clone(), attempt });
        }
    }

    /// The vote just recorded for `task`.
    pub(super) fn journal_vote(&mut self, task: &TaskId) {
        let Some(journal) = self.journal.as_mut() else { return };
        if let Some(state) = self.tasks.get(task)
            && let Some(vote) = state.votes.last()
        {
            journal.push_back(JournalWrite::Voted { task: task.clone(), vote: vote.clone(), spent: state.spent });
        }
    }

    pub(super) fn journal_finished(&mut self, result: &TaskResult) {
        if let Some(journal) = self.journal.as_mut() {
            let powers = self.powers.clone();
            journal.push_back(JournalWrite::Finished { result: Box::new(result.clone()), powers });
        }
    }

    /// Marks `task`'s result as received by a client.
    pub fn handle_result_delivered(&mut self, task: &TaskId) {
        if let Some(journal) = self.journal.as_mut()
            && self.completed.contains_key(task)
        {
            journal.push_back(JournalWrite::Delivered { task: task.clone() });
        }
    }
}
