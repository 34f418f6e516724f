//! The async driver: feeds the machine from the network and the clock, and carries out
//! its commands. Generic over the transport, so the same code runs over turmoil and
//! over gRPC.

use core::pin::Pin;
use core::time::Duration;
use std::sync::Arc;

use futures_util::future::{AbortHandle, Abortable};
use futures_util::stream::{FuturesUnordered, StreamExt};
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use super::config::SupervisorConfig;
use super::machine::{Command, SubmitError, Submitted, SupervisorMachine, SupervisorStats};
use crate::analysis::TaskPlan;
use crate::config::ConfigError;
use crate::link::{Heartbeat, LinkError, WorkerAnswer, WorkerLink};
use crate::pool::WorkerSummary;
use crate::power::PowerRecord;
use crate::result::TaskResult;
use crate::scaler::{ScaleError, Scaler};
use crate::task::Task;
use crate::{TaskId, WorkerId};

/// Time a link call may take beyond the task's own timeout before the driver gives up
/// on it (the link should have answered or failed by then).
const EXECUTE_GRACE_MS: u64 = 1_000;
/// Time a cancel or scale call may take.
const CONTROL_CALL_TIMEOUT_MS: u64 = 5_000;
/// Requests the handle may queue before `submit` waits.
const REQUEST_QUEUE_LENGTH: usize = 1_024;

/// A supervisor before it starts: config validated, workers known.
#[derive(Debug)]
pub struct Supervisor<L, S> {
    machine: SupervisorMachine,
    link: Arc<L>,
    scaler: Arc<S>,
    workers: Vec<WorkerId>,
}

/// Submits tasks to a running supervisor. Cheap to clone.
#[derive(Clone, Debug)]
pub struct SupervisorHandle {
    requests: mpsc::Sender<Request>,
}

/// The stream of results: exactly one per accepted task.
#[derive(Debug)]
pub struct TaskResults {
    results: mpsc::UnboundedReceiver<TaskResult>,
}

/// The future that runs a supervisor; spawn it or await it.
#[derive(Debug)]
pub struct SupervisorDriver<L, S> {
    machine: SupervisorMachine,
    link: Arc<L>,
    scaler: Arc<S>,
    workers: Vec<WorkerId>,
    requests: mpsc::Receiver<Request>,
    results: mpsc::UnboundedSender<TaskResult>,
}

/// A snapshot of a running supervisor.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SupervisorStatus {
    /// Every worker and its health.
    pub workers: Vec<WorkerSummary>,
    /// Learned voting power, by worker.
    pub powers: Vec<(WorkerId, PowerRecord)>,
    /// Tasks waiting.
    pub queued: usize,
    /// Tasks running.
    pub running: usize,
    /// Counters of ignored inputs.
    pub stats: SupervisorStats,
}

#[derive(Debug)]
enum Request {
    Submit { task: Task, plan: Option<TaskPlan>, reply: oneshot::Sender<Result<Submitted, SubmitError>> },
    Status { reply: oneshot::Sender<SupervisorStatus> },
    Deliver { answer: WorkerAnswer },
    Shutdown { done: oneshot::Sender<()> },
}

/// The driver stopped before answering.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the supervisor has stopped")]
pub struct Stopped;

enum Event {
    Answer { worker: WorkerId, task: TaskId, attempt: u32, outcome: Result<WorkerAnswer, LinkError> },
    Heartbeat { worker: WorkerId, outcome: Result<Heartbeat, LinkError> },
    ScaledUp { requested: usize, outcome: Result<Vec<WorkerId>, ScaleError> },
    ScaledDown { worker: WorkerId, outcome: Result<(), ScaleError> },
    Nothing,
}

type EventFuture = Pin<Box<dyn core::future::Future<Output = Event> + Send>>;

impl<L: WorkerLink + 'static, S: Scaler + 'static> Supervisor<L, S> {
    /// A supervisor over `link`, scaling through `scaler`.
    ///
    /// # Errors
    /// [`ConfigError`] naming the bad field.
    pub fn new(config: SupervisorConfig, link: L, scaler: S) -> Result<Self, ConfigError> {
        Ok(Self {
            machine: SupervisorMachine::new(config)?,
            link: Arc::new(link),
            scaler: Arc::new(scaler),
            workers: Vec::new(),
        })
    }

    /// Workers known from the start.
    #[must_use]
    pub fn with_workers(mut self, workers: impl IntoIterator<Item = WorkerId>) -> Self {
        self.workers.extend(workers);
        self
    }

    /// Splits into the handle for submitting, the stream of results, and the driver
    /// future that must be run (spawned, or awaited in a simulation host).
    pub fn start(self) -> (SupervisorHandle, TaskResults, SupervisorDriver<L, S>) {
        let (request_sender, request_receiver) = mpsc::channel(REQUEST_QUEUE_LENGTH);
        let (result_sender, result_receiver) = mpsc::unbounded_channel();
        let driver = SupervisorDriver {
            machine: self.machine,
            link: self.link,
            scaler: self.scaler,
            workers: self.workers,
            requests: request_receiver,
            results: result_sender,
        };
        (SupervisorHandle { requests: request_sender }, TaskResults { results: result_receiver }, driver)
    }
}

impl SupervisorHandle {
    /// Submits a task, planned by the heuristic analyser.
    ///
    /// # Errors
    /// [`SubmitError`] when refused; a stopped supervisor gives
    /// [`SubmitError::ShuttingDown`].
    pub async fn submit(&self, task: Task) -> Result<Submitted, SubmitError> {
        self.submit_planned(task, None).await
    }

    /// Submits a task with a plan made elsewhere (an [`crate::LlmAnalyser`], say).
    ///
    /// # Errors
    /// As [`SupervisorHandle::submit`].
    pub async fn submit_planned(&self, task: Task, plan: Option<TaskPlan>) -> Result<Submitted, SubmitError> {
        let (reply, answer) = oneshot::channel();
        if self.requests.send(Request::Submit { task, plan, reply }).await.is_err() {
            return Err(SubmitError::ShuttingDown);
        }
        answer.await.unwrap_or(Err(SubmitError::ShuttingDown))
    }

    /// Hands the supervisor an answer a worker pushed outside its execute call (after
    /// a broken connection, say). It counts only if that worker was asked for that
    /// task and has not answered it yet; a different answer for the same round marks
    /// the worker as equivocating.
    ///
    /// # Errors
    /// [`Stopped`] when the supervisor no longer runs.
    pub async fn deliver(&self, answer: WorkerAnswer) -> Result<(), Stopped> {
        self.requests.send(Request::Deliver { answer }).await.map_err(|_| Stopped)
    }

    /// A snapshot of workers, powers and load.
    ///
    /// # Errors
    /// [`Stopped`] when the supervisor no longer runs.
    pub async fn status(&self) -> Result<SupervisorStatus, Stopped> {
        let (reply, answer) = oneshot::channel();
        self.requests.send(Request::Status { reply }).await.map_err(|_| Stopped)?;
        answer.await.map_err(|_| Stopped)
    }

    /// Stops taking tasks and waits until every accepted task has its result.
    pub async fn shutdown(&self) {
        let (done, finished) = oneshot::channel();
        if self.requests.send(Request::Shutdown { done }).await.is_ok() {
            let _ = finished.await;
        }
    }
}

impl TaskResults {
    /// The next result; `None` once the supervisor stopped and every result was taken.
    pub async fn recv(&mut self) -> Option<TaskResult> {
        self.results.recv().await
    }

    /// A result if one is ready now.
    pub fn try_recv(&mut self) -> Option<TaskResult> {
        self.results.try_recv().ok()
    }
}

impl<L: WorkerLink + 'static, S: Scaler + 'static> SupervisorDriver<L, S> {
    /// Runs until shut down (by [`SupervisorHandle::shutdown`] or by every handle being
    /// dropped) and every accepted task has its result.
    pub async fn run(mut self) {
        let origin = Instant::now();
        let now_ms = move || origin.elapsed().as_millis() as u64;
        let mut calls: FuturesUnordered<EventFuture> = FuturesUnordered::new();
        let mut executing: std::collections::BTreeMap<(TaskId, WorkerId), AbortHandle> =
            std::collections::BTreeMap::new();
        let mut shutdown_waiters: Vec<oneshot::Sender<()>> = Vec::new();
        let mut requests_open = true;
        for worker in core::mem::take(&mut self.workers) {
            self.machine.handle_worker_joined(worker, now_ms());
        }
        self.machine.handle_timeout(now_ms());
        loop {
            self.carry_out_commands(&mut calls, &mut executing);
            while let Some(result) = self.machine.poll_result() {
                // A dropped receiver means nobody wants results; keep running anyway
                // so shutdown still drains.
                let _ = self.results.send(result);
            }
            if self.machine.is_shutting_down() && self.machine.is_idle() {
                break;
            }
            let wake_at = self.machine.poll_timeout().map(|ms| origin + Duration::from_millis(ms));
            tokio::select! {
                biased;
                request = self.requests.recv(), if requests_open => match request {
                    Some(request) => self.handle_request(request, now_ms(), &mut shutdown_waiters),
                    None => {
                        requests_open = false;
                        self.machine.shutdown(now_ms());
                    }
                },
                Some(event) = calls.next(), if !calls.is_empty() => self.handle_event(event, now_ms(), &mut executing),
                () = sleep_until_or_forever(wake_at) => self.machine.handle_timeout(now_ms()),
            }
        }
        for waiter in shutdown_waiters {
            let _ = waiter.send(());
        }
    }

    fn handle_request(&mut self, request: Request, now_ms: u64, shutdown_waiters: &mut Vec<oneshot::Sender<()>>) {
        match request {
            Request::Submit { task, plan, reply } => {
                let _ = reply.send(self.machine.handle_submit(task, plan, now_ms));
            }
            Request::Status { reply } => {
                let (queued, running) = self.machine.load();
                let status = SupervisorStatus {
                    workers: self.machine.workers(now_ms),
                    powers: self.machine.powers().records().iter().map(|(w, r)| (w.clone(), r.clone())).collect(),
                    queued,
                    running,
                    stats: self.machine.stats().clone(),
                };
                let _ = reply.send(status);
            }
            Request::Deliver { answer } => self.machine.handle_delivered(answer, now_ms),
            Request::Shutdown { done } => {
                shutdown_waiters.push(done);
                self.machine.shutdown(now_ms);
            }
        }
    }

    fn handle_event(
        &mut self,
        event: Event,
        now_ms: u64,
        executing: &mut std::collections::BTreeMap<(TaskId, WorkerId), AbortHandle>,
    ) {
        match event {
            Event::Answer { worker, task, attempt, outcome } => {
                executing.remove(&(task.clone(), worker.clone()));
                self.machine.handle_answer(&worker, &task, attempt, outcome, now_ms);
            }
            Event::Heartbeat { worker, outcome } => self.machine.handle_heartbeat(&worker, outcome, now_ms),
            Event::ScaledUp { requested, outcome } => self.machine.handle_scaled_up(requested, outcome, now_ms),
            Event::ScaledDown { worker, outcome } => self.machine.handle_scaled_down(&worker, outcome, now_ms),
            Event::Nothing => {}
        }
    }

    fn carry_out_commands(
        &mut self,
        calls: &mut FuturesUnordered<EventFuture>,
        executing: &mut std::collections::BTreeMap<(TaskId, WorkerId), AbortHandle>,
    ) {
        while let Some(command) = self.machine.poll_command() {
            match command {
                Command::Execute { worker, request } => self.execute(worker, request, calls, executing),
                Command::Cancel { worker, task } => {
                    if let Some(abort) = executing.remove(&(task.clone(), worker.clone())) {
                        abort.abort();
                    }
                    let link = Arc::clone(&self.link);
                    calls.push(Box::pin(async move {
                        let _ = tokio::time::timeout(
                            Duration::from_millis(CONTROL_CALL_TIMEOUT_MS),
                            link.cancel(&worker, &task),
                        )
                        .await;
                        Event::Nothing
                    }));
                }
                Command::Heartbeat { worker } => {
                    let link = Arc::clone(&self.link);
                    // A heartbeat slower than the interval is as good as missing.
                    let limit = Duration::from_millis(self.machine.heartbeat_interval_ms());
                    calls.push(Box::pin(async move {
                        let outcome = tokio::time::timeout(limit, link.heartbeat(&worker))
                            .await
                            .unwrap_or(Err(LinkError::Timeout));
                        Event::Heartbeat { worker, outcome }
                    }));
                }
                Command::ScaleUp { count } => {
                    let scaler = Arc::clone(&self.scaler);
                    calls.push(Box::pin(async move {
                        let limit = Duration::from_millis(CONTROL_CALL_TIMEOUT_MS);
                        let outcome = tokio::time::timeout(limit, scaler.scale_up(count))
                            .await
                            .unwrap_or(Err(ScaleError::NoCapacity));
                        Event::ScaledUp { requested: count, outcome }
                    }));
                }
                Command::ScaleDown { worker } => {
                    let scaler = Arc::clone(&self.scaler);
                    calls.push(Box::pin(async move {
                        let limit = Duration::from_millis(CONTROL_CALL_TIMEOUT_MS);
                        let outcome = tokio::time::timeout(limit, scaler.scale_down(&worker))
                            .await
                            .unwrap_or(Err(ScaleError::NoCapacity));
                        Event::ScaledDown { worker, outcome }
                    }));
                }
            }
        }
    }

    /// Starts an execute call, abortable so that a cancel ends it at once.
    fn execute(
        &self,
        worker: WorkerId,
        request: crate::link::ExecuteRequest,
        calls: &mut FuturesUnordered<EventFuture>,
        executing: &mut std::collections::BTreeMap<(TaskId, WorkerId), AbortHandle>,
    ) {
        let link = Arc::clone(&self.link);
        let (task, attempt) = (request.task.clone(), request.attempt);
        let limit = Duration::from_millis(request.timeout_ms + EXECUTE_GRACE_MS);
        let (abort, registration) = AbortHandle::new_pair();
        if let Some(previous) = executing.insert((task.clone(), worker.clone()), abort) {
            previous.abort();
        }
        let call = Abortable::new(
            async move {
                let outcome = tokio::time::timeout(limit, link.execute(&worker, request))
                    .await
                    .unwrap_or(Err(LinkError::Timeout));
                Event::Answer { worker, task, attempt, outcome }
            },
            registration,
        );
        calls.push(Box::pin(async move { call.await.unwrap_or(Event::Nothing) }));
    }
}

async fn sleep_until_or_forever(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => core::future::pending().await,
    }
}

#[cfg(test)]
mod tests;
