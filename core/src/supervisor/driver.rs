//! The async driver: feeds the machine from the network, the clock and the worker
//! registry, carries out its commands, and writes what it sees into the service's
//! ledger. Generic over the transport, so the same code runs over turmoil and over
//! gRPC.
//!
//! Three types, three jobs: [`Supervisor`] is the builder (config, link, scaler,
//! workers or a registry to follow, a result hook); [`Supervisor::start`] splits it
//! into the [`SupervisorService`] that clients and servers hold and the
//! [`SupervisorDriver`], the one future that runs the machine.

mod membership;

use core::pin::Pin;
use core::time::Duration;
use std::collections::BTreeMap;
use std::sync::Arc;

use futures_util::future::{AbortHandle, Abortable};
use futures_util::stream::{FuturesUnordered, StreamExt};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use self::membership::{Change, Membership};
use super::config::SupervisorConfig;
use super::deadlines::Deadlines;
use super::machine::{Command, Submitted, SupervisorMachine};
use super::service::{Emission, Ledger, Request, ResultHook, SupervisorService, SupervisorStatus, TaskEvent};
use crate::config::ConfigError;
use crate::link::{ExecuteRequest, Heartbeat, LinkError, WorkerAnswer, WorkerLink};
use crate::registry::{Members, WorkerRegistry};
use crate::scaler::{ScaleError, Scaler};
use crate::{TaskId, WorkerId};

/// Requests the service may queue before `submit` waits.
const REQUEST_QUEUE_LENGTH: usize = 1_024;

/// A supervisor before it starts: the builder. Config validated, link and scaler
/// given; add workers known from the start and/or a registry to follow, then
/// [`Supervisor::start`].
#[derive(Debug)]
pub struct Supervisor<L, S> {
    machine: SupervisorMachine,
    deadlines: Deadlines,
    ledger: Arc<Ledger>,
    link: Arc<L>,
    scaler: Arc<S>,
    workers: Vec<WorkerId>,
    members: Option<Members>,
    hook: Option<ResultHook>,
}

/// The future that runs a supervisor; spawn it or await it. Dropping it (a crashed
/// host, say) ends every task stream without a result and makes the service forget
/// the tasks that were live.
#[derive(Debug)]
pub struct SupervisorDriver<L, S> {
    machine: SupervisorMachine,
    deadlines: Deadlines,
    ledger: Arc<Ledger>,
    link: Arc<L>,
    scaler: Arc<S>,
    workers: Vec<WorkerId>,
    members: Option<Members>,
    membership: Membership,
    hook: Option<ResultHook>,
    requests: mpsc::Receiver<Request>,
}

enum Event {
    Answer { worker: WorkerId, task: TaskId, attempt: u32, outcome: Result<WorkerAnswer, LinkError> },
    Heartbeat { worker: WorkerId, outcome: Result<Heartbeat, LinkError> },
    ScaledUp { requested: usize, outcome: Result<Vec<WorkerId>, ScaleError> },
    ScaledDown { worker: WorkerId, outcome: Result<(), ScaleError> },
    Nothing,
}

type EventFuture = Pin<Box<dyn core::future::Future<Output = Event> + Send>>;

/// Execute calls in flight, abortable so that a cancel ends one at once.
type Executing = BTreeMap<(TaskId, WorkerId), AbortHandle>;

impl<L: WorkerLink + 'static, S: Scaler + 'static> Supervisor<L, S> {
    /// A supervisor over `link`, scaling through `scaler`.
    ///
    /// # Errors
    /// [`ConfigError`] naming the bad field.
    pub fn new(config: SupervisorConfig, link: L, scaler: S) -> Result<Self, ConfigError> {
        let deadlines = config.deadlines.clone();
        let ledger = Arc::new(Ledger::new(config.completed_results_max, config.task_events_max));
        Ok(Self {
            machine: SupervisorMachine::new(config)?,
            deadlines,
            ledger,
            link: Arc::new(link),
            scaler: Arc::new(scaler),
            workers: Vec::new(),
            members: None,
            hook: None,
        })
    }

    /// Workers known from the start.
    #[must_use]
    pub fn with_workers(mut self, workers: impl IntoIterator<Item = WorkerId>) -> Self {
        self.workers.extend(workers);
        self
    }

    /// Follows `registry`: its members at start join, and every later join and
    /// leave reaches the machine. A worker that a scaler both reports and registers
    /// joins once.
    #[must_use]
    pub fn with_registry<A: Clone>(mut self, registry: &WorkerRegistry<A>) -> Self {
        self.members = Some(registry.watch());
        self
    }

    /// Calls `hook` for every result, in order (see [`ResultHook`]).
    #[must_use]
    pub fn on_result(mut self, hook: ResultHook) -> Self {
        self.hook = Some(hook);
        self
    }

    /// Splits into the service for clients and the driver future that must be run
    /// (spawned, or awaited in a simulation host).
    pub fn start(self) -> (SupervisorService, SupervisorDriver<L, S>) {
        let (request_sender, request_receiver) = mpsc::channel(REQUEST_QUEUE_LENGTH);
        let service = SupervisorService::new(request_sender, Arc::clone(&self.ledger));
        let driver = SupervisorDriver {
            machine: self.machine,
            deadlines: self.deadlines,
            ledger: self.ledger,
            link: self.link,
            scaler: self.scaler,
            workers: self.workers,
            members: self.members,
            membership: Membership::default(),
            hook: self.hook,
            requests: request_receiver,
        };
        (service, driver)
    }
}

impl<L, S> Drop for SupervisorDriver<L, S> {
    fn drop(&mut self) {
        self.ledger.stop();
    }
}

impl<L: WorkerLink + 'static, S: Scaler + 'static> SupervisorDriver<L, S> {
    /// Runs until shut down (by [`SupervisorService::shutdown`] or by every service
    /// clone being dropped) and every accepted task has its result.
    pub async fn run(mut self) {
        let origin = Instant::now();
        let now_ms = move || origin.elapsed().as_millis() as u64;
        let mut calls: FuturesUnordered<EventFuture> = FuturesUnordered::new();
        let mut executing = Executing::new();
        let mut shutdown_waiters: Vec<oneshot::Sender<()>> = Vec::new();
        let mut requests_open = true;
        let mut members_open = self.members.is_some();
        let configured = core::mem::take(&mut self.workers);
        for worker in self.membership.joined(configured) {
            self.machine.handle_worker_joined(worker, now_ms());
        }
        if let Some(members) = self.members.as_mut() {
            let registered = members.current();
            self.handle_membership(registered, now_ms());
        }
        self.machine.handle_timeout(now_ms());
        loop {
            self.carry_out_commands(&mut calls, &mut executing);
            self.publish_results();
            self.ledger.record_stats(self.machine.stats());
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
                registered = members_changed(&mut self.members), if members_open => match registered {
                    Some(registered) => self.handle_membership(registered, now_ms()),
                    None => members_open = false,
                },
                Some(event) = calls.next(), if !calls.is_empty() => self.handle_event(event, now_ms(), &mut executing),
                () = sleep_until_or_forever(wake_at) => self.machine.handle_timeout(now_ms()),
            }
        }
        for waiter in shutdown_waiters {
            let _ = waiter.send(());
        }
    }

    /// Hands every finished result to the ledger (and so to its subscribers and
    /// the table by id), then to the hook.
    fn publish_results(&mut self) {
        while let Some(result) = self.machine.poll_result() {
            let emission: Emission = self.ledger.finish(&result);
            if let Some(hook) = &self.hook {
                hook.call(&result, emission);
            }
        }
    }

    fn handle_membership(&mut self, registered: std::collections::BTreeSet<WorkerId>, now_ms: u64) {
        for change in self.membership.registry_changed(registered) {
            match change {
                Change::Joined(worker) => self.machine.handle_worker_joined(worker, now_ms),
                Change::Left(worker) => self.machine.handle_worker_left(&worker, now_ms),
            }
        }
    }

    fn handle_request(&mut self, request: Request, now_ms: u64, shutdown_waiters: &mut Vec<oneshot::Sender<()>>) {
        match request {
            Request::Submit { task, plan, reply } => {
                let id = task.id.clone();
                let outcome = self.machine.handle_submit(task, plan, now_ms);
                if matches!(outcome, Ok(Submitted::Accepted)) {
                    self.ledger.accept(&id);
                }
                let _ = reply.send(outcome);
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
            Request::Deliver { answer } => {
                self.ledger.publish(&answer.task, answered(&answer, true));
                self.machine.handle_delivered(answer, now_ms);
            }
            Request::Shutdown { done } => {
                shutdown_waiters.push(done);
                self.machine.shutdown(now_ms);
            }
        }
    }

    fn handle_event(&mut self, event: Event, now_ms: u64, executing: &mut Executing) {
        match event {
            Event::Answer { worker, task, attempt, outcome } => {
                executing.remove(&(task.clone(), worker.clone()));
                let arrived = match &outcome {
                    Ok(answer) => answered(answer, false),
                    Err(error) => TaskEvent::Failed { worker: worker.clone(), attempt, error: error.clone() },
                };
                self.ledger.publish(&task, arrived);
                self.machine.handle_answer(&worker, &task, attempt, outcome, now_ms);
            }
            Event::Heartbeat { worker, outcome } => self.machine.handle_heartbeat(&worker, outcome, now_ms),
            Event::ScaledUp { requested, outcome } => {
                // Workers the registry reported already have joined.
                let outcome = outcome.map(|started| self.membership.joined(started));
                self.machine.handle_scaled_up(requested, outcome, now_ms);
            }
            Event::ScaledDown { worker, outcome } => {
                // A worker the registry reported gone has left the machine already.
                if outcome.is_err() || self.membership.scaled_down(&worker) {
                    self.machine.handle_scaled_down(&worker, outcome, now_ms);
                }
            }
            Event::Nothing => {}
        }
    }

    fn carry_out_commands(&mut self, calls: &mut FuturesUnordered<EventFuture>, executing: &mut Executing) {
        // The machine emits a round's executes back to back; they are announced as
        // one event once the round's last one is seen.
        let mut round: Option<(TaskId, u32, Vec<WorkerId>)> = None;
        while let Some(command) = self.machine.poll_command() {
            if let Command::Execute { worker, request } = &command {
                match &mut round {
                    Some((task, attempt, workers)) if *task == request.task && *attempt == request.attempt => {
                        workers.push(worker.clone());
                    }
                    _ => {
                        self.announce_round(round.take());
                        round = Some((request.task.clone(), request.attempt, vec![worker.clone()]));
                    }
                }
            }
            match command {
                Command::Execute { worker, request } => self.execute(worker, request, calls, executing),
                Command::Cancel { worker, task } => {
                    if let Some(abort) = executing.remove(&(task.clone(), worker.clone())) {
                        abort.abort();
                    }
                    let link = Arc::clone(&self.link);
                    let limit = Duration::from_millis(self.deadlines.control_call_ms);
                    calls.push(Box::pin(async move {
                        let _ = tokio::time::timeout(limit, link.cancel(&worker, &task)).await;
                        Event::Nothing
                    }));
                }
                Command::Heartbeat { worker } => {
                    let link = Arc::clone(&self.link);
                    let limit = Duration::from_millis(self.deadlines.heartbeat_call_ms);
                    calls.push(Box::pin(async move {
                        let outcome = tokio::time::timeout(limit, link.heartbeat(&worker))
                            .await
                            .unwrap_or(Err(LinkError::Timeout));
                        Event::Heartbeat { worker, outcome }
                    }));
                }
                Command::ScaleUp { count } => {
                    let scaler = Arc::clone(&self.scaler);
                    let limit = Duration::from_millis(self.deadlines.control_call_ms);
                    calls.push(Box::pin(async move {
                        let outcome = tokio::time::timeout(limit, scaler.scale_up(count))
                            .await
                            .unwrap_or(Err(ScaleError::NoCapacity));
                        Event::ScaledUp { requested: count, outcome }
                    }));
                }
                Command::ScaleDown { worker } => {
                    let scaler = Arc::clone(&self.scaler);
                    let limit = Duration::from_millis(self.deadlines.control_call_ms);
                    calls.push(Box::pin(async move {
                        let outcome = tokio::time::timeout(limit, scaler.scale_down(&worker))
                            .await
                            .unwrap_or(Err(ScaleError::NoCapacity));
                        Event::ScaledDown { worker, outcome }
                    }));
                }
            }
        }
        self.announce_round(round);
    }

    fn announce_round(&self, round: Option<(TaskId, u32, Vec<WorkerId>)>) {
        if let Some((task, attempt, workers)) = round {
            self.ledger.publish(&task, TaskEvent::RoundStarted { attempt, workers });
        }
    }

    /// Starts an execute call, abortable so that a cancel ends it at once.
    fn execute(
        &self,
        worker: WorkerId,
        request: ExecuteRequest,
        calls: &mut FuturesUnordered<EventFuture>,
        executing: &mut Executing,
    ) {
        let link = Arc::clone(&self.link);
        let (task, attempt) = (request.task.clone(), request.attempt);
        let limit = Duration::from_millis(self.deadlines.execute_call_ms(request.timeout_ms));
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

/// The event of an answer's arrival.
fn answered(answer: &WorkerAnswer, pushed: bool) -> TaskEvent {
    TaskEvent::Answered {
        worker: answer.worker.clone(),
        attempt: answer.attempt,
        text: answer.text.clone(),
        confidence: answer.confidence,
        pushed,
    }
}

/// The next membership of a followed registry; never, without one.
async fn members_changed(members: &mut Option<Members>) -> Option<std::collections::BTreeSet<WorkerId>> {
    match members {
        Some(members) => members.changed().await,
        None => core::future::pending().await,
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
