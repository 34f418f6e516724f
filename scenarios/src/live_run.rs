//! `quorum run NAME --live`: a scenario's workload against the real runtime. The
//! same tasks (ids, texts, ground truths) a simulation of that scenario and seed
//! submits go through a supervisor node on 127.0.0.1 and the scenario's workers as
//! `quorum worker` processes asking the live model (or the mock, offline). Faults
//! that exist in real life are injected for real ([`crate::live_fault_plan`]):
//! `kill -9` and restart of a worker process, cut links in the supervisor's gRPC
//! client ([`crate::link_cuts`]); the rest are named as not applicable.
//!
//! A live run passes when every task ended with exactly one result and every fault
//! was applied. The scenario's expectations are not checked: they are written for
//! the simulation's mock profiles, not for whatever model answers live.

use core::time::Duration;
use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;
use tokio::sync::{Mutex, Semaphore, mpsc};
use tokio::time::Instant;

use quorum_core::mock::workload::{PlannedTask, Workload, generate};
use quorum_core::{SupervisorConfig, TaskResult, WorkerConfig, WorkerId, WorkerRegistry};
use quorum_real::node::{MockWorkload, SupervisorNode, SupervisorNodeConfig, TokenSecret};
use quorum_real::{ClientError, GrpcConfig, SupervisorClient};
use quorum_sim::{ClusterConfig, is_correct};

use crate::link_cuts::{Cut, LinkCuts, cut_connect};
use crate::live_error::{LiveError, runtime};
use crate::live_fault_plan::{LiveAction, LiveFault, LiveFaultPlan, NotApplicable};
use crate::model_args::{LlmFlag, ModelArgs};
use crate::progress_bar::{ProgressLabels, progress_printer};
use crate::runner::Overrides;
use crate::scenario::Scenario;
use crate::submit_command::SubmitOutput;
use crate::worker_process::{WorkerExit, WorkerProcess, WorkerSpawn, stop_workers, wait_until_joined};

/// Most tasks one live run submits: each is real work for a real model.
pub const LIVE_TASKS_MAX: usize = 10_000;
/// Tasks in flight at once: the supervisor queues the rest, but a client holding a
/// stream per task should not open thousands.
const TASKS_IN_FLIGHT_MAX: usize = 16;
/// Submissions of one task when the supervisor cannot be reached or is overloaded;
/// submitting an id again returns that task's result, never a second run.
const SUBMIT_ATTEMPTS_MAX: u32 = 5;
/// Pause before a second submission, growing linearly.
const SUBMIT_BACKOFF_MS: u64 = 200;

/// `quorum run --live`'s own flags (sim runs refuse them).
#[derive(Clone, Debug, Default, clap::Args)]
pub struct LiveFlags {
    /// With --live: the workers' model. Default openai (OPENAI_BASE_URL and/or
    /// OPENAI_API_KEY, OPENAI_MODEL); mock runs offline.
    #[arg(long, value_enum)]
    pub llm: Option<LlmFlag>,
    /// With --live --llm mock: every answer takes exactly this long.
    #[arg(long)]
    pub mock_latency_ms: Option<u64>,
    /// With --live --llm mock: the seed of the mock's draws (default 0).
    #[arg(long)]
    pub mock_seed: Option<u64>,
}

impl LiveFlags {
    /// The flag given, if any: sim runs refuse them by name.
    pub fn first_given(&self) -> Option<&'static str> {
        [
            (self.llm.is_some(), "--llm"),
            (self.mock_latency_ms.is_some(), "--mock-latency-ms"),
            (self.mock_seed.is_some(), "--mock-seed"),
        ]
        .into_iter()
        .find_map(|(given, name)| given.then_some(name))
    }

    /// The workers' model flags; the mock knows `workload`.
    fn model(&self, workload: MockWorkload) -> ModelArgs {
        let llm = self.llm.unwrap_or(LlmFlag::Openai);
        ModelArgs {
            llm,
            mock_latency_ms: self.mock_latency_ms,
            mock_seed: self.mock_seed.unwrap_or(0),
            mock_workload: (llm == LlmFlag::Mock).then_some(workload),
        }
    }
}

/// What a live run is given.
#[derive(Clone, Debug)]
pub struct LiveRunArgs {
    /// The scenario as the catalogue or its file has it.
    pub scenario: Scenario,
    /// `--workers`, `--tasks`.
    pub overrides: Overrides,
    /// The workload's seed.
    pub seed: u64,
    /// The model.
    pub flags: LiveFlags,
    /// Wall-clock seconds the run may take; tasks without a result by then fail
    /// the run.
    pub run_seconds_max: u64,
}

/// One task's result as a live run reports it.
#[derive(Debug, Serialize)]
pub struct LiveTaskResult {
    /// The task's text.
    pub text: String,
    /// Its ground truth (canonical form).
    pub ground_truth: Option<String>,
    /// Whether the agreed answer matches the ground truth (`None` unless agreed).
    pub correct: Option<bool>,
    /// Submissions it took (more than one when the supervisor could not be reached).
    pub submissions: u32,
    /// The result, as `quorum submit --json` prints it.
    #[serde(flatten)]
    pub output: SubmitOutput,
}

/// What a live run did for one fault.
#[derive(Clone, Debug, Serialize)]
pub struct AppliedFault {
    /// The fault as the scenario schedules it (simulated times).
    pub fault: String,
    /// Its live start and end, ms after the first task's submission.
    pub at_ms: u64,
    /// Its live end.
    pub end_ms: u64,
    /// What was done, and when.
    #[serde(flatten)]
    pub action: AppliedAction,
}

/// What was done for a fault. `None` times: it had not happened when the run ended.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum AppliedAction {
    /// `kill -9` of the worker's process, and a new process under its id.
    KillAndRestart {
        /// The worker.
        worker: String,
        /// The process killed (none when it was down already).
        killed_pid: Option<u32>,
        /// Its exit status (`signal: 9 (SIGKILL)`).
        kill_status: Option<String>,
        /// When, ms.
        killed_at_ms: Option<u64>,
        /// The new process.
        restarted_pid: Option<u32>,
        /// When it served, ms.
        restarted_at_ms: Option<u64>,
        /// When the supervisor had it at its new address, ms.
        rejoined_at_ms: Option<u64>,
        /// Why the restart failed, if it did.
        error: Option<String>,
    },
    /// The supervisor's links to workers cut in its gRPC client.
    CutLinks {
        /// The workers.
        workers: Vec<String>,
        /// `both` (refused, reset), `requests`, `replies` or `hold` (stalled).
        cut: &'static str,
        /// When, ms.
        cut_at_ms: Option<u64>,
        /// When healed, ms.
        healed_at_ms: Option<u64>,
    },
}

/// The figures of a live run beyond the counts.
#[derive(Clone, Debug, Default, Serialize)]
pub struct LiveReport {
    /// Agreed answers matching the ground truth.
    pub correct: usize,
    /// `no_consensus / tasks`.
    pub no_consensus_rate: f64,
    /// Tokens (prompt and completion) of the answers counted.
    pub tokens: u64,
    /// Prompt tokens.
    pub prompt_tokens: u64,
    /// Completion tokens.
    pub completion_tokens: u64,
    /// `tokens / tasks`.
    pub tokens_per_task: f64,
    /// Submissions beyond the first.
    pub resubmissions: u64,
    /// Submission-to-result latency percentiles as the supervisor measured them, ms.
    pub latency_ms_p50: u64,
    /// 90th percentile.
    pub latency_ms_p90: u64,
    /// 99th percentile.
    pub latency_ms_p99: u64,
    /// Worker processes at the start.
    pub workers: usize,
    /// Live ms per simulated ms of the fault schedule.
    pub time_scale: f64,
    /// Results the supervisor emitted (each task once).
    pub results_emitted: u64,
    /// Results it emitted a second time for one task (0 unless a promise broke).
    pub duplicate_results: u64,
}

/// One live run, as `quorum run --live --json` prints it: the fields of a sim run
/// that mean something live, the same names; `trace_hash`, `sim_seconds` and
/// `replay` are null (a live run has no trace and cannot be replayed).
#[derive(Debug, Serialize)]
pub struct LiveRun {
    /// Scenario name.
    pub scenario: String,
    /// The workload's seed.
    pub seed: u64,
    /// Always true: tells a live run from a sim run.
    pub live: bool,
    /// `mock` or `openai`.
    pub llm: &'static str,
    /// Every task ended with exactly one result and every fault was applied.
    pub passed: bool,
    /// Simulation only: null.
    pub trace_hash: Option<String>,
    /// Tasks submitted.
    pub tasks: usize,
    /// Tasks agreed.
    pub agreed: usize,
    /// Tasks without consensus.
    pub no_consensus: usize,
    /// Tasks failed.
    pub failed: usize,
    /// Share of agreed tasks answered right (`None`: nothing agreed).
    pub accuracy: Option<f64>,
    /// Model calls behind the answers received (the workers' own retries inside a
    /// call are not seen live).
    pub llm_calls: u64,
    /// `llm_calls / tasks`.
    pub llm_calls_per_task: f64,
    /// Simulation only: null.
    pub sim_seconds: Option<f64>,
    /// Wall-clock seconds, workers' start and stop included.
    pub wall_seconds: f64,
    /// Tasks without a result, duplicate results, faults not applied.
    pub violations: Vec<String>,
    /// Simulation only: null.
    pub replay: Option<String>,
    /// Every figure.
    pub report: LiveReport,
    /// The faults injected.
    pub faults: Vec<AppliedFault>,
    /// What the scenario does that a live run does not.
    pub not_applicable: Vec<NotApplicable>,
    /// Every task's result, in submission order.
    pub results: Vec<LiveTaskResult>,
}

/// Runs `args`' scenario live.
///
/// # Errors
/// [`LiveError::BadInput`] for a scenario that cannot run or too many tasks,
/// [`LiveError::Llm`] for a missing model endpoint (exit 2); [`LiveError::Failed`]
/// or [`LiveError::Node`] when workers or the supervisor do not start (exit 1).
pub fn run_live(args: &LiveRunArgs) -> Result<LiveRun, LiveError> {
    let wall = std::time::Instant::now();
    let mut scenario = args.scenario.clone();
    let scenario_span_ms = scenario.cluster.workload.last_arrival_ms();
    args.overrides.apply(&mut scenario);
    let cluster = &scenario.cluster;
    cluster.validate().map_err(|error| LiveError::BadInput(format!("{}: {error}", scenario.name)))?;
    if cluster.workload.tasks > LIVE_TASKS_MAX {
        let tasks = cluster.workload.tasks;
        return Err(LiveError::BadInput(format!("--live: {tasks} tasks; at most {LIVE_TASKS_MAX}")));
    }
    if !(1..=86_400).contains(&args.run_seconds_max) {
        return Err(LiveError::BadInput(format!("--run-seconds-max {}: must be in 1..=86400", args.run_seconds_max)));
    }
    let workload = generate(args.seed, &cluster.workload);
    let model = args.flags.model(MockWorkload { seed: args.seed, config: cluster.workload.clone() });
    model.choice().check()?;
    let mut plan = LiveFaultPlan::new(cluster, args.seed, scenario_span_ms);
    if cluster.worker != WorkerConfig::default() {
        let reason = "worker processes run with the default worker config";
        plan.not_applicable.push(NotApplicable { name: "the scenario's worker config".to_owned(), reason });
    }
    let exe = std::env::current_exe()
        .map_err(|error| LiveError::Failed(format!("cannot find this program to start workers: {error}")))?;
    let spawn = WorkerSpawn {
        exe,
        supervisor: String::new(),
        logs: crate::LogFormat::Text,
        token: TokenSecret::fresh()?,
        echo: false,
        exits: mpsc::unbounded_channel().0,
        model,
    };
    let deadline = Duration::from_secs(args.run_seconds_max);
    let played = runtime()?.block_on(play(cluster, &workload, &plan, spawn, deadline))?;
    let llm = if args.flags.llm == Some(LlmFlag::Mock) { "mock" } else { "openai" };
    let mut run = summarise(&scenario, args.seed, &workload, played, wall.elapsed().as_secs_f64());
    (run.llm, run.report.time_scale, run.not_applicable) = (llm, plan.time_scale, plan.not_applicable);
    Ok(run)
}

/// What the run collected.
struct Played {
    /// By task index: the result, or why there is none, and the submissions.
    outcomes: BTreeMap<usize, (Result<TaskResult, String>, u32)>,
    faults: Vec<AppliedFault>,
    results_emitted: u64,
    duplicate_results: u64,
    workers: usize,
}

/// The supervisor's settings: the scenario's, fitted to its workers; no scaling
/// (worker processes are a fixed set).
fn live_supervisor_config(cluster: &ClusterConfig) -> SupervisorConfig {
    SupervisorConfig { scaling: false, ..cluster.effective_supervisor() }
}

/// Starts the supervisor and the workers, injects the faults while the tasks run,
/// and stops everything.
async fn play(
    cluster: &ClusterConfig,
    workload: &Workload,
    plan: &LiveFaultPlan,
    mut spawn: WorkerSpawn,
    deadline: Duration,
) -> Result<Played, LiveError> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|error| LiveError::Failed(format!("cannot listen on 127.0.0.1: {error}")))?;
    let bound = listener.local_addr().map_err(|error| LiveError::Failed(error.to_string()))?;
    let cuts = LinkCuts::default();
    let config = SupervisorNodeConfig {
        supervisor: live_supervisor_config(cluster),
        grpc: GrpcConfig::default(),
        workers: Vec::new(),
        journal: None,
    };
    let token = spawn.token.token().clone();
    let node = SupervisorNode::start_with_connect(config, token.clone(), listener, cut_connect(cuts.clone()))?;
    let (exits, mut exited) = mpsc::unbounded_channel();
    (spawn.supervisor, spawn.exits) = (format!("http://{bound}"), exits);
    let mut started = BTreeMap::new();
    for worker in &cluster.workers {
        started.insert(worker.name.clone(), Some(spawn.start(&WorkerId::new(worker.name.as_str())).await?));
    }
    let all: Vec<&WorkerProcess> = started.values().flatten().collect();
    wait_until_joined(node.registry(), &all, &mut exited).await?;
    let workers = all.len();
    let processes = Arc::new(Mutex::new(started));
    let t0 = Instant::now();
    let applied = Arc::new(std::sync::Mutex::new(plan.faults.iter().map(planned).collect::<Vec<_>>()));
    let injector = Injector {
        spawn,
        registry: node.registry().clone(),
        cuts,
        processes: Arc::clone(&processes),
        exited,
        t0,
        applied: Arc::clone(&applied),
    };
    let mut faults = tokio::spawn(injector.run(plan.faults.clone()));
    let client = SupervisorClient::connect_lazy(&format!("http://{bound}"), &token, GrpcConfig::default())
        .map_err(|error| LiveError::Supervisor { supervisor: bound.to_string(), error })?;
    let outcomes = submit_all(&workload.tasks, client, t0, t0 + deadline).await;
    // Faults play out (restarts, heals) before the run ends, as in simulation.
    if tokio::time::timeout_at(t0 + deadline, &mut faults).await.is_err() {
        faults.abort();
    }
    let counts = node.metrics_source().tasks.counts();
    node.stop().await?;
    stop_workers(processes.lock().await.values_mut().filter_map(Option::take).collect()).await;
    let faults = applied.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
    Ok(Played { outcomes, faults, results_emitted: counts.tasks(), duplicate_results: counts.duplicates, workers })
}

/// The record of `fault` before anything was done.
fn planned(fault: &LiveFault) -> AppliedFault {
    let action = match &fault.action {
        LiveAction::KillAndRestart { worker } => AppliedAction::KillAndRestart {
            worker: worker.clone(),
            killed_pid: None,
            kill_status: None,
            killed_at_ms: None,
            restarted_pid: None,
            restarted_at_ms: None,
            rejoined_at_ms: None,
            error: None,
        },
        LiveAction::CutLinks { workers, cut } => AppliedAction::CutLinks {
            workers: workers.clone(),
            cut: cut_name(*cut),
            cut_at_ms: None,
            healed_at_ms: None,
        },
    };
    AppliedFault {
        fault: crate::live_fault_plan::fault_name(&fault.fault),
        at_ms: fault.at_ms,
        end_ms: fault.end_ms,
        action,
    }
}

fn cut_name(cut: Cut) -> &'static str {
    match cut {
        Cut::Both => "both",
        Cut::Requests => "requests",
        Cut::Replies => "replies",
        Cut::Hold => "hold",
    }
}

/// Injects faults on schedule.
struct Injector {
    spawn: WorkerSpawn,
    registry: WorkerRegistry<String>,
    cuts: LinkCuts,
    processes: Arc<Mutex<BTreeMap<String, Option<WorkerProcess>>>>,
    exited: mpsc::UnboundedReceiver<WorkerExit>,
    t0: Instant,
    applied: Arc<std::sync::Mutex<Vec<AppliedFault>>>,
}

impl Injector {
    /// Applies every fault's start and end at its time, ends before starts at the
    /// same time; returns when the last has played out.
    async fn run(mut self, faults: Vec<LiveFault>) {
        let mut events: Vec<(u64, bool, usize)> = Vec::with_capacity(faults.len() * 2);
        for (index, fault) in faults.iter().enumerate() {
            events.push((fault.at_ms, true, index));
            events.push((fault.end_ms.max(fault.at_ms), false, index));
        }
        events.sort_by_key(|&(at_ms, start, index)| (at_ms, start, index));
        // Addresses a cut fault cut, to heal the same ones.
        let mut cut_addresses: BTreeMap<usize, Vec<String>> = BTreeMap::new();
        for (at_ms, start, index) in events {
            tokio::time::sleep_until(self.t0 + Duration::from_millis(at_ms)).await;
            match (&faults[index].action, start) {
                (LiveAction::KillAndRestart { worker }, true) => self.kill(index, worker).await,
                (LiveAction::KillAndRestart { worker }, false) => self.restart(index, worker).await,
                (LiveAction::CutLinks { workers, cut }, true) => {
                    let addresses: Vec<String> = workers
                        .iter()
                        .filter_map(|worker| self.registry.address(&WorkerId::new(worker.as_str())))
                        .collect();
                    for address in &addresses {
                        self.cuts.cut(address, *cut);
                    }
                    cut_addresses.insert(index, addresses);
                    self.record(index, |action| set_cut(action, true, now_ms(self.t0)));
                }
                (LiveAction::CutLinks { cut, .. }, false) => {
                    for address in cut_addresses.remove(&index).unwrap_or_default() {
                        self.cuts.heal(&address, *cut);
                    }
                    self.record(index, |action| set_cut(action, false, now_ms(self.t0)));
                }
            }
        }
    }

    async fn kill(&mut self, index: usize, worker: &str) {
        let process = self.processes.lock().await.get_mut(worker).and_then(Option::take);
        let Some(process) = process else { return };
        let pid = process.pid;
        let status = process.kill().await;
        let at_ms = now_ms(self.t0);
        self.record(index, |action| {
            if let AppliedAction::KillAndRestart { killed_pid, kill_status, killed_at_ms, .. } = action {
                (*killed_pid, *kill_status, *killed_at_ms) = (Some(pid), Some(status), Some(at_ms));
            }
        });
    }

    async fn restart(&mut self, index: usize, worker: &str) {
        if self.processes.lock().await.get(worker).is_some_and(Option::is_some) {
            return;
        }
        let started = self.spawn.start(&WorkerId::new(worker)).await;
        let restarted_ms = now_ms(self.t0);
        let (pid, error) = match started {
            Ok(process) => {
                let pid = process.pid;
                let joined = wait_until_joined(&self.registry, &[&process], &mut self.exited).await;
                self.processes.lock().await.insert(worker.to_owned(), Some(process));
                (Some(pid), joined.err().map(|error| error.to_string()))
            }
            Err(error) => (None, Some(error.to_string())),
        };
        let rejoined_ms = error.is_none().then(|| now_ms(self.t0));
        self.record(index, |action| {
            if let AppliedAction::KillAndRestart {
                restarted_pid, restarted_at_ms, rejoined_at_ms, error: failed, ..
            } = action
            {
                (*restarted_pid, *restarted_at_ms, *rejoined_at_ms) = (pid, pid.map(|_| restarted_ms), rejoined_ms);
                *failed = error;
            }
        });
    }

    fn record(&self, index: usize, change: impl FnOnce(&mut AppliedAction)) {
        let mut applied = self.applied.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(fault) = applied.get_mut(index) {
            change(&mut fault.action);
        }
    }
}

fn set_cut(action: &mut AppliedAction, start: bool, at_ms: u64) {
    if let AppliedAction::CutLinks { cut_at_ms, healed_at_ms, .. } = action {
        if start { *cut_at_ms = Some(at_ms) } else { *healed_at_ms = Some(at_ms) }
    }
}

fn now_ms(t0: Instant) -> u64 {
    t0.elapsed().as_millis() as u64
}

/// Submits every task at its arrival time, at most [`TASKS_IN_FLIGHT_MAX`] at once,
/// and collects the results until `deadline`; draws the progress.
async fn submit_all(
    tasks: &[PlannedTask],
    client: SupervisorClient,
    t0: Instant,
    deadline: Instant,
) -> BTreeMap<usize, (Result<TaskResult, String>, u32)> {
    let slots = Arc::new(Semaphore::new(TASKS_IN_FLIGHT_MAX));
    let (sender, mut receiver) = mpsc::unbounded_channel();
    for (index, planned) in tasks.iter().enumerate() {
        let (client, slots, sender, planned) = (client.clone(), Arc::clone(&slots), sender.clone(), planned.clone());
        tokio::spawn(async move {
            tokio::time::sleep_until(t0 + Duration::from_millis(planned.at_ms)).await;
            let Ok(_slot) = slots.acquire_owned().await else { return };
            let (result, submissions) = submit_one(&client, &planned).await;
            let _ = sender.send((index, result.map_err(|error| error.to_string()), submissions));
        });
    }
    drop(sender);
    let mut progress = progress_printer(ProgressLabels {
        name: "live",
        units: "tasks",
        rate_units: "tasks/s",
        lines_otherwise: false,
    });
    let (mut outcomes, mut failed) = (BTreeMap::new(), 0);
    progress(0, tasks.len(), 0);
    while outcomes.len() < tasks.len() {
        tokio::select! {
            received = receiver.recv() => {
                let Some((index, result, submissions)) = received else { break };
                let is_failed = result.as_ref().map_or(true, |result| {
                    matches!(result.outcome, quorum_core::Outcome::Failed { .. })
                });
                failed += usize::from(is_failed);
                outcomes.insert(index, (result, submissions));
                progress(outcomes.len(), tasks.len(), failed);
            }
            () = tokio::time::sleep_until(deadline) => break,
        }
    }
    outcomes
}

/// Submits `planned` until its result comes, resubmitting (the same id) while the
/// supervisor is unreachable or overloaded.
async fn submit_one(client: &SupervisorClient, planned: &PlannedTask) -> (Result<TaskResult, ClientError>, u32) {
    let mut submissions = 0;
    loop {
        submissions += 1;
        let outcome = match client.submit(planned.task.clone()).await {
            Ok(events) => events.result().await,
            Err(error) => Err(error),
        };
        match outcome {
            Err(ClientError::Unavailable | ClientError::Timeout | ClientError::Overloaded { .. })
                if submissions < SUBMIT_ATTEMPTS_MAX =>
            {
                tokio::time::sleep(Duration::from_millis(SUBMIT_BACKOFF_MS * u64::from(submissions))).await;
            }
            outcome => return (outcome, submissions),
        }
    }
}

/// The run's counts, accuracy, figures and violations.
fn summarise(scenario: &Scenario, seed: u64, workload: &Workload, played: Played, wall_seconds: f64) -> LiveRun {
    let tasks = workload.tasks.len();
    let mut run = LiveRun {
        scenario: scenario.name.clone(),
        seed,
        live: true,
        llm: "openai",
        passed: false,
        trace_hash: None,
        tasks,
        agreed: 0,
        no_consensus: 0,
        failed: 0,
        accuracy: None,
        llm_calls: 0,
        llm_calls_per_task: 0.0,
        sim_seconds: None,
        wall_seconds,
        violations: Vec::new(),
        replay: None,
        report: LiveReport { workers: played.workers, ..LiveReport::default() },
        faults: played.faults,
        not_applicable: Vec::new(),
        results: Vec::new(),
    };
    let mut latencies = Vec::new();
    let mut outcomes = played.outcomes;
    for (index, planned) in workload.tasks.iter().enumerate() {
        match outcomes.remove(&index) {
            Some((Ok(result), submissions)) => {
                latencies.push(result.latency_ms());
                let truth = workload.truths.get(&planned.task.text);
                run.add(result, planned, truth, submissions);
            }
            Some((Err(error), _)) => {
                run.violations.push(format!("liveness: task {}: no result: {error}", planned.task.id))
            }
            None => run.violations.push(format!("liveness: task {}: no result by the deadline", planned.task.id)),
        }
    }
    run.report.results_emitted = played.results_emitted;
    run.report.duplicate_results = played.duplicate_results;
    if played.duplicate_results > 0 {
        run.violations.push(format!("duplicate_result: {} result(s) emitted twice", played.duplicate_results));
    }
    run.violations.extend(run.faults.iter().filter_map(fault_problem));
    run.finish(&mut latencies);
    run
}

/// Why a fault did not play out in full, if it did not.
fn fault_problem(fault: &AppliedFault) -> Option<String> {
    let problem = match &fault.action {
        AppliedAction::KillAndRestart { error: Some(error), .. } => format!("restart failed: {error}"),
        AppliedAction::KillAndRestart { killed_at_ms: None, .. } => {
            "the worker was not running to be killed".to_owned()
        }
        AppliedAction::KillAndRestart { rejoined_at_ms: None, .. } => "the worker did not rejoin in time".to_owned(),
        AppliedAction::CutLinks { cut_at_ms: None, .. } | AppliedAction::CutLinks { healed_at_ms: None, .. } => {
            "the cut did not start and heal before the run ended".to_owned()
        }
        _ => return None,
    };
    Some(format!("fault {}: {problem}", fault.fault))
}

impl LiveRun {
    fn add(
        &mut self,
        result: TaskResult,
        planned: &PlannedTask,
        truth: Option<&quorum_core::mock::workload::Truth>,
        submissions: u32,
    ) {
        let metadata = &result.metadata;
        self.llm_calls += metadata.llm_calls;
        self.report.prompt_tokens += metadata.prompt_tokens;
        self.report.completion_tokens += metadata.completion_tokens;
        self.report.resubmissions += u64::from(submissions.saturating_sub(1));
        let correct = match &result.outcome {
            quorum_core::Outcome::Agreed { answer, .. } => {
                self.agreed += 1;
                let correct = truth.is_some_and(|truth| is_correct(answer, truth));
                self.report.correct += usize::from(correct);
                Some(correct)
            }
            quorum_core::Outcome::NoConsensus { .. } => {
                self.no_consensus += 1;
                None
            }
            quorum_core::Outcome::Failed { .. } => {
                self.failed += 1;
                None
            }
        };
        self.results.push(LiveTaskResult {
            text: planned.task.text.clone(),
            ground_truth: planned.task.ground_truth.clone(),
            correct,
            submissions,
            output: SubmitOutput::of(result),
        });
    }

    fn finish(&mut self, latencies: &mut [u64]) {
        let tasks = self.tasks.max(1) as f64;
        self.accuracy = (self.agreed > 0).then(|| self.report.correct as f64 / self.agreed as f64);
        self.llm_calls_per_task = self.llm_calls as f64 / tasks;
        self.report.tokens = self.report.prompt_tokens + self.report.completion_tokens;
        self.report.tokens_per_task = self.report.tokens as f64 / tasks;
        self.report.no_consensus_rate = self.no_consensus as f64 / tasks;
        latencies.sort_unstable();
        let percentile = |p: usize| {
            latencies.get((latencies.len() * p / 100).min(latencies.len().saturating_sub(1))).copied().unwrap_or(0)
        };
        (self.report.latency_ms_p50, self.report.latency_ms_p90, self.report.latency_ms_p99) =
            (percentile(50), percentile(90), percentile(99));
        self.passed = self.violations.is_empty();
    }

    /// The run in one line, as a sim run's headline reads.
    pub fn headline(&self) -> String {
        let accuracy = self.accuracy.map_or_else(|| "n/a".to_owned(), |accuracy| format!("{accuracy:.3}"));
        format!(
            "{} tasks, {} agreed, {} no consensus, {} failed, accuracy {accuracy}, {:.2} LLM calls/task, {} tokens, \
             latency p50 {} ms p99 {} ms, {} worker processes, {:.1} s wall",
            self.tasks,
            self.agreed,
            self.no_consensus,
            self.failed,
            self.llm_calls_per_task,
            self.report.tokens,
            self.report.latency_ms_p50,
            self.report.latency_ms_p99,
            self.report.workers,
            self.wall_seconds
        )
    }
}

/// A human-readable block for a live run: the headline, each fault applied, what
/// was not applicable, violations.
pub fn render_live(run: &LiveRun) -> String {
    let verdict = if run.passed { "PASS" } else { "FAIL" };
    let checks = if run.passed { ", every task has exactly one result" } else { "" };
    let mut out =
        format!("{verdict} {} seed {} live ({}): {}{checks}\n", run.scenario, run.seed, run.llm, run.headline());
    for fault in &run.faults {
        out.push_str(&format!("  fault {}: {}\n", fault.fault, describe(&fault.action)));
    }
    for left_out in &run.not_applicable {
        out.push_str(&format!("  not applicable live: {}: {}\n", left_out.name, left_out.reason));
    }
    for violation in run.violations.iter().take(crate::SUMMARY_VIOLATIONS_MAX) {
        out.push_str(&format!("  - {violation}\n"));
    }
    if run.violations.len() > crate::SUMMARY_VIOLATIONS_MAX {
        let more = run.violations.len() - crate::SUMMARY_VIOLATIONS_MAX;
        out.push_str(&format!("  - ... and {more} more (all of them: --json)\n"));
    }
    out
}

fn describe(action: &AppliedAction) -> String {
    let at = |ms: &Option<u64>| ms.map_or_else(|| "never".to_owned(), |ms| format!("{ms} ms"));
    match action {
        AppliedAction::KillAndRestart {
            worker,
            killed_pid,
            kill_status,
            killed_at_ms,
            restarted_pid,
            restarted_at_ms,
            rejoined_at_ms,
            error,
        } => {
            let pid = |pid: &Option<u32>| pid.map_or_else(|| "-".to_owned(), |pid| pid.to_string());
            let mut text = format!(
                "{worker} pid {} killed (kill -9, {}) at {}, restarted as pid {} at {}, rejoined at {}",
                pid(killed_pid),
                kill_status.as_deref().unwrap_or("-"),
                at(killed_at_ms),
                pid(restarted_pid),
                at(restarted_at_ms),
                at(rejoined_at_ms)
            );
            if let Some(error) = error {
                text.push_str(&format!(" ({error})"));
            }
            text
        }
        AppliedAction::CutLinks { workers, cut, cut_at_ms, healed_at_ms } => format!(
            "supervisor's links to {} cut ({cut}) at {}, healed at {}",
            workers.join(", "),
            at(cut_at_ms),
            at(healed_at_ms)
        ),
    }
}
