//! The simulated wire: length-delimited frames of JSON-encoded messages.
//!
//! A frame is a 4-byte big-endian length and that many bytes of JSON. Frames larger
//! than [`FRAME_BYTES_MAX`] are refused before any allocation, so a hostile or broken
//! peer cannot make a host allocate without bound.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use quorum_core::{ExecuteRequest, Heartbeat, Task, TaskId, WorkerAnswer, WorkerError};

/// Largest frame accepted: a task of the maximum size plus its envelope, with room.
const FRAME_BYTES_MAX: usize = 1024 * 1024;

/// The port worker hosts listen on.
pub(crate) const WORKER_PORT: u16 = 7000;
/// The port the supervisor host listens on for clients.
pub(crate) const SUPERVISOR_PORT: u16 = 9000;

/// Why a frame could not be read or written.
#[derive(Debug, thiserror::Error)]
pub(crate) enum WireError {
    /// The connection failed or closed.
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    /// The peer announced a frame over the limit.
    #[error("frame of {bytes} bytes; at most {FRAME_BYTES_MAX} are accepted")]
    TooLarge {
        /// The announced size.
        bytes: usize,
    },
    /// The bytes are not the expected message.
    #[error("undecodable frame: {0}")]
    Decode(#[from] serde_json::Error),
}

/// Writes one message as a frame.
///
/// # Errors
/// [`WireError`] when the message is too large or the connection fails.
pub(crate) async fn write_frame<W: AsyncWrite + Unpin, T: Serialize>(
    writer: &mut W,
    message: &T,
) -> Result<(), WireError> {
    let body = serde_json::to_vec(message)?;
    if body.len() > FRAME_BYTES_MAX {
        return Err(WireError::TooLarge { bytes: body.len() });
    }
    let length = u32::try_from(body.len()).expect("bounded by FRAME_BYTES_MAX");
    writer.write_all(&length.to_be_bytes()).await?;
    writer.write_all(&body).await?;
    writer.flush().await?;
    Ok(())
}

/// Reads one frame and decodes it.
///
/// # Errors
/// [`WireError`] when the connection fails, the frame is too large or undecodable.
pub(crate) async fn read_frame<R: AsyncRead + Unpin, T: DeserializeOwned>(reader: &mut R) -> Result<T, WireError> {
    let mut length = [0u8; 4];
    reader.read_exact(&mut length).await?;
    let bytes = u32::from_be_bytes(length) as usize;
    if bytes > FRAME_BYTES_MAX {
        return Err(WireError::TooLarge { bytes });
    }
    let mut body = vec![0u8; bytes];
    reader.read_exact(&mut body).await?;
    Ok(serde_json::from_slice(&body)?)
}

/// What the supervisor asks a worker.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum WorkerRequest {
    /// Answer a task.
    Execute(ExecuteRequest),
    /// Report load.
    Heartbeat,
    /// Stop working on a task.
    Cancel(TaskId),
}

/// What a worker replies.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum WorkerResponse {
    /// The answer, or why there is none.
    Answer(Result<WorkerAnswer, WorkerError>),
    /// Load report.
    Heartbeat(Heartbeat),
    /// Cancel acknowledged.
    Cancelled,
}

/// What clients (and workers delivering answers) ask the supervisor.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum SupervisorRequest {
    /// Submit a task (idempotent per id).
    Submit(Task),
    /// Ask for a task's result.
    Poll(TaskId),
    /// An answer pushed by a worker outside its execute call.
    Deliver(WorkerAnswer),
}

/// Where a polled task stands: the service's own answer, sent as it is.
pub(crate) use quorum_core::TaskStatus;

/// What the supervisor replies.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum SupervisorResponse {
    /// The submission was taken (or was known already).
    Submitted,
    /// The submission was refused; the reason is for humans.
    Refused(String),
    /// A poll's answer.
    Status(TaskStatus),
    /// A delivered answer was taken.
    Delivered,
}

/// The port P2P agent hosts listen on.
pub(crate) const AGENT_PORT: u16 = 7100;

/// What reaches a P2P agent: a peer's message (no reply), or a client's call.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum AgentRequest {
    /// A message from the peer named (the transport's claim; what is trusted is
    /// each message's own signatures).
    Peer {
        /// The sending agent.
        from: quorum_core::p2p::AgentId,
        /// The message.
        message: quorum_core::p2p::PeerMessage,
    },
    /// Submit a task (idempotent per id).
    Submit(Task),
    /// Ask where a task stands.
    Status(TaskId),
}

/// What a P2P agent replies to a client.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum AgentResponse {
    /// The task was taken, or was known already.
    Submitted,
    /// The submission was refused; the reason is for humans.
    Refused(String),
    /// Not known here.
    Unknown,
    /// Known, not committed yet.
    Open,
    /// Committed, as a result in the supervisor's shape.
    Committed(Box<quorum_core::TaskResult>),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn frames_round_trip_and_oversized_frames_are_refused() {
        let (mut client, mut server) = tokio::io::duplex(64 * 1024);
        let request = WorkerRequest::Cancel("t1".into());
        write_frame(&mut client, &request).await.unwrap();
        let read: WorkerRequest = read_frame(&mut server).await.unwrap();
        assert_eq!(read, request);

        client.write_all(&(FRAME_BYTES_MAX as u32 + 1).to_be_bytes()).await.unwrap();
        let error = read_frame::<_, WorkerRequest>(&mut server).await.unwrap_err();
        assert!(matches!(error, WireError::TooLarge { .. }), "{error}");
    }

    #[tokio::test]
    async fn garbage_is_a_decode_error_not_a_panic() {
        let (mut client, mut server) = tokio::io::duplex(1024);
        client.write_all(&5u32.to_be_bytes()).await.unwrap();
        client.write_all(b"{nope").await.unwrap();
        assert!(matches!(read_frame::<_, WorkerRequest>(&mut server).await, Err(WireError::Decode(_))));
    }
}

#[cfg(test)]
mod float_tests {
    use super::*;

    #[tokio::test]
    async fn floats_cross_the_wire_bit_for_bit() {
        // Regression: serde_json's default float parsing is not correctly rounded, so
        // recorded powers came back an ulp off and results no longer recomputed
        // exactly from their votes. The workspace enables `float_roundtrip`.
        let (mut client, mut server) = tokio::io::duplex(1024);
        let values = [0.1 + 0.2, 1.0 / 3.0, 0.5709342560553273, 1.1_f64.powi(7), 0.8_f64.powi(13)];
        write_frame(&mut client, &values).await.unwrap();
        let read: [f64; 5] = read_frame(&mut server).await.unwrap();
        for (a, b) in values.iter().zip(read) {
            assert_eq!(a.to_bits(), b.to_bits());
        }
    }
}
