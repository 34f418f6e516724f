//! The recompute invariant: a result's outcome follows, bit for bit, from the votes
//! it records. Shared by the simulation's invariant checks and the sans-IO cluster
//! harness, and what a P2P replica does before it votes.

use crate::consensus::{Ballot, ConsensusConfig, ConsensusError, Verdict, decide};
use crate::result::{Outcome, TaskResult, Vote};

/// How a result fails to recompute from its recorded votes.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum RecomputeMismatch {
    /// `decide` refuses the recorded votes as ballots.
    #[error("recorded votes do not decide: {0}")]
    Undecidable(ConsensusError),
    /// The verdict, answer, support or margin differs.
    #[error("recorded {recorded:?}, recomputed {verdict:?} support {support} margin {margin}")]
    Outcome {
        /// The result's outcome.
        recorded: Box<Outcome>,
        /// The recomputed verdict.
        verdict: Verdict,
        /// The recomputed support.
        support: f64,
        /// The recomputed margin.
        margin: f64,
    },
    /// The ranked alternatives (members or support) differ.
    #[error("alternatives do not recompute from the votes")]
    Alternatives,
}

/// The ballots of `result`'s recorded votes, in their recorded order, with the
/// embeddings and meaning classes the supervisor's own models gave them, so a result
/// decided with them recomputes as it was decided.
pub fn recorded_ballots(result: &TaskResult) -> Vec<Ballot> {
    result.metadata.votes.iter().map(Vote::ballot).collect()
}

/// Re-runs [`decide`] over `result`'s recorded votes with `config`, the task's own
/// consensus config (`result.metadata.plan.consensus_config(base)`), and lists every
/// way the result differs: its verdict, answer, support and margin, and (unless it
/// failed) its alternatives. Empty when the invariant holds. A failed result records
/// no decision, so only its votes' decidability is checked.
pub fn recompute_mismatches(result: &TaskResult, config: &ConsensusConfig) -> Vec<RecomputeMismatch> {
    let decision = match decide(&recorded_ballots(result), config) {
        Ok(decision) => decision,
        Err(error) => return vec![RecomputeMismatch::Undecidable(error)],
    };
    let mut mismatches = Vec::new();
    let outcome_differs = match &result.outcome {
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
    if outcome_differs {
        mismatches.push(RecomputeMismatch::Outcome {
            recorded: Box::new(result.outcome.clone()),
            verdict: decision.verdict,
            support: decision.support,
            margin: decision.margin,
        });
    }
    let groups_match = decision.groups.len() == result.alternatives.len()
        && decision
            .groups
            .iter()
            .zip(&result.alternatives)
            .all(|(a, b)| a.members == b.members && a.support.to_bits() == b.support.to_bits());
    if !matches!(result.outcome, Outcome::Failed { .. }) && !groups_match {
        mismatches.push(RecomputeMismatch::Alternatives);
    }
    mismatches
}
