//! The consensus engine: pure, synchronous, deterministic.
//!
//! [`decide`] turns the ballots of one task into a [`Decision`]:
//! 1. Validate, then sort the ballots into canonical order (worker id, then text), so
//!    nothing below can depend on arrival order. A worker with several conflicting
//!    ballots (a twin) is excluded; identical repeats count once.
//! 2. Extract what the strategy compares ([`extract`]: exact key, committed number,
//!    or unwrapped text); answers with nothing to compare are excluded and reported
//!    with the reason ([`Unreadable`]).
//! 3. Group ([`Strategy`] decides how). Semantic grouping never puts two answers whose
//!    [`Claim`] signatures conflict in one group, and merges groups only at
//!    `similarity_merge_min`, which defaults to the join level (see `semantic.rs`).
//! 4. Weigh: weight = voting power x confidence (floored), or power x the log-odds of
//!    the confidence among the groups formed ([`Weighting`]), held as fixed-point
//!    integers (2^40 units for the heaviest ballot), so sums are exact, ties are
//!    exact, and anyone recomputing a decision from its ballots gets the same bits.
//!    Grouping itself uses linear weights: the number of groups is not known before
//!    it. Support = group weight / weight of all counted answers: the same units on
//!    both sides.
//! 5. Rank groups by weight, then size, then smallest member id (a total order), and
//!    decide: agreed when support >= the adaptive threshold ([`adaptive_threshold`])
//!    and the margin over the runner-up >= `margin_min`.
//!
//! [`early_stop`] tells whether answers still outstanding could change the outcome.

mod ballot;
mod claim;
mod config;
mod decision;
mod early_stop;
mod extract;
mod grouping;
mod semantic;
mod similarity;
mod strategy;
mod threshold;
mod weighting;

pub use ballot::Ballot;
pub use claim::{
    CLAIM_NAMES_MAX, CLAIM_PREDICATES_MAX, CLAIM_QUANTITIES_MAX, CLAIM_RELATIONS_MAX, Claim, ClaimConflict,
};
pub use config::{ANSWER_BYTES_MAX, ANSWERS_PER_DECISION_MAX, ConsensusConfig, POWER_MAX, POWER_MIN};
pub use decision::{Decision, Exclusion, ExclusionReason, Group, NoConsensusReason, Verdict};
pub use early_stop::{EarlyStop, early_stop};
pub use extract::{Extracted, NumberValue, Unreadable, WRAPPER_LAYERS_MAX, exact_key, extract, final_number};
pub use similarity::{Profile, SKETCH_TRIGRAM_BUCKETS, SKETCH_WORD_BUCKETS, embedding_similarity, text_similarity};
pub use strategy::{SHORT_ANSWER_WORDS_MAX, Strategy};
pub use threshold::{SMALL_PANEL_ANSWERS, adaptive_threshold};
pub use weighting::{LOG_ODDS_CONFIDENCE_MAX, LOG_ODDS_CONFIDENCE_MIN, UnknownWeighting, Weighting};

use grouping::RawGroup;

use crate::WorkerId;
use crate::config::ConfigError;

/// Fixed-point units of the heaviest counted ballot. Weights are quantized relative to
/// it, so precision does not depend on the scale of the powers (scaling every power
/// by a constant changes no unit count beyond the last rounding bit).
const UNITS_OF_HEAVIEST: f64 = 1_099_511_627_776.0; // 2^40

/// An exact integer amount of weight (see [`UNITS_OF_HEAVIEST`]).
pub(crate) type Units = u128;

/// Input that consensus refuses, naming the ballot and field.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConsensusError {
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// More ballots than [`ANSWERS_PER_DECISION_MAX`].
    #[error("{count} answers for one decision; at most {max} are accepted")]
    TooManyAnswers {
        /// Ballots given.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// A confidence outside `0..=1` or not a number.
    #[error("answers[{index}].confidence = {value} (worker {worker}): expected a number in 0..=1")]
    InvalidConfidence {
        /// Position of the ballot in the input.
        index: usize,
        /// Whose ballot.
        worker: WorkerId,
        /// The value given.
        value: f64,
    },
    /// A voting power outside [`POWER_MIN`]`..=`[`POWER_MAX`] or not a number.
    #[error("answers[{index}].power = {value} (worker {worker}): expected a number in {POWER_MIN}..={POWER_MAX}")]
    InvalidPower {
        /// Position of the ballot in the input.
        index: usize,
        /// Whose ballot.
        worker: WorkerId,
        /// The value given.
        value: f64,
    },
    /// An answer longer than [`ANSWER_BYTES_MAX`].
    #[error("answers[{index}].text is {bytes} bytes (worker {worker}); at most {max} are accepted")]
    AnswerTooLong {
        /// Position of the ballot in the input.
        index: usize,
        /// Whose ballot.
        worker: WorkerId,
        /// Its length.
        bytes: usize,
        /// The limit.
        max: usize,
    },
}

/// Decides one task from its ballots. Pure: the same ballots (in any order) and config
/// give the same decision, bit for bit.
///
/// # Errors
/// [`ConsensusError`] for an invalid config or ballot; never for disagreement, which is
/// a [`Verdict::NoConsensus`].
pub fn decide(ballots: &[Ballot], config: &ConsensusConfig) -> Result<Decision, ConsensusError> {
    let tally = Tally::new(ballots, config)?;
    Ok(tally.decision(config))
}

/// The counted ballots, their groups and integer weights: what [`decide`] and
/// [`early_stop`] share.
pub(crate) struct Tally<'a> {
    counted: Vec<&'a Ballot>,
    /// Ranked: heaviest first.
    groups: Vec<RawGroup>,
    group_weights: Vec<Units>,
    total_weight: Units,
    mean_representative_similarity: f64,
    excluded: Vec<Exclusion>,
    confidence_floor: f64,
    weighting: Weighting,
}

impl<'a> Tally<'a> {
    pub(crate) fn new(ballots: &'a [Ballot], config: &ConsensusConfig) -> Result<Self, ConsensusError> {
        config.validate()?;
        validate_ballots(ballots)?;
        let mut canonical: Vec<&Ballot> = ballots.iter().collect();
        canonical.sort_by(|a, b| {
            (&a.worker, &a.text)
                .cmp(&(&b.worker, &b.text))
                .then(a.confidence.total_cmp(&b.confidence))
                .then(a.power.total_cmp(&b.power))
        });
        let mut excluded = Vec::new();
        let unique = drop_equivocators(canonical, config, &mut excluded);
        let (counted, features) = extract_all(unique, config.strategy, &mut excluded);
        // Grouping needs weights before the number of candidates is known, so it
        // uses linear ones whatever the rule; the vote then uses the configured rule
        // over the groups formed (see `weighting`).
        let (linear_weights, _) = weigh(&counted, Weighting::Linear, config.confidence_floor, 0);
        let (groups, mean_representative_similarity) = group(&counted, &features, &linear_weights, config);
        let weights = match config.weighting {
            Weighting::Linear => linear_weights,
            rule => weigh(&counted, rule, config.confidence_floor, groups.len()).0,
        };
        let mut ranked: Vec<(RawGroup, Units)> = groups
            .into_iter()
            .map(|g| {
                let weight = g.members.iter().map(|&m| weights[m]).sum();
                (g, weight)
            })
            .collect();
        // Total order: weight, then size, then smallest member (canonical order is
        // worker-id order, and members are sorted, so members[0] is the smallest id).
        ranked.sort_by(|(a, wa), (b, wb)| {
            wb.cmp(wa).then(b.members.len().cmp(&a.members.len())).then(a.members[0].cmp(&b.members[0]))
        });
        let (groups, group_weights): (Vec<RawGroup>, Vec<Units>) = ranked.into_iter().unzip();
        let total_weight = weights.iter().sum();
        let confidence_floor = config.confidence_floor;
        Ok(Self {
            counted,
            groups,
            group_weights,
            total_weight,
            mean_representative_similarity,
            excluded,
            confidence_floor,
            weighting: config.weighting,
        })
    }

    /// Counted ballot `index`'s weight, as a plain number, in a vote over `groups`
    /// candidates.
    fn ballot_weight(&self, index: usize, groups: usize) -> f64 {
        let ballot = self.counted[index];
        self.weighting.ballot_weight(ballot.power, ballot.confidence, self.confidence_floor, groups)
    }

    fn support(&self, group_index: usize) -> f64 {
        self.group_weights.get(group_index).map_or(0.0, |&w| w as f64 / self.total_weight as f64)
    }

    fn decision(self, config: &ConsensusConfig) -> Decision {
        let threshold =
            adaptive_threshold(config, self.counted.len(), self.groups.len(), self.mean_representative_similarity);
        let support = self.support(0);
        let margin = support - self.support(1);
        let verdict = if self.groups.is_empty() {
            Verdict::NoConsensus(NoConsensusReason::NoAnswers)
        } else if support < threshold {
            Verdict::NoConsensus(NoConsensusReason::BelowThreshold)
        } else if margin < config.margin_min {
            Verdict::NoConsensus(NoConsensusReason::MarginTooSmall)
        } else {
            Verdict::Agreed
        };
        let groups: Vec<Group> = (0..self.groups.len()).map(|i| self.public_group(i)).collect();
        let confidence = groups.first().map_or(0.0, |g| g.confidence);
        let answer = (verdict == Verdict::Agreed).then(|| groups[0].representative.clone());
        Decision {
            verdict,
            answer,
            support,
            margin,
            confidence,
            strategy: config.strategy,
            weighting: config.weighting,
            threshold_base: config.threshold,
            threshold,
            groups,
            counted: self.counted.len(),
            excluded: self.excluded,
        }
    }

    fn public_group(&self, index: usize) -> Group {
        let raw = &self.groups[index];
        let power_sum: f64 = raw.members.iter().map(|&m| self.counted[m].power).sum();
        let confidence_sum: f64 = raw.members.iter().map(|&m| self.counted[m].power * self.counted[m].confidence).sum();
        // Reported in plain floating point for readability; the decision itself used
        // the exact integer units.
        let weight: f64 = raw.members.iter().map(|&m| self.ballot_weight(m, self.groups.len())).sum();
        Group {
            representative: self.counted[raw.representative].text.clone(),
            members: raw.members.iter().map(|&m| self.counted[m].worker.clone()).collect(),
            weight,
            support: self.support(index),
            confidence: confidence_sum / power_sum,
        }
    }
}

fn validate_ballots(ballots: &[Ballot]) -> Result<(), ConsensusError> {
    if ballots.len() > ANSWERS_PER_DECISION_MAX {
        return Err(ConsensusError::TooManyAnswers { count: ballots.len(), max: ANSWERS_PER_DECISION_MAX });
    }
    for (index, ballot) in ballots.iter().enumerate() {
        let worker = || ballot.worker.clone();
        if !(ballot.confidence.is_finite() && (0.0..=1.0).contains(&ballot.confidence)) {
            return Err(ConsensusError::InvalidConfidence { index, worker: worker(), value: ballot.confidence });
        }
        if !(ballot.power.is_finite() && (POWER_MIN..=POWER_MAX).contains(&ballot.power)) {
            return Err(ConsensusError::InvalidPower { index, worker: worker(), value: ballot.power });
        }
        if ballot.text.len() > ANSWER_BYTES_MAX {
            return Err(ConsensusError::AnswerTooLong {
                index,
                worker: worker(),
                bytes: ballot.text.len(),
                max: ANSWER_BYTES_MAX,
            });
        }
    }
    Ok(())
}

/// The counted ballots' weights under `rule` in a vote over `groups` candidates, in
/// exact units of the heaviest of them, and the plain weight one such unit stands for.
pub(crate) fn weigh(counted: &[&Ballot], rule: Weighting, confidence_floor: f64, groups: usize) -> (Vec<Units>, f64) {
    let raw: Vec<f64> =
        counted.iter().map(|b| rule.ballot_weight(b.power, b.confidence, confidence_floor, groups)).collect();
    let heaviest = raw.iter().copied().fold(0.0, f64::max);
    let unit_weight = if heaviest > 0.0 { heaviest } else { 1.0 };
    (raw.iter().map(|&weight| to_units(weight, unit_weight)).collect(), unit_weight)
}

/// `weight` in units where `unit_weight` is [`UNITS_OF_HEAVIEST`]; at least one unit,
/// so no counted answer is weightless.
fn to_units(weight: f64, unit_weight: f64) -> Units {
    ((weight / unit_weight * UNITS_OF_HEAVIEST).round() as Units).max(1)
}

/// What a strategy compares, per counted ballot.
enum Features {
    Keys(Vec<String>),
    Numbers(Vec<f64>),
    /// The answers without their wrappers.
    Texts(Vec<String>),
}

/// Keeps one ballot per worker. A worker whose ballots do not all match each other
/// (under the task's strategy) is excluded as an equivocator.
fn drop_equivocators<'a>(
    canonical: Vec<&'a Ballot>,
    config: &ConsensusConfig,
    excluded: &mut Vec<Exclusion>,
) -> Vec<&'a Ballot> {
    let mut unique: Vec<&Ballot> = Vec::with_capacity(canonical.len());
    let mut index = 0;
    while index < canonical.len() {
        let worker = &canonical[index].worker;
        let end = index + canonical[index..].iter().take_while(|b| &b.worker == worker).count();
        let same_worker = &canonical[index..end];
        // A lone ballot needs no check (and semantic matching would profile it twice).
        let consistent = same_worker[1..].iter().all(|b| answers_match(&same_worker[0].text, &b.text, config));
        if consistent {
            unique.push(same_worker[0]);
        } else {
            excluded.push(Exclusion::new(worker.clone(), ExclusionReason::Equivocated));
        }
        index = end;
    }
    unique
}

/// Whether two answers match under `config`'s strategy (used to tell a twin's
/// harmless repeat from a conflicting answer). Two answers that cannot be read match
/// when they cannot be read for the same reason.
pub fn answers_match(left: &str, right: &str, config: &ConsensusConfig) -> bool {
    // Identical texts always match: a similarity computed in floating point can land a
    // hair under 1 and, at `similarity_join_min = 1`, flag a twin's verbatim repeat as
    // equivocation (found by `quorum prop`).
    if left == right {
        return true;
    }
    if config.strategy == Strategy::Semantic {
        return semantic::texts_match(left, right, config);
    }
    match (extract(left, config.strategy), extract(right, config.strategy)) {
        (Ok(Extracted::Number(a)), Ok(Extracted::Number(b))) => {
            grouping::within_tolerance(a.value, b.value, config.tolerance_absolute, config.tolerance_relative)
        }
        (Ok(a), Ok(b)) => a == b,
        (Err(a), Err(b)) => a.reason() == b.reason(),
        _ => false,
    }
}

fn extract_all<'a>(
    unique: Vec<&'a Ballot>,
    strategy: Strategy,
    excluded: &mut Vec<Exclusion>,
) -> (Vec<&'a Ballot>, Features) {
    let mut counted = Vec::with_capacity(unique.len());
    let mut keys = Vec::new();
    let mut numbers = Vec::new();
    let mut texts = Vec::new();
    for ballot in unique {
        match extract(&ballot.text, strategy) {
            Ok(extracted) => {
                match extracted {
                    Extracted::Key(key) => keys.push(key),
                    Extracted::Number(number) => numbers.push(number.value),
                    Extracted::Text(text) => texts.push(text),
                }
                counted.push(ballot);
            }
            Err(unreadable) => {
                // Reasons that name what was read say it; the others are their own detail.
                let detail = matches!(unreadable, Unreadable::AmbiguousNumber { .. }).then(|| unreadable.to_string());
                excluded.push(Exclusion { worker: ballot.worker.clone(), reason: unreadable.reason(), detail });
            }
        }
    }
    let features = match strategy {
        Strategy::Exact => Features::Keys(keys),
        Strategy::Numeric => Features::Numbers(numbers),
        Strategy::Semantic => Features::Texts(texts),
    };
    (counted, features)
}

/// Groups the counted ballots; also returns the mean similarity between the groups'
/// representatives (0 for exact and numeric matching, whose groups are distinct answers).
fn group(
    counted: &[&Ballot],
    features: &Features,
    weights: &[Units],
    config: &ConsensusConfig,
) -> (Vec<RawGroup>, f64) {
    match features {
        Features::Keys(keys) => (grouping::by_key(keys, weights), 0.0),
        Features::Numbers(values) => {
            (grouping::by_number(values, weights, config.tolerance_absolute, config.tolerance_relative), 0.0)
        }
        Features::Texts(texts) => {
            let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
            semantic::group(counted, &texts, weights, config)
        }
    }
}

#[cfg(test)]
mod tests;
