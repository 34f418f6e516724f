//! [`run_agent`]: a P2P agent as a process. Its gRPC server (quorum-grpc's
//! `quorum.v1.Agent`) comes up first, so that peers can learn its identity; then it
//! learns every peer's (id and public key, over the same service), builds the
//! registry, and runs quorum-core's `drive_agent` (the loop the simulation runs) with
//! a real disk (its safety state, written and synced before any vote leaves), real
//! TCP (one cached channel per peer) and a real model.

use core::future::Future;
use core::time::Duration;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use quorum_core::p2p::{
    Agent, AgentConfig, AgentEntry, AgentId, AgentInput, AgentIo, AgentKey, AgentRegistry, Ask, CommittedTask,
    Destination, PeerMessage, PeerTransmit, Purpose, Reply, SafetyState, SubmitError, Submitted, TaskStatus, View,
    drive_agent, planner_prompt,
};
use quorum_core::{BoxLlm, ExecuteRequest, Llm, Task, TaskId, Worker, WorkerConfig, WorkerId};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};

use super::node_error::NodeError;
use crate::grpc::{AgentClient, AuthToken, GrpcConfig, ServedAgent, serve_agent, tcp_incoming};

/// Pause between two rounds of asking peers who they are.
const IDENTITY_RETRY_MS: u64 = 250;

/// What an agent node runs with.
#[derive(Clone, Debug)]
pub struct AgentNodeConfig {
    /// Its identity (id and signing key).
    pub key: AgentKey,
    /// Every other agent (`http://host:port`).
    pub peers: Vec<String>,
    /// The agent's settings (replica, answer wait, delegation).
    pub agent: AgentConfig,
    /// Its worker's settings (prompt, retries, rate limit).
    pub worker: WorkerConfig,
    /// The gRPC settings.
    pub grpc: GrpcConfig,
    /// Where its safety state is kept (`None`: in memory, for tests that never
    /// restart it).
    pub safety_path: Option<PathBuf>,
    /// How long to wait at start for every peer to say who it is. Default 30 s.
    pub peers_wait_ms_max: u64,
}

impl AgentNodeConfig {
    /// The defaults for `key`'s agent among `peers`.
    pub fn new(key: AgentKey, peers: Vec<String>) -> Self {
        Self {
            key,
            peers,
            agent: AgentConfig::default(),
            worker: WorkerConfig::default(),
            grpc: GrpcConfig::default(),
            safety_path: None,
            peers_wait_ms_max: 30_000,
        }
    }
}

/// What an agent node reports as it goes.
#[derive(Clone, Debug, PartialEq)]
pub enum AgentNodeEvent {
    /// Every peer said who it is: the agent runs, in a network of `agents`.
    Ready {
        /// Agents, this one included.
        agents: usize,
    },
    /// A task (or a step of one) committed.
    Committed(Box<CommittedTask>),
}

/// Runs the agent on `listener` until `shutdown` resolves.
///
/// # Errors
/// [`NodeError`] for a bad config, peers that do not answer in time or disagree
/// about identities, a safety state that cannot be read or written, a failed server.
pub async fn run_agent(
    config: AgentNodeConfig,
    llm: BoxLlm,
    token: AuthToken,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
    report: impl Fn(AgentNodeEvent) + Send + Sync + 'static,
) -> Result<(), NodeError> {
    config.agent.validate()?;
    let safety = match &config.safety_path {
        Some(path) => read_safety(path)?,
        None => SafetyState::default(),
    };
    let (inputs, mut inbox) = mpsc::unbounded_channel();
    let served = Arc::new(ServedNode { key: config.key.clone(), inputs: inputs.clone() });
    let (stop_serving, serving_stopped) = oneshot::channel::<()>();
    let server =
        tokio::spawn(serve_agent(served, token.clone(), config.grpc.clone(), tcp_incoming(listener), async move {
            let _ = serving_stopped.await;
        }));
    let peers = connect_peers(&config, &token).await?;
    let registry = registry_of(&config, &peers)?;
    let agents = registry.len();
    let mut agent = Agent::restore(config.agent.clone(), config.key.clone(), registry, safety)?;
    report(AgentNodeEvent::Ready { agents });
    tracing::info!(agent = %config.key.id(), agents, "agent running");
    let llm = Arc::new(llm);
    let worker =
        Arc::new(Worker::new(WorkerId::new(config.key.id().as_str()), config.worker.clone(), Arc::clone(&llm), 0)?);
    let mut io = NodeIo {
        config: config.clone(),
        peers: peers.into_iter().map(|(id, peer)| (id, peer.client)).collect(),
        worker,
        llm,
        inputs,
        started: tokio::time::Instant::now(),
        report: Arc::new(report),
    };
    let driven = tokio::select! {
        biased;
        () = shutdown => Ok(()),
        driven = drive_agent(&mut agent, &mut inbox, &mut io) => driven,
    };
    let _ = stop_serving.send(());
    let served =
        server.await.map_err(|error| NodeError::Agent { detail: format!("the server task failed: {error}") })?;
    served?;
    driven.map_err(|error| NodeError::Agent { detail: error.to_string() })
}

/// The server's side: every call becomes an input of the driver.
struct ServedNode {
    key: AgentKey,
    inputs: mpsc::UnboundedSender<AgentInput>,
}

impl ServedAgent for ServedNode {
    fn identity(&self) -> (AgentId, [u8; 32]) {
        (self.key.id().clone(), self.key.public_key_bytes())
    }

    fn deliver(&self, from: AgentId, message: PeerMessage) {
        // Before the agent runs (peers still being learned), messages wait here.
        let _ = self.inputs.send(AgentInput::Peer(from, message));
    }

    fn submit(&self, task: Task) -> impl Future<Output = Result<Submitted, SubmitError>> + Send {
        let (reply, replied) = oneshot::channel();
        let queued = self.inputs.send(AgentInput::Submit(task, reply)).is_ok();
        async move {
            match (queued, replied.await) {
                (true, Ok(result)) => result,
                // Stopping: the client asks another agent.
                _ => Err(SubmitError::TooManyTasks { max: 0 }),
            }
        }
    }

    fn status(&self, task: TaskId) -> impl Future<Output = TaskStatus> + Send {
        let (reply, replied) = oneshot::channel();
        let queued = self.inputs.send(AgentInput::Status(task, reply)).is_ok();
        async move {
            match (queued, replied.await) {
                (true, Ok(status)) => status,
                _ => TaskStatus::Unknown,
            }
        }
    }
}

/// A peer, as it said who it is.
struct Peer {
    address: String,
    key: [u8; 32],
    client: AgentClient,
}

/// Asks every peer who it is, until all have said or the wait runs out.
async fn connect_peers(config: &AgentNodeConfig, token: &AuthToken) -> Result<BTreeMap<AgentId, Peer>, NodeError> {
    let deadline = tokio::time::Instant::now() + Duration::from_millis(config.peers_wait_ms_max);
    let mut peers = BTreeMap::new();
    for address in &config.peers {
        let client = AgentClient::connect(address, token, config.grpc.clone())
            .map_err(|error| NodeError::Agent { detail: format!("peer {address}: {error}") })?;
        let (id, key) = loop {
            match client.identity().await {
                Ok(identity) => break identity,
                Err(error) if tokio::time::Instant::now() >= deadline => {
                    return Err(NodeError::Agent { detail: format!("peer {address} did not say who it is: {error}") });
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(IDENTITY_RETRY_MS)).await,
            }
        };
        if id == *config.key.id() || peers.contains_key(&id) {
            return Err(NodeError::Agent { detail: format!("peer {address} says it is {id}, as another agent does") });
        }
        peers.insert(id, Peer { address: address.clone(), key, client });
    }
    Ok(peers)
}

/// This agent and its peers, by the keys they told.
fn registry_of(config: &AgentNodeConfig, peers: &BTreeMap<AgentId, Peer>) -> Result<AgentRegistry, NodeError> {
    let own = AgentEntry::from_public_key(config.key.id(), config.key.public_key_bytes(), None);
    let mut entries = vec![(config.key.id().clone(), own)];
    for (id, peer) in peers {
        entries.push((id.clone(), AgentEntry::from_public_key(id, peer.key, Some(peer.address.clone()))));
    }
    let entries: Result<Vec<(AgentId, AgentEntry)>, _> =
        entries.into_iter().map(|(id, entry)| entry.map(|entry| (id, entry))).collect();
    let registry = entries.and_then(AgentRegistry::new);
    registry.map_err(|error| NodeError::Agent { detail: error.to_string() })
}

/// The real world of one agent.
struct NodeIo<R> {
    config: AgentNodeConfig,
    peers: BTreeMap<AgentId, AgentClient>,
    worker: Arc<Worker<Arc<BoxLlm>>>,
    llm: Arc<BoxLlm>,
    inputs: mpsc::UnboundedSender<AgentInput>,
    started: tokio::time::Instant,
    report: Arc<R>,
}

impl<R: Fn(AgentNodeEvent) + Send + Sync + 'static> AgentIo for NodeIo<R> {
    fn persist(&mut self, state: SafetyState) -> std::io::Result<()> {
        match &self.config.safety_path {
            Some(path) => write_safety(path, state),
            None => Ok(()),
        }
    }

    fn send(&mut self, _agent: &Agent, transmit: PeerTransmit) {
        let PeerTransmit { to, message } = transmit;
        let recipients: Vec<AgentClient> = match &to {
            Destination::All => self.peers.values().cloned().collect(),
            Destination::Agent(agent) => self.peers.get(agent).cloned().into_iter().collect(),
        };
        let from = self.config.key.id().clone();
        for client in recipients {
            let (from, message) = (from.clone(), message.clone());
            // Lost messages are the protocol's to live with (timeouts, catch-up).
            tokio::spawn(async move {
                if let Err(error) = client.deliver(&from, &message).await {
                    tracing::debug!(%error, kind = message.kind(), "a message to a peer was lost");
                }
            });
        }
    }

    fn ask(&mut self, ask: Ask) {
        let (worker, llm, inputs) = (Arc::clone(&self.worker), Arc::clone(&self.llm), self.inputs.clone());
        let (agent, answer_wait_ms) = (&self.config.agent, self.config.agent.answer_wait_ms);
        let (strategy, limits) = (agent.replica.consensus.strategy, agent.delegation.unwrap_or_default());
        tokio::spawn(async move {
            let Ask { task, text, purpose } = ask;
            let reply = match purpose {
                Purpose::Answer => {
                    let request =
                        ExecuteRequest { task: task.clone(), attempt: 1, text, strategy, timeout_ms: answer_wait_ms };
                    worker.execute(request).await.map_or(Reply::Failed, Reply::Answer)
                }
                Purpose::Plan { depth } => {
                    let planned = llm.complete(planner_prompt(&text, depth, &limits)).await;
                    planned.map_or(Reply::Failed, |completion| Reply::Plan(completion.text))
                }
            };
            let _ = inputs.send(AgentInput::Reply(task, reply));
        });
    }

    fn committed(&mut self, done: CommittedTask, at_view: View) {
        tracing::info!(
            task = %done.task(),
            height = done.height,
            view = done.view.0,
            at_view = at_view.0,
            proposer = %done.proposer,
            answer = ?done.decision().answer,
            "committed"
        );
        (self.report)(AgentNodeEvent::Committed(Box::new(done)));
    }

    fn now_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }
}

/// The agent's signing key kept in `path` (64 hex digits), created from the
/// operating system's randomness (readable by its owner alone) when missing.
///
/// # Errors
/// [`NodeError::Agent`] naming the file when it cannot be read, written or is not
/// a key.
pub fn agent_key_in(path: &Path, id: AgentId) -> Result<AgentKey, NodeError> {
    let bad = |detail: String| NodeError::Agent { detail: format!("key file {}: {detail}", path.display()) };
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            let mut secret = [0u8; 32];
            getrandom::getrandom(&mut secret).map_err(|error| bad(error.to_string()))?;
            let text: String = secret.iter().map(|byte| format!("{byte:02x}")).collect();
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options.open(path).map_err(|error| bad(error.to_string()))?;
            file.write_all(text.as_bytes()).and_then(|()| file.sync_all()).map_err(|error| bad(error.to_string()))?;
            text
        }
        Err(error) => return Err(bad(error.to_string())),
    };
    let text = text.trim();
    let digits: Option<Vec<u8>> = (text.len() == 64)
        .then(|| (0..32).map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()).collect())
        .flatten();
    let secret: [u8; 32] = digits
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or_else(|| bad("not 64 hex digits (a 32-byte ed25519 secret)".to_owned()))?;
    Ok(AgentKey::from_secret(id, secret))
}

/// The safety state kept at `path`, or the initial one when there is no file yet.
fn read_safety(path: &Path) -> Result<SafetyState, NodeError> {
    let bad = |detail: String| NodeError::Agent { detail: format!("safety state {}: {detail}", path.display()) };
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|error| bad(error.to_string())),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(SafetyState::default()),
        Err(error) => Err(bad(error.to_string())),
    }
}

/// Writes the safety state durably: a temporary file, synced, renamed over the old
/// one, and the directory synced, so a crash leaves the old state or the new one.
fn write_safety(path: &Path, state: SafetyState) -> std::io::Result<()> {
    let temporary = path.with_extension("json.tmp");
    {
        let mut file = std::fs::File::create(&temporary)?;
        file.write_all(&serde_json::to_vec(&state).map_err(std::io::Error::other)?)?;
        file.sync_all()?;
    }
    std::fs::rename(&temporary, path)?;
    if let Some(directory) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::File::open(directory)?.sync_all()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_file_is_made_once_kept_private_and_a_bad_one_is_named() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("agent.key");
        let first = agent_key_in(&path, AgentId::from("a0")).unwrap();
        let again = agent_key_in(&path, AgentId::from("a0")).unwrap();
        assert_eq!(first.public_key_bytes(), again.public_key_bytes());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        std::fs::write(&path, "zz").unwrap();
        let error = agent_key_in(&path, AgentId::from("a0")).unwrap_err().to_string();
        assert!(error.contains("agent.key") && error.contains("64 hex digits"), "{error}");
    }

    #[test]
    fn the_safety_state_survives_a_write_and_a_bad_file_is_named() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("safety.json");
        assert_eq!(read_safety(&path).unwrap(), SafetyState::default());
        let state = SafetyState { last_voted_view: View(7), preferred_view: View(5) };
        write_safety(&path, state).unwrap();
        assert_eq!(read_safety(&path).unwrap(), state);
        std::fs::write(&path, b"{\"last_voted_view\": \"x\"}").unwrap();
        let error = read_safety(&path).unwrap_err().to_string();
        assert!(error.contains("safety.json"), "{error}");
    }
}
