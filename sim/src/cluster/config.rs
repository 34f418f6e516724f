//! The cluster's config: its workers, limits and host names, and its validation.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use quorum_core::mock::LlmProfile;
use quorum_core::mock::workload::WorkloadConfig;
use quorum_core::{SupervisorConfig, WorkerConfig};

use super::builder::honest_workers;
use super::error::ClusterError;
use super::run::RunWindow;
use crate::faults::{FAULT_LATENCY_MS_MAX, Fault, FaultPlan, Hosts, timeline};
use crate::p2p::P2pConfig;
use crate::transport::Transport;

/// Most workers (active and spare) one cluster may have.
const CLUSTER_WORKERS_MAX: usize = 64;
/// Default of [`ClusterConfig::tcp_capacity`].
const TCP_CAPACITY_DEFAULT: usize = 65_536;
/// Largest [`ClusterConfig::tcp_capacity`].
const TCP_CAPACITY_MAX: usize = 1 << 20;
/// Longest fault phase, liveness window or settle time (one day).
const PHASE_MS_MAX: u64 = 86_400_000;
/// Longest host name: turmoil hosts and worker ids.
const HOST_NAME_BYTES_MAX: usize = 32;
/// The client's host name.
pub const CLIENT_HOST: &str = "client";
/// The supervisor's host name.
pub const SUPERVISOR_HOST: &str = "supervisor";

/// One worker of the cluster.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WorkerPlan {
    /// Host name and worker id.
    pub name: String,
    /// Its model.
    pub profile: LlmProfile,
    /// Whether a twin pushes conflicting answers under its id.
    #[serde(default)]
    pub twin: bool,
}

/// The whole simulated setup. `Default`: 5 honest workers, 20 tasks, no faults.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClusterConfig {
    /// Workers running from the start.
    pub workers: Vec<WorkerPlan>,
    /// Spare workers the supervisor may scale up to.
    pub spares: Vec<WorkerPlan>,
    /// The supervisor's config.
    pub supervisor: SupervisorConfig,
    /// Every worker's config.
    pub worker: WorkerConfig,
    /// The workload.
    pub workload: WorkloadConfig,
    /// The faults.
    pub faults: FaultPlan,
    /// Faults start in `0..fault_phase_ms` (a scheduled fault starting later is an
    /// error) and are cut short at its end; the swarm draws its faults over it.
    /// Default 60 s.
    pub fault_phase_ms: u64,
    /// The time all work has to finish, counted from the last task's arrival or the
    /// last fault's end, whichever is later. Default 180 s.
    pub liveness_ms: u64,
    /// How long the run goes on once every task has its result and every fault has
    /// ended (heals, restarts, storm ends), so that recovery is exercised and
    /// observed. Default 5 s.
    pub settle_ms: u64,
    /// turmoil's TCP buffers: the listener backlog and each stream's segments. turmoil
    /// panics when a backlog overflows instead of refusing the connection, so the
    /// default (65,536) is far above what the client's bounded calls and the
    /// supervisor's bounded rounds can open within the accepted limits; a smaller
    /// value can make a run fail with `panic`.
    pub tcp_capacity: usize,
    /// Simulation step. Default 25 ms: model latencies are hundreds of ms to seconds,
    /// so a coarser network clock loses nothing that matters and runs about twice as
    /// fast as 10 ms (see the throughput bench).
    pub tick_ms: u64,
    /// Largest network latency (turmoil draws each message's latency up to it).
    /// Default 50 ms.
    pub latency_ms_max: u64,
    /// Whether the supervisor asks an entailment judge (the mock, which knows the
    /// workload's truths) whether the answers of a semantic task mean the same, and
    /// groups them by the meaning classes it gives. Default off.
    #[serde(skip_serializing_if = "core::ops::Not::not")]
    pub entailment: bool,
    /// The wire between hosts: the simulation's own frames (default) or quorum-grpc,
    /// the gRPC stack real mode ships.
    #[serde(skip_serializing_if = "Transport::is_frames")]
    pub transport: Transport,
    /// Whether the supervisor journals to its disk (turmoil's simulated file system,
    /// where a crash loses what was never synced) and recovers from it when it
    /// restarts. Default off: a crash loses its memory.
    #[serde(skip_serializing_if = "core::ops::Not::not")]
    pub journal: bool,
    /// How the client behaves.
    #[serde(skip_serializing_if = "ClientConfig::is_default")]
    pub client: ClientConfig,
    /// What runs: a supervisor and its workers (the default), or P2P agents.
    #[serde(skip_serializing_if = "Mode::is_supervisor")]
    pub mode: Mode,
    /// The agents of P2P mode (read only when `mode = "p2p"`; `workers`,
    /// `spares`, `supervisor`, `journal` and `client` are then unused).
    #[serde(skip_serializing_if = "P2pConfig::is_default")]
    pub p2p: P2pConfig,
}

/// What a cluster runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// A supervisor fans tasks out to workers and decides.
    #[default]
    Supervisor,
    /// Agents without a supervisor commit each result by HotStuff.
    P2p,
}

impl Mode {
    /// Its name, as scenario files write it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Supervisor => "supervisor",
            Self::P2p => "p2p",
        }
    }

    /// Whether this is the default, supervisor mode (a config leaves it out).
    pub fn is_supervisor(&self) -> bool {
        *self == Self::Supervisor
    }
}

/// How the simulated client behaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClientConfig {
    /// Whether it submits a task again when a restarted supervisor does not know it.
    /// Default on; off, the supervisor's journal alone must keep the promise.
    pub resubmit: bool,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self { resubmit: true }
    }
}

impl ClientConfig {
    /// Whether it is the default (a config leaves the default out).
    pub fn is_default(&self) -> bool {
        *self == Self::default()
    }
}

impl Default for ClusterConfig {
    fn default() -> Self {
        Self {
            workers: honest_workers(5, LlmProfile::default()),
            spares: Vec::new(),
            supervisor: SupervisorConfig::default(),
            worker: WorkerConfig::default(),
            workload: WorkloadConfig::default(),
            faults: FaultPlan::none(),
            fault_phase_ms: 60_000,
            liveness_ms: 180_000,
            settle_ms: 5_000,
            tcp_capacity: TCP_CAPACITY_DEFAULT,
            tick_ms: 25,
            latency_ms_max: 50,
            entailment: false,
            transport: Transport::Frames,
            journal: false,
            client: ClientConfig::default(),
            mode: Mode::Supervisor,
            p2p: P2pConfig::default(),
        }
    }
}

/// Whether `name` can be a worker's host name: a lower-case letter, then letters,
/// digits, `-` or `_` (never an address, which turmoil would parse as one).
fn check_host_name(field: String, name: &str) -> Result<(), ClusterError> {
    let mut chars = name.chars();
    let valid_start = chars.next().is_some_and(|c| c.is_ascii_lowercase());
    let valid_rest = chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if !valid_start || !valid_rest || name.len() > HOST_NAME_BYTES_MAX {
        return Err(ClusterError::invalid(
            field,
            format!("{name:?} is not a host name (a lower-case letter, then a-z, 0-9, - or _; at most 32 bytes)"),
        ));
    }
    if matches!(name, SUPERVISOR_HOST | CLIENT_HOST | "sim") {
        return Err(ClusterError::invalid(field, format!("{name:?} is reserved")));
    }
    Ok(())
}

impl ClusterConfig {
    /// Checks the config.
    ///
    /// # Errors
    /// [`ClusterError`] naming what is wrong.
    pub fn validate(&self) -> Result<(), ClusterError> {
        self.supervisor.validate()?;
        self.worker.validate()?;
        if self.workers.is_empty() {
            return Err(ClusterError::Workers("at least one worker is needed".to_owned()));
        }
        let total = self.workers.len() + self.spares.len();
        if total > CLUSTER_WORKERS_MAX {
            return Err(ClusterError::Workers(format!("{total} workers; at most {CLUSTER_WORKERS_MAX}")));
        }
        let labelled = self.workers.iter().enumerate().map(|(i, w)| (format!("workers[{i}]"), w));
        let labelled = labelled.chain(self.spares.iter().enumerate().map(|(i, w)| (format!("spares[{i}]"), w)));
        let mut seen = BTreeSet::new();
        for (label, plan) in labelled {
            check_host_name(format!("{label}.name"), &plan.name)?;
            if !seen.insert(plan.name.as_str()) {
                return Err(ClusterError::invalid(
                    format!("{label}.name"),
                    format!("{:?} names two workers", plan.name),
                ));
            }
            plan.profile.validate(&format!("{label}.profile"))?;
        }
        let ranges = [
            ("tick_ms", self.tick_ms, 1, 1_000),
            ("fault_phase_ms", self.fault_phase_ms, 1, PHASE_MS_MAX),
            ("liveness_ms", self.liveness_ms, 1, PHASE_MS_MAX),
            ("settle_ms", self.settle_ms, 0, PHASE_MS_MAX),
            ("latency_ms_max", self.latency_ms_max, 1, FAULT_LATENCY_MS_MAX),
            ("tcp_capacity", self.tcp_capacity as u64, 1, TCP_CAPACITY_MAX as u64),
        ];
        for (field, value, least, most) in ranges {
            if !(least..=most).contains(&value) {
                return Err(ClusterError::invalid(field, format!("{value}; must be in {least}..={most}")));
            }
        }
        self.workload.validate()?;
        if self.mode == Mode::P2p {
            self.p2p.validate(check_host_name)?;
            if self.transport == Transport::Grpc {
                let reason = "P2P agents talk over the simulation's frames; leave transport out";
                return Err(ClusterError::invalid("transport", reason));
            }
        }
        let workers = self.worker_names();
        let hosts = Hosts { workers: &workers, client: CLIENT_HOST, supervisor: SUPERVISOR_HOST };
        self.faults.validate(hosts, self.fault_phase_ms)?;
        Ok(())
    }

    /// The hosts faults may name besides the client and the supervisor: every
    /// worker's name, spares included, or in P2P mode every agent host (twins
    /// included).
    pub fn worker_names(&self) -> Vec<String> {
        match self.mode {
            Mode::Supervisor => self.workers.iter().chain(&self.spares).map(|w| w.name.clone()).collect(),
            Mode::P2p => self.p2p.hosts(),
        }
    }

    /// The supervisor's config as the cluster runs it: fitted to the workers the
    /// cluster has (see [`SupervisorConfig::fit_to_workers`]).
    pub fn effective_supervisor(&self) -> SupervisorConfig {
        self.supervisor.clone().fit_to_workers(self.workers.len() + self.spares.len())
    }

    /// The faults of a run at `seed`, swarm expanded.
    pub fn expanded_faults(&self, seed: u64) -> Vec<Fault> {
        self.faults.expand(seed, self.fault_phase_ms, &self.worker_names(), CLIENT_HOST)
    }

    /// When the run's timeline ends at `seed`: the last fault's end, and the
    /// deadline by which every task must have its result.
    pub fn window(&self, faults: &[Fault]) -> RunWindow {
        let faults_end_ms = timeline(faults, self.fault_phase_ms).last().map_or(0, |event| event.at_ms);
        let last_arrival_ms = self.workload.last_arrival_ms();
        let deadline_ms = faults_end_ms.max(last_arrival_ms).saturating_add(self.liveness_ms);
        RunWindow { faults_end_ms, last_arrival_ms, deadline_ms }
    }
}
