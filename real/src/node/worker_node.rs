//! [`run_worker`]: a worker's gRPC server that joins its supervisor at start, joins
//! again now and then (so a supervisor that restarted finds it), and leaves at
//! shutdown before it stops serving.

use core::future::Future;
use core::time::Duration;
use std::sync::Arc;

use quorum_core::{BoxLlm, Worker, WorkerConfig, WorkerId};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use super::incoming::incoming;
use super::node_error::NodeError;
use crate::grpc::{AuthToken, ClientError, GrpcConfig, SupervisorClient, serve_worker};

/// Longest pause between two join attempts at start.
const JOIN_BACKOFF_MS_MAX: u64 = 2_000;

/// What a worker node runs with.
#[derive(Clone, Debug)]
pub struct WorkerNodeConfig {
    /// The worker's id.
    pub id: WorkerId,
    /// Where the supervisor reaches it (`http://host:port`).
    pub advertised: String,
    /// The supervisor to join (`http://host:port`); none for a worker the
    /// supervisor lists itself.
    pub supervisor: Option<String>,
    /// The worker's own settings.
    pub worker: WorkerConfig,
    /// The gRPC settings.
    pub grpc: GrpcConfig,
    /// How long to keep trying to join at start: the supervisor may come up after
    /// its workers. Default 30 s.
    pub join_wait_ms_max: u64,
    /// Joins again this often (idempotent), so a restarted supervisor learns of the
    /// worker. Default 5 s.
    pub rejoin_interval_ms: u64,
}

impl WorkerNodeConfig {
    /// The defaults for worker `id` served at `advertised`.
    pub fn new(id: WorkerId, advertised: String) -> Self {
        Self {
            id,
            advertised,
            supervisor: None,
            worker: WorkerConfig::default(),
            grpc: GrpcConfig::default(),
            join_wait_ms_max: 30_000,
            rejoin_interval_ms: 5_000,
        }
    }
}

/// What a worker node reports as it goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WorkerNodeEvent {
    /// Joined its supervisor for the first time since it started.
    Joined {
        /// The supervisor.
        supervisor: String,
    },
    /// Left its supervisor at shutdown.
    Left {
        /// The supervisor.
        supervisor: String,
    },
}

/// Serves a worker asking `llm` on `listener` until `shutdown` resolves; joins its
/// supervisor first (retrying for `join_wait_ms_max`) and leaves it at shutdown;
/// calls in flight then end with their answers.
///
/// # Errors
/// [`NodeError::Join`] when the supervisor refuses the token (at once) or stays
/// unreachable; [`NodeError::Serve`] when the server fails; [`NodeError::Config`]
/// for invalid settings.
pub async fn run_worker(
    config: WorkerNodeConfig,
    llm: BoxLlm,
    token: AuthToken,
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
    mut report: impl FnMut(WorkerNodeEvent),
) -> Result<(), NodeError> {
    config.grpc.validate()?;
    let seed = stable_hash(config.id.as_str());
    let worker = Arc::new(Worker::new(config.id.clone(), config.worker.clone(), llm, seed)?);
    let (stop, stopped) = oneshot::channel::<()>();
    let mut server =
        tokio::spawn(serve_worker(worker, token.clone(), config.grpc.clone(), incoming(listener), async {
            let _ = stopped.await;
        }));
    let client = match &config.supervisor {
        Some(address) => Some((address.clone(), SupervisorClient::connect_lazy(address, &token, config.grpc.clone()))),
        None => None,
    };
    let client = match client {
        Some((address, Ok(client))) => Some((address, client)),
        Some((supervisor, Err(error))) => return Err(NodeError::Join { supervisor, error }),
        None => None,
    };
    let serving = async {
        if let Some((supervisor, client)) = &client {
            join_at_start(&config, client, supervisor).await?;
            report(WorkerNodeEvent::Joined { supervisor: supervisor.clone() });
            rejoin_forever(&config, client).await;
        }
        core::future::pending::<Result<(), NodeError>>().await
    };
    tokio::select! {
        biased;
        served = &mut server => return finished(served),
        failed = serving => {
            let _ = stop.send(());
            let _ = server.await;
            return failed;
        }
        () = shutdown => {}
    }
    if let Some((supervisor, client)) = &client {
        // Leave first, so no new task comes; then the calls in flight finish.
        match client.leave(&config.id).await {
            Ok(_) => report(WorkerNodeEvent::Left { supervisor: supervisor.clone() }),
            // A supervisor that stopped first (as `quorum up` stops it) has nobody to leave.
            Err(ClientError::Unavailable) => tracing::info!("the supervisor is gone; nothing to leave"),
            Err(error) => tracing::warn!(%error, "could not leave the supervisor; it will find this worker gone"),
        }
    }
    let _ = stop.send(());
    finished(server.await)
}

fn finished(served: Result<Result<(), crate::grpc::ServeError>, tokio::task::JoinError>) -> Result<(), NodeError> {
    served.map_err(|error| NodeError::Crashed { part: "worker server", detail: error.to_string() })?.map_err(Into::into)
}

/// Joins, retrying with backoff until `join_wait_ms_max`; a refused token fails at
/// once, since retrying cannot help.
async fn join_at_start(
    config: &WorkerNodeConfig,
    client: &SupervisorClient,
    supervisor: &str,
) -> Result<(), NodeError> {
    let started = tokio::time::Instant::now();
    let mut backoff_ms = 100;
    loop {
        let error = match client.join(&config.id, &config.advertised).await {
            Ok(_) => return Ok(()),
            Err(error @ (ClientError::Unauthenticated | ClientError::Invalid { .. })) => error,
            Err(error) if started.elapsed() >= Duration::from_millis(config.join_wait_ms_max) => error,
            Err(error) => {
                tracing::info!(%error, supervisor, "join failed; trying again");
                tokio::time::sleep(Duration::from_millis(backoff_ms)).await;
                backoff_ms = (backoff_ms * 2).min(JOIN_BACKOFF_MS_MAX);
                continue;
            }
        };
        return Err(NodeError::Join { supervisor: supervisor.to_owned(), error });
    }
}

async fn rejoin_forever(config: &WorkerNodeConfig, client: &SupervisorClient) {
    loop {
        tokio::time::sleep(Duration::from_millis(config.rejoin_interval_ms.max(1))).await;
        match client.join(&config.id, &config.advertised).await {
            Ok(true) => tracing::info!("the supervisor had forgotten this worker; joined again"),
            Ok(false) => {}
            Err(error) => tracing::warn!(%error, "could not join the supervisor again"),
        }
    }
}

/// FNV-1a: a worker's seed from its id, so its backoff jitter differs from its
/// peers'.
fn stable_hash(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3))
}
