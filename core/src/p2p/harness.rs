//! P2P replicas in memory, in the style of the supervisor's [`crate::harness`]: n
//! [`Replica`]s on a seeded network that delays, reorders and drops messages until a
//! heal time (after which every message arrives, within a short delay), with up to f
//! byzantine agents ([`Behaviour`]) and honest replicas that crash and restart from
//! their persisted safety state. Time jumps to the next event or wake-up; one seed is
//! one run. Feature `harness` (always on in core's own tests).
//!
//! The cluster plays the driver's part: after every input it drains the replica's
//! safety state first (the "disk" that survives a crash), then its messages, then its
//! commits.
//!
//! ```
//! use quorum_core::p2p::harness::{Behaviour, P2pCluster, Network};
//!
//! let mut cluster = P2pCluster::new(&[Behaviour::Honest; 4], Network::default(), 7);
//! cluster.submit_at(0, "t1", "4");
//! cluster.drive_bounded(100_000).unwrap();
//! assert!(cluster.all_committed());
//! ```

#[cfg(test)]
mod properties;

use std::collections::BTreeMap;

use super::answer::SignedAnswer;
use super::block::{Block, Proposal};
use super::certificate::Vote;
use super::identity::{AgentId, AgentKey};
use super::message::{Destination, Message, Transmit};
use super::registry::AgentRegistry;
use super::replica::{Commit, Replica, ReplicaConfig};
use super::safety::SafetyState;
use super::validation::{TaskCandidate, build_payload};
use super::view::View;
use crate::TaskId;
use crate::rng::SeededRng;

/// How an agent behaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Behaviour {
    /// Follows the protocol; may crash and restart (see [`P2pCluster::crash_at`]).
    Honest,
    /// Byzantine: never sends anything.
    Silent,
    /// Byzantine: as leader, sends one block to half its peers, a conflicting one
    /// (same view, forking off an older certificate, another payload) to the other
    /// half, and both to the first half.
    Equivocating,
    /// Byzantine: besides its own votes, signs a vote for every proposal it sees,
    /// valid or not, to every agent.
    VotesForAnything,
}

impl Behaviour {
    /// Whether the agent is byzantine.
    pub fn is_byzantine(self) -> bool {
        self != Self::Honest
    }
}

/// The network's faults.
#[derive(Clone, Debug, PartialEq)]
pub struct Network {
    /// Before the heal: each message arrives after 1..=this ms.
    pub delay_ms_max: u64,
    /// Before the heal: the chance that a message is lost.
    pub drop_probability: f64,
    /// From this time on nothing is lost.
    pub heal_ms: u64,
    /// After the heal: each message arrives after 1..=this ms.
    pub delay_ms_max_healed: u64,
}

impl Default for Network {
    fn default() -> Self {
        Self { delay_ms_max: 20, drop_probability: 0.0, heal_ms: 0, delay_ms_max_healed: 20 }
    }
}

/// Why a run stopped short.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum P2pHarnessError {
    /// `drive_bounded` ran out of steps.
    #[error("not every task committed after {steps} steps (at {now_ms} ms)")]
    StepLimit {
        /// Steps taken.
        steps: usize,
        /// The cluster's time then.
        now_ms: u64,
    },
    /// Nothing was left to happen (no message, no timer) and some task was not
    /// committed everywhere.
    #[error("nothing left to happen at {now_ms} ms, and not every task committed")]
    Stuck {
        /// The cluster's time then.
        now_ms: u64,
    },
}

#[derive(Debug)]
enum Event {
    Deliver { from: usize, to: usize, message: Box<Message> },
    Task(TaskCandidate),
    Crash(usize),
    Restart(usize),
}

#[derive(Debug)]
struct Node {
    behaviour: Behaviour,
    key: AgentKey,
    /// None while crashed, and always for a silent agent.
    replica: Option<Replica>,
    persisted: SafetyState,
    /// Every commit it emitted, re-emissions after a restart included.
    commits: Vec<Commit>,
}

/// Replicas, byzantine agents and a seeded lossy network, in memory.
#[derive(Debug)]
pub struct P2pCluster {
    nodes: Vec<Node>,
    registry: AgentRegistry,
    config: ReplicaConfig,
    network: Network,
    rng: SeededRng,
    now_ms: u64,
    events: BTreeMap<(u64, u64), Event>,
    scheduled: u64,
    tasks: Vec<TaskCandidate>,
    /// The highest view of an honest replica when the network healed.
    view_at_heal: Option<View>,
    steps: usize,
}

impl P2pCluster {
    /// Agents `a0..` behaving as `behaviours`, keys and every draw seeded by `seed`,
    /// with view timeouts of 100 ms doubling up to 1.6 s.
    ///
    /// # Panics
    /// With no behaviour at all or more than the registry holds: a test's bug.
    pub fn new(behaviours: &[Behaviour], network: Network, seed: u64) -> Self {
        let config = ReplicaConfig { view_timeout_ms: 100, view_timeout_ms_max: 1_600, ..ReplicaConfig::default() };
        let keys: Vec<AgentKey> =
            (0..behaviours.len()).map(|i| AgentKey::from_seed(AgentId::new(format!("a{i}")), seed)).collect();
        let registry = AgentRegistry::from_keys(keys.iter().map(|k| (k.id().clone(), k.verifying_key())))
            .expect("a0.. are valid, distinct ids");
        let nodes = behaviours
            .iter()
            .zip(keys)
            .map(|(&behaviour, key)| {
                let replica = (behaviour != Behaviour::Silent).then(|| {
                    Replica::new(config.clone(), key.clone(), registry.clone()).expect("the harness config is valid")
                });
                Node { behaviour, key, replica, persisted: SafetyState::default(), commits: Vec::new() }
            })
            .collect();
        Self {
            nodes,
            registry,
            config,
            network,
            rng: SeededRng::derive(seed, "p2p/network"),
            now_ms: 0,
            events: BTreeMap::new(),
            scheduled: 0,
            tasks: Vec::new(),
            view_at_heal: None,
            steps: 0,
        }
    }

    /// Submits task `task` ("what is `truth`?") at `at_ms` to every agent: each asked
    /// agent answers, honest ones `truth`, byzantine ones something else.
    pub fn submit_at(&mut self, at_ms: u64, task: &str, truth: &str) {
        let task = TaskId::from(task);
        let answers = self
            .nodes
            .iter()
            .filter(|node| node.behaviour != Behaviour::Silent)
            .map(|node| {
                let text = if node.behaviour.is_byzantine() { format!("not {truth}") } else { truth.to_owned() };
                SignedAnswer::new(&node.key, task.clone(), text, 0.9)
            })
            .collect();
        let asked = self.nodes.iter().map(|node| node.key.id().clone()).collect();
        let candidate = TaskCandidate { task, text: format!("what is {truth}?"), asked, answers };
        self.tasks.push(candidate.clone());
        self.schedule(at_ms, Event::Task(candidate));
    }

    /// Crashes honest agent `index` at `at_ms` (it loses everything but its persisted
    /// safety state) and restarts it at `restart_ms`.
    pub fn crash_at(&mut self, index: usize, at_ms: u64, restart_ms: u64) {
        self.schedule(at_ms, Event::Crash(index));
        self.schedule(restart_ms.max(at_ms), Event::Restart(index));
    }

    /// Runs until every honest replica committed every task, for at most `max_steps`
    /// steps. Returns the steps taken.
    ///
    /// # Errors
    /// [`P2pHarnessError::StepLimit`] when the bound is reached first.
    pub fn drive_bounded(&mut self, max_steps: usize) -> Result<usize, P2pHarnessError> {
        while !self.all_committed() || self.events.values().any(|e| matches!(e, Event::Task(_) | Event::Restart(_))) {
            if self.steps >= max_steps {
                return Err(P2pHarnessError::StepLimit { steps: self.steps, now_ms: self.now_ms });
            }
            if !self.step() {
                return Err(P2pHarnessError::Stuck { now_ms: self.now_ms });
            }
        }
        Ok(self.steps)
    }

    /// Whether every honest replica (restarted ones included) committed every task.
    pub fn all_committed(&self) -> bool {
        self.nodes.iter().filter(|node| !node.behaviour.is_byzantine()).all(|node| {
            node.replica.as_ref().is_some_and(|replica| self.tasks.iter().all(|t| replica.is_committed(&t.task)))
        })
    }

    /// The commits of every honest agent, by agent, in the order emitted.
    pub fn honest_commits(&self) -> impl Iterator<Item = (&AgentId, &[Commit])> {
        self.nodes.iter().filter(|n| !n.behaviour.is_byzantine()).map(|n| (n.key.id(), n.commits.as_slice()))
    }

    /// The replica of agent `index`, unless it is silent or crashed.
    pub fn replica(&self, index: usize) -> Option<&Replica> {
        self.nodes.get(index).and_then(|node| node.replica.as_ref())
    }

    /// The highest view of an honest replica now.
    pub fn honest_view(&self) -> View {
        self.nodes
            .iter()
            .filter(|node| !node.behaviour.is_byzantine())
            .filter_map(|node| node.replica.as_ref().map(Replica::view))
            .max()
            .unwrap_or_default()
    }

    /// The highest honest view when the network healed (none before it healed).
    pub fn view_at_heal(&self) -> Option<View> {
        self.view_at_heal
    }

    /// The registry.
    pub fn registry(&self) -> &AgentRegistry {
        &self.registry
    }

    /// The replica config.
    pub fn config(&self) -> &ReplicaConfig {
        &self.config
    }

    /// The cluster's time.
    pub fn now_ms(&self) -> u64 {
        self.now_ms
    }

    /// Feeds the next input: the earliest event or replica wake-up. Returns whether
    /// anything was left to happen.
    pub fn step(&mut self) -> bool {
        self.steps += 1;
        let next_event = self.events.keys().next().copied();
        let wake_up = (0..self.nodes.len())
            .filter_map(|i| self.nodes[i].replica.as_ref().and_then(Replica::poll_timeout).map(|at| (at, i)))
            .min();
        match (next_event, wake_up) {
            (None, None) => return false,
            (Some((at_ms, _)), Some((wake_ms, index))) if wake_ms < at_ms => self.wake(wake_ms, index),
            (None, Some((wake_ms, index))) => self.wake(wake_ms, index),
            (Some(key), _) => {
                let event = self.events.remove(&key).expect("the first key was just read");
                self.advance(key.0);
                self.apply(event);
            }
        }
        true
    }

    fn advance(&mut self, to_ms: u64) {
        self.now_ms = self.now_ms.max(to_ms);
        if self.view_at_heal.is_none() && self.now_ms >= self.network.heal_ms {
            self.view_at_heal = Some(self.honest_view());
        }
    }

    fn wake(&mut self, wake_ms: u64, index: usize) {
        self.advance(wake_ms);
        if let Some(replica) = self.nodes[index].replica.as_mut() {
            replica.handle_timeout(self.now_ms);
        }
        self.drain(index);
    }

    fn schedule(&mut self, at_ms: u64, event: Event) {
        self.scheduled += 1;
        self.events.insert((at_ms.max(self.now_ms), self.scheduled), event);
    }

    fn apply(&mut self, event: Event) {
        let now_ms = self.now_ms;
        match event {
            Event::Deliver { from, to, message } => self.deliver(from, to, *message),
            Event::Task(candidate) => {
                for index in 0..self.nodes.len() {
                    if let Some(replica) = self.nodes[index].replica.as_mut() {
                        // A refusal is counted by the replica; an honest task is never refused.
                        let _ = replica.handle_task(candidate.clone(), now_ms);
                        self.drain(index);
                    }
                }
            }
            Event::Crash(index) => self.nodes[index].replica = None,
            Event::Restart(index) => self.restart(index),
        }
    }

    fn restart(&mut self, index: usize) {
        let node = &mut self.nodes[index];
        if node.replica.is_some() || node.behaviour == Behaviour::Silent {
            return;
        }
        let mut replica =
            Replica::restore(self.config.clone(), node.key.clone(), self.registry.clone(), node.persisted)
                .expect("the harness config is valid");
        // As the agent driver does at every start.
        replica.rejoin();
        node.replica = Some(replica);
        // The driver keeps its own queue of tasks to propose.
        for candidate in self.tasks.clone() {
            if let Some(replica) = self.nodes[index].replica.as_mut() {
                let _ = replica.handle_task(candidate, self.now_ms);
            }
        }
        self.drain(index);
    }

    fn deliver(&mut self, from: usize, to: usize, message: Message) {
        let sender = self.nodes[from].key.id().clone();
        let now_ms = self.now_ms;
        let vote = match (&message, self.nodes[to].behaviour) {
            (Message::Proposal(proposal), Behaviour::VotesForAnything) => {
                Some(Vote::new(&self.nodes[to].key, proposal.block.view, proposal.block.hash()))
            }
            _ => None,
        };
        let Some(replica) = self.nodes[to].replica.as_mut() else { return };
        // Refusals are the replica's to count; the properties read its stats.
        let _ = replica.handle_message(&sender, message, now_ms);
        self.drain(to);
        if let Some(vote) = vote {
            self.send(to, Transmit { to: Destination::All, message: Message::Vote(vote) });
        }
    }

    /// Takes the replica's outputs: the safety state to "disk" first, then messages,
    /// then commits.
    fn drain(&mut self, index: usize) {
        let Some(replica) = self.nodes[index].replica.as_mut() else { return };
        let persisted = replica.poll_persist();
        let mut transmits = Vec::new();
        while let Some(transmit) = replica.poll_transmit() {
            transmits.push(transmit);
        }
        let mut commits = Vec::new();
        while let Some(commit) = replica.poll_commit() {
            commits.push(commit);
        }
        let node = &mut self.nodes[index];
        if let Some(state) = persisted {
            node.persisted = state;
        }
        node.commits.extend(commits);
        for transmit in transmits {
            self.send(index, transmit);
        }
    }

    fn send(&mut self, from: usize, transmit: Transmit) {
        let recipients: Vec<usize> = match &transmit.to {
            Destination::Agent(agent) => self.nodes.iter().position(|n| n.key.id() == agent).into_iter().collect(),
            Destination::All => (0..self.nodes.len()).filter(|&i| i != from).collect(),
        };
        let equivocation = match (&transmit.message, self.nodes[from].behaviour) {
            (Message::Proposal(proposal), Behaviour::Equivocating) => Some(self.conflicting(from, proposal)),
            _ => None,
        };
        for (position, to) in recipients.into_iter().enumerate() {
            let message = match &equivocation {
                Some(other) if position % 2 == 1 => Message::Proposal(other.clone()),
                _ => transmit.message.clone(),
            };
            // Every other peer gets both blocks, in random order (each message its
            // own delay): only "never twice in a view" keeps it from voting twice.
            if let Some(other) = equivocation.as_ref().filter(|_| position % 2 == 0) {
                self.transmit(from, to, Message::Proposal(other.clone()));
            }
            self.transmit(from, to, message);
        }
    }

    /// The equivocating leader's second block for the same view, validly signed:
    /// a fork off the certificate below the one the first block extends (which only
    /// the lock keeps honest replicas from voting for), or at genesis another
    /// payload (none for a task, the first task for none).
    fn conflicting(&self, from: usize, proposal: &Proposal) -> Proposal {
        let mut block: Block = proposal.block.clone();
        block.payload = match block.payload {
            Some(_) => None,
            None => self
                .tasks
                .first()
                .and_then(|candidate| build_payload(candidate.clone(), &self.registry, &self.config.consensus).ok()),
        };
        let replica = self.nodes[from].replica.as_ref();
        let parent = replica.and_then(|replica| replica.block(&block.parent));
        let grandparent = parent.and_then(|parent| Some((parent.justify.clone(), replica?.block(&parent.parent)?)));
        if let Some((justify, grandparent)) = grandparent {
            block.height = grandparent.height + 1;
            block.parent = justify.block;
            block.justify = justify;
        }
        Proposal::new(&self.nodes[from].key, block)
    }

    fn transmit(&mut self, from: usize, to: usize, message: Message) {
        let healed = self.now_ms >= self.network.heal_ms;
        if !healed && self.rng.chance(self.network.drop_probability) {
            return;
        }
        let delay_ms_max = if healed { self.network.delay_ms_max_healed } else { self.network.delay_ms_max };
        let delay_ms = self.rng.range_u64(1, delay_ms_max.max(1) + 1);
        self.schedule(self.now_ms + delay_ms, Event::Deliver { from, to, message: Box::new(message) });
    }
}
