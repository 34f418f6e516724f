//! Invariants every run must keep, checked on every result and at the end.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use quorum_core::consensus::{
    ConsensusConfig, ExclusionReason, NoConsensusReason, SMALL_PANEL_ANSWERS, Strategy, answers_match, exact_key,
    extract, final_number,
};
use quorum_core::{Outcome, TaskId, TaskResult, Vote, WorkerId, recompute_mismatches};

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
    /// A journaling supervisor forgot a task it had accepted (a poll after a
    /// restart found it unknown).
    LostTask,
    /// Two supervisor incarnations emitted different results for one task.
    ConflictingResults,
    /// The client received a result for a task, then a different one.
    ChangedResult,
    /// P2P safety: two honest agents committed different blocks at one height.
    Fork,
    /// P2P validity: a committed block's decision does not recompute from its signed
    /// answers, or an answer's signature does not verify.
    Validity,
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
            Self::LostTask => "lost_task",
            Self::ConflictingResults => "conflicting_results",
            Self::ChangedResult => "changed_result",
            Self::Fork => "fork",
            Self::Validity => "validity",
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
pub(crate) fn check_result(result: &TaskResult, base: &ConsensusConfig) -> Vec<Violation> {
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
    check_tally(result, &config, &mut violations);
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

/// Support, margin and verdict recompute bit for bit from the recorded votes (the
/// check core shares with its cluster harness).
fn check_recompute(result: &TaskResult, config: &ConsensusConfig, violations: &mut Vec<Violation>) {
    for mismatch in recompute_mismatches(result, config) {
        violations.push(violation(Invariant::Recompute, result, mismatch.to_string()));
    }
}

/// How far an independently recomputed support, margin or weight may be from the
/// recorded one: `decide` sums exact fixed-point units, this check sums floats, and
/// the two differ by rounding only (far below this).
const RECOMPUTE_EPSILON: f64 = 1e-9;

/// The numbers of a result recomputed from its recorded votes and groups by the
/// documented rules (weight = voting power x confidence floored at
/// `confidence_floor`; support = group weight / weight of every counted answer;
/// ranked by weight; agreed iff support >= threshold and margin >= `margin_min`),
/// without calling `decide`. [`check_recompute`] asks `decide` itself, so it cannot
/// see a bug in `decide`; this check can.
fn check_tally(result: &TaskResult, config: &ConsensusConfig, violations: &mut Vec<Violation>) {
    let mut report = |detail: String| violations.push(violation(Invariant::Recompute, result, detail));
    let Some(tally) = Tally::new(result, config, &mut report) else { return };
    tally.check_groups(result, config, &mut report);
    tally.check_outcome(result, config, &mut report);
}

/// What [`check_tally`] recomputes.
struct Tally<'a> {
    /// Every counted worker's vote (its first in canonical order) and weight.
    weights: BTreeMap<&'a WorkerId, (&'a Vote, f64)>,
    /// Per alternative: recomputed weight and support.
    groups: Vec<(f64, f64)>,
}

impl<'a> Tally<'a> {
    fn new(result: &'a TaskResult, config: &ConsensusConfig, report: &mut impl FnMut(String)) -> Option<Self> {
        let mut votes: BTreeMap<&WorkerId, Vec<&Vote>> = BTreeMap::new();
        for vote in &result.metadata.votes {
            votes.entry(&vote.worker).or_default().push(vote);
        }
        let excluded: BTreeSet<&WorkerId> = result.metadata.excluded.iter().map(|e| &e.worker).collect();
        let mut weights = BTreeMap::new();
        let mut complete = true;
        for member in result.alternatives.iter().flat_map(|g| &g.members) {
            let Some(own) = votes.get(member) else {
                report(format!("{member} is counted but cast no vote"));
                complete = false;
                continue;
            };
            if excluded.contains(member) {
                report(format!("{member} is both counted and excluded"));
            }
            // Identical repeats count once, as the ballot first in canonical order.
            let first = own
                .iter()
                .min_by(|a, b| {
                    a.text.cmp(&b.text).then(a.confidence.total_cmp(&b.confidence)).then(a.power.total_cmp(&b.power))
                })
                .expect("listed workers have a vote");
            // The rule's own definition, over as many candidates as there are groups.
            let weight = config.weighting.ballot_weight(
                first.power,
                first.confidence,
                config.confidence_floor,
                result.alternatives.len(),
            );
            weights.insert(member, (*first, weight));
        }
        for worker in votes.keys() {
            if !weights.contains_key(worker) && !excluded.contains(worker) {
                report(format!("{worker} voted but is neither counted nor excluded"));
            }
        }
        // An exclusion shrinks the denominator: each must have its stated reason.
        for exclusion in &result.metadata.excluded {
            let texts: Vec<&str> =
                votes.get(&exclusion.worker).map_or(Vec::new(), |v| v.iter().map(|v| v.text.as_str()).collect());
            let justified = !texts.is_empty()
                && match exclusion.reason {
                    ExclusionReason::Equivocated => texts.iter().any(|t| !answers_match(texts[0], t, config)),
                    // Every other reason is the extraction's own verdict on each text.
                    reason => texts.iter().all(|t| {
                        extract(t, config.strategy).err().map(|unreadable| unreadable.reason()) == Some(reason)
                    }),
                };
            if !justified {
                report(format!("{} excluded as {:?} for answering {texts:?}", exclusion.worker, exclusion.reason));
            }
        }
        if !complete {
            return None;
        }
        let total: f64 = weights.values().map(|(_, w)| w).sum();
        let groups = result
            .alternatives
            .iter()
            .map(|g| {
                let weight: f64 = g.members.iter().map(|m| weights[m].1).sum();
                (weight, if total > 0.0 { weight / total } else { 0.0 })
            })
            .collect();
        Some(Self { weights, groups })
    }

    fn support(&self, index: usize) -> f64 {
        self.groups.get(index).map_or(0.0, |g| g.1)
    }

    /// Each group's weight, support, rank, representative and members.
    fn check_groups(&self, result: &TaskResult, config: &ConsensusConfig, report: &mut impl FnMut(String)) {
        let near = |a: f64, b: f64| (a - b).abs() <= RECOMPUTE_EPSILON * a.abs().max(b.abs()).max(1.0);
        let mut keys = BTreeSet::new();
        for (index, (group, &(weight, support))) in result.alternatives.iter().zip(&self.groups).enumerate() {
            if !near(group.weight, weight) || !near(group.support, support) {
                report(format!(
                    "group {index} records weight {} support {}, its votes give {weight} and {support}",
                    group.weight, group.support
                ));
            }
            if index > 0 && support > self.support(index - 1) + RECOMPUTE_EPSILON {
                report(format!("group {index} (support {support}) outweighs the group ranked above it"));
            }
            let texts: Vec<&str> = group.members.iter().map(|m| self.weights[m].0.text.as_str()).collect();
            if !texts.contains(&group.representative.as_str()) {
                report(format!("group {index} is represented by {:?}, no member's answer", group.representative));
            }
            if group.members.is_empty() || !group.members.is_sorted() {
                report(format!("group {index} members {:?} are empty or unsorted", group.members));
            }
            match config.strategy {
                Strategy::Exact => {
                    let group_keys: BTreeSet<String> = texts.iter().map(|t| exact_key(t)).collect();
                    if group_keys.len() != 1 {
                        report(format!("group {index} mixes answers {texts:?}"));
                    }
                    if group_keys.iter().any(|k| !keys.insert(k.clone())) {
                        report(format!("group {index} repeats the answer of another group"));
                    }
                }
                Strategy::Numeric => {
                    let values: Vec<f64> = texts.iter().filter_map(|t| final_number(t)).collect();
                    let within = |a: f64, b: f64| {
                        let bound = config.tolerance_absolute + config.tolerance_relative * a.abs().max(b.abs());
                        (a - b).abs() <= bound * (1.0 + RECOMPUTE_EPSILON)
                    };
                    let far = values.iter().any(|&a| values.iter().any(|&b| !within(a, b)));
                    if values.len() != texts.len() || far {
                        report(format!("group {index} holds {texts:?}, not all within tolerance"));
                    }
                }
                Strategy::Semantic => {}
            }
        }
    }

    /// Threshold, support, margin, verdict and answer of the outcome.
    fn check_outcome(&self, result: &TaskResult, config: &ConsensusConfig, report: &mut impl FnMut(String)) {
        let counted = self.weights.len();
        let threshold = result.metadata.threshold;
        // The adaptation as documented in `consensus::threshold`: unanimity for a small
        // panel, else a raise per group beyond two (at most, for semantic matching,
        // whose groups' similarity lowers it), capped, never below the base.
        let ceiling = config.threshold_max.max(config.threshold);
        let raised =
            (config.threshold + config.raise_per_extra_group * self.groups.len().saturating_sub(2) as f64).min(ceiling);
        let threshold_ok = if counted < SMALL_PANEL_ANSWERS {
            threshold == 1.0_f64.max(config.threshold)
        } else if config.strategy == Strategy::Semantic {
            threshold >= config.threshold && threshold <= raised + RECOMPUTE_EPSILON
        } else {
            (threshold - raised).abs() <= RECOMPUTE_EPSILON
        };
        if !threshold_ok && !matches!(result.outcome, Outcome::Failed { .. }) {
            report(format!(
                "threshold {threshold} does not follow from {counted} answers in {} groups",
                self.groups.len()
            ));
        }
        let (support, margin) = match &result.outcome {
            Outcome::Agreed { support, margin, .. } | Outcome::NoConsensus { support, margin, .. } => {
                (*support, *margin)
            }
            Outcome::Failed { .. } => return,
        };
        let leader = self.support(0);
        let expected_margin = leader - self.support(1);
        if (support - leader).abs() > RECOMPUTE_EPSILON || (margin - expected_margin).abs() > RECOMPUTE_EPSILON {
            report(format!(
                "recorded support {support} margin {margin}, the votes give {leader} and {expected_margin}"
            ));
        }
        // The verdict follows from the recorded numbers (already checked above).
        let verdict_ok = match &result.outcome {
            Outcome::Agreed { answer, .. } => {
                let top = result.alternatives.first();
                let from_top = top.is_some_and(|g| {
                    &g.representative == answer && g.members.iter().any(|m| &self.weights[m].0.text == answer)
                });
                if !from_top {
                    report(format!("agreed answer {answer:?} is not the top group's"));
                }
                support >= threshold && margin >= config.margin_min
            }
            Outcome::NoConsensus { reason: NoConsensusReason::NoAnswers, .. } => result.alternatives.is_empty(),
            Outcome::NoConsensus { reason: NoConsensusReason::BelowThreshold, .. } => {
                !result.alternatives.is_empty() && support < threshold
            }
            Outcome::NoConsensus { reason: NoConsensusReason::MarginTooSmall, .. } => {
                !result.alternatives.is_empty() && support >= threshold && margin < config.margin_min
            }
            Outcome::Failed { .. } => true,
        };
        if !verdict_ok {
            report(format!(
                "{:?} does not follow from support {support}, margin {margin}, threshold {threshold}",
                result.outcome
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use quorum_core::TaskPlan;
    use quorum_core::consensus::{Ballot, Verdict, decide};
    use quorum_core::consensus::{Exclusion, Group};
    use quorum_core::{FailureReason, ResultMetadata};

    use super::*;

    fn config(strategy: Strategy) -> ConsensusConfig {
        ConsensusConfig { strategy, tolerance_absolute: 0.01, ..ConsensusConfig::default() }
    }

    /// The result the supervisor would emit for these ballots, built from the real
    /// `decide` (as `SupervisorMachine::finish` does).
    fn result_of(ballots: &[Ballot], config: &ConsensusConfig) -> TaskResult {
        let decision = decide(ballots, config).unwrap();
        let outcome = match decision.verdict {
            Verdict::Agreed => Outcome::Agreed {
                answer: decision.answer.clone().unwrap(),
                support: decision.support,
                margin: decision.margin,
                confidence: decision.confidence,
            },
            Verdict::NoConsensus(reason) => {
                Outcome::NoConsensus { reason, support: decision.support, margin: decision.margin }
            }
        };
        let mut workers_asked: Vec<WorkerId> = ballots.iter().map(|b| b.worker.clone()).collect();
        workers_asked.dedup();
        let votes = ballots
            .iter()
            .map(|b| Vote {
                worker: b.worker.clone(),
                attempt: 1,
                text: b.text.clone(),
                confidence: b.confidence,
                reported_confidence: None,
                power: b.power,
                latency_ms: b.latency_ms,
                embedding: b.embedding.clone(),
                meaning: b.meaning,
            })
            .collect();
        TaskResult {
            task: TaskId::from("t1"),
            outcome,
            alternatives: decision.groups,
            metadata: ResultMetadata {
                plan: TaskPlan {
                    complexity: 1,
                    workers: workers_asked.len(),
                    timeout_ms: 10_000,
                    strategy: config.strategy,
                    threshold: config.threshold,
                    tolerance_absolute: config.tolerance_absolute,
                    tolerance_relative: config.tolerance_relative,
                },
                threshold: decision.threshold,
                workers_asked,
                votes,
                excluded: decision.excluded,
                failures: Vec::new(),
                rounds: 1,
                early_stopped: false,
                submitted_at_ms: 0,
                started_at_ms: Some(0),
                finished_at_ms: 1,
                llm_calls: 0,
                prompt_tokens: 0,
                completion_tokens: 0,
                rate_limit_wait_ms: 0,
            },
        }
    }

    /// Paris wins 3 of 5 with unequal powers and confidences; Lyon and a garbage
    /// answer lose; nothing is equal-weighted, so a wrong denominator shows.
    fn agreed() -> (TaskResult, ConsensusConfig) {
        let config = config(Strategy::Exact);
        let ballots = vec![
            Ballot::new("w1", "Paris").power(2.0).confidence(0.9),
            Ballot::new("w2", "paris.").power(1.0).confidence(0.6),
            Ballot::new("w3", "Lyon").power(1.5).confidence(0.8),
            Ballot::new("w4", "PARIS").power(0.5).confidence(0.02),
            Ballot::new("w5", "?!").power(1.0).confidence(1.0),
        ];
        let result = result_of(&ballots, &config);
        assert!(result.is_agreed(), "{:?}", result.outcome);
        assert_eq!(result.alternatives.len(), 2);
        assert_eq!(result.metadata.excluded.len(), 1);
        (result, config)
    }

    fn fired(result: &TaskResult, config: &ConsensusConfig) -> BTreeSet<Invariant> {
        check_result(result, config).into_iter().map(|v| v.invariant).collect()
    }

    fn tally_only(result: &TaskResult, config: &ConsensusConfig) -> Vec<Violation> {
        let mut violations = Vec::new();
        check_tally(result, config, &mut violations);
        violations
    }

    fn set_support(result: &mut TaskResult, new_support: f64, new_margin: f64) {
        match &mut result.outcome {
            Outcome::Agreed { support, margin, .. } | Outcome::NoConsensus { support, margin, .. } => {
                *support = new_support;
                *margin = new_margin;
            }
            Outcome::Failed { .. } => panic!("no support to set"),
        }
    }

    #[test]
    fn results_of_decide_break_no_invariant() {
        let (result, config) = agreed();
        assert_eq!(check_result(&result, &config), Vec::new());
        let numeric = config_numeric_cases();
        let semantic = [
            "Water boils at a lower temperature at high altitude because air pressure is lower",
            "At high altitude the air pressure is lower, so water boils at a lower temperature",
            "Lower air pressure at altitude makes water boil at a lower temperature",
            "Because mountains are cold",
            "",
        ];
        let semantic: Vec<Ballot> = semantic
            .iter()
            .enumerate()
            .map(|(i, t)| Ballot::new(format!("w{i}"), *t).power(1.0 + i as f64 / 4.0).confidence(0.5))
            .collect();
        let split =
            ["a", "a", "a", "b", "b", "b"].iter().enumerate().map(|(i, t)| Ballot::new(format!("w{i}"), *t)).collect();
        let below = ["a", "b", "c", "d"].iter().enumerate().map(|(i, t)| Ballot::new(format!("w{i}"), *t)).collect();
        let cases: Vec<(Vec<Ballot>, ConsensusConfig)> = vec![
            (numeric, config_numeric()),
            (semantic, self::config(Strategy::Semantic)),
            (split, self::config(Strategy::Exact)),
            (below, self::config(Strategy::Exact)),
            (vec![Ballot::new("w0", "")], self::config(Strategy::Exact)),
        ];
        let mut reasons = BTreeSet::new();
        for (ballots, config) in cases {
            let result = result_of(&ballots, &config);
            if let Outcome::NoConsensus { reason, .. } = result.outcome {
                reasons.insert(format!("{reason:?}"));
            }
            assert_eq!(check_result(&result, &config), Vec::new(), "{result:#?}");
        }
        assert_eq!(reasons.len(), 3, "every no-consensus reason is covered: {reasons:?}");
    }

    fn config_numeric() -> ConsensusConfig {
        ConsensusConfig { tolerance_relative: 0.01, ..config(Strategy::Numeric) }
    }

    /// 100 and 100.8 group only through the relative tolerance; "none" is excluded.
    fn config_numeric_cases() -> Vec<Ballot> {
        vec![
            Ballot::new("w1", "100").power(2.0),
            Ballot::new("w2", "about 100.8").confidence(0.4),
            Ballot::new("w3", "$140").power(3.0).confidence(0.3),
            Ballot::new("w4", "none"),
        ]
    }

    #[test]
    fn a_fabricated_answer_is_caught() {
        let (mut result, config) = agreed();
        if let Outcome::Agreed { answer, .. } = &mut result.outcome {
            *answer = "Marseille".to_owned();
        }
        let fired = fired(&result, &config);
        assert!(fired.contains(&Invariant::Fabrication), "{fired:?}");
    }

    #[test]
    fn an_answer_from_a_losing_group_is_caught() {
        // Every text some worker gave passes the fabrication check; only the tally
        // knows Lyon is not the winner's.
        let (mut result, config) = agreed();
        if let Outcome::Agreed { answer, .. } = &mut result.outcome {
            *answer = "Lyon".to_owned();
        }
        assert!(!tally_only(&result, &config).is_empty());
        assert!(fired(&result, &config).contains(&Invariant::Recompute));
    }

    #[test]
    fn a_counted_twin_is_caught() {
        let (mut result, config) = agreed();
        let mut twin = result.metadata.votes[0].clone();
        twin.text = "Lyon".to_owned();
        result.metadata.votes.push(twin);
        let fired = fired(&result, &config);
        assert!(fired.contains(&Invariant::TwinCounted), "{fired:?}");
    }

    #[test]
    fn a_twin_excluded_but_still_counted_is_caught() {
        let (mut result, config) = agreed();
        let mut twin = result.metadata.votes[0].clone();
        twin.text = "Lyon".to_owned();
        let worker = twin.worker.clone();
        result.metadata.votes.push(twin);
        result.metadata.excluded.push(Exclusion::new(worker, ExclusionReason::Equivocated));
        let fired = fired(&result, &config);
        assert!(fired.contains(&Invariant::TwinCounted), "{fired:?}");
    }

    #[test]
    fn a_vote_from_a_worker_not_asked_is_caught() {
        let (mut result, config) = agreed();
        let mut stranger = result.metadata.votes[2].clone();
        stranger.worker = WorkerId::from("w9");
        result.metadata.votes.push(stranger);
        assert!(fired(&result, &config).contains(&Invariant::UnassignedVote));

        let (mut result, config) = agreed();
        let member = result.alternatives[0].members[0].clone();
        result.metadata.workers_asked.retain(|w| *w != member);
        assert!(fired(&result, &config).contains(&Invariant::UnassignedVote));
    }

    #[test]
    fn a_tampered_support_or_margin_is_caught() {
        let (clean, config) = agreed();
        let Outcome::Agreed { support, margin, .. } = clean.outcome else { unreachable!() };
        let mut result = clean.clone();
        set_support(&mut result, support + 0.01, margin);
        assert_eq!(fired(&result, &config), BTreeSet::from([Invariant::Recompute]));
        assert!(!tally_only(&result, &config).is_empty());
        let mut result = clean.clone();
        set_support(&mut result, support, margin - 0.01);
        assert_eq!(fired(&result, &config), BTreeSet::from([Invariant::Recompute]));
        assert!(!tally_only(&result, &config).is_empty());
        let mut result = clean;
        result.alternatives[1].support += 0.01;
        assert_eq!(fired(&result, &config), BTreeSet::from([Invariant::Recompute]));
        assert!(!tally_only(&result, &config).is_empty());
    }

    #[test]
    fn a_member_counted_twice_is_caught() {
        let (mut result, config) = agreed();
        let member = result.alternatives[0].members[0].clone();
        result.alternatives[1].members.push(member.clone());
        result.alternatives[1].members.sort();
        assert!(fired(&result, &config).contains(&Invariant::CountedTwice));
        let (mut result, config) = agreed();
        result.alternatives[0].members.push(member);
        assert!(fired(&result, &config).contains(&Invariant::CountedTwice));
    }

    #[test]
    fn wrong_alternatives_are_caught() {
        type BreakIt = fn(&mut Vec<Group>);
        let cases: [(BreakIt, &str); 4] = [
            (|groups| drop(groups.pop()), "a losing group dropped"),
            (|groups| groups.swap(0, 1), "ranked lightest first"),
            (
                |groups| {
                    let moved = groups[1].members.pop().unwrap();
                    groups[0].members.push(moved);
                    groups[0].members.sort();
                },
                "a Lyon voter moved into the Paris group",
            ),
            (|groups| groups[1].representative = "Paris".to_owned(), "Lyon represented by Paris"),
        ];
        for (break_it, what) in cases {
            let (mut result, config) = agreed();
            break_it(&mut result.alternatives);
            assert!(fired(&result, &config).contains(&Invariant::Recompute), "{what}");
            assert!(!tally_only(&result, &config).is_empty(), "{what}: the tally alone must see it");
        }
    }

    #[test]
    fn a_failed_result_is_checked_for_what_it_holds() {
        let (mut result, config) = agreed();
        result.outcome = Outcome::Failed { reason: FailureReason::NotEnoughAnswers { received: 4, needed: 5 } };
        assert_eq!(check_result(&result, &config), Vec::new());
        result.alternatives[0].support = 1.0;
        assert!(fired(&result, &config).contains(&Invariant::Recompute));
    }

    // What a buggy `decide` would emit: `check_recompute` asks that very `decide`, so
    // these must be caught by the independent tally alone.

    #[test]
    fn support_over_the_wrong_denominator_is_caught_without_decide() {
        let (clean, config) = agreed();
        assert_eq!(tally_only(&clean, &config), Vec::new());
        // Bug: support as a share of the answers counted (heads), not of their weight.
        let mut heads = clean.clone();
        let counted: usize = heads.alternatives.iter().map(|g| g.members.len()).sum();
        for group in &mut heads.alternatives {
            group.support = group.members.len() as f64 / counted as f64;
        }
        let (top, second) = (heads.alternatives[0].support, heads.alternatives[1].support);
        set_support(&mut heads, top, top - second);
        assert!(!tally_only(&heads, &config).is_empty());
        // Bug: the excluded garbage answer's weight left in the denominator.
        let mut with_excluded = clean;
        let scale = {
            let counted: f64 = with_excluded.alternatives.iter().map(|g| g.weight).sum();
            counted / (counted + 1.0)
        };
        for group in &mut with_excluded.alternatives {
            group.support *= scale;
        }
        let (top, second) = (with_excluded.alternatives[0].support, with_excluded.alternatives[1].support);
        set_support(&mut with_excluded, top, top - second);
        assert!(!tally_only(&with_excluded, &config).is_empty());
    }

    #[test]
    fn a_winner_that_is_not_the_heaviest_group_is_caught_without_decide() {
        // Bug: ranking by size instead of weight. Two light voters outnumber one heavy.
        let config = config(Strategy::Exact);
        let ballots = vec![
            Ballot::new("w1", "yes").power(4.0),
            Ballot::new("w2", "no").confidence(0.5),
            Ballot::new("w3", "no").confidence(0.5),
        ];
        let clean = result_of(&ballots, &config);
        assert_eq!(clean.answer(), Some("yes"));
        assert_eq!(tally_only(&clean, &config), Vec::new());
        let mut buggy = clean;
        buggy.alternatives.swap(0, 1);
        let (top, second) = (buggy.alternatives[0].support, buggy.alternatives[1].support);
        buggy.outcome =
            Outcome::NoConsensus { reason: NoConsensusReason::BelowThreshold, support: top, margin: top - second };
        assert!(!tally_only(&buggy, &config).is_empty());
    }

    #[test]
    fn a_verdict_against_its_own_numbers_is_caught_without_decide() {
        // Bug: `>` for `>=` or a dropped margin check shows as a verdict that its own
        // support, margin and threshold contradict.
        let (clean, config) = agreed();
        let Outcome::Agreed { support, margin, .. } = clean.outcome else { unreachable!() };
        let mut refused = clean.clone();
        refused.outcome = Outcome::NoConsensus { reason: NoConsensusReason::BelowThreshold, support, margin };
        assert!(!tally_only(&refused, &config).is_empty());
        let mut no_margin = clean.clone();
        no_margin.metadata.threshold = support + 0.01;
        assert!(!tally_only(&no_margin, &config).is_empty(), "agreed below the threshold applied");
        let strict = ConsensusConfig { margin_min: margin + 0.01, ..config };
        assert!(!tally_only(&clean, &strict).is_empty(), "agreed below the margin");
    }

    #[test]
    fn an_unjustified_exclusion_is_caught_without_decide() {
        // Bug: a valid answer dropped as garbage shrinks the denominator.
        let (mut result, config) = agreed();
        let lyon = result.alternatives.remove(1);
        for worker in lyon.members {
            result.metadata.excluded.push(Exclusion::new(worker, ExclusionReason::Empty));
        }
        result.alternatives[0].support = 1.0;
        set_support(&mut result, 1.0, 1.0);
        assert!(!tally_only(&result, &config).is_empty());
    }
}
