//! [`JournalState`]: the journal's writes folded into what a restarted supervisor
//! needs, task by task, and compacted so that it stays bounded.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::JournalWrite;
use crate::TaskId;
use crate::analysis::TaskPlan;
use crate::power::VotingPowers;
use crate::result::{Spent, TaskResult, Vote};
use crate::task::Task;

/// One task as the journal keeps it: enough to answer with its result, or to resume
/// it where it stood.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JournaledTask {
    /// The task.
    pub task: Task,
    /// Its plan, as accepted.
    pub plan: TaskPlan,
    /// Order of acceptance (compaction drops the oldest first).
    pub sequence: u64,
    /// The highest round started.
    pub attempt: u32,
    /// The answers that counted, in the order they did.
    pub votes: Vec<Vote>,
    /// What they cost.
    #[serde(default)]
    pub spent: Spent,
    /// Its one result, once there is one.
    pub result: Option<Box<TaskResult>>,
    /// Whether a client received the result.
    pub delivered: bool,
}

impl JournaledTask {
    /// A task just accepted.
    pub fn accepted(task: Task, plan: TaskPlan, sequence: u64) -> Self {
        Self {
            task,
            plan,
            sequence,
            attempt: 0,
            votes: Vec::new(),
            spent: Spent::default(),
            result: None,
            delivered: false,
        }
    }

    /// Applies a write about this task (an acceptance of a known task changes
    /// nothing). Replaying a write twice changes nothing either, and a result once
    /// written is never replaced.
    pub fn apply(&mut self, write: &JournalWrite) {
        match write {
            JournalWrite::Accepted { .. } => {}
            JournalWrite::RoundStarted { attempt, .. } => self.attempt = self.attempt.max(*attempt),
            JournalWrite::Voted { vote, spent, .. } => {
                let known = self
                    .votes
                    .iter()
                    .any(|v| (&v.worker, v.attempt, &v.text) == (&vote.worker, vote.attempt, &vote.text));
                if self.result.is_none() && !known {
                    self.votes.push(vote.clone());
                    self.spent = *spent;
                }
            }
            JournalWrite::Finished { result, .. } => {
                if self.result.is_none() {
                    self.result = Some(result.clone());
                }
            }
            JournalWrite::Delivered { .. } => self.delivered = self.result.is_some(),
        }
    }

    /// Whether it has its result.
    pub fn is_finished(&self) -> bool {
        self.result.is_some()
    }

    /// Its place in compaction's order, smallest dropped first: delivered before
    /// undelivered (`false` sorts first), then oldest. The one copy of the rule: a
    /// store that indexes finished tasks by it drops what [`JournalState::compact`]
    /// drops.
    pub fn compaction_key(&self) -> (bool, u64) {
        (!self.delivered, self.sequence)
    }
}

/// Everything a journal keeps: tasks by id and the latest voting powers.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct JournalState {
    /// Every task kept, finished or not.
    pub tasks: BTreeMap<TaskId, JournaledTask>,
    /// The voting powers as of the latest result.
    pub powers: Option<VotingPowers>,
    /// The next acceptance's sequence number.
    pub next_sequence: u64,
}

impl JournalState {
    /// Applies `write`. A write about a task the journal does not hold (compacted
    /// away) changes nothing.
    pub fn apply(&mut self, write: &JournalWrite) {
        match write {
            JournalWrite::Accepted { task, plan } => {
                if !self.tasks.contains_key(&task.id) {
                    let entry = JournaledTask::accepted(task.clone(), plan.clone(), self.next_sequence);
                    self.next_sequence += 1;
                    self.tasks.insert(task.id.clone(), entry);
                }
            }
            other => {
                if let JournalWrite::Finished { powers, .. } = other
                    && self.tasks.contains_key(other.task())
                {
                    self.powers = Some(powers.clone());
                }
                if let Some(entry) = self.tasks.get_mut(other.task()) {
                    entry.apply(other);
                }
            }
        }
    }

    /// Keeps at most `finished_kept_max` finished tasks: drops the oldest delivered
    /// ones first, then (only if clients never came for them) the oldest others.
    /// Unfinished tasks are always kept. Returns the ids dropped.
    pub fn compact(&mut self, finished_kept_max: usize) -> Vec<TaskId> {
        let mut finished: Vec<((bool, u64), TaskId)> = self
            .tasks
            .values()
            .filter(|entry| entry.is_finished())
            .map(|entry| (entry.compaction_key(), entry.task.id.clone()))
            .collect();
        let excess = finished.len().saturating_sub(finished_kept_max);
        finished.sort_unstable();
        let dropped: Vec<TaskId> = finished.into_iter().take(excess).map(|(_, id)| id).collect();
        for id in &dropped {
            self.tasks.remove(id);
        }
        dropped
    }

    /// Tasks accepted and not finished, oldest first: what a restart resumes.
    pub fn unfinished(&self) -> Vec<&JournaledTask> {
        let mut open: Vec<&JournaledTask> = self.tasks.values().filter(|entry| !entry.is_finished()).collect();
        open.sort_by_key(|entry| entry.sequence);
        open
    }

    /// Tasks finished, oldest first.
    pub fn finished(&self) -> Vec<&JournaledTask> {
        let mut done: Vec<&JournaledTask> = self.tasks.values().filter(|entry| entry.is_finished()).collect();
        done.sort_by_key(|entry| entry.sequence);
        done
    }
}
