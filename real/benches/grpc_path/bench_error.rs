//! [`BenchError`]: why the bench could not measure. Never holds the token.

use quorum_core::{ConfigError, TaskId};
use quorum_real::node::{NodeError, TokenSecretError};
use quorum_real::{ClientError, ServeError};

/// Why a run of the bench stopped.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// `QUORUM_BENCH_TASKS` is not a count the bench takes.
    #[error("QUORUM_BENCH_TASKS={value:?}: expected a whole number in 1..={max}")]
    Tasks {
        /// As given.
        value: String,
        /// The most accepted.
        max: usize,
    },
    /// `QUORUM_TOKEN` is set but unusable, or no fresh token could be made.
    #[error(transparent)]
    Token(#[from] TokenSecretError),
    /// A loopback port could not be bound.
    #[error("cannot listen on 127.0.0.1: {detail}")]
    Bind {
        /// The system's reason.
        detail: String,
    },
    /// A setting was refused.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The supervisor's server failed.
    #[error(transparent)]
    Serve(#[from] ServeError),
    /// A worker node failed.
    #[error(transparent)]
    Node(#[from] NodeError),
    /// A call to the supervisor failed.
    #[error("a call to the supervisor failed: {0}")]
    Client(#[from] ClientError),
    /// The echo call (grpc health `Check`) failed or did not report serving.
    #[error("the echo call failed: {detail}")]
    Echo {
        /// The status or the reply.
        detail: String,
    },
    /// A task ended without agreement: the path under measure misbehaved.
    #[error("task {task} was not agreed: {outcome}")]
    NotAgreed {
        /// Which.
        task: TaskId,
        /// Its outcome.
        outcome: String,
    },
    /// A task finished with no execute call of it seen by the supervisor's link.
    #[error("task {task} finished but no call to a worker was timed")]
    Untimed {
        /// Which.
        task: TaskId,
    },
    /// The workers did not all join the supervisor.
    #[error("the workers did not all join within {waited_ms} ms")]
    NotJoined {
        /// How long the bench waited.
        waited_ms: u64,
    },
    /// A task of the bench's runtime panicked or was cancelled.
    #[error("{part} stopped abnormally: {detail}")]
    Crashed {
        /// Which part.
        part: &'static str,
        /// The join error.
        detail: String,
    },
    /// The runtime could not be built.
    #[error("cannot build the tokio runtime: {detail}")]
    Runtime {
        /// The system's reason.
        detail: String,
    },
}

impl BenchError {
    /// `part` ended abnormally with `error`.
    pub fn crashed(part: &'static str, error: &tokio::task::JoinError) -> Self {
        Self::Crashed { part, detail: error.to_string() }
    }
}
