//! The worker pool: who exists, who is healthy, who is least loaded, and whether to
//! scale. Plain bookkeeping driven by the caller's clock.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::WorkerId;
use crate::config::ConfigError;
use crate::power::VotingPowers;

/// A worker's health as the supervisor sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WorkerStatus {
    /// Healthy with spare capacity.
    Available,
    /// Healthy, at capacity.
    Busy,
    /// A heartbeat is late or a call just failed: not given new work.
    Suspect,
    /// Silent for too long, or failed repeatedly: its work is reassigned.
    Offline,
}

/// Health and scaling settings. `Default` documents every default.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PoolConfig {
    /// Fewest workers to keep. Default 3.
    pub workers_min: usize,
    /// Most workers to run. Default 15.
    pub workers_max: usize,
    /// Tasks a worker takes at once, until its heartbeat says otherwise. Default 4.
    pub capacity_default: u32,
    /// Time between heartbeats. Default 1 s.
    pub heartbeat_interval_ms: u64,
    /// Silence after which a worker is suspect. Default 3 s.
    pub suspect_after_ms: u64,
    /// Silence after which a worker is offline. Default 10 s.
    pub offline_after_ms: u64,
    /// Consecutive failed calls after which a worker is offline. Default 3.
    pub failures_to_offline: u32,
    /// An idle worker above the minimum is released after this long. Default 30 s.
    pub idle_release_ms: u64,
    /// Least time between two scaling actions. Default 2 s.
    pub scale_cooldown_ms: u64,
}

impl Default for PoolConfig {
    fn default() -> Self {
        Self {
            workers_min: 3,
            workers_max: 15,
            capacity_default: 4,
            heartbeat_interval_ms: 1_000,
            suspect_after_ms: 3_000,
            offline_after_ms: 10_000,
            failures_to_offline: 3,
            idle_release_ms: 30_000,
            scale_cooldown_ms: 2_000,
        }
    }
}

/// Most workers one pool manages.
pub const WORKERS_MAX: usize = 1_000;
/// Longest pool duration setting (one day), so that sums of times cannot overflow.
pub const POOL_DURATION_MS_MAX: u64 = 86_400_000;
/// Most tasks one worker takes at once (a worker's own config refuses more): a
/// heartbeat claiming more is refused, so that one worker cannot draw every task.
pub const WORKER_CAPACITY_MAX: u32 = 1_024;

impl PoolConfig {
    /// Checks every field.
    ///
    /// # Errors
    /// [`ConfigError`] naming the field.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.workers_min == 0 {
            return Err(ConfigError::invalid("pool.workers_min", 0, "at least 1"));
        }
        if self.workers_min > self.workers_max {
            return Err(ConfigError::invalid("pool.workers_min", self.workers_min, "at most pool.workers_max"));
        }
        if self.workers_max > WORKERS_MAX {
            return Err(ConfigError::invalid("pool.workers_max", self.workers_max, "at most 1000"));
        }
        if self.capacity_default == 0 || self.capacity_default > WORKER_CAPACITY_MAX {
            return Err(ConfigError::invalid("pool.capacity_default", self.capacity_default, "1..=1024"));
        }
        if self.heartbeat_interval_ms == 0 {
            return Err(ConfigError::invalid("pool.heartbeat_interval_ms", 0, "at least 1"));
        }
        if self.suspect_after_ms < self.heartbeat_interval_ms {
            return Err(ConfigError::invalid(
                "pool.suspect_after_ms",
                self.suspect_after_ms,
                "at least pool.heartbeat_interval_ms",
            ));
        }
        if self.offline_after_ms <= self.suspect_after_ms {
            return Err(ConfigError::invalid(
                "pool.offline_after_ms",
                self.offline_after_ms,
                "more than pool.suspect_after_ms",
            ));
        }
        if self.failures_to_offline == 0 {
            return Err(ConfigError::invalid("pool.failures_to_offline", 0, "at least 1"));
        }
        let durations = [
            ("pool.heartbeat_interval_ms", self.heartbeat_interval_ms),
            ("pool.suspect_after_ms", self.suspect_after_ms),
            ("pool.offline_after_ms", self.offline_after_ms),
            ("pool.idle_release_ms", self.idle_release_ms),
            ("pool.scale_cooldown_ms", self.scale_cooldown_ms),
        ];
        for (field, value) in durations {
            if value > POOL_DURATION_MS_MAX {
                return Err(ConfigError::invalid(field, value, "at most 86400000 (one day)"));
            }
        }
        Ok(())
    }
}

/// What the pool wants from the scaler.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScaleDecision {
    /// Start this many workers.
    Up(usize),
    /// Stop this idle worker.
    Down(WorkerId),
    /// Nothing to do.
    Hold,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Entry {
    last_seen_ms: u64,
    load: u32,
    capacity: u32,
    consecutive_failures: u32,
    idle_since_ms: u64,
    draining: bool,
    /// When it was last given work (the pool's assignment counter), so that work
    /// spreads over equally good workers instead of always going to the first ones.
    #[serde(default)]
    last_assigned: u64,
}

/// One worker's line in a pool snapshot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkerSummary {
    /// Which worker.
    pub worker: WorkerId,
    /// Its status now.
    pub status: WorkerStatus,
    /// Tasks assigned to it.
    pub load: u32,
    /// Tasks it takes at once.
    pub capacity: u32,
}

/// Every known worker and its health.
#[derive(Clone, Debug)]
pub struct WorkerPool {
    config: PoolConfig,
    workers: BTreeMap<WorkerId, Entry>,
    last_scaled_ms: Option<u64>,
    assignments: u64,
}

impl WorkerPool {
    /// An empty pool (validate `config` first).
    pub fn new(config: PoolConfig) -> Self {
        Self { config, workers: BTreeMap::new(), last_scaled_ms: None, assignments: 0 }
    }

    /// The pool's settings.
    pub fn config(&self) -> &PoolConfig {
        &self.config
    }

    /// Adds a worker, healthy as of `now_ms`; a known worker is refreshed instead.
    pub fn register(&mut self, worker: WorkerId, now_ms: u64) {
        let capacity = self.config.capacity_default;
        let entry = self.workers.entry(worker).or_insert(Entry {
            last_seen_ms: now_ms,
            load: 0,
            capacity,
            consecutive_failures: 0,
            idle_since_ms: now_ms,
            draining: false,
            last_assigned: 0,
        });
        entry.last_seen_ms = now_ms;
        entry.consecutive_failures = 0;
    }

    /// Forgets a worker.
    pub fn remove(&mut self, worker: &WorkerId) -> bool {
        self.workers.remove(worker).is_some()
    }

    /// A heartbeat arrived: the worker is alive (an offline worker recovers).
    pub fn handle_heartbeat(&mut self, worker: &WorkerId, capacity: u32, now_ms: u64) {
        self.handle_success(worker, now_ms);
        if let Some(entry) = self.workers.get_mut(worker) {
            entry.capacity = capacity.clamp(1, WORKER_CAPACITY_MAX);
        }
    }

    /// A call to the worker succeeded: it is alive.
    pub fn handle_success(&mut self, worker: &WorkerId, now_ms: u64) {
        if let Some(entry) = self.workers.get_mut(worker) {
            entry.last_seen_ms = now_ms;
            entry.consecutive_failures = 0;
        }
    }

    /// A call to the worker failed for a health reason; returns whether the worker is
    /// now offline.
    pub fn handle_failure(&mut self, worker: &WorkerId, now_ms: u64) -> bool {
        let Some(entry) = self.workers.get_mut(worker) else { return false };
        entry.consecutive_failures = entry.consecutive_failures.saturating_add(1);
        self.status(worker, now_ms) == Some(WorkerStatus::Offline)
    }

    /// The worker's status at `now_ms`.
    pub fn status(&self, worker: &WorkerId, now_ms: u64) -> Option<WorkerStatus> {
        self.workers.get(worker).map(|entry| self.status_of(entry, now_ms))
    }

    fn status_of(&self, entry: &Entry, now_ms: u64) -> WorkerStatus {
        let silence = now_ms.saturating_sub(entry.last_seen_ms);
        if entry.consecutive_failures >= self.config.failures_to_offline || silence > self.config.offline_after_ms {
            WorkerStatus::Offline
        } else if entry.consecutive_failures > 0 || silence > self.config.suspect_after_ms {
            WorkerStatus::Suspect
        } else if entry.load >= entry.capacity {
            WorkerStatus::Busy
        } else {
            WorkerStatus::Available
        }
    }

    /// Up to `count` distinct available workers not in `exclude`, least loaded first,
    /// then most powerful, then least recently assigned, then by id.
    pub fn select(
        &self,
        count: usize,
        exclude: &BTreeSet<WorkerId>,
        powers: &VotingPowers,
        now_ms: u64,
    ) -> Vec<WorkerId> {
        let mut candidates: Vec<(&WorkerId, &Entry)> = self
            .workers
            .iter()
            .filter(|(id, entry)| {
                !entry.draining && !exclude.contains(*id) && self.status_of(entry, now_ms) == WorkerStatus::Available
            })
            .collect();
        candidates.sort_by(|(a_id, a), (b_id, b)| {
            a.load
                .cmp(&b.load)
                .then(powers.power(b_id).total_cmp(&powers.power(a_id)))
                .then(a.last_assigned.cmp(&b.last_assigned))
                .then(a_id.cmp(b_id))
        });
        candidates.into_iter().take(count).map(|(id, _)| id.clone()).collect()
    }

    /// Counts a task against the worker's load.
    pub fn assign(&mut self, worker: &WorkerId) {
        if let Some(entry) = self.workers.get_mut(worker) {
            self.assignments += 1;
            entry.last_assigned = self.assignments;
            entry.load = entry.load.saturating_add(1);
        }
    }

    /// Releases one task of the worker's load.
    pub fn release(&mut self, worker: &WorkerId, now_ms: u64) {
        if let Some(entry) = self.workers.get_mut(worker) {
            entry.load = entry.load.saturating_sub(1);
            if entry.load == 0 {
                entry.idle_since_ms = now_ms;
            }
        }
    }

    /// Workers that can take work now or soon (available or busy, not draining).
    pub fn healthy(&self, now_ms: u64) -> usize {
        self.workers
            .values()
            .filter(|e| {
                !e.draining && matches!(self.status_of(e, now_ms), WorkerStatus::Available | WorkerStatus::Busy)
            })
            .count()
    }

    /// Every worker id.
    pub fn ids(&self) -> impl Iterator<Item = &WorkerId> {
        self.workers.keys()
    }

    /// Tasks counted against the worker's load, if it is known.
    pub fn load(&self, worker: &WorkerId) -> Option<u32> {
        self.workers.get(worker).map(|entry| entry.load)
    }

    /// Whether the worker is known.
    pub fn contains(&self, worker: &WorkerId) -> bool {
        self.workers.contains_key(worker)
    }

    /// Every worker's status, by id.
    pub fn snapshot(&self, now_ms: u64) -> Vec<WorkerSummary> {
        self.workers
            .iter()
            .map(|(id, e)| WorkerSummary {
                worker: id.clone(),
                status: self.status_of(e, now_ms),
                load: e.load,
                capacity: e.capacity,
            })
            .collect()
    }

    /// Whether to add or release workers, given the demand in worker slots (tasks
    /// queued or running times the workers each needs) and the scale-ups already
    /// requested but not yet arrived.
    ///
    /// Up when the healthy workers cannot serve the demand (or are fewer than the
    /// minimum), by the shortfall, without passing the maximum; down, one at a time,
    /// when there is no demand waiting and a worker above the minimum has been idle
    /// for `idle_release_ms`. At most one action per `scale_cooldown_ms`.
    pub fn scaling_decision(
        &self,
        demand_slots: usize,
        queued_tasks: usize,
        pending_up: usize,
        now_ms: u64,
    ) -> ScaleDecision {
        if self.last_scaled_ms.is_some_and(|at| now_ms < at + self.config.scale_cooldown_ms) {
            return ScaleDecision::Hold;
        }
        let healthy = self.healthy(now_ms) + pending_up;
        let live =
            self.workers.values().filter(|e| self.status_of(e, now_ms) != WorkerStatus::Offline).count() + pending_up;
        let capacity = self.config.capacity_default.max(1) as usize;
        let wanted = demand_slots.div_ceil(capacity).max(self.config.workers_min);
        if healthy < wanted && live < self.config.workers_max {
            let room = self.config.workers_max - live;
            return ScaleDecision::Up((wanted - healthy).min(room));
        }
        if queued_tasks == 0 && healthy > self.config.workers_min && healthy > wanted {
            let idle = self
                .workers
                .iter()
                .filter(|(_, e)| {
                    !e.draining && e.load == 0 && now_ms.saturating_sub(e.idle_since_ms) >= self.config.idle_release_ms
                })
                .map(|(id, _)| id)
                .next_back();
            if let Some(worker) = idle {
                return ScaleDecision::Down(worker.clone());
            }
        }
        ScaleDecision::Hold
    }

    /// Records that a scaling action was taken at `now_ms` (starts the cooldown).
    pub fn record_scaling(&mut self, now_ms: u64) {
        self.last_scaled_ms = Some(now_ms);
    }

    /// Stops giving `worker` new work (it is about to be released).
    pub fn drain(&mut self, worker: &WorkerId) {
        if let Some(entry) = self.workers.get_mut(worker) {
            entry.draining = true;
        }
    }
}

#[cfg(test)]
mod tests;
