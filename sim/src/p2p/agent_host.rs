//! A P2P agent host: quorum-core's [`Agent`] driven over turmoil TCP, its model the
//! seeded mock, its safety state on a "disk" that survives crashes, and, when its
//! plan says so, byzantine behaviour around the honest machine.
//!
//! The loop is quorum-core's `drive_agent`, the one real mode runs; this host is its
//! [`AgentIo`]: messages go one framed connection each, fire and forget (the protocol
//! tolerates loss).

use core::time::Duration;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::{mpsc, oneshot};
use turmoil::net::{TcpListener, TcpStream};

use quorum_core::consensus::ConsensusConfig;
use quorum_core::mock::workload::TruthBook;
use quorum_core::mock::{LlmControl, MockLlm};
use quorum_core::p2p::{
    Agent, AgentConfig, AgentId, AgentInput, AgentIo, AgentKey, AgentRegistry, Ask, CommittedTask, Destination,
    Message, NextStep, PeerMessage, PeerTransmit, Proposal, Purpose, Refusal, Reply, SafetyState, TaskStatus, View,
    Vote, drive_agent, planner_prompt,
};
use quorum_core::{ExecuteRequest, Llm, Worker, WorkerConfig, WorkerId};

use super::config::{AgentBehaviour, AgentPlan};
use crate::trace::{Happening, Trace};
use crate::wire::{AGENT_PORT, AgentRequest, AgentResponse, read_frame, write_frame};

/// How long one message's connection and write may take before it counts as lost.
const PEER_SEND_MS: u64 = 2_000;

/// Each agent's persisted safety state, by host: what survives its crashes.
pub(crate) type SafetyDisk = Arc<Mutex<BTreeMap<String, SafetyState>>>;
/// Every commit each host reported, in order, by host.
pub(crate) type CommitLog = Arc<Mutex<BTreeMap<String, Vec<CommittedTask>>>>;
/// Refusals and byzantine acts counted over the run, by name.
pub(crate) type Counters = Arc<Mutex<BTreeMap<String, u64>>>;

/// Everything an agent host needs; cloned for each start.
#[derive(Clone)]
pub(crate) struct AgentSpec {
    pub plan: AgentPlan,
    /// The host (the agent's name, or its twin's).
    pub host: String,
    pub config: AgentConfig,
    pub key: AgentKey,
    pub registry: AgentRegistry,
    /// Each agent's hosts (two for an agent with a twin).
    pub hosts: Arc<BTreeMap<AgentId, Vec<String>>>,
    pub worker: WorkerConfig,
    pub seed: u64,
    pub truths: Arc<TruthBook>,
    pub control: LlmControl,
    pub disk: SafetyDisk,
    pub commits: CommitLog,
    pub counters: Counters,
    pub trace: Trace,
}

/// The agent host's software.
pub(crate) async fn agent_host(spec: AgentSpec) -> turmoil::Result {
    if spec.plan.behaviour == AgentBehaviour::Silent {
        // Byzantine silence: up, listening to nothing, sending nothing.
        return std::future::pending().await;
    }
    let persisted = lock(&spec.disk).get(&spec.host).copied();
    let mut agent =
        Agent::restore(spec.config.clone(), spec.key.clone(), spec.registry.clone(), persisted.unwrap_or_default())?;
    spec.trace.record(&spec.host, Happening::AgentStart { restored: persisted.is_some() });
    // Twins draw from their own streams: two programs, one identity.
    let llm = Arc::new(
        MockLlm::new(&spec.host, spec.plan.profile.clone(), Arc::clone(&spec.truths), spec.control.clone(), spec.seed)
            .with_observer(Arc::new(spec.trace.clone())),
    );
    let worker =
        Rc::new(Worker::new(WorkerId::new(spec.host.clone()), spec.worker.clone(), Arc::clone(&llm), spec.seed)?);
    let listener = TcpListener::bind(("0.0.0.0", AGENT_PORT)).await?;
    let (inputs, mut inbox) = mpsc::unbounded_channel();
    let served = Served {
        inputs: inputs.clone(),
        trace: spec.trace.clone(),
        host: spec.host.clone(),
        consensus: spec.config.replica.consensus.clone(),
    };
    tokio::task::spawn_local(accept(listener, served));
    let mut io = SimAgentIo { spec: Rc::new(spec), worker, llm, inputs };
    drive_agent(&mut agent, &mut inbox, &mut io).await?;
    Ok(())
}

/// The simulated world of one agent: the shared "disk", turmoil TCP, the mock model,
/// the trace; and the byzantine wrappers its plan asks for.
struct SimAgentIo {
    spec: Rc<AgentSpec>,
    worker: Rc<Worker<Arc<MockLlm>>>,
    llm: Arc<MockLlm>,
    inputs: mpsc::UnboundedSender<AgentInput>,
}

impl AgentIo for SimAgentIo {
    fn persist(&mut self, state: SafetyState) -> std::io::Result<()> {
        lock(&self.spec.disk).insert(self.spec.host.clone(), state);
        Ok(())
    }

    fn send(&mut self, agent: &Agent, transmit: PeerTransmit) {
        send(&self.spec, agent, transmit);
    }

    fn ask(&mut self, ask: Ask) {
        let call =
            ask_model(Rc::clone(&self.worker), Arc::clone(&self.llm), Rc::clone(&self.spec), ask, self.inputs.clone());
        tokio::task::spawn_local(call);
    }

    fn committed(&mut self, done: CommittedTask, at_view: View) {
        let spec = &self.spec;
        let (task, outcome) = (done.task().clone(), quorum_core::Outcome::of_decision(done.decision()));
        let committed = Happening::Committed {
            height: done.height,
            view: done.view.0,
            at_view: at_view.0,
            block: done.block.to_string(),
            task: task.clone(),
            outcome,
        };
        spec.trace.record(&spec.host, committed);
        if let Some(NextStep::Delegate { subtasks }) = &done.plan {
            let parent = task.as_str().trim_end_matches("/plan").into();
            spec.trace.record(&spec.host, Happening::Delegated { task: parent, subtasks: subtasks.len() });
        }
        lock(&spec.commits).entry(spec.host.clone()).or_default().push(done);
    }

    fn now_ms(&self) -> u64 {
        turmoil::sim_elapsed().map_or(0, |elapsed| elapsed.as_millis() as u64)
    }

    fn received(&mut self, _from: &AgentId, message: &PeerMessage) {
        if self.spec.plan.behaviour == AgentBehaviour::VotesForAnything {
            vote_for_anything(&self.spec, message);
        }
    }

    fn refused(&mut self, refusal: &Refusal) {
        count(&self.spec.counters, &format!("refused_{}", refusal.kind()));
    }
}

/// Sends one transmit to every host it names, recording proposals, votes and
/// timeouts; an equivocating leader splits its proposals.
fn send(spec: &Rc<AgentSpec>, agent: &Agent, transmit: PeerTransmit) {
    let PeerTransmit { to, message } = transmit;
    if let PeerMessage::Consensus(consensus) = &message {
        record_consensus(spec, consensus);
    }
    let own = spec.key.id();
    let recipients: Vec<String> = match &to {
        Destination::All => spec.hosts.values().flatten().filter(|host| **host != spec.host).cloned().collect(),
        Destination::Agent(agent) => spec.hosts.get(agent).cloned().unwrap_or_default(),
    };
    let proposal = match &message {
        PeerMessage::Consensus(consensus) => match &**consensus {
            Message::Proposal(proposal) => Some(proposal),
            _ => None,
        },
        _ => None,
    };
    let conflicting = match (proposal, spec.plan.behaviour) {
        (Some(proposal), AgentBehaviour::Equivocating) => conflicting(&spec.key, agent, proposal),
        _ => None,
    };
    if let (Some(_), Some(proposal)) = (&conflicting, proposal) {
        let act = format!("two proposals in view {}", proposal.block.view.0);
        spec.trace.record(&spec.host, Happening::Byzantine { act });
        count(&spec.counters, "byzantine_equivocations");
    }
    for (position, host) in recipients.into_iter().enumerate() {
        // Half the peers get the second block only; the other half get both, in
        // either order on the wire: only "never twice in a view" keeps them honest.
        if let Some(other) = &conflicting {
            let other = PeerMessage::Consensus(Box::new(Message::Proposal(other.clone())));
            let request = AgentRequest::Peer { from: own.clone(), message: other };
            tokio::task::spawn_local(send_peer(host.clone(), request));
            if position % 2 == 1 {
                continue;
            }
        }
        let request = AgentRequest::Peer { from: own.clone(), message: message.clone() };
        tokio::task::spawn_local(send_peer(host, request));
    }
}

fn record_consensus(spec: &AgentSpec, message: &Message) {
    let what = match message {
        Message::Proposal(proposal) => Happening::Proposed {
            view: proposal.block.view.0,
            height: proposal.block.height,
            block: proposal.block.hash().to_string(),
            task: proposal.block.task().cloned(),
        },
        Message::Vote(vote) => Happening::Voted { view: vote.view.0, block: vote.block.to_string() },
        Message::Timeout(timeout) if timeout.sender == *spec.key.id() => {
            Happening::ViewTimeout { view: timeout.view.0 }
        }
        _ => return,
    };
    spec.trace.record(&spec.host, what);
}

/// The equivocating leader's second block for its view, validly signed: a fork off
/// the certificate below the one its first block extends (which only the lock keeps
/// honest agents from voting for), with the task taken out or, for an empty block
/// whose parent is genesis, none at all (then it sends one block).
fn conflicting(key: &AgentKey, agent: &Agent, proposal: &Proposal) -> Option<Proposal> {
    let mut block = proposal.block.clone();
    let replica = agent.replica();
    let forked = replica.block(&block.parent).and_then(|parent| {
        let grandparent = replica.block(&parent.parent)?;
        Some((parent.justify.clone(), grandparent.height + 1))
    });
    let had_task = block.payload.take().is_some();
    match forked {
        Some((justify, height)) => {
            block.parent = justify.block;
            block.justify = justify;
            block.height = height;
        }
        None if !had_task => return None,
        None => {}
    }
    Some(Proposal::new(key, block))
}

/// A byzantine voter's vote for whatever it is shown, to every agent.
fn vote_for_anything(spec: &Rc<AgentSpec>, message: &PeerMessage) {
    let PeerMessage::Consensus(consensus) = message else { return };
    let Message::Proposal(proposal) = &**consensus else { return };
    let vote = Vote::new(&spec.key, proposal.block.view, proposal.block.hash());
    count(&spec.counters, "byzantine_votes");
    for host in spec.hosts.values().flatten().filter(|host| **host != spec.host) {
        let message = PeerMessage::Consensus(Box::new(Message::Vote(vote.clone())));
        tokio::task::spawn_local(send_peer(host.clone(), AgentRequest::Peer { from: spec.key.id().clone(), message }));
    }
}

/// One message on its own connection; lost when the peer cannot be reached in time.
async fn send_peer(host: String, request: AgentRequest) {
    let send = async {
        let mut stream = TcpStream::connect((host.as_str(), AGENT_PORT)).await.ok()?;
        write_frame(&mut stream, &request).await.ok()
    };
    let _ = tokio::time::timeout(Duration::from_millis(PEER_SEND_MS), send).await;
}

/// One model call: the worker's (prompt, parse, retries, rate limits) for an answer,
/// the planner prompt for a plan.
async fn ask_model(
    worker: Rc<Worker<Arc<MockLlm>>>,
    llm: Arc<MockLlm>,
    spec: Rc<AgentSpec>,
    ask: Ask,
    inputs: mpsc::UnboundedSender<AgentInput>,
) {
    let Ask { task, text, purpose } = ask;
    let reply = match purpose {
        Purpose::Answer => {
            let request = ExecuteRequest {
                task: task.clone(),
                attempt: 1,
                text,
                strategy: spec.config.replica.consensus.strategy,
                timeout_ms: spec.config.answer_wait_ms,
            };
            worker.execute(request).await.map_or(Reply::Failed, Reply::Answer)
        }
        Purpose::Plan { depth } => {
            let limits = spec.config.delegation.unwrap_or_default();
            llm.complete(planner_prompt(&text, depth, &limits)).await.map_or(Reply::Failed, |c| Reply::Plan(c.text))
        }
    };
    let _ = inputs.send(AgentInput::Reply(task, reply));
}

/// What a connection's handler needs.
#[derive(Clone)]
struct Served {
    inputs: mpsc::UnboundedSender<AgentInput>,
    trace: Trace,
    host: String,
    consensus: ConsensusConfig,
}

async fn accept(listener: TcpListener, served: Served) {
    while let Ok((stream, _)) = listener.accept().await {
        tokio::task::spawn_local(serve_connection(stream, served.clone()));
    }
}

async fn serve_connection(mut stream: TcpStream, served: Served) {
    let Served { inputs, trace, host, consensus } = served;
    let request: AgentRequest = match read_frame(&mut stream).await {
        Ok(request) => request,
        Err(error) => {
            trace.record(&host, Happening::BadFrame { error: error.to_string() });
            return;
        }
    };
    let response = match request {
        AgentRequest::Peer { from, message } => {
            let _ = inputs.send(AgentInput::Peer(from, message));
            return;
        }
        AgentRequest::Submit(task) => {
            let (reply, response) = oneshot::channel();
            if inputs.send(AgentInput::Submit(task, reply)).is_err() {
                return;
            }
            match response.await {
                Ok(Ok(_)) => AgentResponse::Submitted,
                Ok(Err(error)) => AgentResponse::Refused(error.to_string()),
                Err(_) => return,
            }
        }
        AgentRequest::Status(task) => {
            let (reply, response) = oneshot::channel();
            if inputs.send(AgentInput::Status(task, reply)).is_err() {
                return;
            }
            match response.await {
                Ok(TaskStatus::Unknown) => AgentResponse::Unknown,
                Ok(TaskStatus::Open) => AgentResponse::Open,
                Ok(TaskStatus::Committed(done)) => {
                    let now_ms = turmoil::sim_elapsed().map_or(0, |elapsed| elapsed.as_millis() as u64);
                    AgentResponse::Committed(Box::new(done.task_result(&consensus, 0, now_ms)))
                }
                Err(_) => return,
            }
        }
    };
    // A lost reply is the client's to retry.
    let _ = write_frame(&mut stream, &response).await;
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

pub(crate) fn count(counters: &Counters, name: &str) {
    *lock(counters).entry(name.to_owned()).or_default() += 1;
}
