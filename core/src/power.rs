//! Learned voting power: each worker's weight follows its agreement with accepted
//! outcomes, within bounds, and moves only as fast as that record is evidence.
//!
//! A worker's accuracy is estimated as the mean of a Beta posterior,
//! `p = (agreed + prior_mean x prior_strength) / (tasks + prior_strength)`: the prior
//! is worth `prior_strength` tasks, so a few lucky or unlucky tasks barely move it,
//! while a worker that keeps disagreeing is found out within a couple of dozen. The
//! power follows `p` as the vote's weighting rule reads a probability:
//!
//! - linear weighting: `initial x p / prior_mean`, the accuracy on the scale of a
//!   confidence, so a worker right half as often weighs half as much;
//! - log-odds weighting: `initial x ln(2 p / (1 - p)) / ln(2 m / (1 - m))` with `m` the
//!   prior mean: the log-odds of the record, the same form as a ballot's log-odds
//!   weight at the smallest number of candidates (2), taken relative to the prior so a
//!   worker without a record has `initial` power in either mode. The factor 2 is the
//!   head count in the Bayes rule: with at least two candidates a wrong worker splits
//!   its errors, so agreement on one answer is evidence even among middling workers,
//!   and a plain `ln(p / (1 - p))` would make a worker at 0.55 nearly weightless and
//!   let three lucky records outvote five ordinary ones.
//!
//! Both are clamped into `[min, max]`. Nine equally honest workers with noisy records
//! keep powers close enough that no three of them outweigh five (see the tests), which
//! the multiplicative update this replaces (x1.1 on agreement, x0.8 on disagreement)
//! broke within about six tasks.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::WorkerId;
use crate::config::ConfigError;
use crate::consensus::Weighting;

/// How voting power learns. `Default` documents every default.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PowerConfig {
    /// Power of a worker without a record (and of one whose record matches the
    /// prior). Default 1.
    pub initial: f64,
    /// Lowest power. Default 0.25: a worker that was often wrong still counts a little,
    /// so it can earn its way back.
    pub min: f64,
    /// Highest power. Default 4: no single worker outvotes a panel of average ones.
    pub max: f64,
    /// The agreement rate a worker is assumed to have before its record says
    /// otherwise, in `(0.5, 1)`. Default 0.75: honest models agree with the accepted
    /// answer most of the time, and a worker below it loses power.
    pub prior_mean: f64,
    /// How many tasks the prior is worth, `>= 1`. Default 20: the smallest worth at
    /// which nine equally honest workers' noisy records (100 seeds, 60 tasks) never
    /// let three outweigh five under either weighting, while a worker agreeing one time
    /// in five falls to about a third of the initial power (log-odds) or two thirds
    /// (linear) within 20 tasks.
    pub prior_strength: f64,
}

impl Default for PowerConfig {
    fn default() -> Self {
        Self { initial: 1.0, min: 0.25, max: 4.0, prior_mean: 0.75, prior_strength: 20.0 }
    }
}

/// Most tasks' worth a prior may have: beyond it no record could move a power.
pub const PRIOR_STRENGTH_MAX: f64 = 1.0e6;

impl PowerConfig {
    /// Checks the fields.
    ///
    /// # Errors
    /// [`ConfigError`] naming the field.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let finite_positive = |value: f64| value.is_finite() && value > 0.0;
        if !finite_positive(self.min) || self.min < crate::consensus::POWER_MIN {
            return Err(ConfigError::invalid("power.min", self.min, "a number >= 1e-6"));
        }
        if !finite_positive(self.max) || self.max < self.min || self.max > crate::consensus::POWER_MAX {
            return Err(ConfigError::invalid("power.max", self.max, "a number in power.min..=1e6"));
        }
        if !(self.min..=self.max).contains(&self.initial) {
            return Err(ConfigError::invalid("power.initial", self.initial, "a number in power.min..=power.max"));
        }
        // Above one half so that the log-odds of the prior is positive (it is the
        // unit of log-odds power), below one so that a record can fall short of it.
        if !(self.prior_mean.is_finite() && self.prior_mean > 0.5 && self.prior_mean < 1.0) {
            return Err(ConfigError::invalid("power.prior_mean", self.prior_mean, "a number in (0.5, 1)"));
        }
        if !(self.prior_strength.is_finite() && (1.0..=PRIOR_STRENGTH_MAX).contains(&self.prior_strength)) {
            return Err(ConfigError::invalid("power.prior_strength", self.prior_strength, "a number in 1..=1e6"));
        }
        Ok(())
    }

    /// The estimated accuracy of a worker with this record: the Beta posterior mean.
    pub fn accuracy(&self, agreed: u64, disagreed: u64) -> f64 {
        let tasks = (agreed + disagreed) as f64;
        (agreed as f64 + self.prior_mean * self.prior_strength) / (tasks + self.prior_strength)
    }

    /// The power of a worker with this record under `weighting` (see the module
    /// documentation), within `[min, max]`.
    pub fn power(&self, agreed: u64, disagreed: u64, weighting: Weighting) -> f64 {
        let accuracy = self.accuracy(agreed, disagreed);
        let relative = match weighting {
            Weighting::Linear => accuracy / self.prior_mean,
            Weighting::LogOdds => {
                let log_odds = |p: f64| (2.0 * p / (1.0 - p)).ln();
                // The posterior mean stays inside (0, 1): the prior keeps it off both
                // ends, so the log-odds is finite.
                log_odds(accuracy) / log_odds(self.prior_mean)
            }
        };
        (self.initial * relative).clamp(self.min, self.max)
    }
}

/// One worker's record.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PowerRecord {
    /// Current voting power.
    pub power: f64,
    /// Accepted outcomes it agreed with.
    pub agreed: u64,
    /// Accepted outcomes it disagreed with.
    pub disagreed: u64,
}

/// Voting power of every worker seen.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct VotingPowers {
    config: PowerConfig,
    /// The rule the powers are read by; it decides how a record maps to a power.
    #[serde(default)]
    weighting: Weighting,
    records: BTreeMap<WorkerId, PowerRecord>,
}

impl VotingPowers {
    /// Powers learned under `config` (validate it first) for votes weighed by
    /// `weighting`.
    pub fn new(config: PowerConfig, weighting: Weighting) -> Self {
        Self { config, weighting, records: BTreeMap::new() }
    }

    /// The worker's power (the initial power when it has no record).
    pub fn power(&self, worker: &WorkerId) -> f64 {
        self.records.get(worker).map_or(self.config.initial, |r| r.power)
    }

    /// Records that `worker`'s answer agreed (or not) with an accepted outcome.
    pub fn record(&mut self, worker: &WorkerId, agreed: bool) {
        let initial = self.config.initial;
        let record =
            self.records.entry(worker.clone()).or_insert(PowerRecord { power: initial, agreed: 0, disagreed: 0 });
        if agreed {
            record.agreed += 1;
        } else {
            record.disagreed += 1;
        }
        record.power = self.config.power(record.agreed, record.disagreed, self.weighting);
    }

    /// Every record, by worker id.
    pub fn records(&self) -> &BTreeMap<WorkerId, PowerRecord> {
        &self.records
    }

    /// The weighting rule the powers are learned for.
    pub fn weighting(&self) -> Weighting {
        self.weighting
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SeededRng;

    const MODES: [Weighting; 2] = [Weighting::Linear, Weighting::LogOdds];

    #[test]
    fn power_moves_with_the_record_and_stays_bounded() {
        for mode in MODES {
            let mut powers = VotingPowers::new(PowerConfig::default(), mode);
            let good = WorkerId::from("good");
            let bad = WorkerId::from("bad");
            for _ in 0..1000 {
                powers.record(&good, true);
                powers.record(&bad, false);
            }
            assert_eq!(powers.power(&bad), 0.25, "{mode:?}");
            assert!(powers.power(&good) > 1.3, "{mode:?}: {}", powers.power(&good));
            assert!(powers.power(&good) <= 4.0);
            assert_eq!(powers.power(&WorkerId::from("new")), 1.0);
            for _ in 0..3000 {
                powers.record(&bad, true);
            }
            assert!(powers.power(&bad) > 0.95, "{mode:?}: a bad worker can earn its way back");
            assert_eq!(powers.records()[&good].agreed, 1000);
        }
    }

    #[test]
    fn a_record_matching_the_prior_keeps_the_initial_power() {
        let config = PowerConfig { initial: 2.0, ..PowerConfig::default() };
        for mode in MODES {
            // 30 of 40 is exactly the prior mean 0.75.
            assert!((config.power(30, 10, mode) - 2.0).abs() < 1e-12, "{mode:?}");
        }
    }

    /// The largest share by which the three strongest of `powers` outweigh the five
    /// weakest (above 1: three outvote five).
    fn three_over_five(powers: &[f64]) -> f64 {
        let mut sorted = powers.to_vec();
        sorted.sort_by(f64::total_cmp);
        sorted[sorted.len() - 3..].iter().sum::<f64>() / sorted[..5].iter().sum::<f64>()
    }

    /// Nine workers, each agreeing with the accepted outcome with probability 0.8 on
    /// every task, independently: records that differ only by chance.
    fn honest_records(seed: u64, tasks: usize, mut each: impl FnMut(usize, &[u64; 9])) {
        let mut rng = SeededRng::new(seed);
        let mut agreed = [0u64; 9];
        for task in 1..=tasks {
            for count in &mut agreed {
                *count += u64::from(rng.chance(0.8));
            }
            each(task, &agreed);
        }
    }

    #[test]
    fn three_honest_workers_never_outvote_five_with_indistinguishable_records() {
        // Regression: the multiplicative update (x1.1 / x0.8, clamped to [0.25, 4])
        // spread equally honest workers from 0.44 to 1.77 within about six tasks, and
        // then three of them outvoted five (in a 9-worker noisy numeric run, 23 tasks
        // over 100 seeds). Here: 9 workers at 0.8, 100 seeds, 60 tasks each.
        let config = PowerConfig::default();
        let mut old_rule_broke = 0;
        for mode in MODES {
            let mut worst: f64 = 0.0;
            for seed in 0..100 {
                let mut old = [1.0f64; 9];
                let mut previous = [0u64; 9];
                honest_records(seed, 60, |task, agreed| {
                    let powers: Vec<f64> = agreed.iter().map(|&a| config.power(a, task as u64 - a, mode)).collect();
                    worst = worst.max(three_over_five(&powers));
                    for (worker, power) in old.iter_mut().enumerate() {
                        let factor = if agreed[worker] > previous[worker] { 1.1 } else { 0.8 };
                        *power = (*power * factor).clamp(0.25, 4.0);
                    }
                    previous = *agreed;
                    if three_over_five(&old) > 1.0 {
                        old_rule_broke += 1;
                    }
                });
            }
            assert!(worst < 0.95, "{mode:?}: three honest workers reached {worst} of five");
        }
        // The scenario is one that tells: the old rule fails it.
        assert!(old_rule_broke > 100, "the multiplicative rule broke only {old_rule_broke} times");
    }

    #[test]
    fn a_truly_bad_worker_loses_power_within_twenty_tasks() {
        // One worker agreeing one time in five among honest ones at 0.8: within 20
        // tasks it is found out, in either mode, whatever the seed.
        let config = PowerConfig::default();
        for mode in MODES {
            let (mut bad_sum, mut honest_sum) = (0.0, 0.0);
            for seed in 0..100 {
                let mut rng = SeededRng::new(seed);
                let mut powers = VotingPowers::new(config.clone(), mode);
                let (bad, honest) = (WorkerId::from("bad"), WorkerId::from("honest"));
                for _ in 0..20 {
                    powers.record(&bad, rng.chance(0.2));
                    powers.record(&honest, rng.chance(0.8));
                }
                let (bad_power, honest_power) = (powers.power(&bad), powers.power(&honest));
                // Linear power is the accuracy on a confidence's scale, so it falls in
                // proportion; log-odds power falls faster.
                let ceiling = if mode == Weighting::LogOdds { 0.7 } else { 0.85 };
                assert!(bad_power < ceiling, "{mode:?} seed {seed}: the bad worker kept {bad_power}");
                assert!(bad_power < honest_power, "{mode:?} seed {seed}: {bad_power} vs {honest_power}");
                bad_sum += bad_power;
                honest_sum += honest_power;
            }
            let (bad_mean, honest_mean) = (bad_sum / 100.0, honest_sum / 100.0);
            let ceiling = if mode == Weighting::LogOdds { 0.4 } else { 0.65 };
            assert!(bad_mean < ceiling, "{mode:?}: the bad worker kept {bad_mean} on average");
            assert!(bad_mean < 0.65 * honest_mean, "{mode:?}: {bad_mean} vs {honest_mean}");
        }
    }

    #[test]
    fn config_validation_names_fields() {
        let cases: [(PowerConfig, &str); 6] = [
            (PowerConfig { prior_mean: 0.5, ..PowerConfig::default() }, "power.prior_mean"),
            (PowerConfig { prior_mean: 1.0, ..PowerConfig::default() }, "power.prior_mean"),
            (PowerConfig { prior_strength: 0.5, ..PowerConfig::default() }, "power.prior_strength"),
            (PowerConfig { prior_strength: f64::NAN, ..PowerConfig::default() }, "power.prior_strength"),
            (PowerConfig { min: 2.0, max: 1.0, initial: 1.5, ..PowerConfig::default() }, "power.max"),
            (PowerConfig { initial: 5.0, ..PowerConfig::default() }, "power.initial"),
        ];
        for (config, field) in cases {
            let error = config.validate().unwrap_err().to_string();
            assert!(error.contains(field), "{error} should name {field}");
        }
        PowerConfig::default().validate().unwrap();
        let old_field = serde_json::from_str::<PowerConfig>(r#"{"reward": 1.1}"#).unwrap_err().to_string();
        assert!(old_field.contains("reward"), "{old_field}");
    }
}
