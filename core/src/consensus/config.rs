//! Consensus parameters and their validation.

use serde::{Deserialize, Serialize};

use super::{Strategy, Weighting};
use crate::config::ConfigError;

/// Largest voting power accepted in a ballot. Weights are summed as fixed-point
/// integers (see [`crate::consensus`]); this bound keeps any sum of
/// [`ANSWERS_PER_DECISION_MAX`] ballots far from `u64` overflow.
pub const POWER_MAX: f64 = 1.0e6;
/// Smallest voting power accepted: below it a ballot's weight would round to nothing.
pub const POWER_MIN: f64 = 1.0e-6;
/// Most ballots one decision takes; more is a caller bug or an attack, not a vote.
pub const ANSWERS_PER_DECISION_MAX: usize = 1_000;
/// Longest answer text, in bytes, that consensus compares.
pub const ANSWER_BYTES_MAX: usize = 64 * 1024;

const _: () = assert!(POWER_MAX * (ANSWERS_PER_DECISION_MAX as f64) * 4_294_967_296.0 < 1.8e19);

/// Everything `decide` needs besides the ballots. `Default` documents every default.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConsensusConfig {
    /// How answers are matched. Default: exact.
    pub strategy: Strategy,
    /// Share of the counted weight the winning group needs, in `0..=1`. Default 0.5;
    /// the threshold actually applied may be higher (see [`crate::consensus`]).
    pub threshold: f64,
    /// Lead in support the winner needs over the runner-up, in `0..=1`. Default 0.05,
    /// so an even split is never a win.
    pub margin_min: f64,
    /// Highest threshold the adaptation may raise to (never below `threshold`).
    /// Default 0.9.
    pub threshold_max: f64,
    /// Raise of the threshold per group beyond two, scaled by how dissimilar the
    /// groups are. Default 0.02.
    pub raise_per_extra_group: f64,
    /// Numeric strategy: absolute tolerance, `>= 0`. Default 1e-9.
    pub tolerance_absolute: f64,
    /// Numeric strategy: tolerance relative to the larger magnitude, in `0..1`.
    /// Default 1e-6.
    pub tolerance_relative: f64,
    /// Semantic strategy: similarity at which an answer joins a group's centre, in
    /// `0..=1` (the `similarity` input of `quorum consensus`). Default 0.5: paraphrases
    /// score above 0.6, while distinct claims about one topic can reach 0.4 on shared
    /// words alone. Whatever the similarity, answers whose claims conflict (negation,
    /// opposite predicates, other numbers, dates or names, reversed relations) are never
    /// grouped (see [`crate::consensus::Claim`]).
    pub similarity_join_min: f64,
    /// Semantic strategy: similarity at which two groups' centres merge, in
    /// `0..=similarity_join_min`. Default `None`: the same as `similarity_join_min`, so
    /// that one setting governs grouping and merging, and merging adds nothing a join
    /// would not have done. A lower value merges groups of looser paraphrases (still
    /// never across conflicting claims); it has to be asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub similarity_merge_min: Option<f64>,
    /// Confidence below which a ballot still weighs this much, in `0..=1`, so that a
    /// worker reporting zero confidence abstains softly instead of vanishing from the
    /// denominator. Default 0.05. Under `log_odds` weighting a ballot at or below
    /// chance weighs this share of a fully confident one.
    pub confidence_floor: f64,
    /// How power and confidence weigh a ballot: `linear` (power x floored confidence)
    /// or `log_odds` (power x ln(K c / (1 - c)), the calibrated-Bayes rule; see
    /// [`Weighting`]). Default `linear`: today's rule, and the safer one for
    /// confidences taken as reported, since a bad confidence moves a ballot by at most
    /// its own share (in the accuracy bench, confidences that are pure noise cost it
    /// 3-5 points against a head count, and cost `log_odds` 7-11). Choose `log_odds`
    /// when confidences are calibrated (a worker saying 0.8 is right about four times
    /// in five: it then matches the calibrated-Bayes oracle within 0.2 points), above
    /// all with more than two candidate answers, where agreement on one of them is
    /// strong evidence. In the supervisor `log_odds` also hands each worker's record
    /// the job of calibrating its confidence ([`crate::VotingPowers::confidence`]),
    /// which weighs noisy confidences out: after 200 tasks it is within 0.6 points of
    /// the known-accuracy oracle whatever the confidences.
    pub weighting: Weighting,
}

impl Default for ConsensusConfig {
    fn default() -> Self {
        Self {
            strategy: Strategy::Exact,
            threshold: 0.5,
            margin_min: 0.05,
            threshold_max: 0.9,
            raise_per_extra_group: 0.02,
            tolerance_absolute: 1.0e-9,
            tolerance_relative: 1.0e-6,
            similarity_join_min: 0.5,
            similarity_merge_min: None,
            confidence_floor: 0.05,
            weighting: Weighting::Linear,
        }
    }
}

impl ConsensusConfig {
    /// Checks every field.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] naming the first field out of range.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let unit = |field: &'static str, value: f64| -> Result<(), ConfigError> {
            if value.is_finite() && (0.0..=1.0).contains(&value) {
                Ok(())
            } else {
                Err(ConfigError::invalid(field, value, "a number in 0..=1"))
            }
        };
        unit("consensus.threshold", self.threshold)?;
        unit("consensus.margin_min", self.margin_min)?;
        unit("consensus.threshold_max", self.threshold_max)?;
        unit("consensus.raise_per_extra_group", self.raise_per_extra_group)?;
        unit("consensus.similarity_join_min", self.similarity_join_min)?;
        if let Some(merge_min) = self.similarity_merge_min {
            unit("consensus.similarity_merge_min", merge_min)?;
        }
        unit("consensus.confidence_floor", self.confidence_floor)?;
        if !(self.tolerance_absolute.is_finite() && self.tolerance_absolute >= 0.0) {
            return Err(ConfigError::invalid(
                "consensus.tolerance_absolute",
                self.tolerance_absolute,
                "a finite number >= 0",
            ));
        }
        // Below 1 so that "within tolerance" is monotone along a sorted list of values,
        // which the numeric grouping relies on.
        if !(self.tolerance_relative.is_finite() && (0.0..1.0).contains(&self.tolerance_relative)) {
            return Err(ConfigError::invalid(
                "consensus.tolerance_relative",
                self.tolerance_relative,
                "a number in 0..1",
            ));
        }
        if let Some(merge_min) = self.similarity_merge_min
            && merge_min > self.similarity_join_min
        {
            return Err(ConfigError::invalid(
                "consensus.similarity_merge_min",
                merge_min,
                "at most consensus.similarity_join_min",
            ));
        }
        Ok(())
    }

    /// The similarity at which semantic groups merge: `similarity_merge_min`, or
    /// `similarity_join_min` when that is not set.
    pub fn merge_min(&self) -> f64 {
        self.similarity_merge_min.unwrap_or(self.similarity_join_min)
    }

    /// The same config with another strategy.
    #[must_use]
    pub fn with_strategy(mut self, strategy: Strategy) -> Self {
        self.strategy = strategy;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_valid() {
        ConsensusConfig::default().validate().unwrap();
    }

    #[test]
    fn rejects_fields_by_name() {
        type BreakIt = fn(&mut ConsensusConfig);
        let cases: [(BreakIt, &str); 5] = [
            (|c| c.threshold = 1.5, "consensus.threshold"),
            (|c| c.threshold = f64::NAN, "consensus.threshold"),
            (|c| c.tolerance_absolute = -0.1, "consensus.tolerance_absolute"),
            (|c| c.tolerance_relative = 1.0, "consensus.tolerance_relative"),
            (|c| c.similarity_merge_min = Some(0.9), "consensus.similarity_merge_min"),
        ];
        for (break_it, field) in cases {
            let mut config = ConsensusConfig::default();
            break_it(&mut config);
            let error = config.validate().unwrap_err();
            assert!(error.to_string().contains(field), "{error} should name {field}");
        }
    }
}
