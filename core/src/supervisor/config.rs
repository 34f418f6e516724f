//! Supervisor configuration.

use serde::{Deserialize, Serialize};

use super::deadlines::Deadlines;
use crate::analysis::{AnalysisLimits, HeuristicAnalyser};
use crate::config::ConfigError;
use crate::consensus::{ConsensusConfig, Strategy};
use crate::pool::PoolConfig;
use crate::power::PowerConfig;

/// Most rounds one task may take; each round costs LLM calls on several workers.
pub const ATTEMPTS_MAX_LIMIT: u32 = 20;
/// Longest wait between two rounds of one task.
pub const ROUND_RETRY_DELAY_MS_MAX: u64 = 30_000;
/// Longest any supervisor duration setting may be (one day): every deadline is a sum
/// of a few of them, which stays far from `u64` overflow.
pub const SUPERVISOR_DURATION_MS_MAX: u64 = 86_400_000;

/// Everything a supervisor needs. `Default` documents every default; `validate`
/// rejects what cannot work, naming the field.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SupervisorConfig {
    /// Worker health and scaling.
    pub pool: PoolConfig,
    /// Bounds on task plans.
    pub analysis: AnalysisLimits,
    /// The base consensus config: each task's plan adapts from it (the threshold
    /// only rises, for coin-flip questions; the relative tolerance only widens, for
    /// approximations and divisions; every other field is used as it is). Its
    /// `strategy` must stay at the default: the strategy is chosen per task, or
    /// forced with `strategy` below.
    pub consensus: ConsensusConfig,
    /// One matching strategy for every task (`exact`, `numeric`, `semantic`).
    /// Default: none, the analyser picks one per task from its text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub strategy: Option<Strategy>,
    /// How voting power learns.
    pub power: PowerConfig,
    /// Rounds of assignment per task, the first included, at most: a hard cap behind
    /// `retry_budget_ms`, which is what normally ends retrying. Default 10.
    pub attempts_max: u32,
    /// Time from a task's first round within which a further round may start. A
    /// budget in time rather than a count, so that a short outage or storm cannot
    /// use up a task's retries. Default 90 s.
    pub retry_budget_ms: u64,
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
    /// Deadlines of every call the supervisor makes or takes.
    pub deadlines: Deadlines,
    /// Events buffered per task for its subscribers; when full, the oldest are
    /// dropped (never the final result), so a slow subscriber costs bounded memory.
    /// Default 64, at most 4,096.
    pub task_events_max: usize,
    /// Check the machine's invariants after every input, panicking on a broken one
    /// (see `SupervisorMachine::assert_invariants`). Always on in debug builds;
    /// simulations switch it on so release sweeps check too. Default off: it costs a
    /// pass over the open tasks per input.
    #[serde(skip_serializing_if = "core::ops::Not::not")]
    pub check_invariants: bool,
}

/// Most events buffered per task: each may carry an answer that passed the
/// boundary, so of at most `ANSWER_BYTES_MAX` bytes.
pub const TASK_EVENTS_MAX_LIMIT: usize = 4_096;

impl Default for SupervisorConfig {
    fn default() -> Self {
        Self {
            pool: PoolConfig::default(),
            analysis: AnalysisLimits::default(),
            consensus: ConsensusConfig::default(),
            power: PowerConfig::default(),
            strategy: None,
            attempts_max: 10,
            retry_budget_ms: 90_000,
            round_retry_delay_ms: 1_000,
            escalation_workers: 2,
            early_stop: true,
            scaling: true,
            queue_length_max: 10_000,
            running_tasks_max: 256,
            queue_wait_ms_max: 60_000,
            completed_results_max: 10_000,
            deadlines: Deadlines::default(),
            task_events_max: 64,
            check_invariants: false,
        }
    }
}

impl SupervisorConfig {
    /// The heuristic analyser this config plans tasks with: its limits, adapting from
    /// the consensus base, any forced strategy.
    pub fn heuristic_analyser(&self) -> HeuristicAnalyser {
        HeuristicAnalyser::new(self.analysis.clone()).with_base(self.consensus.clone(), self.strategy)
    }

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
        if self.consensus.strategy != ConsensusConfig::default().strategy {
            return Err(ConfigError::invalid(
                "consensus.strategy",
                self.consensus.strategy.as_str(),
                "chosen per task by analysis; set supervisor.strategy to force one",
            ));
        }
        let durations = [
            ("supervisor.queue_wait_ms_max", self.queue_wait_ms_max, 1, "in 1..=86400000 (one day)"),
            ("supervisor.retry_budget_ms", self.retry_budget_ms, 0, "in 0..=86400000 (one day)"),
            ("supervisor.round_retry_delay_ms", self.round_retry_delay_ms, 0, "in 0..=86400000 (one day)"),
        ];
        for (field, value, least, expected) in durations {
            if value < least || value > SUPERVISOR_DURATION_MS_MAX {
                return Err(ConfigError::invalid(field, value, expected));
            }
        }
        self.deadlines.validate(self.pool.heartbeat_interval_ms)?;
        if self.task_events_max < 2 || self.task_events_max > TASK_EVENTS_MAX_LIMIT {
            // Two at least: room for the final result beside the latest other event.
            return Err(ConfigError::invalid("supervisor.task_events_max", self.task_events_max, "in 2..=4096"));
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

    /// The config for a deployment of only `workers` workers in all (spares
    /// included): plans never ask for more workers than exist, so a cluster smaller
    /// than `analysis.workers_min` still works (one worker: what it answers is the
    /// unanimous answer) instead of waiting for workers that can never come.
    #[must_use]
    pub fn fit_to_workers(mut self, workers: usize) -> Self {
        let workers = workers.max(1);
        self.pool.workers_max = self.pool.workers_max.min(workers);
        self.pool.workers_min = self.pool.workers_min.min(self.pool.workers_max);
        self.analysis.workers_max = self.analysis.workers_max.min(workers);
        self.analysis.workers_min = self.analysis.workers_min.min(self.analysis.workers_max);
        self.escalation_workers = self.escalation_workers.min(self.pool.workers_max);
        self
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
        // Regression (issue 7, item 2): a huge queue wait overflowed a deadline sum
        // and the driver spun forever.
        let config = SupervisorConfig { queue_wait_ms_max: u64::MAX, ..SupervisorConfig::default() };
        assert!(config.validate().unwrap_err().to_string().contains("supervisor.queue_wait_ms_max"));
        // Regression (issue 7, item 4): a strategy here was overwritten by every plan.
        let mut config = SupervisorConfig::default();
        config.consensus.strategy = Strategy::Numeric;
        assert!(config.validate().unwrap_err().to_string().contains("supervisor.strategy"));
        let mut config = SupervisorConfig::default();
        config.deadlines.heartbeat_call_ms = config.pool.heartbeat_interval_ms + 1;
        assert!(config.validate().unwrap_err().to_string().contains("supervisor.deadlines.heartbeat_call_ms"));
        let config = SupervisorConfig { task_events_max: 1, ..SupervisorConfig::default() };
        assert!(config.validate().unwrap_err().to_string().contains("supervisor.task_events_max"));
    }
}
