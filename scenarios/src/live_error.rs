//! [`LiveError`]: why a real-mode command (`supervisor`, `worker`, `up`, `submit`,
//! `status`) stopped, and the exit code each reason gives.

use quorum_real::ClientError;
use quorum_real::node::{LlmChoiceError, NodeError, TokenSecretError};

/// Exit code when a task ended without agreement or a node failed.
pub const EXIT_FAILED: u8 = 1;
/// Exit code for input the tool refuses: a bad flag or address, a missing token or
/// model endpoint, a journal that cannot be opened.
pub const EXIT_BAD_INPUT: u8 = 2;
/// Exit code when the supervisor cannot be reached or refuses the token.
pub const EXIT_UNREACHABLE: u8 = 3;

/// Why a real-mode command stopped. Its `Display` is one line, and never holds a
/// secret (tokens and keys are redacted where they are read).
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    /// Input the tool refuses.
    #[error("{0}")]
    BadInput(String),
    /// No usable shared token.
    #[error(transparent)]
    Token(#[from] TokenSecretError),
    /// The model cannot be built.
    #[error(transparent)]
    Llm(#[from] LlmChoiceError),
    /// A call to the supervisor failed.
    #[error("supervisor at {supervisor}: {error}")]
    Supervisor {
        /// Its address.
        supervisor: String,
        /// What happened.
        error: ClientError,
    },
    /// A node could not start or failed.
    #[error(transparent)]
    Node(#[from] NodeError),
    /// Something else failed (a worker process, the runtime).
    #[error("{0}")]
    Failed(String),
}

impl LiveError {
    /// The exit code this reason gives.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::BadInput(_) | Self::Token(_) | Self::Llm(_) => EXIT_BAD_INPUT,
            Self::Supervisor { error, .. } => unreachable_or_failed(error),
            Self::Node(NodeError::Join { error, .. }) => unreachable_or_failed(error),
            Self::Node(NodeError::Config(_) | NodeError::Worker { .. } | NodeError::Journal { .. }) => EXIT_BAD_INPUT,
            Self::Node(_) | Self::Failed(_) => EXIT_FAILED,
        }
    }
}

fn unreachable_or_failed(error: &ClientError) -> u8 {
    match error {
        ClientError::Unauthenticated | ClientError::Unavailable | ClientError::Timeout => EXIT_UNREACHABLE,
        ClientError::Invalid { .. } => EXIT_BAD_INPUT,
        ClientError::UnknownTask { .. } | ClientError::Overloaded { .. } | ClientError::Protocol { .. } => EXIT_FAILED,
    }
}

/// A multi-threaded runtime for one command.
///
/// # Errors
/// [`LiveError::Failed`] when the system refuses threads or an event loop.
pub fn runtime() -> Result<tokio::runtime::Runtime, LiveError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|error| LiveError::Failed(format!("no async runtime: {error}")))
}

/// Resolves at Ctrl-C or SIGTERM; names which.
pub async fn shutdown_signal() -> &'static str {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut terminate) = signal(SignalKind::terminate()) {
            return tokio::select! {
                _ = tokio::signal::ctrl_c() => "interrupt",
                _ = terminate.recv() => "terminate",
            };
        }
    }
    let _ = tokio::signal::ctrl_c().await;
    "interrupt"
}

/// Writes `text` to standard output at once (a parent process reads it line by line).
pub fn say(text: &str) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(text.as_bytes());
    let _ = stdout.write_all(b"\n");
    let _ = stdout.flush();
}
