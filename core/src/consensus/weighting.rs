//! How a ballot's voting power and confidence become its weight in the vote.
//!
//! Two rules, chosen by [`super::ConsensusConfig::weighting`]:
//!
//! - [`Weighting::Linear`]: weight = power x max(confidence, `confidence_floor`).
//!   Confidence scales a vote as a share of it. The safer rule for confidences that
//!   are uncalibrated (most chat models report 0.9 whether right or wrong): a bad
//!   confidence moves a vote by at most its own share, and with equal confidences the
//!   rule is a plain (power-weighted) head count. Confidences that are pure noise
//!   still cost it accuracy against a head count (3 to 5 points in the accuracy
//!   bench), less than they cost log-odds (7 to 11).
//! - [`Weighting::LogOdds`]: weight = power x max(ln(K c / (1 - c)), floor), with `c`
//!   the confidence clamped to [[`LOG_ODDS_CONFIDENCE_MIN`], [`LOG_ODDS_CONFIDENCE_MAX`]]
//!   and `K` the number of candidate answers (groups, at least 2). This is the
//!   calibrated-Bayes rule of weighted majority voting: if a ballot is right with
//!   probability `c` and a wrong ballot picks one of the other candidates, the
//!   candidate with the largest sum of these weights is the most probable one. Right
//!   when confidences are calibrated (a worker saying 0.9 is right nine times in ten),
//!   and worth most with more than two candidates, where agreeing on one wrong answer
//!   is unlikely and the rule rewards agreement more than linear weighting does. With
//!   uncalibrated confidences it amplifies their noise: one ballot at 0.99 outweighs
//!   four at 0.6. The supervisor therefore lets each worker's record calibrate the
//!   confidence it hands this rule ([`crate::VotingPowers::confidence`]).
//!
//!   With `V` possible answers and errors spread evenly, the exact rule is
//!   ln((V - 1) c / (1 - c)). `V` is unknown: the groups seen undercount it (a wrong
//!   answer nobody gave is still possible), so the number of groups `K` stands in for
//!   `V - 1`. In the accuracy bench this comes within 0.2 points of the oracle that
//!   knows `V`.
//!
//! **Below chance.** `ln(K c / (1 - c)) <= 0` when `c <= 1 / (K + 1)`: the Bayes rule
//! would count such a ballot *against* its own answer. Weights here stay non-negative
//! integers, so that a vote for the winner can never lose the win, sums are exact, and
//! the denominator of support is never zero; such a ballot abstains softly instead: it
//! weighs `confidence_floor` times what a fully confident ballot weighs, the same share
//! the floor gives it under linear weighting.
//!
//! **Grouping before K.** Which answers form a group (numeric windows, semantic
//! medoids) and which member represents it depend on weights, and `K` is only known
//! once the groups are formed. Grouping therefore always uses linear weights; the vote
//! is then counted with the configured rule at `K` = the number of groups. The
//! decision stays a pure function of the ballots: both steps see them in canonical
//! order and in exact integer units.

use serde::{Deserialize, Deserializer, Serialize};

/// Lowest confidence the log-odds rule uses: below it, one ballot's log-odds would
/// swamp a panel (ln(1e-6) is -14).
pub const LOG_ODDS_CONFIDENCE_MIN: f64 = 0.01;
/// Highest confidence the log-odds rule uses: a ballot of confidence 1 would weigh
/// infinitely; at 0.99 it weighs ln(99 K), about five times a ballot at 0.75.
pub const LOG_ODDS_CONFIDENCE_MAX: f64 = 0.99;

/// How ballots are weighed (see the [module documentation](self)).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Weighting {
    /// Power x floored confidence. The default.
    #[default]
    Linear,
    /// Power x ln(K c / (1 - c)): calibrated-Bayes weighting.
    LogOdds,
}

impl Weighting {
    /// Its name in configs (`linear`, `log_odds`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Linear => "linear",
            Self::LogOdds => "log_odds",
        }
    }

    /// The weight of one ballot of `power` and `confidence` in a vote over `groups`
    /// candidate answers, as a plain number (the engine turns it into exact units).
    pub fn ballot_weight(self, power: f64, confidence: f64, confidence_floor: f64, groups: usize) -> f64 {
        match self {
            Self::Linear => power * confidence.max(confidence_floor),
            Self::LogOdds => {
                let candidates = groups.max(2) as f64;
                let log_odds = |c: f64| (candidates * c / (1.0 - c)).ln();
                let clamped = confidence.clamp(LOG_ODDS_CONFIDENCE_MIN, LOG_ODDS_CONFIDENCE_MAX);
                let floor = confidence_floor * log_odds(LOG_ODDS_CONFIDENCE_MAX);
                power * log_odds(clamped).max(floor)
            }
        }
    }

    /// The most a ballot of `power` can weigh (at full confidence).
    pub fn ballot_weight_max(self, power: f64, confidence_floor: f64, groups: usize) -> f64 {
        self.ballot_weight(power, 1.0, confidence_floor, groups)
    }
}

impl core::str::FromStr for Weighting {
    type Err = UnknownWeighting;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "linear" => Ok(Self::Linear),
            "log_odds" => Ok(Self::LogOdds),
            _ => Err(UnknownWeighting { given: text.to_owned() }),
        }
    }
}

/// A weighting name that is neither `linear` nor `log_odds`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("weighting = {given:?}: expected \"linear\" or \"log_odds\"")]
pub struct UnknownWeighting {
    /// The name given.
    pub given: String,
}

// By hand rather than derived, so that a bad value names the field it was given for
// ("weighting = ...") in every input format, not only the variant.
impl<'de> Deserialize<'de> for Weighting {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_is_power_times_floored_confidence() {
        assert_eq!(Weighting::Linear.ballot_weight(2.0, 0.5, 0.05, 7), 1.0);
        assert_eq!(Weighting::Linear.ballot_weight(2.0, 0.0, 0.05, 7), 0.1);
    }

    #[test]
    fn log_odds_follows_the_bayes_rule_and_counts_at_least_two_candidates() {
        let weight = Weighting::LogOdds.ballot_weight(1.0, 0.8, 0.05, 3);
        assert!((weight - (3.0_f64 * 4.0).ln()).abs() < 1e-12, "{weight}");
        // One group still means a choice between it and some other answer.
        let alone = Weighting::LogOdds.ballot_weight(1.0, 0.8, 0.05, 1);
        assert!((alone - 8.0_f64.ln()).abs() < 1e-12, "{alone}");
        // Power scales it.
        assert!((Weighting::LogOdds.ballot_weight(2.5, 0.8, 0.05, 3) - 2.5 * weight).abs() < 1e-12);
    }

    #[test]
    fn log_odds_clamps_certainty_and_floors_below_chance() {
        let top = Weighting::LogOdds.ballot_weight(1.0, 0.99, 0.05, 2);
        assert_eq!(Weighting::LogOdds.ballot_weight(1.0, 1.0, 0.05, 2), top);
        assert!(top.is_finite());
        // 0.2 is below chance among 3 candidates (1 / 4): it abstains softly, at the
        // floor's share of a fully confident ballot, like a floored linear ballot.
        let below = Weighting::LogOdds.ballot_weight(1.0, 0.2, 0.05, 3);
        let top3 = Weighting::LogOdds.ballot_weight_max(1.0, 0.05, 3);
        assert!((below - 0.05 * top3).abs() < 1e-12);
        assert_eq!(Weighting::LogOdds.ballot_weight(1.0, 0.0, 0.05, 3), below);
    }

    #[test]
    fn log_odds_weight_never_falls_as_confidence_rises() {
        for groups in [1, 2, 3, 10] {
            let mut previous = 0.0;
            for step in 0..=1000 {
                let weight = Weighting::LogOdds.ballot_weight(1.0, f64::from(step) / 1000.0, 0.05, groups);
                assert!(weight >= previous && weight > 0.0, "{groups} groups, step {step}");
                previous = weight;
            }
        }
    }

    #[test]
    fn names_parse_and_a_bad_one_names_the_field() {
        assert_eq!("log_odds".parse::<Weighting>().unwrap(), Weighting::LogOdds);
        assert_eq!("linear".parse::<Weighting>().unwrap(), Weighting::Linear);
        let error = "bayes".parse::<Weighting>().unwrap_err().to_string();
        assert!(error.contains("weighting") && error.contains("bayes"), "{error}");
        let parsed: Weighting = serde_json::from_str("\"log_odds\"").unwrap();
        assert_eq!(parsed, Weighting::LogOdds);
        assert_eq!(serde_json::to_string(&Weighting::LogOdds).unwrap(), "\"log_odds\"");
    }
}
