//! Supervisor configuration.

use serde::{Deserialize, Serialize};

use crate::analysis::AnalysisLimits;
use crate::config::ConfigError;
use crate::consensus::ConsensusConfig;
use crate::pool::PoolConfig;
use crate::power::PowerConfig;

/// Most rounds one task may take; each round costs LLM calls on several workers.
pub const ATTEMPTS_MAX_LIMIT: u32 = 20;
/// Longest wait between two rounds of one task.
pub const ROUND_RETRY_DELAY_MS_MAX: u64 = 30_000;

/// Everything a supervisor needs. `Default` documents every default; `validate`
/// rejects what cannot work, naming the field.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SupervisorConfig {
    /// Worker health and scaling.
    pub pool: PoolConfig,
    /// Bounds on task plans.
    pub analysis: AnalysisLimits,
    /// Consensus parameters the plans start from.
    pub consensus: ConsensusConfig,
    /// How voting power learns.
    pub power: PowerConfig,
    /// Rounds of assignment per task, the first included. Default 3.
    pub attempts_max: u32,
    /// Wait before a task's second round; it doubles for each further round (capped
    /// at 30 s), so that retries spread out instead of all landing in one outage or
    /// rate-limit storm. Default 1 s.
    pub round_retry_delay_ms: u64,
    /// Extra workers asked once after a split vote. Default 2; 0 disables escalation.
    pub escalation_workers: usize,
    /// Decide as soon as the outstanding answers cannot change the outcome. Default on.
    pub early_stop: bool,
    /// Ask the scaler for workers as load demands. Default on.
    pub scaling: bool,
    /// Tasks waiting at most. Default 10,000: beyond it submissions are refused
    /// rather than letting memory grow without bound.
    pub queue_length_max: usize,
    /// Tasks running at once at most. Default 256.
    pub running_tasks_max: usize,
    /// How long a task may wait for workers before it fails. Default 60 s.
    pub queue_wait_ms_max: u64,
    /// Results remembered for idempotent resubmission. Default 10,000.
    pub completed_results_max: usize,
}

impl Default for SupervisorConfig {
    fn default() -> Self {
        Self {
            pool: PoolConfig::default(),
            analysis: AnalysisLimits::default(),
            consensus: ConsensusConfig::default(),
            power: PowerConfig::default(),
            attempts_max: 3,
            round_retry_delay_ms: 1_000,
            escalation_workers: 2,
            early_stop: true,
            scaling: true,
            queue_length_max: 10_000,
            running_tasks_max: 256,
            queue_wait_ms_max: 60_000,
            completed_results_max: 10_000,
        }
    }
}

impl SupervisorConfig {
    /// Checks every field and the relations between them.
    ///
    /// # Errors
    /// [`ConfigError`] naming the first bad field.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.pool.validate()?;
        self.analysis.validate()?;
        self.consensus.validate()?;
        self.power.validate()?;
        if self.analysis.workers_max > self.pool.workers_max {
            return Err(ConfigError::invalid(
                "analysis.workers_max",
                self.analysis.workers_max,
                "at most pool.workers_max",
            ));
        }
        if self.attempts_max == 0 || self.attempts_max > ATTEMPTS_MAX_LIMIT {
            return Err(ConfigError::invalid("supervisor.attempts_max", self.attempts_max, "1..=20"));
        }
        if self.queue_length_max == 0 {
            return Err(ConfigError::invalid("supervisor.queue_length_max", 0, "at least 1"));
        }
        if self.running_tasks_max == 0 {
            return Err(ConfigError::invalid("supervisor.running_tasks_max", 0, "at least 1"));
        }
        if self.queue_wait_ms_max == 0 {
            return Err(ConfigError::invalid("supervisor.queue_wait_ms_max", 0, "at least 1"));
        }
        if self.escalation_workers > self.pool.workers_max {
            return Err(ConfigError::invalid(
                "supervisor.escalation_workers",
                self.escalation_workers,
                "at most pool.workers_max",
            ));
        }
        Ok(())
    }

    /// A config whose pool and plan limits both span `workers_min..=workers_max`.
    #[must_use]
    pub fn with_workers(mut self, workers_min: usize, workers_max: usize) -> Self {
        self.pool.workers_min = workers_min;
        self.pool.workers_max = workers_max;
        self.analysis.workers_max = workers_max.min(self.analysis.workers_max);
        self.analysis.workers_min = self.analysis.workers_min.min(self.analysis.workers_max);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_valid_and_bad_fields_are_named() {
        SupervisorConfig::default().validate().unwrap();
        let mut config = SupervisorConfig::default();
        config.pool.workers_min = 20;
        assert!(config.validate().unwrap_err().to_string().contains("pool.workers_min"));
        let mut config = SupervisorConfig::default();
        config.pool.workers_max = 0;
        config.pool.workers_min = 0;
        assert!(config.validate().unwrap_err().to_string().contains("pool.workers_min"));
        let mut config = SupervisorConfig::default();
        config.consensus.tolerance_absolute = -1.0;
        assert!(config.validate().unwrap_err().to_string().contains("consensus.tolerance_absolute"));
        let mut config = SupervisorConfig::default();
        config.consensus.threshold = 1.2;
        assert!(config.validate().unwrap_err().to_string().contains("consensus.threshold"));
        let mut config = SupervisorConfig::default();
        config.analysis.workers_max = 99;
        assert!(config.validate().unwrap_err().to_string().contains("analysis.workers_max"));
    }
}
