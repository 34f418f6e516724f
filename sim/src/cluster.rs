//! A simulated cluster and its run: one seed, one exact run.

use core::time::Duration;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use serde::{Deserialize, Serialize};

use quorum_core::mock::workload::{Workload, WorkloadConfig, generate};
use quorum_core::mock::{LlmControl, LlmProfile};
use quorum_core::{SupervisorConfig, TaskId, WorkerConfig};

use crate::client::{ClientLog, ClientRecord, client};
use crate::faults::{Fault, FaultKind, FaultPlan, Hosts, LinkCuts, timeline};
use crate::hosts::{SimRegistry, SupervisorSpec, WorkerSpec, supervisor_host, worker_host};
use crate::invariants::{Invariant, Violation};
use crate::report::{RunReport, build_report};
use crate::trace::{Divergence, Happening, Trace, first_divergence};

/// Every run starts at this wall-clock instant (2026-01-01T00:00:00Z), so nothing
/// depends on when it ran.
pub const SIM_EPOCH_SECS: u64 = 1_767_225_600;
/// Most workers (active and spare) one cluster may have.
pub const CLUSTER_WORKERS_MAX: usize = 64;
/// Default of [`ClusterConfig::tcp_capacity`].
pub const TCP_CAPACITY_DEFAULT: usize = 65_536;
/// Largest [`ClusterConfig::tcp_capacity`].
pub const TCP_CAPACITY_MAX: usize = 1 << 20;
/// Longest fault phase, liveness window or settle time (one day).
pub const PHASE_MS_MAX: u64 = 86_400_000;
/// Longest host name: turmoil hosts and worker ids.
pub const HOST_NAME_BYTES_MAX: usize = 32;
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
        }
    }
}

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

/// Why a config cannot run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClusterError {
    /// A config field is invalid.
    #[error(transparent)]
    Config(#[from] quorum_core::ConfigError),
    /// No workers, or too many.
    #[error("workers: {0}")]
    Workers(String),
    /// A field that cannot work: a number out of range, a host that does not exist,
    /// a bad or duplicate name.
    #[error("{field}: {reason}")]
    Invalid {
        /// The field's path (`faults.faults[2].host`, `workers[3].name`).
        field: String,
        /// What is wrong.
        reason: String,
    },
}

impl ClusterError {
    fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::Invalid { field: field.into(), reason: reason.into() }
    }
}

impl From<(String, String)> for ClusterError {
    fn from((field, reason): (String, String)) -> Self {
        Self::Invalid { field, reason }
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
        let mut seen = std::collections::BTreeSet::new();
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
            ("latency_ms_max", self.latency_ms_max, 1, crate::faults::FAULT_LATENCY_MS_MAX),
            ("tcp_capacity", self.tcp_capacity as u64, 1, TCP_CAPACITY_MAX as u64),
        ];
        for (field, value, least, most) in ranges {
            if !(least..=most).contains(&value) {
                return Err(ClusterError::invalid(field, format!("{value}; must be in {least}..={most}")));
            }
        }
        self.workload.validate()?;
        let workers = self.worker_names();
        let hosts = Hosts { workers: &workers, client: CLIENT_HOST, supervisor: SUPERVISOR_HOST };
        self.faults.validate(hosts, self.fault_phase_ms)?;
        Ok(())
    }

    /// Every worker's name, spares included.
    pub fn worker_names(&self) -> Vec<String> {
        self.workers.iter().chain(&self.spares).map(|w| w.name.clone()).collect()
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

/// Where a run's time goes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunWindow {
    /// The last fault event (every heal, restart and storm end has happened by then).
    pub faults_end_ms: u64,
    /// The last task's arrival.
    pub last_arrival_ms: u64,
    /// Every task must have its result by then.
    pub deadline_ms: u64,
}

/// What a run may spend before it counts as stuck.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunBudget {
    /// Simulation steps at most (`None`: the run's window divided by its tick, twice
    /// over).
    pub steps_max: Option<u64>,
    /// Wall-clock time at most, checked between steps: the one figure that depends on
    /// the machine, so a run that overruns it says so as `stuck`. Default 120 s.
    pub wall_ms_max: u64,
}

impl Default for RunBudget {
    fn default() -> Self {
        Self { steps_max: None, wall_ms_max: 120_000 }
    }
}

/// Builds a [`ClusterConfig`] step by step, turmoil-style: setters take and return
/// `&mut self`, [`ClusterBuilder::build`] validates. The seed is given to [`run`].
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
    pub fn swarm(&mut self, swarm: crate::faults::Swarm) -> &mut Self {
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

/// Everything one run produced.
#[derive(Debug)]
pub struct RunOutcome {
    /// The seed.
    pub seed: u64,
    /// Broken invariants (empty for a good run).
    pub violations: Vec<Violation>,
    /// The numbers.
    pub report: RunReport,
    /// The trace.
    pub trace: Trace,
    /// What the client holds, by task.
    pub results: BTreeMap<TaskId, ClientRecord>,
    /// Simulation steps taken.
    pub steps: u64,
    /// The run's timeline: when its faults ended, its deadline.
    pub window: RunWindow,
}

impl RunOutcome {
    /// Whether every invariant held.
    pub fn passed(&self) -> bool {
        self.violations.is_empty()
    }

    /// The trace's hash.
    pub fn trace_hash(&self) -> String {
        self.trace.hash()
    }

    /// A failure message: the seed, every violation, how to replay it, and the last
    /// events of the trace.
    pub fn failure_report(&self, replay: &str) -> String {
        let mut out = format!("seed {} broke {} invariant(s):\n", self.seed, self.violations.len());
        for violation in &self.violations {
            out.push_str(&format!("  - {violation}\n"));
        }
        out.push_str(&format!("replay: {replay}\ntrace tail:\n"));
        for event in self.trace.tail(FAILURE_TRACE_TAIL) {
            out.push_str(&format!("  {}\n", event.to_json_line()));
        }
        out
    }
}

/// Trace events shown with a failure.
pub const FAILURE_TRACE_TAIL: usize = 25;

/// Runs `config` under `seed` with the default [`RunBudget`].
///
/// # Errors
/// [`ClusterError`] when the config cannot run; a run that breaks an invariant is
/// `Ok` with the violations listed.
pub fn run(seed: u64, config: &ClusterConfig) -> Result<RunOutcome, ClusterError> {
    run_with_budget(seed, config, RunBudget::default())
}

/// Runs `config` under `seed`. A panic inside the simulation, or a run that overruns
/// `budget`, stops the run there and becomes its violation (`panic`, `stuck`), with
/// the trace up to that point.
///
/// # Errors
/// [`ClusterError`] when the config cannot run.
pub fn run_with_budget(seed: u64, config: &ClusterConfig, budget: RunBudget) -> Result<RunOutcome, ClusterError> {
    config.validate()?;
    let shared = Shared::new(seed, config);
    let faults = config.expanded_faults(seed);
    let window = config.window(&faults);
    let mut sim = build_world(seed, config, &shared, window);
    let steps = drive(config, &shared, &mut sim, &faults, window, budget);
    let sim_ms = sim.elapsed().as_millis() as u64;
    // A world left mid-panic may panic again as it is dropped.
    if std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || drop(sim))).is_err() {
        shared.violate(Invariant::Panic, "the simulation panicked again while being torn down".to_owned());
    }
    Ok(account(seed, config, &shared, steps, sim_ms, window))
}

/// What the harness shares with the hosts of one run.
struct Shared {
    trace: Trace,
    workload: Workload,
    registry: SimRegistry,
    control: LlmControl,
    violations: Arc<Mutex<Vec<Violation>>>,
    log: ClientLog,
}

impl Shared {
    fn new(seed: u64, config: &ClusterConfig) -> Self {
        // The first workers are switched on; spares wait for the scaler.
        let registry = SimRegistry::new();
        for plan in &config.workers {
            // Validation bounds the workers far below the registry's limit.
            let _ = registry.join(plan.name.as_str().into(), plan.name.clone());
        }
        Self {
            trace: Trace::new(),
            workload: generate(seed, &config.workload),
            registry,
            control: LlmControl::default(),
            violations: Arc::new(Mutex::new(Vec::new())),
            log: Arc::new(Mutex::new(BTreeMap::new())),
        }
    }

    fn violated(&self) -> bool {
        !self.violations.lock().unwrap_or_else(PoisonError::into_inner).is_empty()
    }

    fn violate(&self, invariant: Invariant, detail: String) {
        self.violations.lock().unwrap_or_else(PoisonError::into_inner).push(Violation {
            invariant,
            task: None,
            detail,
        });
    }
}

/// The turmoil world: the supervisor, every worker (spares included) and the client.
fn build_world<'a>(seed: u64, config: &ClusterConfig, shared: &Shared, window: RunWindow) -> turmoil::Sim<'a> {
    let mut sim = turmoil::Builder::new()
        .rng_seed(seed)
        .epoch(std::time::UNIX_EPOCH + Duration::from_secs(SIM_EPOCH_SECS))
        .simulation_duration(Duration::from_millis(window.deadline_ms.saturating_add(config.settle_ms + 60_000)))
        .tick_duration(Duration::from_millis(config.tick_ms))
        .min_message_latency(Duration::from_millis(1))
        .max_message_latency(Duration::from_millis(config.latency_ms_max.max(1)))
        .tcp_capacity(config.tcp_capacity)
        .build();
    let truths = Arc::new(shared.workload.truths.clone());
    let supervisor = SupervisorSpec {
        judge_truths: config.entailment.then(|| Arc::clone(&truths)),
        config: SupervisorConfig { check_invariants: true, ..config.effective_supervisor() },
        registry: shared.registry.clone(),
        hosts: config.worker_names(),
        violations: Arc::clone(&shared.violations),
        trace: shared.trace.clone(),
    };
    sim.host(SUPERVISOR_HOST, move || supervisor_host(supervisor.clone()));
    for plan in config.workers.iter().chain(&config.spares) {
        let spec = WorkerSpec {
            name: plan.name.clone(),
            profile: plan.profile.clone(),
            twin: plan.twin,
            config: config.worker.clone(),
            seed,
            truths: Arc::clone(&truths),
            control: shared.control.clone(),
            registry: shared.registry.clone(),
            trace: shared.trace.clone(),
        };
        sim.host(plan.name.as_str(), move || worker_host(spec.clone()));
    }
    let client_software = client(
        shared.workload.tasks.clone(),
        config.supervisor.consensus.clone(),
        config.supervisor.deadlines.client_call_ms,
        Arc::clone(&shared.log),
        Arc::clone(&shared.violations),
        shared.trace.clone(),
    );
    sim.client(CLIENT_HOST, client_software);
    sim
}

/// Steps the world, applying faults on schedule, until the client is done and every
/// fault has played out (then `settle_ms` more), a violation stops the run, the
/// deadline passes, or the budget runs out. Returns the steps taken.
fn drive(
    config: &ClusterConfig,
    shared: &Shared,
    sim: &mut turmoil::Sim<'_>,
    faults: &[Fault],
    window: RunWindow,
    budget: RunBudget,
) -> u64 {
    let mut injector = Injector {
        faults,
        cuts: LinkCuts::default(),
        holds: LinkCuts::default(),
        crashed: BTreeMap::new(),
        storms: Vec::new(),
        latency_ms_max: config.latency_ms_max,
        control: shared.control.clone(),
        trace: shared.trace.clone(),
    };
    let events = timeline(faults, config.fault_phase_ms);
    let run_ms = window.deadline_ms.saturating_add(config.settle_ms);
    let steps_max = budget.steps_max.unwrap_or_else(|| (run_ms / config.tick_ms).saturating_add(1).saturating_mul(2));
    let started = std::time::Instant::now();
    let (mut next_event, mut healed, mut client_done, mut steps) = (0, faults.is_empty(), false, 0u64);
    loop {
        let now_ms = sim.elapsed().as_millis() as u64;
        while next_event < events.len() && events[next_event].at_ms <= now_ms {
            injector.apply(sim, events[next_event].fault, events[next_event].start, now_ms);
            next_event += 1;
        }
        if !healed && now_ms >= window.faults_end_ms {
            injector.heal_all(sim, now_ms);
            healed = true;
        }
        let settled = client_done && healed && now_ms >= window.faults_end_ms.saturating_add(config.settle_ms);
        if settled || now_ms >= window.deadline_ms || shared.violated() {
            return steps;
        }
        if steps >= steps_max || started.elapsed().as_millis() as u64 > budget.wall_ms_max {
            let detail = format!(
                "out of budget after {steps} steps, {} ms simulated, {} ms of wall-clock time (steps_max {steps_max}, \
                 wall_ms_max {})",
                now_ms,
                started.elapsed().as_millis(),
                budget.wall_ms_max
            );
            shared.violate(Invariant::Stuck, detail);
            return steps;
        }
        steps += 1;
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| sim.step())) {
            Ok(Ok(done)) => client_done |= done,
            Ok(Err(error)) => {
                shared.violate(Invariant::Simulation, error.to_string());
                return steps;
            }
            Err(payload) => {
                shared.violate(Invariant::Panic, format!("at {now_ms} ms: {}", panic_message(payload.as_ref())));
                return steps;
            }
        }
    }
}

/// The text of a panic's payload.
pub fn panic_message(payload: &(dyn core::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|text| (*text).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned())
}

/// The run's outcome: liveness checked, numbers reported.
fn account(
    seed: u64,
    config: &ClusterConfig,
    shared: &Shared,
    steps: u64,
    sim_ms: u64,
    window: RunWindow,
) -> RunOutcome {
    let records = shared.log.lock().unwrap_or_else(PoisonError::into_inner).clone();
    let mut violations = shared.violations.lock().unwrap_or_else(PoisonError::into_inner).clone();
    let texts: BTreeMap<TaskId, String> =
        shared.workload.tasks.iter().map(|p| (p.task.id.clone(), p.task.text.clone())).collect();
    if violations.is_empty() {
        for task in texts.keys() {
            if records.get(task).is_none_or(|r| r.result.is_none()) {
                let detail = format!("no result by the deadline at {} ms", window.deadline_ms);
                violations.push(Violation { invariant: Invariant::Liveness, task: Some(task.clone()), detail });
            }
        }
    }
    let events = shared.trace.events();
    let llm_calls = events.iter().filter(|e| matches!(e.what, Happening::LlmCall { .. })).count() as u64;
    let mut report = build_report(&records, &texts, &shared.workload.truths, llm_calls, sim_ms);
    (report.workers_peak, report.workers_after_peak_min, report.workers_final) =
        crate::report::worker_counts(&events, config.workers.len());
    let trace = shared.trace.clone();
    trace.record_at(sim_ms, "sim", Happening::End { violations: violations.len() });
    RunOutcome { seed, violations, report, trace, results: records, steps, window }
}

/// Applies and reverts faults on the simulation.
struct Injector<'a> {
    faults: &'a [Fault],
    cuts: LinkCuts,
    holds: LinkCuts,
    crashed: BTreeMap<String, u32>,
    storms: Vec<(usize, f64)>,
    latency_ms_max: u64,
    control: LlmControl,
    trace: Trace,
}

impl Injector<'_> {
    fn apply(&mut self, sim: &mut turmoil::Sim<'_>, index: usize, start: bool, now_ms: u64) {
        let fault = &self.faults[index];
        self.trace.record_at(now_ms, "sim", Happening::Fault { start, fault: fault.kind.clone() });
        match &fault.kind {
            FaultKind::Partition { left, right } => {
                for (a, b) in pairs(left, right) {
                    self.cut(sim, &a, &b, start);
                    self.cut(sim, &b, &a, start);
                }
            }
            FaultKind::PartitionOneWay { from, to } => {
                for (a, b) in pairs(from, to) {
                    self.cut(sim, &a, &b, start);
                }
            }
            FaultKind::Hold { left, right } => {
                for (a, b) in pairs(left, right) {
                    if start && self.holds.cut(&a, &b) {
                        sim.hold(a.as_str(), b.as_str());
                    } else if !start && self.holds.heal(&a, &b) {
                        sim.release(a.as_str(), b.as_str());
                    }
                }
            }
            FaultKind::Crash { host } => {
                let count = self.crashed.entry(host.clone()).or_insert(0);
                if start {
                    *count += 1;
                    if *count == 1 {
                        sim.crash(host.as_str());
                    }
                } else if *count > 0 {
                    *count -= 1;
                    if *count == 0 {
                        sim.bounce(host.as_str());
                    }
                }
            }
            FaultKind::Latency { left, right, latency_ms } => {
                let value = Duration::from_millis(if start { *latency_ms } else { self.latency_ms_max.max(1) });
                for (a, b) in pairs(left, right) {
                    sim.set_link_max_message_latency(a.as_str(), b.as_str(), value);
                }
            }
            FaultKind::LlmStorm { error_rate } => {
                if start {
                    self.storms.push((index, *error_rate));
                } else {
                    self.storms.retain(|(i, _)| *i != index);
                }
                self.control.set_storm(self.storms.iter().map(|(_, rate)| *rate).fold(0.0, f64::max));
            }
        }
    }

    fn cut(&mut self, sim: &mut turmoil::Sim<'_>, from: &str, to: &str, start: bool) {
        if start && self.cuts.cut(from, to) {
            sim.partition_oneway(from, to);
        } else if !start && self.cuts.heal(from, to) {
            sim.repair_oneway(from, to);
        }
    }

    /// Every fault has ended: whatever is still cut, held, crashed, slow or stormy
    /// ends now (nothing, unless faults were cut short at the end of the phase).
    fn heal_all(&mut self, sim: &mut turmoil::Sim<'_>, now_ms: u64) {
        self.trace.record_at(now_ms, "sim", Happening::Liveness);
        for (from, to) in self.cuts.cut_links() {
            sim.repair_oneway(from.as_str(), to.as_str());
        }
        self.cuts = LinkCuts::default();
        for (a, b) in self.holds.cut_links() {
            sim.release(a.as_str(), b.as_str());
        }
        self.holds = LinkCuts::default();
        for (host, count) in core::mem::take(&mut self.crashed) {
            if count > 0 {
                sim.bounce(host.as_str());
            }
        }
        for fault in self.faults {
            if let FaultKind::Latency { left, right, .. } = &fault.kind {
                for (a, b) in pairs(left, right) {
                    sim.set_link_max_message_latency(
                        a.as_str(),
                        b.as_str(),
                        Duration::from_millis(self.latency_ms_max.max(1)),
                    );
                }
            }
        }
        self.storms.clear();
        self.control.set_storm(0.0);
    }
}

fn pairs(left: &[String], right: &[String]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for a in left {
        for b in right {
            if a != b {
                out.push((a.clone(), b.clone()));
            }
        }
    }
    out
}

/// Runs a seed twice and compares the traces.
///
/// # Errors
/// [`ClusterError`] when the config cannot run; `Ok(Err(divergence))` when the two
/// runs differ, naming the first differing event.
pub fn check_determinism(seed: u64, config: &ClusterConfig) -> Result<Result<String, Box<Divergence>>, ClusterError> {
    let first = run(seed, config)?;
    let second = run(seed, config)?;
    if first.trace_hash() == second.trace_hash() {
        return Ok(Ok(first.trace_hash()));
    }
    let divergence = first_divergence(&first.trace.events(), &second.trace.events()).unwrap_or(Divergence {
        index: usize::MAX,
        first: None,
        second: None,
    });
    Ok(Err(Box::new(divergence)))
}
