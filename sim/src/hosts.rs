//! The software of each simulated host: workers, the supervisor (a thin wire
//! adapter over the core [`quorum_core::SupervisorService`]), and the scaler that
//! switches spare worker hosts on and off through the [`WorkerRegistry`].
//!
//! Hosts spawn with `spawn_local`, never `tokio::spawn`: a crash drops the host's
//! runtime, and tokio drops `spawn`ed tasks shard by shard, the shard chosen by a task
//! id counter that is global to the process. Two runs of one seed in one process (or
//! parallel sweeps) would then close a crashed host's connections in different
//! orders. `spawn_local` tasks live in the host's `LocalSet`, dropped in insertion
//! order.

use core::time::Duration;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use turmoil::net::{TcpListener, TcpStream};

use quorum_core::mock::workload::TruthBook;
use quorum_core::mock::{LlmControl, LlmProfile, MockLlm};
use quorum_core::{
    BoxEntailment, Emission, ExecuteRequest, Heartbeat, ResultHook, ScaleError, Scaler, StatsReader, Submitted,
    Supervisor, SupervisorConfig, SupervisorService, TaskId, TaskStatus, Worker, WorkerAnswer, WorkerConfig,
    WorkerError, WorkerId, WorkerRegistry,
};
use quorum_grpc::ServedWorker;

use quorum_journal::{JournalOptions, RedbJournal};

use crate::hostile::Hostility;
use crate::invariants::{Invariant, Violation};
use crate::journal_disk::{DiskPower, TurmoilDisk};
use crate::link::SimLink;
use crate::trace::{Happening, Trace};
use crate::transport::{SupervisorCalls, Transport, sim_grpc_config, sim_incoming, sim_token};
use crate::wire::{
    SUPERVISOR_PORT, SupervisorRequest, SupervisorResponse, WORKER_PORT, WorkerRequest, WorkerResponse, read_frame,
    write_frame,
};

/// How often an inactive (spare or released) worker host checks whether it is needed.
const ACTIVATION_POLL_MS: u64 = 200;
/// The text a twin pushes under its sibling's id: unlike any real answer.
const TWIN_ANSWER: &str = "The answer cannot be determined.";

/// The registry of a simulation: worker host names by worker id (a worker's id is
/// its host's name). A worker host serves while it is registered.
pub(crate) type SimRegistry = WorkerRegistry<String>;

/// Everything one worker host needs.
#[derive(Clone, Debug)]
pub(crate) struct WorkerSpec {
    /// Host name, also the worker id.
    pub name: String,
    /// Its model.
    pub profile: LlmProfile,
    /// Whether it also pushes a conflicting answer under its own id.
    pub twin: bool,
    /// Worker settings.
    pub config: WorkerConfig,
    /// The run's seed.
    pub seed: u64,
    /// Ground truth for the mock.
    pub truths: Arc<TruthBook>,
    /// Storm switch.
    pub control: LlmControl,
    /// Who is switched on: the registered workers.
    pub registry: SimRegistry,
    /// The trace.
    pub trace: Trace,
    /// The supervisor's deadline table: a push to the supervisor may take a client
    /// call's; a gRPC server's own bounds come from it too.
    pub deadlines: quorum_core::Deadlines,
    /// The wire.
    pub transport: Transport,
}

/// A worker host: waits until switched on (registered), then serves the worker
/// protocol until switched off (and then waits again). A crash loses everything; a
/// restart begins here afresh.
pub(crate) async fn worker_host(spec: WorkerSpec) -> turmoil::Result {
    let id = WorkerId::new(spec.name.clone());
    loop {
        while !spec.registry.contains(&id) {
            tokio::time::sleep(Duration::from_millis(ACTIVATION_POLL_MS)).await;
        }
        spec.trace.record(&spec.name, Happening::WorkerStart);
        let llm =
            MockLlm::new(&spec.name, spec.profile.clone(), Arc::clone(&spec.truths), spec.control.clone(), spec.seed)
                .with_observer(Arc::new(spec.trace.clone()));
        let worker = Worker::new(WorkerId::new(spec.name.clone()), spec.config.clone(), llm, spec.seed)?;
        let supervisor = SupervisorCalls::new(spec.transport, &spec.deadlines);
        let worker = Arc::new(SimWorker { worker, spec: spec.clone(), supervisor });
        let listener = TcpListener::bind(("0.0.0.0", WORKER_PORT)).await?;
        match spec.transport {
            Transport::Frames => serve_frames(&worker, &listener, &spec).await?,
            Transport::Grpc => {
                let config = sim_grpc_config(&spec.deadlines);
                let switched_off = switched_off(&spec.registry, &id);
                quorum_grpc::serve_worker(worker, sim_token(), config, sim_incoming(listener), switched_off).await?;
            }
        }
        spec.trace.record(&spec.name, Happening::WorkerStop);
    }
}

/// Resolves once `worker` is no longer registered (checked every
/// [`ACTIVATION_POLL_MS`]).
async fn switched_off(registry: &SimRegistry, worker: &WorkerId) {
    loop {
        tokio::time::sleep(Duration::from_millis(ACTIVATION_POLL_MS)).await;
        if !registry.contains(worker) {
            return;
        }
    }
}

/// Serves framed calls, one connection each, until the worker is switched off.
async fn serve_frames(worker: &Arc<SimWorker>, listener: &TcpListener, spec: &WorkerSpec) -> turmoil::Result {
    let id = WorkerId::new(spec.name.clone());
    loop {
        tokio::select! {
            biased;
            accepted = listener.accept() => {
                let (stream, _) = accepted?;
                tokio::task::spawn_local(serve_worker_connection(Arc::clone(worker), stream));
            }
            () = tokio::time::sleep(Duration::from_millis(ACTIVATION_POLL_MS)) => {
                if !spec.registry.contains(&id) {
                    return Ok(());
                }
            }
        }
    }
}

async fn serve_worker_connection(worker: Arc<SimWorker>, mut stream: TcpStream) {
    let request: WorkerRequest = match read_frame(&mut stream).await {
        Ok(request) => request,
        Err(error) => {
            worker.spec.trace.record(&worker.spec.name, Happening::BadFrame { error: error.to_string() });
            return;
        }
    };
    let response = match request {
        WorkerRequest::Execute(request) => WorkerResponse::Answer(worker.execute(request).await),
        WorkerRequest::Heartbeat => WorkerResponse::Heartbeat(worker.heartbeat()),
        WorkerRequest::Cancel(task) => {
            worker.cancel(&task);
            WorkerResponse::Cancelled
        }
    };
    // A lost reply is the caller's timeout to handle.
    let _ = write_frame(&mut stream, &response).await;
}

/// A simulated worker: core's worker over the mock, and, when its plan says so, a
/// twin or hostile process around it that pushes extra answers to the supervisor
/// while the execute call is open. Served alike on either wire.
struct SimWorker {
    worker: Worker<MockLlm>,
    spec: WorkerSpec,
    supervisor: SupervisorCalls,
}

impl ServedWorker for SimWorker {
    fn id(&self) -> &WorkerId {
        self.worker.id()
    }

    async fn execute(&self, request: ExecuteRequest) -> Result<WorkerAnswer, WorkerError> {
        let spec = &self.spec;
        let mut outcome = self.worker.execute(request).await;
        if spec.twin
            && let Ok(answer) = &outcome
        {
            self.push_twin_answer(answer).await;
        }
        if let Some(hostility) = Hostility::of(spec.profile.byzantine)
            && let Ok(answer) = outcome
        {
            // All at once, while the call is still open: the supervisor must sort
            // them out with the task live, not after it finished.
            let pushes = hostility.pushes(&answer).into_iter().map(|pushed| {
                let (task, attempt, text) = (pushed.task.clone(), pushed.attempt, pushed.text.clone());
                spec.trace.record(&spec.name, Happening::Push { task, attempt, text });
                self.push_answer(pushed)
            });
            futures_util::future::join_all(pushes).await;
            outcome = Ok(hostility.reply(answer));
        }
        outcome
    }

    fn heartbeat(&self) -> Heartbeat {
        self.worker.heartbeat()
    }

    fn cancel(&self, task: &TaskId) -> bool {
        self.worker.cancel(task)
    }
}

impl SimWorker {
    /// A twin: a second process under the same worker id delivers a different answer.
    async fn push_twin_answer(&self, answer: &WorkerAnswer) {
        let conflicting = WorkerAnswer { text: TWIN_ANSWER.to_owned(), ..answer.clone() };
        let (task, attempt, text) = (answer.task.clone(), answer.attempt, TWIN_ANSWER.to_owned());
        self.spec.trace.record(&self.spec.name, Happening::Twin { task, attempt, text });
        self.push_answer(conflicting).await;
    }

    /// Delivers an answer to the supervisor outside any execute call (best effort,
    /// within a client call's deadline).
    async fn push_answer(&self, answer: WorkerAnswer) {
        let _ = self.supervisor.call(SupervisorRequest::Deliver(answer), self.spec.deadlines.client_call_ms).await;
    }
}

/// The scaler of a simulation: switches worker hosts on (joins them to the
/// registry) and off (removes them).
#[derive(Clone, Debug)]
pub(crate) struct SimScaler {
    registry: SimRegistry,
    /// Every worker host it may switch on, in name order.
    hosts: Vec<String>,
    trace: Trace,
    transport: Transport,
}

impl SimScaler {
    /// A scaler over `registry`, choosing among `hosts`.
    pub(crate) fn new(registry: SimRegistry, mut hosts: Vec<String>, trace: Trace, transport: Transport) -> Self {
        hosts.sort_unstable();
        hosts.dedup();
        Self { registry, hosts, trace, transport }
    }
}

impl Scaler for SimScaler {
    /// Switches on up to `count` hosts that are off, lowest name first.
    async fn scale_up(&self, count: usize) -> Result<Vec<WorkerId>, ScaleError> {
        let mut started = Vec::new();
        for host in &self.hosts {
            if started.len() == count {
                break;
            }
            let worker = WorkerId::new(host.clone());
            if !self.registry.contains(&worker)
                && self.registry.join(worker, self.transport.worker_address(host)).is_ok()
            {
                started.push(host.clone());
            }
        }
        self.trace.record("supervisor", Happening::ScaleUp { started: started.clone() });
        if started.is_empty() {
            return Err(ScaleError::NoCapacity);
        }
        Ok(started.into_iter().map(WorkerId::new).collect())
    }

    async fn scale_down(&self, worker: &WorkerId) -> Result<(), ScaleError> {
        if self.registry.leave(worker).is_none() {
            return Err(ScaleError::UnknownWorker(worker.clone()));
        }
        self.trace.record("supervisor", Happening::ScaleDown { worker: worker.clone() });
        Ok(())
    }
}

/// Everything the supervisor host needs.
#[derive(Clone, Debug)]
pub(crate) struct SupervisorSpec {
    /// Its config.
    pub config: SupervisorConfig,
    /// Who is switched on (its first workers, and its scaler's spares).
    pub registry: SimRegistry,
    /// Every worker host its scaler may switch on.
    pub hosts: Vec<String>,
    /// Where broken invariants go.
    pub violations: Arc<Mutex<Vec<Violation>>>,
    /// The trace.
    pub trace: Trace,
    /// The truths of the workload, when the supervisor judges entailment with the
    /// mock ([`crate::ClusterConfig::entailment`]).
    pub judge_truths: Option<Arc<TruthBook>>,
    /// Every incarnation of the supervisor in this run, for its counters.
    pub incarnations: Incarnations,
    /// The wire.
    pub transport: Transport,
    /// With a journal: the power of the disk it is on, and every result emitted so
    /// far, across incarnations (a later incarnation must emit the same one, if any).
    pub journal: Option<(DiskPower, Emitted)>,
}

/// Every result the supervisor emitted in a run, by task, across incarnations.
pub(crate) type Emitted = Arc<Mutex<BTreeMap<quorum_core::TaskId, quorum_core::TaskResult>>>;

/// The supervisor incarnations of one run (a crash starts a new one), whose counters
/// the run's report adds up.
#[derive(Clone, Debug, Default)]
pub(crate) struct Incarnations {
    counters: Arc<Mutex<Vec<StatsReader>>>,
}

impl Incarnations {
    fn begin(&self, service: &SupervisorService) {
        self.counters.lock().unwrap_or_else(PoisonError::into_inner).push(service.stats_reader());
    }

    /// The counters of `SupervisorStats` that moved, summed over the incarnations.
    pub(crate) fn counters(&self) -> BTreeMap<String, u64> {
        let mut total = BTreeMap::new();
        for incarnation in self.counters.lock().unwrap_or_else(PoisonError::into_inner).iter() {
            for (name, count) in incarnation.get().counters() {
                if count > 0 {
                    *total.entry(name).or_insert(0) += count;
                }
            }
        }
        total
    }
}

/// The supervisor host: the core supervisor over [`SimLink`] and the registry, and
/// its service on [`SUPERVISOR_PORT`] (submit, poll, deliver). Everything it knows
/// is lost in a crash.
pub(crate) async fn supervisor_host(spec: SupervisorSpec) -> turmoil::Result {
    spec.trace.record("supervisor", Happening::SupervisorStart);
    let deadlines = spec.config.deadlines.clone();
    let link = SimLink::new("supervisor", spec.transport, spec.trace.clone(), spec.registry.clone(), deadlines);
    let scaler = SimScaler::new(spec.registry.clone(), spec.hosts.clone(), spec.trace.clone(), spec.transport);
    let mut supervisor = Supervisor::new(spec.config.clone(), link, scaler)?
        .with_registry(&spec.registry)
        .on_result(result_hook(spec.trace.clone(), Arc::clone(&spec.violations), spec.journal.clone().map(|(_, e)| e)));
    if let Some(truths) = &spec.judge_truths {
        // The mock judges by the truths alone and makes no draws: no seed, no trace.
        let judge = MockLlm::new("judge", LlmProfile::default(), Arc::clone(truths), LlmControl::default(), 0);
        supervisor = supervisor.with_judge(BoxEntailment::new(judge));
    }
    if let Some((power, _)) = &spec.journal {
        let options = JournalOptions { finished_kept_max: spec.config.completed_results_max };
        let journal = open_journal(power, options, &spec.trace)?;
        supervisor = supervisor.with_journal(journal)?;
    }
    let (service, driver) = supervisor.start();
    spec.incarnations.begin(&service);
    tokio::task::spawn_local(driver.run());
    let listener = TcpListener::bind(("0.0.0.0", SUPERVISOR_PORT)).await?;
    match spec.transport {
        Transport::Frames => loop {
            let (stream, _) = listener.accept().await?;
            tokio::task::spawn_local(serve_supervisor_connection(service.clone(), stream, spec.trace.clone()));
        },
        Transport::Grpc => {
            let config = sim_grpc_config(&spec.config.deadlines);
            let incoming = sim_incoming(listener);
            // It serves until the host crashes: the simulation never stops a supervisor.
            let forever = core::future::pending();
            quorum_grpc::serve_supervisor(service, spec.registry.clone(), sim_token(), config, incoming, forever)
                .await?;
            Ok(())
        }
    }
}

/// Where the supervisor host keeps its journal, on its simulated disk.
const JOURNAL_PATH: &str = "/var/lib/quorum/journal.redb";

/// Opens the supervisor's journal on its disk, and traces what it holds.
fn open_journal(
    power: &DiskPower,
    options: JournalOptions,
    trace: &Trace,
) -> turmoil::Result<Arc<dyn quorum_core::Journal>> {
    let disk = TurmoilDisk::open(std::path::Path::new(JOURNAL_PATH), power)?;
    let journal = RedbJournal::with_backend(disk, options)?;
    let state = quorum_core::Journal::load(&journal)?;
    let (finished, unfinished) = (state.finished().len(), state.unfinished().len());
    trace.record("supervisor", Happening::Recovered { finished, unfinished });
    Ok(Arc::new(journal))
}

/// Traces every result, and reports a second result for one task in one
/// incarnation as a broken invariant; with a journal, also a result that differs
/// from one an earlier incarnation emitted.
fn result_hook(trace: Trace, violations: Arc<Mutex<Vec<Violation>>>, emitted: Option<Emitted>) -> ResultHook {
    ResultHook::new(move |result, emission| {
        let (task, outcome) = (result.task.clone(), result.outcome.clone());
        trace.record("supervisor", Happening::Result { task, outcome });
        let violate = |invariant, detail: String| {
            let violation = Violation { invariant, task: Some(result.task.clone()), detail };
            violations.lock().unwrap_or_else(PoisonError::into_inner).push(violation);
        };
        if emission == Emission::Duplicate {
            violate(Invariant::DuplicateResult, "emitted twice by one supervisor incarnation".to_owned());
        }
        if let Some(emitted) = &emitted {
            let mut emitted = emitted.lock().unwrap_or_else(PoisonError::into_inner);
            match emitted.get(&result.task) {
                Some(earlier) if earlier != result => violate(
                    Invariant::ConflictingResults,
                    format!("{:?}, then {:?} after a restart", earlier.outcome, result.outcome),
                ),
                Some(_) => {}
                None => {
                    emitted.insert(result.task.clone(), result.clone());
                }
            }
        }
    })
}

async fn serve_supervisor_connection(service: SupervisorService, mut stream: TcpStream, trace: Trace) {
    let request: SupervisorRequest = match read_frame(&mut stream).await {
        Ok(request) => request,
        Err(error) => {
            trace.record("supervisor", Happening::BadFrame { error: error.to_string() });
            return;
        }
    };
    let response = match request {
        SupervisorRequest::Submit(task) => match service.submit(task).await {
            Ok(Submitted::Completed(result)) => SupervisorResponse::Status(TaskStatus::Done(result)),
            Ok(Submitted::Accepted | Submitted::InProgress) => SupervisorResponse::Submitted,
            Err(error) => SupervisorResponse::Refused(error.to_string()),
        },
        SupervisorRequest::Poll(task) => SupervisorResponse::Status(service.task_status(&task)),
        SupervisorRequest::Deliver(answer) => {
            let (worker, task, attempt) = (answer.worker.clone(), answer.task.clone(), answer.attempt);
            trace.record("supervisor", Happening::Delivered { worker, task, attempt });
            let _ = service.deliver(answer).await;
            SupervisorResponse::Delivered
        }
    };
    let _ = write_frame(&mut stream, &response).await;
}
