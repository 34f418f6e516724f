//! Task analysis: how hard a task is, and so how many workers, how long, how to compare
//! answers, and how much agreement is enough.

mod heuristic;
mod llm_assisted;

pub use heuristic::HeuristicAnalyser;
pub use llm_assisted::{Analysis, LlmAnalyser, PlanFallback, PlanField, PlanSource};

use serde::{Deserialize, Serialize};

use crate::config::ConfigError;
use crate::consensus::{ConsensusConfig, Strategy};

/// Longest round timeout any plan may have (1 h): a bound that keeps every deadline
/// sum far from overflow.
pub const TIMEOUT_MS_LIMIT: u64 = 3_600_000;

/// Complexity on a 1..=10 scale.
pub const COMPLEXITY_MAX: u8 = 10;

/// What analysis decides for one task.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TaskPlan {
    /// 1 (trivial) ..= [`COMPLEXITY_MAX`].
    pub complexity: u8,
    /// Workers to ask: odd, within the pool's limits.
    pub workers: usize,
    /// Time each round of workers gets.
    pub timeout_ms: u64,
    /// How answers are compared.
    pub strategy: Strategy,
    /// Agreement needed (base of the adaptive threshold).
    pub threshold: f64,
    /// Numeric strategy: absolute tolerance.
    pub tolerance_absolute: f64,
    /// Numeric strategy: relative tolerance.
    pub tolerance_relative: f64,
}

impl TaskPlan {
    /// The consensus config for this task: `base` (the supervisor's consensus config)
    /// with the plan's strategy, threshold and tolerances, which analysis derived from
    /// that same base.
    pub fn consensus_config(&self, base: &ConsensusConfig) -> ConsensusConfig {
        ConsensusConfig {
            strategy: self.strategy,
            threshold: self.threshold,
            tolerance_absolute: self.tolerance_absolute,
            tolerance_relative: self.tolerance_relative,
            ..base.clone()
        }
    }
}

/// Bounds every plan must respect, taken from the supervisor's config.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AnalysisLimits {
    /// Fewest workers per task. Default 3.
    pub workers_min: usize,
    /// Most workers per task. Default 15.
    pub workers_max: usize,
    /// Shortest round timeout. Default 2 s.
    pub timeout_ms_min: u64,
    /// Longest round timeout. Default 120 s.
    pub timeout_ms_max: u64,
    /// Round timeout of a complexity-1 task. Default 10 s.
    pub timeout_ms_base: u64,
    /// Extra round timeout per complexity step. Default 3 s.
    pub timeout_ms_per_complexity: u64,
}

impl Default for AnalysisLimits {
    fn default() -> Self {
        Self {
            workers_min: 3,
            workers_max: 15,
            timeout_ms_min: 2_000,
            timeout_ms_max: 120_000,
            timeout_ms_base: 10_000,
            timeout_ms_per_complexity: 3_000,
        }
    }
}

impl AnalysisLimits {
    /// Checks the fields.
    ///
    /// # Errors
    /// [`ConfigError`] naming the field.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.workers_min == 0 {
            return Err(ConfigError::invalid("analysis.workers_min", 0, "at least 1"));
        }
        if self.workers_min > self.workers_max {
            return Err(ConfigError::invalid("analysis.workers_min", self.workers_min, "at most analysis.workers_max"));
        }
        if self.timeout_ms_min == 0 || self.timeout_ms_min > self.timeout_ms_max {
            return Err(ConfigError::invalid(
                "analysis.timeout_ms_min",
                self.timeout_ms_min,
                "in 1..=analysis.timeout_ms_max",
            ));
        }
        if self.timeout_ms_max > TIMEOUT_MS_LIMIT {
            return Err(ConfigError::invalid("analysis.timeout_ms_max", self.timeout_ms_max, "at most 3600000 (1 h)"));
        }
        if self.timeout_ms_base > TIMEOUT_MS_LIMIT || self.timeout_ms_per_complexity > TIMEOUT_MS_LIMIT {
            return Err(ConfigError::invalid(
                "analysis.timeout_ms_base",
                self.timeout_ms_base.max(self.timeout_ms_per_complexity),
                "timeout_ms_base and timeout_ms_per_complexity at most 3600000 (1 h)",
            ));
        }
        Ok(())
    }

    /// `workers` clamped into the limits and made odd (so a two-way split cannot tie),
    /// preferring to go down when that stays within the limits.
    pub fn clamp_workers(&self, workers: usize) -> usize {
        let clamped = workers.clamp(self.workers_min, self.workers_max);
        if clamped % 2 == 1 {
            clamped
        } else if clamped > self.workers_min {
            clamped - 1
        } else if clamped < self.workers_max {
            clamped + 1
        } else {
            clamped // min == max == even: the operator asked for exactly this.
        }
    }

    /// `timeout_ms` clamped into the limits.
    pub fn clamp_timeout_ms(&self, timeout_ms: u64) -> u64 {
        timeout_ms.clamp(self.timeout_ms_min, self.timeout_ms_max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worker_counts_are_odd_and_within_limits() {
        let limits = AnalysisLimits::default();
        for requested in 0..40 {
            let workers = limits.clamp_workers(requested);
            assert!((3..=15).contains(&workers));
            assert_eq!(workers % 2, 1, "{requested} -> {workers}");
        }
        let even_only = AnalysisLimits { workers_min: 4, workers_max: 4, ..AnalysisLimits::default() };
        assert_eq!(even_only.clamp_workers(9), 4);
    }

    #[test]
    fn limits_are_validated_by_field() {
        let bad = AnalysisLimits { workers_min: 9, workers_max: 3, ..AnalysisLimits::default() };
        assert!(bad.validate().unwrap_err().to_string().contains("analysis.workers_min"));
    }
}
