//! [`AgentClient`]: what peers (deliveries) and clients (submits, status queries)
//! call on one P2P agent, with every reply checked.

use core::time::Duration;

use quorum_core::p2p::{AgentId, PeerMessage, Submitted, TaskStatus};
use quorum_core::{Task, TaskId};
use tonic::Request;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Channel, Endpoint};

use crate::auth::{AuthToken, SendToken};
use crate::client::unary;
use crate::config::GrpcConfig;
use crate::convert::{
    identity_from_proto, peer_message_to_json, submitted_from_proto, task_status_from_proto, task_to_proto,
};
use crate::link::{Connect, TcpConnect};
use crate::proto;
use crate::proto::agent_client::AgentClient as Rpc;
use crate::status::{ClientError, client_error_of_field};

type Inner = Rpc<InterceptedService<Channel, SendToken>>;

/// A client of one agent's gRPC service. Cheap to clone (clones share one channel,
/// which connects at the first call and reconnects by itself after a break).
#[derive(Clone)]
pub struct AgentClient {
    rpc: Inner,
    config: GrpcConfig,
}

impl core::fmt::Debug for AgentClient {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("AgentClient").field("config", &self.config).finish_non_exhaustive()
    }
}

impl AgentClient {
    /// A client of the agent at `address` (`http://host:port`) over TCP; it connects
    /// at its first call.
    ///
    /// # Errors
    /// [`ClientError::Invalid`] for an address that is not a URI or an invalid
    /// config.
    pub fn connect(address: &str, token: &AuthToken, config: GrpcConfig) -> Result<Self, ClientError> {
        Self::connect_with(&TcpConnect, address, token, config)
    }

    /// A client of the agent at `address` (`http://host:port`) through `connector`
    /// (a simulated network's, say); it connects at its first call.
    ///
    /// # Errors
    /// As [`AgentClient::connect`].
    pub fn connect_with<C: Connect>(
        connector: &C,
        address: &str,
        token: &AuthToken,
        config: GrpcConfig,
    ) -> Result<Self, ClientError> {
        config.validate().map_err(|error| ClientError::Invalid { detail: error.to_string() })?;
        let endpoint = Endpoint::from_shared(address.to_owned())
            .map_err(|_| ClientError::Invalid { detail: format!("agent address {address:?} is not a URI") })?;
        let channel = connector.channel(&config.endpoint(endpoint));
        let rpc = Rpc::with_interceptor(channel, token.sender())
            .max_decoding_message_size(config.reply_bytes_max)
            .max_encoding_message_size(config.request_bytes_max);
        Ok(Self { rpc, config })
    }

    /// A request under the client call deadline, which the server hears too.
    fn request<T>(&self, message: T) -> Request<T> {
        let mut request = Request::new(message);
        request.set_timeout(Duration::from_millis(self.config.deadlines.client_call_ms));
        request
    }

    /// The agent's id and its ed25519 public key (32 bytes).
    ///
    /// # Errors
    /// [`ClientError::Unauthenticated`] with a wrong token; [`ClientError::Protocol`]
    /// for a reply with an empty or over-long id or a key that is not 32 bytes;
    /// others when the agent cannot be reached.
    pub async fn identity(&self) -> Result<(AgentId, [u8; 32]), ClientError> {
        let deadline_ms = self.config.deadlines.client_call_ms;
        let reply =
            unary(deadline_ms, None, self.rpc.clone().identity(self.request(proto::IdentityRequest {}))).await?;
        identity_from_proto(reply).map_err(|error| client_error_of_field(&error))
    }

    /// Delivers `message` from `from`. `Ok` means the agent queued it, not that it
    /// counts: the agent verifies every signature in it.
    ///
    /// # Errors
    /// [`ClientError::Invalid`] for a message whose JSON is larger than the request
    /// limit (it is not sent) or that the agent refuses; others as for any call.
    pub async fn deliver(&self, from: &AgentId, message: &PeerMessage) -> Result<(), ClientError> {
        let message_json = peer_message_to_json(message)
            .map_err(|error| ClientError::Invalid { detail: format!("deliver.message_json: {error}") })?;
        let bytes_max = self.config.request_bytes_max;
        if message_json.len() > bytes_max {
            let detail = format!(
                "deliver.message_json: a {} message of {} bytes; at most {bytes_max} are sent",
                message.kind(),
                message_json.len()
            );
            return Err(ClientError::Invalid { detail });
        }
        let request = proto::DeliverPeerRequest { from: from.as_str().to_owned(), message_json };
        let deadline_ms = self.config.deadlines.client_call_ms;
        unary(deadline_ms, None, self.rpc.clone().deliver(self.request(request))).await?;
        Ok(())
    }

    /// Submits `task` (idempotent by id: a known task is reported as already open
    /// or committed).
    ///
    /// # Errors
    /// [`ClientError::Invalid`] naming what is wrong with a malformed task or a
    /// reserved id (one with the step separator); [`ClientError::Overloaded`] when
    /// the agent has too many tasks open; others as for any call.
    pub async fn submit(&self, task: Task) -> Result<Submitted, ClientError> {
        let id = task.id.clone();
        let request = proto::AgentSubmitRequest { task: Some(task_to_proto(task)) };
        let deadline_ms = self.config.deadlines.client_call_ms;
        let reply = unary(deadline_ms, Some(&id), self.rpc.clone().submit(self.request(request))).await?;
        submitted_from_proto(reply).map_err(|error| client_error_of_field(&error))
    }

    /// Where `task` stands at this agent; a committed task comes with its block.
    ///
    /// # Errors
    /// [`ClientError::Protocol`] for a reply whose state is missing or whose
    /// committed task is not `task` or does not decode; others as for any call.
    pub async fn status(&self, task: &TaskId) -> Result<TaskStatus, ClientError> {
        let request = proto::AgentStatusRequest { task: task.as_str().to_owned() };
        let deadline_ms = self.config.deadlines.client_call_ms;
        let reply = unary(deadline_ms, Some(task), self.rpc.clone().status(self.request(request))).await?;
        task_status_from_proto(reply, task).map_err(|error| client_error_of_field(&error))
    }
}
