//! One task's state inside the supervisor.

use std::collections::{BTreeMap, BTreeSet};

use super::annotations::Annotations;
use crate::WorkerId;
use crate::analysis::TaskPlan;
use crate::consensus::{ANSWERS_PER_DECISION_MAX, Ballot, ConsensusConfig};
use crate::link::{LinkError, WorkerAnswer};
use crate::result::{AssignmentFailure, Spent, Vote};
use crate::task::Task;

/// One worker asked to answer the task.
#[derive(Clone, Debug)]
pub(crate) struct Assignment {
    /// The round it was (last) asked in.
    pub(crate) attempt: u32,
    /// Asked and not yet answered or failed.
    pub(crate) pending: bool,
    /// Its voting power when asked.
    pub(crate) power: f64,
    /// Every round it was asked in: an answer for another round is refused.
    pub(crate) rounds: BTreeSet<u32>,
    /// Answers it pushed outside its calls (see `handle_delivered`), refused beyond
    /// one per round it was asked in.
    pub(crate) pushed: u32,
}

/// What an incoming answer did to the task.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Recorded {
    /// A new vote.
    Vote,
    /// The same worker repeated its answer, or answered an older round again.
    Repeat,
    /// The same worker sent a different answer for the same round: a twin.
    Conflict,
    /// The task holds as many votes as one decision takes; nothing was recorded.
    Full,
}

#[derive(Debug)]
pub(crate) struct TaskState {
    pub(crate) task: Task,
    pub(crate) plan: TaskPlan,
    pub(crate) consensus: ConsensusConfig,
    pub(crate) submitted_ms: u64,
    pub(crate) started_ms: Option<u64>,
    /// Set while the task waits in the queue.
    pub(crate) queued_since_ms: Option<u64>,
    /// A requeued task does not start its next round before this time.
    pub(crate) eligible_at_ms: u64,
    /// Set while a round runs.
    pub(crate) deadline_ms: Option<u64>,
    pub(crate) attempt: u32,
    /// Workers to have answered by the end: the plan's count, raised by escalation.
    pub(crate) target_workers: usize,
    pub(crate) escalated: bool,
    pub(crate) early_stopped: bool,
    /// Workers that failed the last round that ended short of the quorum.
    pub(crate) last_round_failures: usize,
    pub(crate) assignments: BTreeMap<WorkerId, Assignment>,
    pub(crate) asked: Vec<WorkerId>,
    /// Every answer kept: one per worker, two for a twin caught equivocating.
    pub(crate) votes: Vec<Vote>,
    pub(crate) failures: Vec<AssignmentFailure>,
    /// What the answers that counted cost.
    pub(crate) spent: Spent,
}

impl TaskState {
    pub(crate) fn new(task: Task, plan: TaskPlan, consensus: ConsensusConfig, now_ms: u64) -> Self {
        let target_workers = plan.workers;
        Self {
            task,
            plan,
            consensus,
            submitted_ms: now_ms,
            started_ms: None,
            queued_since_ms: Some(now_ms),
            eligible_at_ms: now_ms,
            deadline_ms: None,
            attempt: 0,
            target_workers,
            escalated: false,
            early_stopped: false,
            last_round_failures: 0,
            assignments: BTreeMap::new(),
            asked: Vec::new(),
            votes: Vec::new(),
            failures: Vec::new(),
            spent: Spent::default(),
        }
    }

    /// Puts back what a previous incarnation journaled: the rounds it started and
    /// the votes that counted, each from a worker asked in its round (so the same
    /// checks hold, and a voter is not asked again).
    pub(crate) fn resume(&mut self, attempt: u32, votes: &[Vote], spent: Spent, now_ms: u64) {
        self.attempt = attempt;
        self.spent = spent;
        if attempt > 0 {
            self.started_ms = Some(now_ms);
        }
        for vote in votes {
            let assignment = self.assignments.entry(vote.worker.clone()).or_insert_with(|| Assignment {
                attempt: vote.attempt,
                pending: false,
                power: vote.power,
                rounds: BTreeSet::new(),
                pushed: 0,
            });
            assignment.rounds.insert(vote.attempt);
            if !self.asked.contains(&vote.worker) {
                self.asked.push(vote.worker.clone());
            }
            self.votes.push(vote.clone());
        }
    }

    pub(crate) fn is_running(&self) -> bool {
        self.deadline_ms.is_some()
    }

    /// Answers needed for any decision: a strict majority of the plan's workers.
    pub(crate) fn quorum(&self) -> usize {
        self.plan.workers / 2 + 1
    }

    /// Workers whose answer counts towards the quorum (one each; twins caught
    /// equivocating do not count).
    pub(crate) fn voters(&self) -> BTreeSet<&WorkerId> {
        let mut voters = BTreeSet::new();
        let mut twins = BTreeSet::new();
        for vote in &self.votes {
            if !voters.insert(&vote.worker) {
                twins.insert(&vote.worker);
            }
        }
        voters.retain(|worker| !twins.contains(worker));
        voters
    }

    /// Workers that answered at all (twins included): never asked again.
    pub(crate) fn answered(&self) -> BTreeSet<WorkerId> {
        self.votes.iter().map(|v| v.worker.clone()).collect()
    }

    pub(crate) fn pending(&self) -> Vec<WorkerId> {
        self.assignments.iter().filter(|(_, a)| a.pending).map(|(w, _)| w.clone()).collect()
    }

    pub(crate) fn ballots(&self) -> Vec<Ballot> {
        self.votes.iter().map(Vote::ballot).collect()
    }

    /// Asks `worker` in round `attempt` (again, if it was asked in an earlier one).
    pub(crate) fn assign(&mut self, worker: WorkerId, attempt: u32, power: f64) {
        self.asked.push(worker.clone());
        let assignment = self.assignments.entry(worker).or_insert_with(|| Assignment {
            attempt,
            pending: true,
            power,
            rounds: BTreeSet::new(),
            pushed: 0,
        });
        assignment.attempt = attempt;
        assignment.pending = true;
        assignment.power = power;
        assignment.rounds.insert(attempt);
    }

    /// Records `answer` of an assigned worker as a vote of `power`, its ballot
    /// carrying `confidence` (see [`Vote::confidence`]) and the supervisor's own
    /// `annotations` of it. A worker holds at most two
    /// votes (a twin's two answers), and the task at most
    /// [`ANSWERS_PER_DECISION_MAX`], so that no flood of answers grows it further.
    pub(crate) fn record_answer(
        &mut self,
        answer: WorkerAnswer,
        attempt: u32,
        power: f64,
        confidence: f64,
        annotations: Annotations,
    ) -> Recorded {
        let earlier: Vec<&Vote> = self.votes.iter().filter(|v| v.worker == answer.worker).collect();
        if let Some(first) = earlier.first() {
            // A different answer for the same round is equivocation; anything else
            // (a repeat, or a re-asked worker answering again) counts once.
            let conflicting = first.attempt == attempt && first.text != answer.text && earlier.len() == 1;
            if !conflicting {
                return Recorded::Repeat;
            }
        }
        if self.votes.len() >= ANSWERS_PER_DECISION_MAX {
            return Recorded::Full;
        }
        // Reported by the worker: saturating, so absurd counts cannot overflow.
        self.spent.add(&answer);
        let reported = reported_confidence(answer.confidence);
        let recorded = if earlier.is_empty() { Recorded::Vote } else { Recorded::Conflict };
        self.votes.push(Vote {
            worker: answer.worker,
            attempt,
            text: answer.text,
            confidence,
            reported_confidence: (confidence != reported).then_some(reported),
            power,
            latency_ms: answer.latency_ms,
            embedding: annotations.embedding,
            meaning: annotations.meaning,
        });
        recorded
    }

    pub(crate) fn record_failure(&mut self, worker: WorkerId, attempt: u32, error: LinkError) {
        self.failures.push(AssignmentFailure { worker, attempt, error });
    }
}

/// A worker's reported confidence as a number in `0..=1` (not a number counts as 0).
pub(crate) fn reported_confidence(confidence: f64) -> f64 {
    if confidence.is_finite() { confidence.clamp(0.0, 1.0) } else { 0.0 }
}
