//! Early stopping: decide before every answer is in, when the rest cannot matter.

use serde::{Deserialize, Serialize};

use super::{ConsensusConfig, ConsensusError, SMALL_PANEL_ANSWERS, Tally, adaptive_threshold, weight_units};
use crate::consensus::Ballot;

/// What the answers so far allow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EarlyStop {
    /// The leader wins whatever the outstanding answers say: decide now, cancel the rest.
    Agreed,
    /// No group can reach the threshold whatever the outstanding answers say.
    NoConsensus,
    /// The outstanding answers can still change the outcome.
    Wait,
}

/// Whether the outcome is settled, given the ballots so far and the voting powers of
/// the workers still to answer.
///
/// The bound is worst-case: each outstanding answer is assumed to weigh its full power
/// (confidence 1), to go wherever it hurts the current outcome most (all to the
/// runner-up against a leader; all to one group for a no-consensus), to possibly open a
/// new group (raising the adaptive threshold), or to be excluded. Exact matching makes
/// this bound exact. Numeric and semantic matching can in principle regroup existing
/// answers around a newcomer (a new number between two windows, a new medoid); the
/// supervisor uses the bound there too, accepting that a later answer might have
/// reshaped the groups, because it decides on the groups as they stand.
///
/// # Errors
/// As [`super::decide`].
pub fn early_stop(ballots: &[Ballot], config: &ConsensusConfig, outstanding_powers: &[f64]) -> Result<EarlyStop, ConsensusError> {
    let tally = Tally::new(ballots, config)?;
    if outstanding_powers.is_empty() {
        let decision = tally.decision(config);
        return Ok(if decision.is_agreed() { EarlyStop::Agreed } else { EarlyStop::NoConsensus });
    }
    let outstanding_count = outstanding_powers.len();
    let outstanding: u64 = outstanding_powers
        .iter()
        .map(|&power| weight_units(power.clamp(super::POWER_MIN, super::POWER_MAX), 1.0, config))
        .sum();
    let total_worst = (tally.total_weight + outstanding) as f64;
    let leader = tally.group_weights.first().copied().unwrap_or(0);
    let runner_up = tally.group_weights.get(1).copied().unwrap_or(0);

    let counted = tally.counted.len();
    let threshold_worst = if counted < SMALL_PANEL_ANSWERS {
        1.0_f64.max(config.threshold)
    } else {
        adaptive_threshold(config, counted, tally.groups.len() + outstanding_count, 0.0)
    };
    let leader_support_worst = leader as f64 / total_worst;
    let rival_worst = runner_up + outstanding;
    let margin_worst = (leader as f64 - rival_worst as f64) / total_worst;
    if leader > rival_worst && leader_support_worst >= threshold_worst && margin_worst >= config.margin_min {
        return Ok(EarlyStop::Agreed);
    }

    let threshold_best = if counted + outstanding_count < SMALL_PANEL_ANSWERS {
        1.0_f64.max(config.threshold)
    } else {
        config.threshold
    };
    // The best any group can do is to receive every outstanding answer; a group made
    // of newcomers alone is the case `leader = 0` covers when there are no groups.
    let best_reachable = (leader + outstanding) as f64 / total_worst;
    if best_reachable < threshold_best {
        return Ok(EarlyStop::NoConsensus);
    }
    Ok(EarlyStop::Wait)
}
