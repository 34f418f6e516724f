//! `quorum agent`: one P2P agent process: its gRPC server, its peers, its model.

use std::net::SocketAddr;
use std::path::PathBuf;

use quorum_core::p2p::{AGENT_ID_BYTES_MAX, AgentConfig, AgentId, DelegationLimits};
use quorum_real::node::{AgentNodeConfig, AgentNodeEvent, TokenSecret, agent_key_in, http_address, run_agent};

use crate::data_dir::{data_dir_default, private_dir};
use crate::live_error::{LiveError, runtime, say, shutdown_signal};
use crate::model_args::ModelArgs;
use crate::worker_command::parent_gone;

/// `quorum agent`'s flags.
#[derive(Clone, Debug, clap::Args)]
pub struct AgentArgs {
    /// Where to serve (`host:port`; port 0 picks a free one).
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,
    /// Every other agent (`host:port`), one flag each.
    #[arg(long = "peer", value_name = "ADDR")]
    pub peers: Vec<String>,
    /// The agent's id (default: its `host:port`). Leaders rotate over the sorted ids.
    #[arg(long)]
    pub id: Option<String>,
    /// Where its key (`agent.key`, made once) and safety state (`safety.json`) are
    /// kept. Default: $QUORUM_DATA_DIR (else ~/.quorum/data), `agents/ID` in it.
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Let super agents split tasks into subtasks down to this depth (0: never).
    #[arg(long, default_value_t = 0)]
    pub delegation_depth: u32,
    /// The first view timeout, ms (doubling on timeouts up to 16 times it).
    #[arg(long, default_value_t = 2_000)]
    pub view_timeout_ms: u64,
    /// The model.
    #[command(flatten)]
    pub model: ModelArgs,
    /// Also stop when standard input closes (`quorum up --p2p` uses it).
    #[arg(long, hide = true)]
    pub stop_with_parent: bool,
    /// How logs are written.
    #[command(flatten)]
    pub logs: crate::LogArgs,
}

/// Runs `quorum agent` until Ctrl-C or SIGTERM.
///
/// # Errors
/// [`LiveError`] for a missing token, model, bad flag or unusable data directory
/// (exit 2), peers that do not answer or a failed server (exit 1).
pub fn agent(args: &AgentArgs) -> Result<(), LiveError> {
    let token = TokenSecret::required()?;
    let peers: Vec<String> = args
        .peers
        .iter()
        .map(|peer| http_address(peer).map_err(|error| LiveError::BadInput(format!("--peer {peer}: {error}"))))
        .collect::<Result<_, _>>()?;
    // As many model calls out as the agent's worker takes.
    let capacity = quorum_core::WorkerConfig::default().capacity as usize;
    let mut agent = AgentConfig { asks_in_flight_max: capacity, ..AgentConfig::default() };
    agent.replica.view_timeout_ms = args.view_timeout_ms;
    agent.replica.view_timeout_ms_max = args.view_timeout_ms.saturating_mul(16);
    if args.delegation_depth > 0 {
        agent.delegation = Some(DelegationLimits { depth_max: args.delegation_depth, ..DelegationLimits::default() });
    }
    agent.validate().map_err(|error| LiveError::BadInput(error.to_string()))?;
    runtime()?.block_on(async {
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .map_err(|error| LiveError::BadInput(format!("cannot listen on {}: {error}", args.listen)))?;
        let bound = listener.local_addr().map_err(|error| LiveError::Failed(error.to_string()))?;
        let id = AgentId::new(args.id.clone().unwrap_or_else(|| bound.to_string()));
        if id.as_str().is_empty() || id.as_str().len() > AGENT_ID_BYTES_MAX {
            return Err(LiveError::BadInput(format!("--id: 1..={AGENT_ID_BYTES_MAX} bytes")));
        }
        let dir = match &args.data_dir {
            Some(dir) => dir.clone(),
            None => data_dir_default().join("agents").join(id.as_str().replace([':', '/'], "_")),
        };
        private_dir(&dir)?;
        let key =
            agent_key_in(&dir.join("agent.key"), id.clone()).map_err(|error| LiveError::BadInput(error.to_string()))?;
        let llm = args.model.choice().build(&quorum_core::WorkerId::new(id.as_str()))?;
        let config =
            AgentNodeConfig { agent, safety_path: Some(dir.join("safety.json")), ..AgentNodeConfig::new(key, peers) };
        say(&format!("agent {id} listening on http://{bound}"));
        let stop_with_parent = args.stop_with_parent;
        let shutdown = async move {
            let why = tokio::select! {
                why = shutdown_signal() => why,
                () = parent_gone(stop_with_parent) => "its parent closed standard input",
            };
            tracing::info!(why, "agent stopping");
        };
        let shown = id.clone();
        let report = move |event: AgentNodeEvent| match event {
            AgentNodeEvent::Ready { agents } => say(&format!("agent {shown} ready: {agents} agents")),
            AgentNodeEvent::Committed(done) => say(&format!(
                "agent {shown} committed {} at height {} (view {}, proposed by {}): {}",
                done.task(),
                done.height,
                done.view.0,
                done.proposer,
                done.decision().answer.as_deref().unwrap_or("no consensus")
            )),
        };
        run_agent(config, llm, token.token().clone(), listener, shutdown, report).await?;
        Ok(())
    })
}
