//! Why a cluster's config cannot run.

/// Why a config cannot run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClusterError {
    /// A config field is invalid.
    #[error(transparent)]
    Config(#[from] quorum_core::ConfigError),
    /// No workers, or too many.
    #[error("workers: {0}")]
    Workers(String),
    /// A field that cannot work: a number out of range, a host that does not exist,
    /// a bad or duplicate name.
    #[error("{field}: {reason}")]
    Invalid {
        /// The field's path (`faults.faults[2].host`, `workers[3].name`).
        field: String,
        /// What is wrong.
        reason: String,
    },
}

impl ClusterError {
    pub(crate) fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::Invalid { field: field.into(), reason: reason.into() }
    }
}

impl From<(String, String)> for ClusterError {
    fn from((field, reason): (String, String)) -> Self {
        Self::Invalid { field, reason }
    }
}
