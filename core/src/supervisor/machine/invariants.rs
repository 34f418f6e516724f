//! What must hold between any two inputs. "Pending" is kept in several places (each
//! assignment, the pool's load, `running`, and the driver's calls), and every cancel
//! path must keep them in step: this is where the machine's own are checked; the
//! driver checks its calls against [`SupervisorMachine::is_pending`].

use std::collections::{BTreeMap, BTreeSet};

use super::SupervisorMachine;
use crate::{TaskId, WorkerId};

/// A broken invariant of the machine: always a bug in the machine, never bad input.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MachineInvariant {
    /// A worker's load in the pool differs from its pending assignments.
    #[error("pending_load: {worker} has {pending} pending assignments but a pool load of {load:?}")]
    PendingLoad {
        /// Which worker.
        worker: WorkerId,
        /// Pending assignments over all tasks.
        pending: u32,
        /// The pool's count (none: the pool does not know the worker).
        load: Option<u32>,
    },
    /// The running count differs from the tasks with a round deadline.
    #[error("running_count: running is {running} but {with_deadline} tasks have a round deadline")]
    RunningCount {
        /// The machine's count.
        running: usize,
        /// Tasks with a deadline.
        with_deadline: usize,
    },
    /// A pending assignment outside the running round of its task.
    #[error("pending_outside_round: {worker} is pending on {task} (round {attempt}), which is not running that round")]
    PendingOutsideRound {
        /// Which task.
        task: TaskId,
        /// Which worker.
        worker: WorkerId,
        /// The assignment's round.
        attempt: u32,
    },
    /// A task both queued and running, or queued without being open.
    #[error("queued_task: {task} is queued but {state}")]
    QueuedTask {
        /// Which task.
        task: TaskId,
        /// What is wrong with it.
        state: &'static str,
    },
    /// A task both open and finished.
    #[error("open_and_finished: {task} is open and has a result")]
    OpenAndFinished {
        /// Which task.
        task: TaskId,
    },
    /// The completed-results memory holds a task twice (two results in one
    /// incarnation).
    #[error("duplicate_result: {ids} results remembered in order but {distinct} distinct")]
    DuplicateResult {
        /// Entries in the memory's order.
        ids: usize,
        /// Distinct tasks.
        distinct: usize,
    },
    /// A vote from a worker not asked for the task in the vote's round.
    #[error("unassigned_vote: {task} holds a vote of {worker} for round {attempt}, in which it was not asked")]
    UnassignedVote {
        /// Which task.
        task: TaskId,
        /// Which worker.
        worker: WorkerId,
        /// The vote's round.
        attempt: u32,
    },
    /// More than two votes (a twin's pair) of one worker on one task.
    #[error("votes_per_worker: {task} holds {votes} votes of {worker}; at most 2")]
    VotesPerWorker {
        /// Which task.
        task: TaskId,
        /// Which worker.
        worker: WorkerId,
        /// Its votes.
        votes: usize,
    },
}

impl SupervisorMachine {
    /// Whether `worker` has a pending call for `task`: every call the driver has
    /// running must be one (a reply may wait in the driver while the pending one is
    /// read, so not the other way round).
    pub fn is_pending(&self, task: &TaskId, worker: &WorkerId) -> bool {
        self.tasks.get(task).and_then(|state| state.assignments.get(worker)).is_some_and(|a| a.pending)
    }

    /// Checks the machine's invariants: pending counts agree (every worker's pool
    /// load is its pending assignments, `running` is the tasks with a round
    /// deadline, pending assignments belong to the running round); one result per
    /// task per incarnation (the completed-results memory holds each task once, and
    /// no open task has a result); no task both queued and running, and every queued
    /// task open; votes only from workers asked in the vote's round, at most two
    /// per worker per task.
    ///
    /// Runs after every input in debug builds and when
    /// [`super::SupervisorConfig::check_invariants`] is on; costs one pass over the
    /// open tasks' assignments and votes.
    ///
    /// # Errors
    /// The first [`MachineInvariant`] found broken.
    pub fn assert_invariants(&self) -> Result<(), MachineInvariant> {
        self.check_pending()?;
        self.check_queue_and_results()?;
        self.check_votes()
    }

    fn check_pending(&self) -> Result<(), MachineInvariant> {
        let mut pending: BTreeMap<&WorkerId, u32> = BTreeMap::new();
        let mut with_deadline = 0;
        for (task, state) in &self.tasks {
            with_deadline += usize::from(state.deadline_ms.is_some());
            for (worker, assignment) in state.assignments.iter().filter(|(_, a)| a.pending) {
                *pending.entry(worker).or_insert(0) += 1;
                if state.deadline_ms.is_none() || assignment.attempt != state.attempt {
                    let attempt = assignment.attempt;
                    return Err(MachineInvariant::PendingOutsideRound {
                        task: task.clone(),
                        worker: worker.clone(),
                        attempt,
                    });
                }
            }
        }
        if self.running != with_deadline {
            return Err(MachineInvariant::RunningCount { running: self.running, with_deadline });
        }
        let workers: BTreeSet<&WorkerId> = pending.keys().copied().chain(self.pool.ids()).collect();
        for worker in workers {
            let expected = pending.get(worker).copied().unwrap_or(0);
            let load = self.pool.load(worker);
            // A worker the pool forgot (scaled down) may hold no pending work.
            if load.unwrap_or(0) != expected || (load.is_none() && expected > 0) {
                return Err(MachineInvariant::PendingLoad { worker: worker.clone(), pending: expected, load });
            }
        }
        Ok(())
    }

    fn check_queue_and_results(&self) -> Result<(), MachineInvariant> {
        for task in self.queue.iter() {
            let problem = match self.tasks.get(task) {
                None => Some("not open"),
                Some(state) if state.deadline_ms.is_some() => Some("running"),
                Some(state) if state.queued_since_ms.is_none() => Some("has no queue time"),
                Some(_) => None,
            };
            if let Some(state) = problem {
                return Err(MachineInvariant::QueuedTask { task: task.clone(), state });
            }
        }
        if self.completed_order.len() != self.completed.len() {
            let distinct = self.completed_order.iter().collect::<BTreeSet<_>>().len();
            return Err(MachineInvariant::DuplicateResult { ids: self.completed_order.len(), distinct });
        }
        if let Some(task) = self.tasks.keys().find(|t| self.completed.contains_key(*t)) {
            return Err(MachineInvariant::OpenAndFinished { task: task.clone() });
        }
        Ok(())
    }

    fn check_votes(&self) -> Result<(), MachineInvariant> {
        for (task, state) in &self.tasks {
            let mut votes: BTreeMap<&WorkerId, usize> = BTreeMap::new();
            for vote in &state.votes {
                let asked = state.assignments.get(&vote.worker).is_some_and(|a| a.rounds.contains(&vote.attempt));
                if !asked {
                    return Err(MachineInvariant::UnassignedVote {
                        task: task.clone(),
                        worker: vote.worker.clone(),
                        attempt: vote.attempt,
                    });
                }
                *votes.entry(&vote.worker).or_insert(0) += 1;
            }
            if let Some((worker, &count)) = votes.iter().find(|(_, count)| **count > 2) {
                return Err(MachineInvariant::VotesPerWorker {
                    task: task.clone(),
                    worker: (*worker).clone(),
                    votes: count,
                });
            }
        }
        Ok(())
    }
}
