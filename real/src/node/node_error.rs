//! [`NodeError`]: what stops a supervisor or worker node.

use std::path::PathBuf;

use quorum_core::{ConfigError, JournalError};

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
    /// A P2P agent could not start or stopped: peers that do not answer or
    /// disagree about identities, a safety state that cannot be read or written.
    #[error("agent: {detail}")]
    Agent {
        /// What went wrong.
        detail: String,
    },
    /// A worker given on the command line could not be registered.
    #[error("worker {worker}: {detail}")]
    Worker {
        /// Which.
        worker: String,
        /// What is wrong.
        detail: String,
    },
    /// The supervisor's journal cannot be opened or read: a bad path, a file that
    /// is not a quorum journal, or one another supervisor holds open.
    #[error("{}", journal_message(path, error))]
    Journal {
        /// The journal's file.
        path: PathBuf,
        /// What is wrong with it.
        error: JournalError,
    },
    /// A task of the node's runtime ended abnormally (a panic in the server, the
    /// supervisor's driver stopped by a failed journal).
    #[error("the {part} stopped abnormally: {detail}")]
    Crashed {
        /// Which part.
        part: &'static str,
        /// The join error.
        detail: String,
    },
}

/// The journal's error with its path, said once: the journal's own errors usually
/// name their file already.
fn journal_message(path: &std::path::Path, error: &JournalError) -> String {
    let shown = path.display().to_string();
    let detail = error.to_string();
    if detail.contains(&shown) {
        format!("cannot use the supervisor's journal: {detail}")
    } else {
        format!("cannot use the supervisor's journal {shown}: {detail}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_journal_error_names_its_path_once() {
        let path = PathBuf::from("/data/journal.redb");
        let named = JournalError::Storage { detail: "journal /data/journal.redb: open: locked".to_owned() };
        let shown = NodeError::Journal { path: path.clone(), error: named }.to_string();
        assert_eq!(
            shown,
            "cannot use the supervisor's journal: journal storage: journal /data/journal.redb: open: locked"
        );
        let unnamed = JournalError::Corrupt { detail: "not a journal".to_owned() };
        let shown = NodeError::Journal { path, error: unnamed }.to_string();
        assert_eq!(shown, "cannot use the supervisor's journal /data/journal.redb: journal corrupt: not a journal");
    }
}
