//! Invariants every run must keep, checked on every result and at the end.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use quorum_core::consensus::{Ballot, ConsensusConfig, ExclusionReason, Verdict, answers_match, decide};
use quorum_core::{Outcome, TaskId, TaskResult, WorkerId};

/// Which promise was broken.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Invariant {
    /// A submitted task ended the run without a result.
    Liveness,
    /// One supervisor incarnation emitted two results for one task.
    DuplicateResult,
    /// An agreed answer that no assigned worker gave.
    Fabrication,
    /// Support, margin or verdict do not recompute from the recorded votes.
    Recompute,
    /// A worker counted in two groups, or twice in one.
    CountedTwice,
    /// A vote from a worker that was not asked.
    UnassignedVote,
    /// A worker's conflicting answers were counted.
    TwinCounted,
    /// The simulation itself failed (a host returned an error).
    Simulation,
    /// Code panicked during the run (a bug, in quorum or in the simulator); the run
    /// was stopped there.
    Panic,
    /// The run overran its step or wall-clock budget (a hang, or a livelock).
    Stuck,
}

impl Invariant {
    /// The invariant's name in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Liveness => "liveness",
            Self::DuplicateResult => "duplicate_result",
            Self::Fabrication => "fabrication",
            Self::Recompute => "recompute",
            Self::CountedTwice => "counted_twice",
            Self::UnassignedVote => "unassigned_vote",
            Self::TwinCounted => "twin_counted",
            Self::Simulation => "simulation",
            Self::Panic => "panic",
            Self::Stuck => "stuck",
        }
    }
}

/// A broken invariant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    /// Which.
    pub invariant: Invariant,
    /// The task concerned, if one.
    pub task: Option<TaskId>,
    /// What exactly.
    pub detail: String,
}

impl core::fmt::Display for Violation {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match &self.task {
            Some(task) => write!(f, "{} (task {task}): {}", self.invariant.as_str(), self.detail),
            None => write!(f, "{}: {}", self.invariant.as_str(), self.detail),
        }
    }
}

fn violation(invariant: Invariant, result: &TaskResult, detail: String) -> Violation {
    Violation { invariant, task: Some(result.task.clone()), detail }
}

/// Checks one result against every per-result invariant; `base` is the supervisor's
/// consensus config (the plan in the result supplies the rest).
pub fn check_result(result: &TaskResult, base: &ConsensusConfig) -> Vec<Violation> {
    let mut violations = Vec::new();
    let metadata = &result.metadata;
    let asked: BTreeSet<&WorkerId> = metadata.workers_asked.iter().collect();

    for vote in &metadata.votes {
        if !asked.contains(&vote.worker) {
            violations.push(violation(
                Invariant::UnassignedVote,
                result,
                format!("vote from {} who was not asked", vote.worker),
            ));
        }
    }
    let mut seen: BTreeMap<&WorkerId, usize> = BTreeMap::new();
    for group in &result.alternatives {
        for member in &group.members {
            *seen.entry(member).or_insert(0) += 1;
            if !asked.contains(member) {
                violations.push(violation(
                    Invariant::UnassignedVote,
                    result,
                    format!("{member} counted but not asked"),
                ));
            }
        }
    }
    for (worker, count) in &seen {
        if *count > 1 {
            violations.push(violation(Invariant::CountedTwice, result, format!("{worker} counted {count} times")));
        }
    }

    let config = metadata.plan.consensus_config(base);
    check_twins(result, &config, &mut violations);

    if let Outcome::Agreed { answer, .. } = &result.outcome
        && !metadata.votes.iter().any(|v| &v.text == answer && asked.contains(&v.worker))
    {
        violations.push(violation(
            Invariant::Fabrication,
            result,
            format!("agreed answer {answer:?} is no assigned worker's"),
        ));
    }
    check_recompute(result, &config, &mut violations);
    violations
}

/// A worker with conflicting answers (under the task's strategy) must be excluded as
/// equivocating and appear in no group.
fn check_twins(result: &TaskResult, config: &ConsensusConfig, violations: &mut Vec<Violation>) {
    let mut by_worker: BTreeMap<&WorkerId, Vec<&str>> = BTreeMap::new();
    for vote in &result.metadata.votes {
        by_worker.entry(&vote.worker).or_default().push(&vote.text);
    }
    for (worker, texts) in by_worker {
        let conflicting = texts.iter().any(|t| !answers_match(texts[0], t, config));
        if !conflicting {
            continue;
        }
        let excluded =
            result.metadata.excluded.iter().any(|e| &e.worker == worker && e.reason == ExclusionReason::Equivocated);
        let counted = result.alternatives.iter().any(|g| g.members.contains(worker));
        if !excluded || counted {
            violations.push(violation(
                Invariant::TwinCounted,
                result,
                format!("{worker} answered {texts:?} and was counted"),
            ));
        }
    }
}

/// Support, margin and verdict recompute bit for bit from the recorded votes.
fn check_recompute(result: &TaskResult, config: &ConsensusConfig, violations: &mut Vec<Violation>) {
    let ballots: Vec<Ballot> = result
        .metadata
        .votes
        .iter()
        .map(|v| Ballot {
            worker: v.worker.clone(),
            text: v.text.clone(),
            confidence: v.confidence,
            power: v.power,
            latency_ms: v.latency_ms,
            embedding: None,
        })
        .collect();
    let decision = match decide(&ballots, config) {
        Ok(decision) => decision,
        Err(error) => {
            violations.push(violation(Invariant::Recompute, result, format!("recorded votes do not decide: {error}")));
            return;
        }
    };
    let mismatch = match &result.outcome {
        Outcome::Agreed { answer, support, margin, .. } => {
            decision.verdict != Verdict::Agreed
                || decision.answer.as_deref() != Some(answer.as_str())
                || decision.support.to_bits() != support.to_bits()
                || decision.margin.to_bits() != margin.to_bits()
        }
        Outcome::NoConsensus { reason, support, margin } => {
            decision.verdict != Verdict::NoConsensus(*reason)
                || decision.support.to_bits() != support.to_bits()
                || decision.margin.to_bits() != margin.to_bits()
        }
        Outcome::Failed { .. } => false,
    };
    if mismatch {
        violations.push(violation(
            Invariant::Recompute,
            result,
            format!(
                "recorded {:?}, recomputed {:?} support {} margin {}",
                result.outcome, decision.verdict, decision.support, decision.margin
            ),
        ));
    }
    let groups_match = decision.groups.len() == result.alternatives.len()
        && decision
            .groups
            .iter()
            .zip(&result.alternatives)
            .all(|(a, b)| a.members == b.members && a.support.to_bits() == b.support.to_bits());
    if !matches!(result.outcome, Outcome::Failed { .. }) && !groups_match {
        violations.push(violation(
            Invariant::Recompute,
            result,
            "alternatives do not recompute from the votes".to_owned(),
        ));
    }
}
