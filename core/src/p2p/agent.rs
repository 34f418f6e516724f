//! The P2P agent: one peer of a network without a fixed supervisor, as a sans-IO
//! state machine around its HotStuff [`Replica`].
//!
//! A client submits a task to any agent ([`Agent::handle_submit`]); the agent tells
//! every peer ([`PeerMessage::Task`], relayed once by each peer that learns it, so a
//! task reaches agents its first holder cannot), and every agent asks its own LLM
//! ([`Agent::poll_ask`], answered by [`Agent::handle_reply`]), signs the answer and
//! sends it to every peer. Once an agent holds answers from a quorum of agents (or
//! its answer wait ran out with at least one), it hands the task with those signed
//! answers to its replica; whichever agent leads a view proposes its own candidate
//! (the super agent of that view), and the block commits by HotStuff. Every agent
//! reports each committed task ([`Agent::poll_committed`]) and answers clients'
//! status queries from its committed results ([`Agent::status`]).
//!
//! Delegation (when [`AgentConfig::delegation`] is set): a task first goes through
//! a plan step, `{task}/plan`, in which each agent asks its LLM for the next step
//! ([`Purpose::Plan`]) and offers its own signed plan; the plan the committing leader
//! proposed is the one every agent follows, read from the committed block alone, so
//! agents that crashed or lagged rebuild the same control loop from the chain:
//! - delegate: subtasks `{task}/1..` run through consensus (each with its own plan
//!   step while above the depth bound); once all are committed, the task itself is
//!   answered from their results (the compose step) and committed under its own id;
//! - execute (also the fallback for a malformed or refused plan, and beyond the depth
//!   bound): the task is answered and voted directly.
//!
//! Outputs are drained after every input as the replica's are: [`Agent::poll_persist`]
//! first (no message leaves while a safety state waits to be written), then
//! [`Agent::poll_transmit`], [`Agent::poll_ask`], [`Agent::poll_committed`], and
//! [`Agent::poll_timeout`] for the next wake-up.

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use serde::{Deserialize, Serialize};

use super::answer::SignedAnswer;
use super::block::Payload;
use super::committed::CommittedTask;
use super::identity::{AgentId, AgentKey};
use super::message::{Destination, Message};
use super::next_step::{DelegationLimits, NextStep, compose_text, parse_next_step, subtask_text};
use super::refusal::Refusal;
use super::registry::AgentRegistry;
use super::replica::{Commit, Replica, ReplicaConfig, ReplicaStats};
use super::safety::SafetyState;
use super::validation::TaskCandidate;
use crate::config::ConfigError;
use crate::consensus::ANSWER_BYTES_MAX;
use crate::task::{Task, TaskError};
use crate::{TaskId, WorkerAnswer};

/// Separates a task's id from its steps' (`t1/plan`, `t1/2`): clients' ids may not
/// contain it.
pub const STEP_SEPARATOR: char = '/';

/// How an agent runs.
#[derive(Clone, Debug, PartialEq)]
pub struct AgentConfig {
    /// Its replica (consensus config, view timeouts, limits).
    pub replica: ReplicaConfig,
    /// How long an agent waits for answers from a quorum of agents before it offers
    /// the task with what it has (at least one answer), in ms; also how often it asks
    /// its LLM again while it has no answer at all. Default 10,000.
    pub answer_wait_ms: u64,
    /// Model calls an agent makes for one task or step while it has no answer at
    /// all (its own calls failed, no peer's answer came); then it offers the task
    /// with no answers, so that it commits as "no answers" instead of waiting for
    /// ever. Default 3.
    pub asks_max: u32,
    /// Model calls out at once; more wait their turn (a worker refuses calls beyond
    /// its capacity, so drivers set this to the worker's `capacity`). Default 4.
    pub asks_in_flight_max: usize,
    /// Tasks and steps known and not yet committed. Default 1,000.
    pub open_tasks_max: usize,
    /// Committed results kept for status queries; the oldest are forgotten. Default
    /// 10,000.
    pub results_max: usize,
    /// Delegation into subtasks; `None` (the default) answers every task directly.
    pub delegation: Option<DelegationLimits>,
}

impl Default for AgentConfig {
    fn default() -> Self {
        Self {
            replica: ReplicaConfig::default(),
            answer_wait_ms: 10_000,
            asks_max: 3,
            asks_in_flight_max: 4,
            open_tasks_max: 1_000,
            results_max: 10_000,
            delegation: None,
        }
    }
}

impl AgentConfig {
    /// Checks every field.
    ///
    /// # Errors
    /// [`ConfigError`] naming the first bad field.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.replica.validate()?;
        for (field, value) in [
            ("agent.answer_wait_ms", self.answer_wait_ms),
            ("agent.asks_max", u64::from(self.asks_max)),
            ("agent.asks_in_flight_max", self.asks_in_flight_max as u64),
            ("agent.open_tasks_max", self.open_tasks_max as u64),
            ("agent.results_max", self.results_max as u64),
        ] {
            if value == 0 {
                return Err(ConfigError::invalid(field, value, "at least 1"));
            }
        }
        if let Some(limits) = &self.delegation {
            limits.validate()?;
        }
        Ok(())
    }
}

/// A task, as one agent tells its peers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskNotice {
    /// The task.
    pub task: TaskId,
    /// Its text.
    pub text: String,
}

/// What agents send each other.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PeerMessage {
    /// A task a client submitted.
    Task(TaskNotice),
    /// An agent's signed answer to a task.
    Answer(SignedAnswer),
    /// A replica's message (boxed: a proposal carries a whole block).
    Consensus(Box<Message>),
}

impl PeerMessage {
    /// A short stable name, for traces.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Task(_) => "task",
            Self::Answer(_) => "answer",
            Self::Consensus(message) => message.kind(),
        }
    }
}

/// A message to send.
#[derive(Clone, Debug, PartialEq)]
pub struct PeerTransmit {
    /// To whom.
    pub to: Destination,
    /// What.
    pub message: PeerMessage,
}

/// Why the agent asks its LLM.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// For its answer to the task (the driver runs the worker: prompt, parse, retry).
    Answer,
    /// For the next step of a task at this delegation depth (the driver sends
    /// `next_step::planner_prompt` and hands back the raw reply).
    Plan {
        /// The task's depth (a client's task is 0).
        depth: u32,
    },
}

/// A call to this agent's LLM.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ask {
    /// The task or step.
    pub task: TaskId,
    /// The text to answer or plan.
    pub text: String,
    /// Answer or plan.
    pub purpose: Purpose,
}

/// The LLM's reply to an [`Ask`].
#[derive(Clone, Debug, PartialEq)]
pub enum Reply {
    /// The worker's parsed answer.
    Answer(WorkerAnswer),
    /// The planner's raw text.
    Plan(String),
    /// The call failed (the driver's retries included): the agent asks again after its
    /// answer wait if it still has no answer.
    Failed,
}

/// Where a task stands, as one agent knows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    /// Never heard of (or forgotten after `results_max` later commits).
    Unknown,
    /// Known, not committed yet.
    Open,
    /// Committed.
    Committed(Box<CommittedTask>),
}

/// What happened to a submitted task.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Submitted {
    /// New here: told to every peer.
    Accepted,
    /// Already known and not yet committed.
    AlreadyOpen,
    /// Already committed: read its result with [`Agent::status`].
    AlreadyCommitted,
}

/// Why a submitted task was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SubmitError {
    /// The task is malformed.
    #[error(transparent)]
    Task(#[from] TaskError),
    /// The id contains the step separator.
    #[error("task id {task} contains '{STEP_SEPARATOR}', which names steps of tasks")]
    ReservedId {
        /// The id given.
        task: TaskId,
    },
    /// Too many tasks open.
    #[error("{max} tasks are open; try again later")]
    TooManyTasks {
        /// The limit.
        max: usize,
    },
}

/// What an agent did and refused (its replica's counters apart).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AgentStats {
    /// Tasks accepted from clients.
    pub submitted: u64,
    /// Tasks learned from peers.
    pub learned: u64,
    /// LLM calls asked for.
    pub asks: u64,
    /// LLM calls that failed.
    pub asks_failed: u64,
    /// Plans that could not be read (the task was executed directly).
    pub plans_malformed: u64,
    /// Tasks delegated into subtasks.
    pub delegated: u64,
    /// Peers' answers accepted.
    pub answers_received: u64,
    /// Peers' inputs refused, by kind.
    pub refused: BTreeMap<&'static str, u64>,
    /// Committed tasks and steps.
    pub committed: u64,
}

/// A task or step this agent is working on.
#[derive(Clone, Debug)]
struct OpenTask {
    /// Unknown while only answers arrived (a peer's answer can overtake the task).
    text: Option<String>,
    purpose: Purpose,
    answers: BTreeMap<AgentId, SignedAnswer>,
    asking: bool,
    /// Model calls made for it.
    asks: u32,
    /// Offer what we have by then.
    deadline_ms: u64,
    offered: bool,
}

/// A delegated task waiting for its subtasks.
#[derive(Clone, Debug)]
struct Delegation {
    text: String,
    /// Each subtask as the planner wrote it and, once committed, its answer (`None`:
    /// no consensus).
    parts: BTreeMap<usize, (String, Option<Option<String>>)>,
}

/// One agent of a P2P network. See the module documentation.
#[derive(Debug)]
pub struct Agent {
    config: AgentConfig,
    key: AgentKey,
    replica: Replica,
    persist: Option<SafetyState>,
    open: BTreeMap<TaskId, OpenTask>,
    delegations: BTreeMap<TaskId, Delegation>,
    results: BTreeMap<TaskId, CommittedTask>,
    result_order: VecDeque<TaskId>,
    asks: VecDeque<Ask>,
    /// Tasks whose model call is out.
    asks_in_flight: BTreeSet<TaskId>,
    outbox: VecDeque<PeerTransmit>,
    committed: VecDeque<CommittedTask>,
    stats: AgentStats,
}

impl Agent {
    /// A fresh agent of `key`'s identity.
    ///
    /// # Errors
    /// [`ConfigError`] for an invalid config or an agent not in the registry.
    pub fn new(config: AgentConfig, key: AgentKey, registry: AgentRegistry) -> Result<Self, ConfigError> {
        Self::restore(config, key, registry, SafetyState::default())
    }

    /// An agent restarted from its persisted safety state: it relearns the chain
    /// from its peers (and with it every committed task and plan).
    ///
    /// # Errors
    /// As [`Self::new`].
    pub fn restore(
        config: AgentConfig,
        key: AgentKey,
        registry: AgentRegistry,
        safety: SafetyState,
    ) -> Result<Self, ConfigError> {
        config.validate()?;
        let replica = Replica::restore(config.replica.clone(), key.clone(), registry, safety)?;
        Ok(Self {
            config,
            key,
            replica,
            persist: None,
            open: BTreeMap::new(),
            delegations: BTreeMap::new(),
            results: BTreeMap::new(),
            result_order: VecDeque::new(),
            asks: VecDeque::new(),
            asks_in_flight: BTreeSet::new(),
            outbox: VecDeque::new(),
            committed: VecDeque::new(),
            stats: AgentStats::default(),
        })
    }

    /// This agent.
    pub fn id(&self) -> &AgentId {
        self.key.id()
    }

    /// Its replica (view, chain, counters).
    pub fn replica(&self) -> &Replica {
        &self.replica
    }

    /// What it did and refused.
    pub fn stats(&self) -> &AgentStats {
        &self.stats
    }

    /// Its replica's counters.
    pub fn replica_stats(&self) -> &ReplicaStats {
        self.replica.stats()
    }

    /// Where `task` stands here.
    pub fn status(&self, task: &TaskId) -> TaskStatus {
        if let Some(result) = self.results.get(task) {
            return TaskStatus::Committed(Box::new(result.clone()));
        }
        // A task known only from answers that overtook it is not known yet.
        let open = |task: &TaskId| self.open.get(task).is_some_and(|open| open.text.is_some());
        if open(task) || open(&plan_step(task)) || self.delegations.contains_key(task) {
            TaskStatus::Open
        } else {
            TaskStatus::Unknown
        }
    }

    /// Tasks and steps open here.
    pub fn open_tasks(&self) -> usize {
        self.open.len()
    }

    /// A client's task: learned here and told to every peer.
    ///
    /// # Errors
    /// [`SubmitError`] for a malformed task, a reserved id or too many open tasks.
    pub fn handle_submit(&mut self, task: &Task, now_ms: u64) -> Result<Submitted, SubmitError> {
        task.validate()?;
        if task.id.as_str().contains(STEP_SEPARATOR) {
            return Err(SubmitError::ReservedId { task: task.id.clone() });
        }
        let submitted = match self.status(&task.id) {
            TaskStatus::Committed(_) => Submitted::AlreadyCommitted,
            TaskStatus::Open => Submitted::AlreadyOpen,
            TaskStatus::Unknown => {
                self.learn(task.id.clone(), task.text.clone(), now_ms)
                    .map_err(|_| SubmitError::TooManyTasks { max: self.config.open_tasks_max })?;
                self.stats.submitted += 1;
                let notice = TaskNotice { task: task.id.clone(), text: task.text.clone() };
                self.send(Destination::All, PeerMessage::Task(notice));
                Submitted::Accepted
            }
        };
        self.after_input(now_ms);
        Ok(submitted)
    }

    /// A message from peer `from`.
    ///
    /// # Errors
    /// [`Refusal`] for a message not acted on; it is also counted.
    pub fn handle_peer(&mut self, from: &AgentId, message: PeerMessage, now_ms: u64) -> Result<(), Refusal> {
        let result = match message {
            PeerMessage::Task(notice) => self.on_notice(notice, now_ms),
            PeerMessage::Answer(answer) => self.on_answer(answer, now_ms),
            // The replica counts its own refusals.
            PeerMessage::Consensus(message) => {
                return self.consensus(now_ms, |r| r.handle_message(from, *message, now_ms));
            }
        };
        if let Err(refusal) = &result {
            *self.stats.refused.entry(refusal.kind()).or_default() += 1;
        }
        self.after_input(now_ms);
        result
    }

    /// The reply to an [`Ask`] of `task`.
    pub fn handle_reply(&mut self, task: &TaskId, reply: Reply, now_ms: u64) {
        self.asks_in_flight.remove(task);
        let key = self.key.clone();
        let quorum = self.replica.registry().quorum();
        let Some(open) = self.open.get_mut(task) else {
            // Committed meanwhile: the answer is no longer needed.
            return self.after_input(now_ms);
        };
        open.asking = false;
        let own = match (reply, open.purpose) {
            (Reply::Answer(answer), Purpose::Answer) => {
                Some(SignedAnswer::new(&key, task.clone(), bounded(answer.text), answer.confidence))
            }
            (Reply::Plan(text), Purpose::Plan { .. }) => {
                let limits = self.config.delegation.unwrap_or_default();
                // A plan that cannot be read is offered as "execute": the task is never
                // failed for its plan.
                let plan = parse_next_step(&text, &limits).unwrap_or_else(|_| {
                    self.stats.plans_malformed += 1;
                    NextStep::Execute
                });
                Some(SignedAnswer::new(&key, task.clone(), plan_text(&plan), 1.0))
            }
            _ => {
                self.stats.asks_failed += 1;
                None
            }
        };
        if let Some(own) = own {
            let is_answer = open.purpose == Purpose::Answer;
            open.answers.insert(key.id().clone(), own.clone());
            let ready = !is_answer || open.answers.len() >= quorum;
            // Plans are not shared: each agent offers its own (see the module docs).
            if is_answer {
                self.send(Destination::All, PeerMessage::Answer(own));
            }
            if ready {
                self.offer(task, now_ms);
            }
        }
        self.after_input(now_ms);
    }

    /// Asks the peers to catch this agent up (see [`Replica::rejoin`]): what a
    /// driver does once as it starts, so that an agent restarted while the network
    /// is idle learns the commits it missed.
    pub fn rejoin(&mut self, now_ms: u64) {
        self.replica.rejoin();
        self.after_input(now_ms);
    }

    /// The wake-up asked for by [`Self::poll_timeout`].
    pub fn handle_timeout(&mut self, now_ms: u64) {
        if self.replica.poll_timeout().is_some_and(|at| at <= now_ms) {
            let _ = self.consensus(now_ms, |replica| {
                replica.handle_timeout(now_ms);
                Ok(())
            });
        }
        let due: Vec<TaskId> = self
            .open
            .iter()
            .filter(|(_, open)| !open.offered && open.deadline_ms <= now_ms)
            .map(|(task, _)| task.clone())
            .collect();
        for task in due {
            let Some(open) = self.open.get_mut(&task) else { continue };
            open.deadline_ms = now_ms.saturating_add(self.config.answer_wait_ms);
            let given_up = open.asks >= self.config.asks_max && !open.asking;
            if open.answers.is_empty() && !given_up {
                if let (Some(text), false) = (open.text.clone(), open.asking) {
                    open.asking = true;
                    open.asks += 1;
                    let purpose = open.purpose;
                    self.ask(task, text, purpose);
                }
            } else if open.text.is_some() {
                // With no answer after asks_max calls: offered empty, it commits as
                // "no answers" rather than never.
                self.offer(&task, now_ms);
            }
        }
        self.after_input(now_ms);
    }

    /// The safety state to write to stable storage before draining
    /// [`Self::poll_transmit`].
    #[must_use]
    pub fn poll_persist(&mut self) -> Option<SafetyState> {
        self.persist.take()
    }

    /// The next message to send; none while [`Self::poll_persist`] has a state to
    /// write.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<PeerTransmit> {
        if self.persist.is_some() {
            return None;
        }
        self.outbox.pop_front()
    }

    /// The next call to make to this agent's LLM.
    #[must_use]
    pub fn poll_ask(&mut self) -> Option<Ask> {
        if self.asks_in_flight.len() >= self.config.asks_in_flight_max {
            return None;
        }
        let ask = self.asks.pop_front()?;
        self.asks_in_flight.insert(ask.task.clone());
        Some(ask)
    }

    /// The next committed task or step, in chain order.
    #[must_use]
    pub fn poll_committed(&mut self) -> Option<CommittedTask> {
        self.committed.pop_front()
    }

    /// When to call [`Self::handle_timeout`].
    #[must_use]
    pub fn poll_timeout(&self) -> Option<u64> {
        let answers = self.open.values().filter(|open| !open.offered).map(|open| open.deadline_ms).min();
        [self.replica.poll_timeout(), answers].into_iter().flatten().min()
    }

    fn consensus(
        &mut self,
        now_ms: u64,
        input: impl FnOnce(&mut Replica) -> Result<(), Refusal>,
    ) -> Result<(), Refusal> {
        let result = input(&mut self.replica);
        self.after_input(now_ms);
        result
    }

    /// Takes the replica's outputs: its safety state (held until drained, so no
    /// message leaves before it), its messages, its commits.
    fn after_input(&mut self, now_ms: u64) {
        // A commit may open steps whose offers make more output: drain until quiet.
        loop {
            if let Some(state) = self.replica.poll_persist() {
                self.persist = Some(state);
            }
            while let Some(transmit) = self.replica.poll_transmit() {
                self.send(transmit.to, PeerMessage::Consensus(Box::new(transmit.message)));
            }
            let Some(commit) = self.replica.poll_commit() else { break };
            self.on_commit(commit, now_ms);
        }
    }

    fn send(&mut self, to: Destination, message: PeerMessage) {
        self.outbox.push_back(PeerTransmit { to, message });
    }

    fn ask(&mut self, task: TaskId, text: String, purpose: Purpose) {
        self.stats.asks += 1;
        self.asks.push_back(Ask { task, text, purpose });
    }

    /// Learns a client's task: its plan step when delegating, else the task itself.
    fn learn(&mut self, task: TaskId, text: String, now_ms: u64) -> Result<(), Refusal> {
        match self.config.delegation {
            Some(limits) if limits.depth_max > 0 => {
                self.open_task(plan_step(&task), text, Purpose::Plan { depth: 0 }, now_ms)
            }
            _ => self.open_task(task, text, Purpose::Answer, now_ms),
        }
    }

    /// Opens a task or step (or gives one that only answers opened its text) and
    /// asks this agent's LLM.
    fn open_task(&mut self, task: TaskId, text: String, purpose: Purpose, now_ms: u64) -> Result<(), Refusal> {
        if self.results.contains_key(&task) || self.replica.is_committed(&task) {
            return Ok(());
        }
        let deadline_ms = now_ms.saturating_add(self.config.answer_wait_ms);
        match self.open.get_mut(&task) {
            Some(open) if open.text.is_some() => return Ok(()),
            Some(open) => {
                open.text = Some(text.clone());
                open.purpose = purpose;
                open.deadline_ms = deadline_ms;
            }
            None => {
                if self.open.len() >= self.config.open_tasks_max {
                    return Err(Refusal::TooManyTasks { max: self.config.open_tasks_max });
                }
                let open = OpenTask {
                    text: Some(text.clone()),
                    purpose,
                    answers: BTreeMap::new(),
                    asking: false,
                    asks: 0,
                    deadline_ms,
                    offered: false,
                };
                self.open.insert(task.clone(), open);
            }
        }
        if let Some(open) = self.open.get_mut(&task) {
            open.asking = true;
            open.asks += 1;
        }
        self.ask(task.clone(), text, purpose);
        // Answers that overtook the task may already make a quorum.
        if purpose == Purpose::Answer
            && self.open.get(&task).is_some_and(|open| open.answers.len() >= self.replica.registry().quorum())
        {
            self.offer(&task, now_ms);
        }
        Ok(())
    }

    fn on_notice(&mut self, notice: TaskNotice, now_ms: u64) -> Result<(), Refusal> {
        let TaskNotice { task, text } = notice;
        let checked = Task::new(task.clone(), text.clone()).validate();
        if checked.is_err() || task.as_str().contains(STEP_SEPARATOR) {
            return Err(Refusal::BadTask { task, what: "a malformed task notice" });
        }
        if self.status(&task) != TaskStatus::Unknown || self.replica.is_committed(&task) {
            return Ok(());
        }
        self.learn(task.clone(), text.clone(), now_ms)?;
        self.stats.learned += 1;
        // Relayed once, by every agent that learns it: a task reaches the agents its
        // first holder cannot reach.
        self.send(Destination::All, PeerMessage::Task(TaskNotice { task, text }));
        Ok(())
    }

    fn on_answer(&mut self, signed: SignedAnswer, now_ms: u64) -> Result<(), Refusal> {
        let answer = &signed.answer;
        let task = answer.task.clone();
        if answer.text.len() > ANSWER_BYTES_MAX || !(0.0..=1.0).contains(&answer.confidence) {
            return Err(Refusal::BadTask { task, what: "an answer over the size limit or with a bad confidence" });
        }
        self.replica.registry().verify(&answer.agent, &answer.signed_bytes(), &signed.signature, "answer")?;
        if self.results.contains_key(&task) || self.replica.is_committed(&task) {
            return Ok(());
        }
        let quorum = self.replica.registry().quorum();
        if !self.open.contains_key(&task) {
            if self.open.len() >= self.config.open_tasks_max {
                return Err(Refusal::TooManyTasks { max: self.config.open_tasks_max });
            }
            let open = OpenTask {
                text: None,
                purpose: Purpose::Answer,
                answers: BTreeMap::new(),
                asking: false,
                asks: 0,
                deadline_ms: now_ms.saturating_add(self.config.answer_wait_ms),
                offered: false,
            };
            self.open.insert(task.clone(), open);
        }
        let Some(open) = self.open.get_mut(&task) else { return Ok(()) };
        if open.purpose != Purpose::Answer {
            return Err(Refusal::BadTask { task, what: "an answer to a plan step (plans are not shared)" });
        }
        // The first answer of each agent counts; a second one is ignored.
        if open.answers.contains_key(&answer.agent) {
            return Ok(());
        }
        open.answers.insert(answer.agent.clone(), signed);
        self.stats.answers_received += 1;
        if open.text.is_some() && open.answers.len() >= quorum {
            self.offer(&task, now_ms);
        }
        Ok(())
    }

    /// Hands the task with the answers held to the replica, to propose when leading.
    fn offer(&mut self, task: &TaskId, now_ms: u64) {
        let Some(open) = self.open.get_mut(task) else { return };
        let Some(text) = open.text.clone() else { return };
        if open.offered || (open.answers.is_empty() && open.asks < self.config.asks_max) {
            return;
        }
        open.offered = true;
        let asked = match open.purpose {
            Purpose::Answer => self.replica.registry().agents().to_vec(),
            Purpose::Plan { .. } => vec![self.key.id().clone()],
        };
        let answers = open.answers.values().cloned().collect();
        let candidate = TaskCandidate { task: task.clone(), text, asked, answers };
        // A refused candidate (say, answers consensus cannot count) is counted by the
        // replica; another agent's candidate can still commit the task. The caller
        // drains the replica's output.
        let _ = self.replica.handle_task(candidate, now_ms);
    }

    fn on_commit(&mut self, commit: Commit, now_ms: u64) {
        let Commit { hash, block } = commit;
        let Some(payload) = block.payload else { return };
        let task = payload.task.clone();
        self.open.remove(&task);
        self.asks.retain(|ask| ask.task != task);
        let plan = task.as_str().strip_suffix(PLAN_SUFFIX).map(|_| self.read_plan(&payload));
        let committed = CommittedTask {
            height: block.height,
            view: block.view,
            block: hash,
            proposer: block.proposer,
            payload: payload.clone(),
            plan: plan.clone(),
        };
        self.remember(committed.clone());
        self.committed.push_back(committed);
        self.stats.committed += 1;
        match (task.as_str().strip_suffix(PLAN_SUFFIX), plan) {
            (Some(parent), Some(plan)) => self.follow(TaskId::from(parent), payload.text, plan, now_ms),
            _ => self.finish_part(&task, payload.decision.answer, now_ms),
        }
    }

    /// The plan in a committed plan step: its one signed answer, read again here so
    /// that every agent follows the same plan (anything else is "execute").
    fn read_plan(&mut self, payload: &Payload) -> NextStep {
        let limits = self.config.delegation.unwrap_or_default();
        match payload.answers.as_slice() {
            [only] => parse_next_step(&only.answer.text, &limits).unwrap_or(NextStep::Execute),
            _ => NextStep::Execute,
        }
    }

    /// Carries out a committed plan of `task`.
    fn follow(&mut self, task: TaskId, text: String, plan: NextStep, now_ms: u64) {
        let depth = depth(&task);
        let limits = self.config.delegation.unwrap_or_default();
        let subtasks = match plan {
            NextStep::Delegate { subtasks } if depth < limits.depth_max && !self.results.contains_key(&task) => {
                subtasks
            }
            _ => {
                let _ = self.open_task(task, text, Purpose::Answer, now_ms);
                return;
            }
        };
        self.stats.delegated += 1;
        let count = subtasks.len();
        let mut parts = BTreeMap::new();
        for (index, subtask) in subtasks.into_iter().enumerate() {
            parts.insert(index + 1, (subtask, None));
        }
        self.delegations.insert(task.clone(), Delegation { text: text.clone(), parts: parts.clone() });
        for (index, (subtask, _)) in parts {
            let part_text = subtask_text(&text, &subtask, index, count);
            let part = TaskId::from(format!("{task}{STEP_SEPARATOR}{index}").as_str());
            if let Some(done) = self.results.get(&part) {
                // A faulty leader may have committed a step ahead of its plan.
                let answer = done.decision().answer.clone();
                self.finish_part(&part, answer, now_ms);
                continue;
            }
            let opened = if depth + 1 < limits.depth_max {
                self.open_task(plan_step(&part), part_text, Purpose::Plan { depth: depth + 1 }, now_ms)
            } else {
                self.open_task(part, part_text, Purpose::Answer, now_ms)
            };
            if let Err(refusal) = opened {
                *self.stats.refused.entry(refusal.kind()).or_default() += 1;
            }
        }
    }

    /// Records a committed part of a delegated task; the last one opens the compose
    /// step, the task itself.
    fn finish_part(&mut self, part: &TaskId, answer: Option<String>, now_ms: u64) {
        let Some((parent, index)) = part.as_str().rsplit_once(STEP_SEPARATOR) else { return };
        let (Ok(index), parent) = (index.parse::<usize>(), TaskId::from(parent)) else { return };
        let Some(delegation) = self.delegations.get_mut(&parent) else { return };
        let Some(slot) = delegation.parts.get_mut(&index) else { return };
        slot.1 = Some(answer);
        if delegation.parts.values().any(|(_, answer)| answer.is_none()) {
            return;
        }
        let Some(delegation) = self.delegations.remove(&parent) else { return };
        let parts: Vec<(String, Option<String>)> =
            delegation.parts.into_values().map(|(text, answer)| (text, answer.flatten())).collect();
        let text = compose_text(&delegation.text, &parts);
        let _ = self.open_task(parent, text, Purpose::Answer, now_ms);
    }

    fn remember(&mut self, committed: CommittedTask) {
        let task = committed.task().clone();
        if self.results.insert(task.clone(), committed).is_none() {
            self.result_order.push_back(task);
        }
        while self.results.len() > self.config.results_max {
            let Some(oldest) = self.result_order.pop_front() else { break };
            self.results.remove(&oldest);
        }
    }
}

const PLAN_SUFFIX: &str = "/plan";

/// The plan step of `task`.
fn plan_step(task: &TaskId) -> TaskId {
    TaskId::from(format!("{task}{PLAN_SUFFIX}").as_str())
}

/// How deep a task or step is: a client's task is 0, each `/n` one more.
fn depth(task: &TaskId) -> u32 {
    task.as_str().matches(STEP_SEPARATOR).count() as u32
}

/// A plan as its agent signs it: the canonical JSON `parse_next_step` reads back.
fn plan_text(plan: &NextStep) -> String {
    serde_json::to_string(plan).expect("a next step is plain data")
}

/// An answer cut to what consensus compares (on a char boundary).
fn bounded(mut text: String) -> String {
    if text.len() > ANSWER_BYTES_MAX {
        let mut end = ANSWER_BYTES_MAX;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    text
}
