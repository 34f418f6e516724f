//! What the gRPC servers, the link and the client share: deadlines, message size
//! limits and keepalive. `Default` documents every default.

use core::time::Duration;

use quorum_core::{ConfigError, Deadlines, TASK_TEXT_BYTES_MAX};
use tonic::transport::Endpoint;

use crate::spawner::Spawner;

/// Largest request accepted by default: a task of [`TASK_TEXT_BYTES_MAX`] and its
/// ground truth with room for the envelope.
pub const REQUEST_BYTES_MAX_DEFAULT: usize = 2 * TASK_TEXT_BYTES_MAX + 4 * 1024;
/// Largest reply accepted by default: a result carries every vote, group and
/// failure of its task.
pub const REPLY_BYTES_MAX_DEFAULT: usize = 4 * 1024 * 1024;
/// Progress events a worker may send before its answer; past that the call is a
/// protocol error (a worker that floods instead of answering).
pub const PROGRESS_EVENTS_MAX: usize = 16;

/// The settings of quorum's gRPC servers and clients.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GrpcConfig {
    /// Every call's deadline (the supervisor's own table). Default
    /// [`Deadlines::default`].
    pub deadlines: Deadlines,
    /// Largest request a server decodes and a client encodes; a larger one is
    /// refused with `out_of_range` and the server goes on. Default
    /// [`REQUEST_BYTES_MAX_DEFAULT`].
    pub request_bytes_max: usize,
    /// Largest reply message a server encodes and a client decodes. Default
    /// [`REPLY_BYTES_MAX_DEFAULT`].
    pub reply_bytes_max: usize,
    /// HTTP/2 ping interval on every connection, both ways: a connection whose peer
    /// vanished (or whose segments a partition swallows) is found dead within this
    /// plus `keepalive_timeout_ms`. Default 2 s.
    pub keepalive_interval_ms: u64,
    /// How long a ping may go unanswered before the connection is closed. Default 1 s.
    pub keepalive_timeout_ms: u64,
    /// How long a client waits for a TCP connection. Default 1 s.
    pub connect_timeout_ms: u64,
    /// Where servers and channels spawn their tasks. Default [`Spawner::Tokio`];
    /// simulation uses [`Spawner::Local`].
    pub spawner: Spawner,
}

impl Default for GrpcConfig {
    fn default() -> Self {
        Self {
            deadlines: Deadlines::default(),
            request_bytes_max: REQUEST_BYTES_MAX_DEFAULT,
            reply_bytes_max: REPLY_BYTES_MAX_DEFAULT,
            keepalive_interval_ms: 2_000,
            keepalive_timeout_ms: 1_000,
            connect_timeout_ms: 1_000,
            spawner: Spawner::Tokio,
        }
    }
}

impl GrpcConfig {
    /// Checks every field.
    ///
    /// # Errors
    /// [`ConfigError`] naming the first bad field.
    pub fn validate(&self) -> Result<(), ConfigError> {
        // A request must hold a task of the largest size core accepts.
        if self.request_bytes_max < TASK_TEXT_BYTES_MAX + 1024 || self.request_bytes_max > 64 * 1024 * 1024 {
            return Err(ConfigError::invalid("grpc.request_bytes_max", self.request_bytes_max, "33792..=67108864"));
        }
        if self.reply_bytes_max < 64 * 1024 || self.reply_bytes_max > 256 * 1024 * 1024 {
            return Err(ConfigError::invalid("grpc.reply_bytes_max", self.reply_bytes_max, "65536..=268435456"));
        }
        let durations = [
            ("grpc.keepalive_interval_ms", self.keepalive_interval_ms),
            ("grpc.keepalive_timeout_ms", self.keepalive_timeout_ms),
            ("grpc.connect_timeout_ms", self.connect_timeout_ms),
        ];
        for (field, value) in durations {
            if value == 0 || value > 3_600_000 {
                return Err(ConfigError::invalid(field, value, "1..=3600000 (one hour)"));
            }
        }
        Ok(())
    }

    /// An endpoint with keepalive (also while idle, so a dead peer is found before
    /// the next call), the connect timeout, and the spawner for its tasks.
    pub(crate) fn endpoint(&self, endpoint: Endpoint) -> Endpoint {
        endpoint
            .connect_timeout(Duration::from_millis(self.connect_timeout_ms))
            .http2_keep_alive_interval(Duration::from_millis(self.keepalive_interval_ms))
            .keep_alive_timeout(Duration::from_millis(self.keepalive_timeout_ms))
            .keep_alive_while_idle(true)
            .tcp_nodelay(true)
            .executor(self.spawner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_bad_fields_are_named() {
        GrpcConfig::default().validate().unwrap();
        let small = GrpcConfig { request_bytes_max: 1_000, ..GrpcConfig::default() };
        assert!(small.validate().unwrap_err().to_string().contains("grpc.request_bytes_max"));
        let no_ping = GrpcConfig { keepalive_interval_ms: 0, ..GrpcConfig::default() };
        assert!(no_ping.validate().unwrap_err().to_string().contains("grpc.keepalive_interval_ms"));
    }
}
