//! Learned voting power: each worker's weight follows its agreement with accepted
//! outcomes, like the weighted-majority algorithm, within bounds.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::WorkerId;
use crate::config::ConfigError;

/// How voting power learns. `Default` documents every default.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PowerConfig {
    /// Power of a worker without a record. Default 1.
    pub initial: f64,
    /// Lowest power. Default 0.25: a worker that was often wrong still counts a little,
    /// so it can earn its way back.
    pub min: f64,
    /// Highest power. Default 4: no single worker outvotes a panel of average ones.
    pub max: f64,
    /// Factor applied when a worker agreed with an accepted outcome. Default 1.1.
    pub reward: f64,
    /// Factor applied when it disagreed. Default 0.8: being wrong costs more than being
    /// right earns, because a wrong majority is the expensive failure.
    pub penalty: f64,
}

impl Default for PowerConfig {
    fn default() -> Self {
        Self { initial: 1.0, min: 0.25, max: 4.0, reward: 1.1, penalty: 0.8 }
    }
}

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
        if !(finite_positive(self.reward) && self.reward >= 1.0) {
            return Err(ConfigError::invalid("power.reward", self.reward, "a number >= 1"));
        }
        if !(finite_positive(self.penalty) && self.penalty <= 1.0) {
            return Err(ConfigError::invalid("power.penalty", self.penalty, "a number in (0, 1]"));
        }
        Ok(())
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
    records: BTreeMap<WorkerId, PowerRecord>,
}

impl VotingPowers {
    /// Powers learned under `config` (validate it first).
    pub fn new(config: PowerConfig) -> Self {
        Self { config, records: BTreeMap::new() }
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
        let factor = if agreed {
            record.agreed += 1;
            self.config.reward
        } else {
            record.disagreed += 1;
            self.config.penalty
        };
        record.power = (record.power * factor).clamp(self.config.min, self.config.max);
    }

    /// Every record, by worker id.
    pub fn records(&self) -> &BTreeMap<WorkerId, PowerRecord> {
        &self.records
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn power_moves_with_the_record_and_stays_bounded() {
        let mut powers = VotingPowers::new(PowerConfig::default());
        let good = WorkerId::from("good");
        let bad = WorkerId::from("bad");
        for _ in 0..100 {
            powers.record(&good, true);
            powers.record(&bad, false);
        }
        assert_eq!(powers.power(&good), 4.0);
        assert_eq!(powers.power(&bad), 0.25);
        assert_eq!(powers.power(&WorkerId::from("new")), 1.0);
        powers.record(&bad, true);
        assert!(powers.power(&bad) > 0.25, "a bad worker can earn its way back");
        assert_eq!(powers.records()[&good].agreed, 100);
    }

    #[test]
    fn config_validation_names_fields() {
        let bad = PowerConfig { penalty: 1.5, ..PowerConfig::default() };
        assert!(bad.validate().unwrap_err().to_string().contains("power.penalty"));
        let bad = PowerConfig { min: 2.0, max: 1.0, initial: 1.5, ..PowerConfig::default() };
        assert!(bad.validate().unwrap_err().to_string().contains("power.max"));
    }
}
