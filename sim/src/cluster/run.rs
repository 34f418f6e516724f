//! One run of a cluster: the turmoil world built from its config, stepped with the
//! faults applied on schedule, then accounted for.

use core::time::Duration;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use serde::{Deserialize, Serialize};

use quorum_core::mock::LlmControl;
use quorum_core::mock::workload::{Workload, generate};
use quorum_core::{SupervisorConfig, TaskId};

use super::config::{CLIENT_HOST, ClusterConfig, Mode, SUPERVISOR_HOST};
use super::error::ClusterError;
use super::injector::Injector;
use super::outcome::RunOutcome;
use crate::client::{ClientLog, ClientSpec, Promises, client};
use crate::faults::{Fault, timeline};
use crate::hosts::{Emitted, Incarnations, SimRegistry, SupervisorSpec, WorkerSpec, supervisor_host, worker_host};
use crate::invariants::{Invariant, Violation};
use crate::journal_disk::DiskPower;
use crate::p2p::{P2pShared, P2pWorld};
use crate::report::build_report;
use crate::trace::{Divergence, Happening, Trace, first_divergence};

/// Every run starts at this wall-clock instant (2026-01-01T00:00:00Z), so nothing
/// depends on when it ran.
const SIM_EPOCH_SECS: u64 = 1_767_225_600;

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
    incarnations: Incarnations,
    /// Every result any supervisor incarnation emitted, by task.
    emitted: Emitted,
    /// The power of the supervisor's disk.
    supervisor_disk: DiskPower,
    /// P2P mode's disks, commits and counters.
    p2p: P2pShared,
}

impl Shared {
    fn new(seed: u64, config: &ClusterConfig) -> Self {
        // The first workers are switched on; spares wait for the scaler.
        let registry = SimRegistry::new();
        for plan in &config.workers {
            // Validation bounds the workers far below the registry's limit.
            let _ = registry.join(plan.name.as_str().into(), config.transport.worker_address(&plan.name));
        }
        Self {
            trace: Trace::new(),
            workload: generate(seed, &config.workload),
            registry,
            control: LlmControl::default(),
            violations: Arc::new(Mutex::new(Vec::new())),
            log: Arc::new(Mutex::new(BTreeMap::new())),
            incarnations: Incarnations::default(),
            emitted: Emitted::default(),
            supervisor_disk: DiskPower::new(),
            p2p: P2pShared::default(),
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
    if config.mode == Mode::P2p {
        let world = P2pWorld {
            seed,
            config,
            shared: &shared.p2p,
            truths,
            control: shared.control.clone(),
            workload: shared.workload.tasks.clone(),
            log: Arc::clone(&shared.log),
            violations: Arc::clone(&shared.violations),
            trace: shared.trace.clone(),
        };
        crate::p2p::add_hosts(&mut sim, world);
        return sim;
    }
    let supervisor = SupervisorSpec {
        judge_truths: config.entailment.then(|| Arc::clone(&truths)),
        config: SupervisorConfig { check_invariants: true, ..config.effective_supervisor() },
        registry: shared.registry.clone(),
        hosts: config.worker_names(),
        violations: Arc::clone(&shared.violations),
        trace: shared.trace.clone(),
        incarnations: shared.incarnations.clone(),
        transport: config.transport,
        journal: config.journal.then(|| (shared.supervisor_disk.clone(), shared.emitted.clone())),
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
            deadlines: config.supervisor.deadlines.clone(),
            transport: config.transport,
        };
        sim.host(plan.name.as_str(), move || worker_host(spec.clone()));
    }
    let client_software = client(ClientSpec {
        workload: shared.workload.tasks.clone(),
        consensus: config.supervisor.consensus.clone(),
        deadlines: config.supervisor.deadlines.clone(),
        transport: config.transport,
        promises: Promises { resubmit: config.client.resubmit, journal: config.journal },
        log: Arc::clone(&shared.log),
        violations: Arc::clone(&shared.violations),
        trace: shared.trace.clone(),
    });
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
    let mut injector = Injector::new(
        faults,
        config.latency_ms_max,
        shared.control.clone(),
        shared.trace.clone(),
        shared.supervisor_disk.clone(),
    );
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
    if config.mode == Mode::P2p {
        violations.extend(crate::p2p::check(seed, config, &shared.p2p));
    }
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
    if config.mode == Mode::Supervisor {
        (report.workers_peak, report.workers_after_peak_min, report.workers_final) =
            crate::report::worker_counts(&events, config.workers.len());
    }
    report.supervisor_counters = shared.incarnations.counters();
    if config.mode == Mode::P2p {
        report.p2p = Some(Box::new(crate::p2p::report(config, &shared.p2p, &events)));
    }
    let trace = shared.trace.clone();
    trace.record_at(sim_ms, "sim", Happening::End { violations: violations.len() });
    RunOutcome { seed, violations, report, trace, results: records, steps, window }
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
