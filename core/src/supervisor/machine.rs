//! The supervisor as a deterministic state machine: no I/O, no clock, no randomness.
//!
//! Inputs arrive through `handle_*` methods that take `now_ms`; outputs leave through
//! `poll_command`, `poll_result` and `poll_timeout`. A driver (see
//! [`super::Supervisor`]) feeds it from the network and the clock; tests feed it by
//! hand. After any input, drain `poll_command` and `poll_result`, then sleep until
//! `poll_timeout` and call `handle_timeout`.
//!
//! Every input from a worker is untrusted: [`admission`] checks it against what the
//! machine asked for, and a refusal is a typed, counted [`AnswerRejection`] or
//! [`HeartbeatRejection`] (see [`super::rejection`]), never a panic. After every
//! input the machine checks its own invariants ([`SupervisorMachine::assert_invariants`])
//! in debug builds and whenever [`SupervisorConfig::check_invariants`] is on (every
//! simulation).
//!
//! # Layout
//! - this file: the machine's state, its outputs (`poll_*`) and read-only views;
//! - [`inputs`]: the `handle_*` methods;
//! - [`admission`]: whether an answer may count, and the health mark if not;
//! - [`annotation`]: which answers are worth the supervisor's own model calls;
//! - [`rounds`]: scheduling, rounds, deciding and finishing a task;
//! - [`health`]: workers going offline, heartbeats, scaling;
//! - [`journaling`]: what goes to the journal, and resuming from it;
//! - [`invariants`]: what must hold between any two inputs;
//! - [`stats`]: the counters of refused inputs.
//!
//! [`AnswerRejection`]: super::AnswerRejection
//! [`HeartbeatRejection`]: super::HeartbeatRejection

mod admission;
mod annotation;
mod health;
mod inputs;
mod invariants;
mod journaling;
mod membership;
mod rounds;
mod stats;

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use serde::{Deserialize, Serialize};

use super::config::SupervisorConfig;
use super::task_state::TaskState;
use crate::analysis::HeuristicAnalyser;
use crate::config::ConfigError;
use crate::journal::JournalWrite;
use crate::link::ExecuteRequest;
use crate::pool::{WorkerPool, WorkerSummary};
use crate::power::VotingPowers;
use crate::queue::{QueueError, TaskQueue};
use crate::result::TaskResult;
use crate::task::TaskError;
use crate::{TaskId, WorkerId};

pub use invariants::MachineInvariant;
pub use stats::SupervisorStats;

/// Something the driver must do.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Command {
    /// Send a task to a worker; report the outcome with `handle_answer`.
    Execute {
        /// To whom.
        worker: WorkerId,
        /// What.
        request: ExecuteRequest,
    },
    /// Tell a worker to stop (best effort; no report needed).
    Cancel {
        /// Whom.
        worker: WorkerId,
        /// Which task.
        task: TaskId,
    },
    /// Ask a worker for a heartbeat; report with `handle_heartbeat`.
    Heartbeat {
        /// Whom.
        worker: WorkerId,
    },
    /// Start workers; report with `handle_scaled_up`.
    ScaleUp {
        /// How many.
        count: usize,
    },
    /// Stop a worker; report with `handle_scaled_down`.
    ScaleDown {
        /// Which.
        worker: WorkerId,
    },
}

/// What became of a submission.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Submitted {
    /// New task, queued.
    Accepted,
    /// This id is queued or running already; its result will come once.
    InProgress,
    /// This id finished already; here is its result again.
    Completed(Box<TaskResult>),
}

/// Why a submission was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubmitError {
    /// The task itself is invalid.
    #[error(transparent)]
    Invalid(#[from] TaskError),
    /// The queue is full; try later.
    #[error(transparent)]
    Queue(#[from] QueueError),
    /// The supervisor is shutting down.
    #[error("supervisor is shutting down")]
    ShuttingDown,
    /// The task could not be journaled, so it was not accepted; the supervisor
    /// stops rather than promise what it cannot keep.
    #[error("not accepted: {0}")]
    Journal(#[from] crate::journal::JournalError),
}

/// The supervisor's state machine.
#[derive(Debug)]
pub struct SupervisorMachine {
    config: SupervisorConfig,
    analyser: HeuristicAnalyser,
    pool: WorkerPool,
    powers: VotingPowers,
    queue: TaskQueue,
    tasks: BTreeMap<TaskId, TaskState>,
    running: usize,
    completed: BTreeMap<TaskId, TaskResult>,
    completed_order: VecDeque<TaskId>,
    commands: VecDeque<Command>,
    results: VecDeque<TaskResult>,
    next_heartbeat_ms: u64,
    known_offline: BTreeSet<WorkerId>,
    scale_up_pending: usize,
    scaling_supported: bool,
    shutting_down: bool,
    stats: SupervisorStats,
    /// The latest time any input carried: wake-ups at or before it are due already.
    clock_ms: u64,
    /// The latest `handle_timeout` instant.
    last_timeout_ms: Option<u64>,
    /// Writes for the journal, when journaling is on (see `journaling`).
    journal: Option<VecDeque<JournalWrite>>,
}

impl SupervisorMachine {
    /// A machine with no workers.
    ///
    /// # Errors
    /// [`ConfigError`] for an invalid config.
    pub fn new(config: SupervisorConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        Ok(Self {
            analyser: config.heuristic_analyser(),
            pool: WorkerPool::new(config.pool.clone()),
            powers: VotingPowers::new(config.power.clone(), config.consensus.weighting),
            queue: TaskQueue::new(config.queue_length_max, config.attempts_max),
            scaling_supported: config.scaling,
            config,
            tasks: BTreeMap::new(),
            running: 0,
            completed: BTreeMap::new(),
            completed_order: VecDeque::new(),
            commands: VecDeque::new(),
            results: VecDeque::new(),
            next_heartbeat_ms: 0,
            known_offline: BTreeSet::new(),
            scale_up_pending: 0,
            shutting_down: false,
            stats: SupervisorStats::default(),
            clock_ms: 0,
            last_timeout_ms: None,
            journal: None,
        })
    }

    // ----- outputs -----

    /// The next command for the driver.
    #[must_use]
    pub fn poll_command(&mut self) -> Option<Command> {
        self.commands.pop_front()
    }

    /// The next finished task.
    #[must_use]
    pub fn poll_result(&mut self) -> Option<TaskResult> {
        self.results.pop_front()
    }

    /// When to call `handle_timeout` next, in ms on the caller's clock.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<u64> {
        if self.shutting_down && self.tasks.is_empty() {
            return None;
        }
        let deadlines = self.tasks.values().filter_map(|s| s.deadline_ms);
        let waits = self
            .tasks
            .values()
            .filter_map(|s| s.queued_since_ms.map(|since| since.saturating_add(self.config.queue_wait_ms_max)));
        // Only future retry times: a task that may run already waits for workers, and
        // those arrive as inputs, not as time.
        let retries = self
            .tasks
            .values()
            .filter(|s| s.queued_since_ms.is_some() && s.eligible_at_ms > self.clock_ms)
            .map(|s| s.eligible_at_ms);
        let next = deadlines.chain(waits).chain(retries).chain(core::iter::once(self.next_heartbeat_ms)).min()?;
        // Everything due at the last `handle_timeout` was handled by it, so a wake-up
        // at or before that instant would only make the driver spin while time
        // stands still (issue 7, item 2): the next one is always later.
        Some(next.max(self.last_timeout_ms.map_or(0, |at| at.saturating_add(1))))
    }

    /// Whether no task is queued or running.
    pub fn is_idle(&self) -> bool {
        self.tasks.is_empty()
    }

    /// Whether `shutdown` was called.
    pub fn is_shutting_down(&self) -> bool {
        self.shutting_down
    }

    /// Every worker's status.
    pub fn workers(&self, now_ms: u64) -> Vec<WorkerSummary> {
        self.pool.snapshot(now_ms)
    }

    /// Learned voting powers.
    pub fn powers(&self) -> &VotingPowers {
        &self.powers
    }

    /// Time between heartbeats.
    pub fn heartbeat_interval_ms(&self) -> u64 {
        self.config.pool.heartbeat_interval_ms
    }

    /// Counters of refused and ignored inputs.
    pub fn stats(&self) -> &SupervisorStats {
        &self.stats
    }

    /// Whether the invariants are checked after every input: always in debug
    /// builds, and when the config asks (every simulation).
    pub fn checks_invariants(&self) -> bool {
        cfg!(debug_assertions) || self.config.check_invariants
    }

    /// Checks the invariants after an input, when they are checked at all.
    ///
    /// # Panics
    /// When one is broken: that is a bug in the machine, never bad input, and a run
    /// that carried on would only hide where it began.
    fn check_invariants(&self) {
        if self.checks_invariants()
            && let Err(broken) = self.assert_invariants()
        {
            panic!("supervisor invariant broken: {broken}");
        }
    }

    /// Tasks queued, tasks running.
    pub fn load(&self) -> (usize, usize) {
        (self.queue.len(), self.running)
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod boundary_tests;

#[cfg(test)]
mod journal_tests;
