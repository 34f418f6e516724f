//! `quorum worker`: one worker process serving gRPC, joined to its supervisor.

use std::net::SocketAddr;

use quorum_core::WorkerId;
use quorum_real::node::{TokenSecret, WorkerNodeConfig, WorkerNodeEvent, http_address, run_worker};
use tokio::io::AsyncReadExt;

use crate::live_error::{LiveError, runtime, say, shutdown_signal};
use crate::model_args::ModelArgs;

/// `quorum worker`'s flags.
#[derive(Clone, Debug, clap::Args)]
pub struct WorkerArgs {
    /// Where to serve (`host:port`; port 0 picks a free one).
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,
    /// The supervisor to join at start and leave at shutdown (`host:port`). Without
    /// it, the supervisor must list this worker (`quorum supervisor --worker`).
    #[arg(long)]
    pub supervisor: Option<String>,
    /// The worker's id (default: its advertised `host:port`).
    #[arg(long)]
    pub id: Option<String>,
    /// Where the supervisor reaches this worker, when not at --listen (needed when
    /// listening on 0.0.0.0).
    #[arg(long)]
    pub advertise: Option<String>,
    /// The model.
    #[command(flatten)]
    pub model: ModelArgs,
    /// Also stop when standard input closes (`quorum up` uses it, so its workers
    /// never outlive it).
    #[arg(long, hide = true)]
    pub stop_with_parent: bool,
    /// How logs are written.
    #[command(flatten)]
    pub logs: crate::LogArgs,
}

/// Runs `quorum worker` until Ctrl-C or SIGTERM.
///
/// # Errors
/// [`LiveError`] for a missing token, model or bad address (exit 2), a supervisor
/// that refuses the token or stays unreachable (exit 3), a failed server (exit 1).
pub fn worker(args: &WorkerArgs) -> Result<(), LiveError> {
    let token = TokenSecret::required()?;
    let supervisor = args.supervisor.as_deref().map(http_address).transpose().map_err(bad)?;
    runtime()?.block_on(async {
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .map_err(|error| LiveError::BadInput(format!("cannot listen on {}: {error}", args.listen)))?;
        let bound = listener.local_addr().map_err(|error| LiveError::Failed(error.to_string()))?;
        let advertised = match &args.advertise {
            Some(address) => http_address(address).map_err(bad)?,
            None if bound.ip().is_unspecified() => {
                return Err(LiveError::BadInput(format!(
                    "--listen {bound} is every interface: give --advertise host:port, where the supervisor reaches it"
                )));
            }
            None => format!("http://{bound}"),
        };
        let id = WorkerId::new(args.id.clone().unwrap_or_else(|| advertised.trim_start_matches("http://").to_owned()));
        if id.as_str().is_empty() || id.as_str().len() > quorum_real::WORKER_ID_BYTES_MAX {
            return Err(LiveError::BadInput(format!("--id: 1..={} bytes", quorum_real::WORKER_ID_BYTES_MAX)));
        }
        let llm = args.model.choice().build(&id)?;
        let config = WorkerNodeConfig { supervisor, ..WorkerNodeConfig::new(id.clone(), advertised.clone()) };
        say(&format!("worker {id} listening on {advertised}"));
        let stop_with_parent = args.stop_with_parent;
        let shutdown = async move {
            let why = tokio::select! {
                why = shutdown_signal() => why,
                () = parent_gone(stop_with_parent) => "its parent closed standard input",
            };
            tracing::info!(why, "worker stopping");
        };
        let report = |event: WorkerNodeEvent| match event {
            WorkerNodeEvent::Joined { supervisor } => say(&format!("worker {id} joined {supervisor}")),
            WorkerNodeEvent::Left { supervisor } => say(&format!("worker {id} left {supervisor}")),
        };
        run_worker(config, llm, token.token().clone(), listener, shutdown, report).await?;
        Ok(())
    })
}

fn bad(error: impl core::fmt::Display) -> LiveError {
    LiveError::BadInput(error.to_string())
}

/// Resolves when standard input closes, if `watch`; else never.
pub(crate) async fn parent_gone(watch: bool) {
    if !watch {
        return core::future::pending().await;
    }
    let mut stdin = tokio::io::stdin();
    let mut buffer = [0u8; 64];
    while let Ok(read) = stdin.read(&mut buffer).await {
        if read == 0 {
            return;
        }
    }
}
