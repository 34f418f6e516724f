//! Builds a cluster's config step by step, and its worker plans.

use quorum_core::SupervisorConfig;
use quorum_core::mock::LlmProfile;
use quorum_core::mock::workload::WorkloadConfig;

use super::config::{ClusterConfig, WorkerPlan};
use super::error::ClusterError;
use crate::faults::{Fault, Swarm};

/// `count` workers named `w1`.. with one profile.
pub fn honest_workers(count: usize, profile: LlmProfile) -> Vec<WorkerPlan> {
    named_workers(1, count, profile)
}

/// `count` workers named from `w{first}` on, with one profile.
pub fn named_workers(first: usize, count: usize, profile: LlmProfile) -> Vec<WorkerPlan> {
    (first..first + count)
        .map(|i| WorkerPlan { name: format!("w{i}"), profile: profile.clone(), twin: false })
        .collect()
}

/// Builds a [`ClusterConfig`] step by step, turmoil-style: setters take and return
/// `&mut self`, [`ClusterBuilder::build`] validates. The seed is given to [`run`](crate::run).
///
/// ```
/// use quorum_sim::{ClusterBuilder, Fault, FaultKind, LlmProfile};
///
/// let config = ClusterBuilder::new()
///     .workers(5)
///     .spares(4)
///     .tasks(30)
///     .worker_profile("w5", LlmProfile { accuracy: 0.5, ..LlmProfile::default() })
///     .fault(Fault { at_ms: 2_000, duration_ms: 5_000, kind: FaultKind::Crash { host: "w1".into() } })
///     .build()
///     .unwrap();
/// assert_eq!(config.workers.len(), 5);
/// assert_eq!(config.spares[0].name, "w6");
/// ```
#[derive(Clone, Debug, Default)]
pub struct ClusterBuilder {
    config: ClusterConfig,
    profile: LlmProfile,
}

impl ClusterBuilder {
    /// The default cluster (see [`ClusterConfig`]).
    pub fn new() -> Self {
        Self::default()
    }

    /// `count` workers `w1..`, with the profile set by [`ClusterBuilder::profile`].
    pub fn workers(&mut self, count: usize) -> &mut Self {
        self.config.workers = honest_workers(count, self.profile.clone());
        self
    }

    /// `count` spare workers, numbered after the workers, for scaling up.
    pub fn spares(&mut self, count: usize) -> &mut Self {
        self.config.spares = named_workers(self.config.workers.len() + 1, count, self.profile.clone());
        self
    }

    /// The model of every worker and spare (set before `workers`/`spares`, or it
    /// also replaces theirs).
    pub fn profile(&mut self, profile: LlmProfile) -> &mut Self {
        for plan in self.config.workers.iter_mut().chain(&mut self.config.spares) {
            plan.profile = profile.clone();
        }
        self.profile = profile;
        self
    }

    /// The model of one worker.
    pub fn worker_profile(&mut self, name: &str, profile: LlmProfile) -> &mut Self {
        for plan in self.config.workers.iter_mut().chain(&mut self.config.spares).filter(|p| p.name == name) {
            plan.profile = profile.clone();
        }
        self
    }

    /// Makes a worker a twin (a second process answers differently under its id).
    pub fn twin(&mut self, name: &str) -> &mut Self {
        for plan in self.config.workers.iter_mut().filter(|p| p.name == name) {
            plan.twin = true;
        }
        self
    }

    /// The workload.
    pub fn workload(&mut self, workload: WorkloadConfig) -> &mut Self {
        self.config.workload = workload;
        self
    }

    /// The number of tasks.
    pub fn tasks(&mut self, count: usize) -> &mut Self {
        self.config.workload.tasks = count;
        self
    }

    /// Adds a scheduled fault.
    pub fn fault(&mut self, fault: Fault) -> &mut Self {
        self.config.faults.faults.push(fault);
        self
    }

    /// Adds random faults.
    pub fn swarm(&mut self, swarm: Swarm) -> &mut Self {
        self.config.faults.swarm = Some(swarm);
        self
    }

    /// When faults stop and the liveness phase begins.
    pub fn fault_phase_ms(&mut self, ms: u64) -> &mut Self {
        self.config.fault_phase_ms = ms;
        self
    }

    /// How long the liveness phase may last.
    pub fn liveness_ms(&mut self, ms: u64) -> &mut Self {
        self.config.liveness_ms = ms;
        self
    }

    /// The supervisor's config.
    pub fn supervisor(&mut self, config: SupervisorConfig) -> &mut Self {
        self.config.supervisor = config;
        self
    }

    /// The finished config.
    ///
    /// # Errors
    /// [`ClusterError`] naming what is wrong.
    pub fn build(&self) -> Result<ClusterConfig, ClusterError> {
        self.config.validate()?;
        Ok(self.config.clone())
    }
}
