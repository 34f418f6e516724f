//! Early stopping: decide before every answer is in, when the rest cannot matter.

use serde::{Deserialize, Serialize};

use super::{
    ConsensusConfig, ConsensusError, SMALL_PANEL_ANSWERS, Strategy, Tally, Units, Weighting, adaptive_threshold,
    final_number, grouping, to_units, weigh,
};
use crate::consensus::Ballot;

/// How clearly a bound must clear the threshold or margin to settle the outcome. The
/// bound counts in units of the heaviest ballot so far, the final decision in units
/// of the heaviest of the full panel; the two round differently (by about 1e-12), so
/// a bound that meets a threshold exactly may be missed by the final support.
///
/// Regression: four unanimous ballots weighing 1.5 with one worker of power 1 out met
/// threshold 0.6 exactly (1.5 / 2.5); that worker dissenting, the full panel's support
/// came out 0.59999999999985 and the early agreement was not the panel's.
const ROUNDING_SLACK: f64 = 1e-9;

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
/// The bound is worst-case, taken separately for every number `j` of outstanding
/// answers that end up counted (the others excluded as garbage): the `j` heaviest
/// outstanding workers at full confidence all go where they hurt the current outcome
/// most (to the runner-up against a leader; to the best group against a
/// no-consensus), each may open a new group (raising the adaptive threshold), and the
/// small-panel rule applies to `counted + j` answers. `j = 0` is the current decision
/// itself. Exact matching makes this bound exact. Numeric and semantic matching can in
/// principle regroup existing answers around a newcomer (a new number between two
/// windows, a new medoid). For numeric matching an early agreement therefore also needs
/// a leader that no newcomer can split or join to a rival (see
/// [`numeric_leader_is_isolated`]); semantic matching uses the bound on the groups as
/// they stand. Under log-odds weighting a newcomer can also raise the number of
/// candidates `K` and so reweigh every ballot already in: the bound holds for every
/// `K` the completions can reach (see [`candidate_counts`]).
///
/// # Errors
/// As [`super::decide`].
pub fn early_stop(
    ballots: &[Ballot],
    config: &ConsensusConfig,
    outstanding_powers: &[f64],
) -> Result<EarlyStop, ConsensusError> {
    let tally = Tally::new(ballots, config)?;
    let counted = tally.counted.len();
    let groups = tally.groups.len();
    let views: Vec<View> = candidate_counts(config, groups, outstanding_powers.len())
        .map(|k| View::new(&tally, config, k, outstanding_powers))
        .collect();
    let isolated = config.strategy != Strategy::Numeric || numeric_leader_is_isolated(&tally, config);
    let agreed_now = tally.decision(config).is_agreed();
    let mut always_agreed = agreed_now;
    let mut never_agreed = !agreed_now;
    for joined in 1..=outstanding_powers.len() {
        let panel = counted + joined;
        // Against the leader: everything to the runner-up, every newcomer a new group.
        let threshold_high = if panel < SMALL_PANEL_ANSWERS {
            1.0_f64.max(config.threshold)
        } else {
            adaptive_threshold(config, panel, groups + joined, 0.0)
        };
        // For a winner: everything to the heaviest group, the lowest threshold.
        let threshold_low = if panel < SMALL_PANEL_ANSWERS { 1.0_f64.max(config.threshold) } else { config.threshold };
        // Only the candidate counts `joined` newcomers can reach.
        for view in views.iter().filter(|v| v.candidates <= (groups + joined).max(2)) {
            let outstanding = view.outstanding_heaviest[joined - 1];
            let total_worst = (view.total + outstanding) as f64;
            let rival = view.runner_up + outstanding;
            let holds = view.leader > rival
                && view.leader as f64 / total_worst >= threshold_high + ROUNDING_SLACK
                && (view.leader as f64 - rival as f64) / total_worst >= config.margin_min + ROUNDING_SLACK;
            always_agreed &= holds;
            never_agreed &= ((view.heaviest + outstanding) as f64 / total_worst) < threshold_low - ROUNDING_SLACK;
        }
    }
    always_agreed &= isolated;
    Ok(if always_agreed {
        EarlyStop::Agreed
    } else if never_agreed {
        EarlyStop::NoConsensus
    } else {
        EarlyStop::Wait
    })
}

/// The numbers of candidates (`K`, at least 2) the full panel may weigh its ballots
/// with. Linear weights do not depend on it: one count stands for all. Under log-odds
/// weighting every count from the lowest the groups can end at to the highest (every
/// newcomer a new group) is checked, because a change of `K` reweighs the ballots
/// already in. Exact groups only ever gain groups; numeric and semantic ones could
/// regroup around a newcomer, so for them the range starts at 2.
fn candidate_counts(config: &ConsensusConfig, groups: usize, outstanding: usize) -> core::ops::RangeInclusive<usize> {
    let highest = (groups + outstanding).max(2);
    match (config.weighting, config.strategy) {
        (Weighting::Linear, _) => groups.max(2)..=groups.max(2),
        (Weighting::LogOdds, Strategy::Exact) => groups.max(2)..=highest,
        (Weighting::LogOdds, _) => 2..=highest,
    }
}

/// The groups as they stand, weighed as in a vote over `candidates` candidates,
/// with the most the outstanding answers could add, all in one set of units.
struct View {
    candidates: usize,
    /// The current leader's weight.
    leader: Units,
    /// The heaviest other group's weight.
    runner_up: Units,
    /// The most weight of the answers in that any group of the full panel can hold:
    /// the heaviest group's (the leader's, unless `candidates` reorders them), or for
    /// numeric matching the heaviest window (see [`heaviest_numeric_window`]).
    heaviest: Units,
    total: Units,
    /// `[j]`: the weight of the `j + 1` heaviest outstanding answers at full confidence.
    outstanding_heaviest: Vec<Units>,
}

impl View {
    fn new(tally: &Tally<'_>, config: &ConsensusConfig, candidates: usize, outstanding_powers: &[f64]) -> Self {
        // The same function on the same ballots as `Tally::new`: the very same bits.
        let (weights, unit_weight) = weigh(&tally.counted, tally.weighting, tally.confidence_floor, candidates);
        let group_weights: Vec<Units> =
            tally.groups.iter().map(|g| g.members.iter().map(|&m| weights[m]).sum()).collect();
        let mut outstanding: Vec<Units> = outstanding_powers
            .iter()
            .map(|&power| {
                let power = power.clamp(super::POWER_MIN, super::POWER_MAX);
                to_units(tally.weighting.ballot_weight_max(power, tally.confidence_floor, candidates), unit_weight)
            })
            .collect();
        outstanding.sort_unstable_by(|a, b| b.cmp(a));
        let outstanding_heaviest = outstanding
            .iter()
            .scan(0, |sum: &mut Units, &weight| {
                *sum += weight;
                Some(*sum)
            })
            .collect();
        let mut heaviest = group_weights.iter().copied().max().unwrap_or(0);
        if config.strategy == Strategy::Numeric {
            heaviest = heaviest.max(heaviest_numeric_window(tally, &weights, config));
        }
        Self {
            candidates,
            leader: group_weights.first().copied().unwrap_or(0),
            runner_up: group_weights.iter().skip(1).copied().max().unwrap_or(0),
            heaviest,
            total: group_weights.iter().sum(),
            outstanding_heaviest,
        }
    }
}

/// The heaviest set of counted numeric answers all within tolerance of each other.
/// Numeric groups are such sets, but a newcomer can regroup the answers already in
/// (a value between two windows pulls a member of one into the other), so the
/// heaviest group of the full panel holds at most this much of them, whatever the
/// groups are now.
///
/// Regression: 10, 10, 10.5 led 11.2 and 20 (tolerance 0.75) under log-odds
/// weighting, and early stopping called a no-consensus with one light worker out; that
/// worker answering 11.2 pulled 10.5 into the 11.2 window, which then agreed.
fn heaviest_numeric_window(tally: &Tally<'_>, weights: &[Units], config: &ConsensusConfig) -> Units {
    let mut values: Vec<(f64, Units)> = tally
        .counted
        .iter()
        .zip(weights)
        .filter_map(|(ballot, &weight)| final_number(&ballot.text).map(|value| (value, weight)))
        .collect();
    values.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut heaviest: Units = 0;
    for start in 0..values.len() {
        let window: Units = values[start..]
            .iter()
            .take_while(|(value, _)| {
                grouping::within_tolerance(
                    values[start].0,
                    *value,
                    config.tolerance_absolute,
                    config.tolerance_relative,
                )
            })
            .map(|(_, weight)| weight)
            .sum();
        heaviest = heaviest.max(window);
    }
    heaviest
}

/// Whether the numeric leader stays whole and apart whatever numbers arrive: its values
/// are all equal and no other counted value is within tolerance of them. Every pair in
/// a numeric group is within tolerance, so then no window holds a leader member
/// without holding all of them, or holds one together with a rival.
///
/// Regression: the weight bound alone let 10 (power 3) and 10.5 win early against
/// 11.2 with one worker out; that worker answering 11.2 pulled 10.5 into the 11.2
/// window, and the full panel agreed on 11.2 instead of 10.
fn numeric_leader_is_isolated(tally: &Tally<'_>, config: &ConsensusConfig) -> bool {
    let Some(leader) = tally.groups.first() else { return true };
    let value = |index: usize| final_number(&tally.counted[index].text);
    let Some(leader_value) = value(leader.members[0]) else { return false };
    let whole = leader.members.iter().all(|&m| value(m) == Some(leader_value));
    let apart = (0..tally.counted.len()).filter(|i| !leader.members.contains(i)).all(|i| {
        value(i).is_some_and(|v| {
            !grouping::within_tolerance(v, leader_value, config.tolerance_absolute, config.tolerance_relative)
        })
    });
    whole && apart
}
