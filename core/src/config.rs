//! Configuration errors shared by every config struct.

/// A configuration value that cannot work, named by its dotted field path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A field is out of its range or inconsistent with another.
    #[error("{field} = {value}: expected {expected}")]
    Invalid {
        /// Dotted path of the field, e.g. `supervisor.workers_min`.
        field: &'static str,
        /// The offending value, as text.
        value: String,
        /// What would have been accepted.
        expected: &'static str,
    },
}

impl ConfigError {
    /// An invalid field with its value rendered for the message.
    pub fn invalid(field: &'static str, value: impl core::fmt::Display, expected: &'static str) -> Self {
        Self::Invalid { field, value: value.to_string(), expected }
    }
}
