//! The software of each simulated host: workers, the supervisor, and the scaler
//! that switches spare worker hosts on and off.
//!
//! Hosts spawn with `spawn_local`, never `tokio::spawn`: a crash drops the host's
//! runtime, and tokio drops `spawn`ed tasks shard by shard, the shard chosen by a task
//! id counter that is global to the process. Two runs of one seed in one process (or
//! parallel sweeps) would then close a crashed host's connections in different
//! orders. `spawn_local` tasks live in the host's `LocalSet`, dropped in insertion
//! order.

use core::time::Duration;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, PoisonError};

use turmoil::net::{TcpListener, TcpStream};

use quorum_core::mock::workload::TruthBook;
use quorum_core::mock::{LlmControl, LlmProfile, MockLlm};
use quorum_core::{
    ScaleError, Scaler, Submitted, Supervisor, SupervisorConfig, SupervisorHandle, TaskId, TaskResult, Worker,
    WorkerAnswer, WorkerConfig, WorkerId,
};

use crate::invariants::{Invariant, Violation};
use crate::link::SimLink;
use crate::trace::{Happening, Trace};
use crate::wire::{
    SUPERVISOR_PORT, SupervisorRequest, SupervisorResponse, TaskStatus, WORKER_PORT, WorkerRequest, WorkerResponse,
    read_frame, write_frame,
};

/// How often an inactive (spare or released) worker host checks whether it is needed.
const ACTIVATION_POLL_MS: u64 = 200;
/// The text a twin pushes under its sibling's id: unlike any real answer.
pub const TWIN_ANSWER: &str = "The answer cannot be determined.";

/// Which worker hosts are switched on. Shared by the scaler and the hosts.
#[derive(Clone, Debug, Default)]
pub struct Activation {
    active: Arc<Mutex<BTreeMap<String, bool>>>,
}

impl Activation {
    /// Sets a host on or off.
    pub fn set(&self, host: &str, active: bool) {
        self.lock().insert(host.to_owned(), active);
    }

    /// Whether a host is on.
    pub fn is_active(&self, host: &str) -> bool {
        self.lock().get(host).copied().unwrap_or(false)
    }

    /// Switches on up to `count` hosts that are off, lowest name first.
    pub fn activate(&self, count: usize) -> Vec<String> {
        let mut active = self.lock();
        let chosen: Vec<String> = active.iter().filter(|(_, on)| !**on).map(|(h, _)| h.clone()).take(count).collect();
        for host in &chosen {
            active.insert(host.clone(), true);
        }
        chosen
    }

    /// Hosts switched on.
    pub fn active_hosts(&self) -> Vec<String> {
        self.lock().iter().filter(|(_, on)| **on).map(|(h, _)| h.clone()).collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, bool>> {
        self.active.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Everything one worker host needs.
#[derive(Clone, Debug)]
pub struct WorkerSpec {
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
    /// Who is switched on.
    pub activation: Activation,
    /// The trace.
    pub trace: Trace,
}

/// A worker host: waits until switched on, then serves the worker protocol until
/// switched off (and then waits again). A crash loses everything; a restart begins
/// here afresh.
pub async fn worker_host(spec: WorkerSpec) -> turmoil::Result {
    loop {
        while !spec.activation.is_active(&spec.name) {
            tokio::time::sleep(Duration::from_millis(ACTIVATION_POLL_MS)).await;
        }
        spec.trace.record(&spec.name, Happening::WorkerStart);
        let llm =
            MockLlm::new(&spec.name, spec.profile.clone(), Arc::clone(&spec.truths), spec.control.clone(), spec.seed)
                .with_observer(Arc::new(spec.trace.clone()));
        let worker = Arc::new(Worker::new(WorkerId::new(spec.name.clone()), spec.config.clone(), llm, spec.seed)?);
        let listener = TcpListener::bind(("0.0.0.0", WORKER_PORT)).await?;
        loop {
            tokio::select! {
                biased;
                accepted = listener.accept() => {
                    let (stream, _) = accepted?;
                    tokio::task::spawn_local(serve_worker_connection(Arc::clone(&worker), stream, spec.clone()));
                }
                () = tokio::time::sleep(Duration::from_millis(ACTIVATION_POLL_MS)) => {
                    if !spec.activation.is_active(&spec.name) {
                        spec.trace.record(&spec.name, Happening::WorkerStop);
                        break;
                    }
                }
            }
        }
    }
}

async fn serve_worker_connection(worker: Arc<Worker<MockLlm>>, mut stream: TcpStream, spec: WorkerSpec) {
    let request: WorkerRequest = match read_frame(&mut stream).await {
        Ok(request) => request,
        Err(error) => {
            spec.trace.record(&spec.name, Happening::BadFrame { error: error.to_string() });
            return;
        }
    };
    let response = match request {
        WorkerRequest::Execute(request) => {
            let outcome = worker.execute(request).await;
            if spec.twin
                && let Ok(answer) = &outcome
            {
                push_twin_answer(answer, &spec).await;
            }
            WorkerResponse::Answer(outcome)
        }
        WorkerRequest::Heartbeat => WorkerResponse::Heartbeat(worker.heartbeat()),
        WorkerRequest::Cancel(task) => {
            worker.cancel(&task);
            WorkerResponse::Cancelled
        }
    };
    // A lost reply is the caller's timeout to handle.
    let _ = write_frame(&mut stream, &response).await;
}

/// A twin: a second process under the same worker id delivers a different answer.
async fn push_twin_answer(answer: &WorkerAnswer, spec: &WorkerSpec) {
    let conflicting = WorkerAnswer { text: TWIN_ANSWER.to_owned(), ..answer.clone() };
    let (task, attempt, text) = (answer.task.clone(), answer.attempt, TWIN_ANSWER.to_owned());
    spec.trace.record(&spec.name, Happening::Twin { task, attempt, text });
    let push = async {
        let mut stream = TcpStream::connect(("supervisor", SUPERVISOR_PORT)).await.ok()?;
        write_frame(&mut stream, &SupervisorRequest::Deliver(conflicting)).await.ok()?;
        read_frame::<_, SupervisorResponse>(&mut stream).await.ok()
    };
    let _ = tokio::time::timeout(Duration::from_secs(2), push).await;
}

/// The scaler of a simulation: switches spare worker hosts on and off.
#[derive(Clone, Debug)]
pub struct SimScaler {
    activation: Activation,
    trace: Trace,
}

impl SimScaler {
    /// A scaler over `activation`.
    pub fn new(activation: Activation, trace: Trace) -> Self {
        Self { activation, trace }
    }
}

impl Scaler for SimScaler {
    async fn scale_up(&self, count: usize) -> Result<Vec<WorkerId>, ScaleError> {
        let started = self.activation.activate(count);
        self.trace.record("supervisor", Happening::ScaleUp { started: started.clone() });
        if started.is_empty() {
            return Err(ScaleError::NoCapacity);
        }
        Ok(started.into_iter().map(WorkerId::new).collect())
    }

    async fn scale_down(&self, worker: &WorkerId) -> Result<(), ScaleError> {
        if !self.activation.is_active(worker.as_str()) {
            return Err(ScaleError::UnknownWorker(worker.clone()));
        }
        self.activation.set(worker.as_str(), false);
        self.trace.record("supervisor", Happening::ScaleDown { worker: worker.clone() });
        Ok(())
    }
}

/// Everything the supervisor host needs.
#[derive(Clone, Debug)]
pub struct SupervisorSpec {
    /// Its config.
    pub config: SupervisorConfig,
    /// Who is switched on (its first workers, and its scaler's spares).
    pub activation: Activation,
    /// Where broken invariants go.
    pub violations: Arc<Mutex<Vec<Violation>>>,
    /// The trace.
    pub trace: Trace,
}

/// What one supervisor incarnation knows; all of it is lost in a crash.
#[derive(Debug, Default)]
struct Incarnation {
    submitted: BTreeSet<TaskId>,
    results: BTreeMap<TaskId, TaskResult>,
}

/// The supervisor host: the core supervisor over [`SimLink`], and the client
/// protocol (submit, poll, deliver) on [`SUPERVISOR_PORT`].
pub async fn supervisor_host(spec: SupervisorSpec) -> turmoil::Result {
    spec.trace.record("supervisor", Happening::SupervisorStart);
    let workers: Vec<WorkerId> = spec.activation.active_hosts().into_iter().map(WorkerId::new).collect();
    let supervisor = Supervisor::new(
        spec.config.clone(),
        SimLink::new("supervisor", spec.trace.clone()),
        SimScaler::new(spec.activation.clone(), spec.trace.clone()),
    )?
    .with_workers(workers);
    let (handle, mut results, driver) = supervisor.start();
    tokio::task::spawn_local(driver.run());
    let state = Arc::new(Mutex::new(Incarnation::default()));
    {
        let (state, trace, violations) = (Arc::clone(&state), spec.trace.clone(), Arc::clone(&spec.violations));
        tokio::task::spawn_local(async move {
            while let Some(result) = results.recv().await {
                let (task, outcome) = (result.task.clone(), result.outcome.clone());
                trace.record("supervisor", Happening::Result { task, outcome });
                let mut state = state.lock().unwrap_or_else(PoisonError::into_inner);
                if state.results.contains_key(&result.task) {
                    violations.lock().unwrap_or_else(PoisonError::into_inner).push(Violation {
                        invariant: Invariant::DuplicateResult,
                        task: Some(result.task.clone()),
                        detail: "emitted twice by one supervisor incarnation".to_owned(),
                    });
                }
                state.results.insert(result.task.clone(), result);
            }
        });
    }
    let listener = TcpListener::bind(("0.0.0.0", SUPERVISOR_PORT)).await?;
    loop {
        let (stream, _) = listener.accept().await?;
        tokio::task::spawn_local(serve_supervisor_connection(
            handle.clone(),
            Arc::clone(&state),
            stream,
            spec.trace.clone(),
        ));
    }
}

async fn serve_supervisor_connection(
    handle: SupervisorHandle,
    state: Arc<Mutex<Incarnation>>,
    mut stream: TcpStream,
    trace: Trace,
) {
    let request: SupervisorRequest = match read_frame(&mut stream).await {
        Ok(request) => request,
        Err(error) => {
            trace.record("supervisor", Happening::BadFrame { error: error.to_string() });
            return;
        }
    };
    let response = match request {
        SupervisorRequest::Submit(task) => {
            let id = task.id.clone();
            match handle.submit(task).await {
                Ok(Submitted::Completed(result)) => SupervisorResponse::Status(TaskStatus::Done(result)),
                Ok(Submitted::Accepted | Submitted::InProgress) => {
                    state.lock().unwrap_or_else(PoisonError::into_inner).submitted.insert(id);
                    SupervisorResponse::Submitted
                }
                Err(error) => SupervisorResponse::Refused(error.to_string()),
            }
        }
        SupervisorRequest::Poll(task) => {
            let state = state.lock().unwrap_or_else(PoisonError::into_inner);
            let status = match state.results.get(&task) {
                Some(result) => TaskStatus::Done(Box::new(result.clone())),
                None if state.submitted.contains(&task) => TaskStatus::Pending,
                None => TaskStatus::Unknown,
            };
            SupervisorResponse::Status(status)
        }
        SupervisorRequest::Deliver(answer) => {
            let (worker, task, attempt) = (answer.worker.clone(), answer.task.clone(), answer.attempt);
            trace.record("supervisor", Happening::Delivered { worker, task, attempt });
            let _ = handle.deliver(answer).await;
            SupervisorResponse::Delivered
        }
    };
    let _ = write_frame(&mut stream, &response).await;
}
