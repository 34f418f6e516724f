//! The async driver: feeds the machine from the network, the clock and the worker
//! registry, carries out its commands, and writes what it sees into the service's
//! ledger. Generic over the transport, so the same code runs over turmoil and over
//! gRPC.
//!
//! Three types, three jobs: [`Supervisor`] is the builder (config, link, scaler,
//! workers or a registry to follow, a result hook); [`Supervisor::start`] splits it
//! into the [`SupervisorService`] that clients and servers hold and the
//! [`SupervisorDriver`], the one future that runs the machine.
//!
//! # Where the supervisor's own models run
//! Three model calls serve the supervisor itself, not the task: the analysis of a
//! task (an [`LlmAnalyser`]), an embedding of each answer ([`Supervisor::with_embedder`])
//! and a meaning class for each answer by bidirectional entailment
//! ([`Supervisor::with_judge`]). None runs on a worker: a worker is untrusted input
//! (a vector or a class it sent could join its lie to the truth) and workers may run
//! different models whose vectors do not compare. None runs in the machine, which
//! stays sans-IO: no model call, no clock, so it can be property-tested without a
//! runtime.
//!
//! - **Embeddings and meaning classes run here, in the driver, per answer, before
//!   the answer reaches the machine**, for tasks matched semantically (the only
//!   strategy that reads them). The driver hands the machine the answer with its
//!   [`Annotations`] (`handle_answer_annotated`, `handle_delivered_annotated`), so
//!   early stopping and the close of a round decide on the same annotated ballots,
//!   and the result's votes keep them, so the decision recomputes from the votes.
//!   Each answer is judged against the classes of the task's answers before it (the
//!   driver remembers, per live task, each class's first text; at most
//!   [`crate::ENTAILMENT_QUESTIONS_MAX`] questions per task; forgotten with the
//!   result). A task's answers are read one at a time in arrival order, and whatever
//!   else arrives for that task waits behind the one being read, so the machine sees
//!   each task's inputs in arrival order; the reading runs as one of the driver's
//!   concurrent calls, so a slow model holds up that task's answers and nothing
//!   else. A reading that is ready at its first poll (the simulation's mock judge)
//!   is fed at once. Every call is bounded by [`Deadlines::model_call_ms`]; a failed,
//!   late or unusable reading leaves that answer unannotated (matching for the task
//!   falls back to embeddings or words), never drops it, never blocks the task.
//! - **Task analysis runs in the service, at submit, on the caller's task** (see
//!   [`SupervisorService::submit`]): a plan is needed before the task is queued, and
//!   a slow model must hold up only that caller, never the driver.

mod annotator;
mod membership;

use core::pin::Pin;
use core::time::Duration;
use std::collections::BTreeMap;
use std::sync::Arc;

use futures_util::FutureExt;
use futures_util::future::{AbortHandle, Abortable};
use futures_util::stream::{FuturesUnordered, StreamExt};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use self::annotator::{Annotator, Arrival, ReadFuture, Reading, Step};
use self::membership::{Change, Membership};
use super::annotations::Annotations;
use super::config::SupervisorConfig;
use super::deadlines::Deadlines;
use super::machine::{Command, SubmitError, Submitted, SupervisorMachine};
use super::service::{Analyser, Emission, Ledger, Request, ResultHook, SupervisorService, SupervisorStatus, TaskEvent};
use crate::analysis::{HeuristicAnalyser, LlmAnalyser};
use crate::boxed::{BoxEmbedder, BoxEntailment, BoxLlm};
use crate::config::ConfigError;
use crate::journal::{Journal, JournalError, JournalWrite};
use crate::link::{ExecuteRequest, Heartbeat, LinkError, WorkerAnswer, WorkerLink};
use crate::registry::{Members, WorkerRegistry};
use crate::scaler::{ScaleError, Scaler};
use crate::{TaskId, WorkerId};

/// Requests the service may queue before `submit` waits.
const REQUEST_QUEUE_LENGTH: usize = 1_024;
/// Requests handled in a row before replies, membership and the clock get a turn.
const REQUESTS_IN_A_ROW_MAX: usize = 64;

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
    /// The plan the machine would make, for an LLM analyser to fall back to.
    heuristic: HeuristicAnalyser,
    analyser: Option<BoxLlm>,
    embedder: Option<BoxEmbedder>,
    judge: Option<BoxEntailment>,
    journal: Option<Arc<dyn Journal>>,
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
    annotator: Annotator,
    hook: Option<ResultHook>,
    requests: mpsc::Receiver<Request>,
    journal: Option<Arc<dyn Journal>>,
    /// The journal's first failure: from then on the driver only stops.
    journal_failure: Option<JournalError>,
}

enum Event {
    Answer { worker: WorkerId, task: TaskId, attempt: u32, outcome: Result<WorkerAnswer, LinkError> },
    Heartbeat { worker: WorkerId, outcome: Result<Heartbeat, LinkError> },
    ScaledUp { requested: usize, outcome: Result<Vec<WorkerId>, ScaleError> },
    ScaledDown { worker: WorkerId, outcome: Result<(), ScaleError> },
    Read(Box<Reading>),
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
        let heuristic = config.heuristic_analyser();
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
            heuristic,
            analyser: None,
            embedder: None,
            judge: None,
            journal: None,
        })
    }

    /// Journals into `journal` and resumes from what it holds (see
    /// [`crate::JournalState`]): finished tasks answer with their results again,
    /// unfinished ones go on with the answers that counted, the voting powers are
    /// restored. From then on every task is written and synced before the client
    /// hears "accepted", every result before anyone hears it.
    ///
    /// # Errors
    /// [`JournalError`] when the journal cannot be read.
    pub fn with_journal(mut self, journal: Arc<dyn Journal>) -> Result<Self, JournalError> {
        let state = journal.load()?;
        self.machine.recover(&state, 0);
        for entry in state.finished() {
            if let Some(result) = &entry.result {
                self.ledger.finish(result);
            }
        }
        for entry in state.unfinished() {
            self.ledger.accept(&entry.task.id);
        }
        self.ledger.note_deliveries();
        self.journal = Some(journal);
        Ok(self)
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

    /// Plans every new task with `llm` (an [`LlmAnalyser`] falling back to the
    /// heuristic plan the machine would make), in [`SupervisorService::submit`], on
    /// the caller's task: a known id never pays a model call, and a call past
    /// [`Deadlines::model_call_ms`] leaves the task to the heuristic.
    #[must_use]
    pub fn with_analyser(mut self, llm: BoxLlm) -> Self {
        self.analyser = Some(llm);
        self
    }

    /// Embeds every answer of a semantic task with `embedder` before it votes, so
    /// that matching compares vectors (when every counted answer has one of one
    /// length). A failed, late or unusable embedding leaves that answer without one.
    #[must_use]
    pub fn with_embedder(mut self, embedder: BoxEmbedder) -> Self {
        self.embedder = Some(embedder);
        self
    }

    /// Asks `judge`, before an answer of a semantic task votes, whether it states the
    /// same as each earlier meaning class of the task (both ways), and gives it that
    /// class or a new one, so that matching groups by meaning (when every counted
    /// answer has one; the claim guard still applies). At most
    /// [`crate::ENTAILMENT_QUESTIONS_MAX`] questions per task; a failed or late
    /// judge leaves that answer without a class.
    #[must_use]
    pub fn with_judge(mut self, judge: BoxEntailment) -> Self {
        self.judge = Some(judge);
        self
    }

    /// Splits into the service for clients and the driver future that must be run
    /// (spawned, or awaited in a simulation host).
    pub fn start(self) -> (SupervisorService, SupervisorDriver<L, S>) {
        let (request_sender, request_receiver) = mpsc::channel(REQUEST_QUEUE_LENGTH);
        let analyser = self.analyser.map(|llm| Analyser {
            analyser: LlmAnalyser::new(llm, self.heuristic),
            model_call_ms: self.deadlines.model_call_ms,
        });
        let service = SupervisorService::new(request_sender, Arc::clone(&self.ledger), analyser);
        let annotator = Annotator::new(self.embedder, self.judge, self.deadlines.model_call_ms);
        let driver = SupervisorDriver {
            machine: self.machine,
            deadlines: self.deadlines,
            ledger: self.ledger,
            link: self.link,
            scaler: self.scaler,
            workers: self.workers,
            members: self.members,
            membership: Membership::default(),
            annotator,
            hook: self.hook,
            requests: request_receiver,
            journal: self.journal,
            journal_failure: None,
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
        // Requests handled since anything else was: a flood of pushed answers (they
        // arrive as requests) must not starve replies, membership and the clock.
        let mut requests_in_a_row = 0usize;
        loop {
            // What the commands and results below depend on is written down first.
            if let Err(error) = self.flush_journal() {
                tracing::error!(%error, "the journal failed: the supervisor stops");
                break;
            }
            self.carry_out_commands(&mut calls, &mut executing);
            if self.machine.checks_invariants()
                && let Some((task, worker)) = executing.keys().find(|(t, w)| !self.machine.is_pending(t, w))
            {
                panic!(
                    "supervisor invariant broken: executing: the driver runs a call of {worker} for {task}, which is not pending"
                );
            }
            self.publish_results();
            self.ledger.record_stats(self.machine.stats());
            if self.machine.is_shutting_down() && self.machine.is_idle() {
                break;
            }
            let wake_at = self.machine.poll_timeout().map(|ms| origin + Duration::from_millis(ms));
            tokio::select! {
                biased;
                request = self.requests.recv(), if requests_open && requests_in_a_row < REQUESTS_IN_A_ROW_MAX => {
                    requests_in_a_row += 1;
                    match request {
                        Some(request) => self.handle_request(request, now_ms(), &mut shutdown_waiters, &mut calls),
                        None => {
                            requests_open = false;
                            self.machine.shutdown(now_ms());
                        }
                    }
                }
                registered = members_changed(&mut self.members), if members_open => {
                    requests_in_a_row = 0;
                    match registered {
                        Some(registered) => self.handle_membership(registered, now_ms()),
                        None => members_open = false,
                    }
                }
                Some(event) = calls.next(), if !calls.is_empty() => {
                    requests_in_a_row = 0;
                    self.handle_event(event, now_ms(), &mut executing, &mut calls);
                }
                () = sleep_until_or_forever(wake_at) => {
                    requests_in_a_row = 0;
                    self.machine.handle_timeout(now_ms());
                }
                // Only reached when requests had their turn and nothing else is ready:
                // let them go on.
                () = core::future::ready(()), if requests_in_a_row >= REQUESTS_IN_A_ROW_MAX => requests_in_a_row = 0,
            }
        }
        for waiter in shutdown_waiters {
            let _ = waiter.send(());
        }
    }

    /// Writes what the machine journaled since the last flush, synced if any of it
    /// is a promise (an acceptance, a result). A failed write stays failed: the
    /// machine's writes are gone from it, so the driver must stop.
    fn flush_journal(&mut self) -> Result<(), JournalError> {
        if let Some(error) = &self.journal_failure {
            return Err(error.clone());
        }
        let Some(journal) = &self.journal else { return Ok(()) };
        let writes: Vec<JournalWrite> = core::iter::from_fn(|| self.machine.poll_journal()).collect();
        if writes.is_empty() {
            return Ok(());
        }
        let sync = writes.iter().any(JournalWrite::must_sync);
        let written = journal.write(&writes, sync);
        if let Err(error) = &written {
            self.journal_failure = Some(error.clone());
        }
        written
    }

    /// Hands every finished result to the ledger (and so to its subscribers and
    /// the table by id), then to the hook.
    fn publish_results(&mut self) {
        while let Some(result) = self.machine.poll_result() {
            self.annotator.forget(&result.task);
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

    fn handle_request(
        &mut self,
        request: Request,
        now_ms: u64,
        shutdown_waiters: &mut Vec<oneshot::Sender<()>>,
        calls: &mut FuturesUnordered<EventFuture>,
    ) {
        match request {
            Request::Submit { task, plan, reply } => {
                let id = task.id.clone();
                let mut outcome = self.machine.handle_submit(task, plan, now_ms);
                if matches!(outcome, Ok(Submitted::Accepted)) {
                    // Durable before the client hears it; if it cannot be, the task
                    // was not accepted (and the loop stops at its next turn).
                    match self.flush_journal() {
                        Ok(()) => self.ledger.accept(&id),
                        Err(error) => outcome = Err(SubmitError::Journal(error)),
                    }
                }
                let _ = reply.send(outcome);
            }
            Request::ResultDelivered { task } => self.machine.handle_result_delivered(&task),
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
                if self.machine.would_admit(&answer) {
                    self.ledger.publish(&answer.task, answered(&answer, true));
                    self.arrive(Arrival::Pushed(answer), now_ms, calls);
                } else {
                    // Refused whenever it arrives: no event, and no waiting behind a
                    // reading (a flood must not queue up in the driver).
                    self.feed(Arrival::Pushed(answer), Annotations::NONE, now_ms);
                }
            }
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
        executing: &mut Executing,
        calls: &mut FuturesUnordered<EventFuture>,
    ) {
        match event {
            Event::Answer { worker, task, attempt, outcome } => {
                executing.remove(&(task.clone(), worker.clone()));
                let outcome = outcome.map_err(LinkError::bounded);
                let arrived = match &outcome {
                    Ok(answer) if self.machine.would_admit(answer) => Some(answered(answer, false)),
                    // A reply the boundary refuses is the call's failure, as the
                    // machine records it.
                    Ok(_) => None,
                    Err(error) => Some(TaskEvent::Failed { worker: worker.clone(), attempt, error: error.clone() }),
                };
                if let Some(arrived) = arrived {
                    self.ledger.publish(&task, arrived);
                }
                self.arrive(Arrival::Reply { worker, task, attempt, outcome }, now_ms, calls);
            }
            Event::Read(reading) => {
                let (arrival, annotations) = self.annotator.finish(reading);
                let task = arrival.task().clone();
                self.feed(arrival, annotations, now_ms);
                self.pump(&task, None, now_ms, calls);
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

    /// A worker's answer or failed call arrived: to the machine now, or once the
    /// supervisor's models have read it (see [`annotator`]).
    fn arrive(&mut self, arrival: Arrival, now_ms: u64, calls: &mut FuturesUnordered<EventFuture>) {
        let task = arrival.task().clone();
        let machine = &self.machine;
        let step = self.annotator.arrive(arrival, |answer| machine.wants_annotations(answer));
        self.pump(&task, Some(step), now_ms, calls);
    }

    /// Carries out `step` for `task`, then the task's waiting arrivals in order,
    /// until one is being read or none is left. A reading that is ready at once (a
    /// judge that needs no I/O, like the simulation's mock) is fed at once, so that
    /// it changes nothing of when the machine sees the answer.
    fn pump(&mut self, task: &TaskId, step: Option<Step>, now_ms: u64, calls: &mut FuturesUnordered<EventFuture>) {
        let mut next = step;
        loop {
            let step = match next.take() {
                Some(step) => step,
                None => {
                    let machine = &self.machine;
                    match self.annotator.next_waiting(task, |answer| machine.wants_annotations(answer)) {
                        Some(step) => step,
                        None => return,
                    }
                }
            };
            match step {
                Step::Feed(arrival) => self.feed(arrival, Annotations::NONE, now_ms),
                Step::Waiting => return,
                Step::Read(reading) => match read_now_or_later(reading) {
                    Ok(reading) => {
                        let (arrival, annotations) = self.annotator.finish(reading);
                        self.feed(arrival, annotations, now_ms);
                    }
                    Err(later) => {
                        calls.push(later);
                        return;
                    }
                },
            }
        }
    }

    /// Hands an arrival to the machine.
    fn feed(&mut self, arrival: Arrival, annotations: Annotations, now_ms: u64) {
        match arrival {
            Arrival::Reply { worker, task, attempt, outcome } => {
                self.machine.handle_answer_annotated(&worker, &task, attempt, outcome, annotations, now_ms);
            }
            Arrival::Pushed(answer) => self.machine.handle_delivered_annotated(answer, annotations, now_ms),
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

/// The reading if it is done at its first poll, else a call future that finishes it.
fn read_now_or_later(mut reading: ReadFuture) -> Result<Box<Reading>, EventFuture> {
    match reading.as_mut().now_or_never() {
        Some(done) => Ok(done),
        None => Err(Box::pin(async move { Event::Read(reading.await) })),
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
