//! [`NodeError`]: what stops a supervisor or worker node.

use quorum_core::ConfigError;

use crate::grpc::{ClientError, ServeError};

/// Why a node could not start or stopped with an error. Never holds a secret.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// A setting is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Its gRPC server failed.
    #[error(transparent)]
    Serve(#[from] ServeError),
    /// A worker could not join its supervisor.
    #[error("could not join the supervisor at {supervisor}: {error}")]
    Join {
        /// The supervisor's address.
        supervisor: String,
        /// The last refusal or failure.
        error: ClientError,
    },
    /// A worker given on the command line could not be registered.
    #[error("worker {worker}: {detail}")]
    Worker {
        /// Which.
        worker: String,
        /// What is wrong.
        detail: String,
    },
    /// A task of the node's runtime ended abnormally (a panic in the server).
    #[error("the {part} stopped abnormally: {detail}")]
    Crashed {
        /// Which part.
        part: &'static str,
        /// The join error.
        detail: String,
    },
}
