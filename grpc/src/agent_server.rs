//! A P2P agent's gRPC server: a [`ServedAgent`] (the real node's handle to its
//! driver loop, or a test's fake) behind the `quorum.v1.Agent` service, with the
//! shared token checked on every call (so no outsider can inject peer messages or
//! tasks), health, reflection, keepalive, per-call deadlines, message limits and
//! graceful shutdown.

use core::future::Future;
use std::sync::Arc;

use futures_util::Stream;
use quorum_core::p2p::{AgentId, PeerMessage, SubmitError, Submitted, TaskStatus};
use quorum_core::{Task, TaskId};
use tokio::io::{AsyncRead, AsyncWrite};
use tonic::service::Routes;
use tonic::{Request, Response, Status};

use crate::auth::AuthToken;
use crate::config::GrpcConfig;
use crate::convert::{
    delivery_from_proto, identity_to_proto, submitted_to_proto, task_from_proto, task_id, task_status_to_proto,
};
use crate::proto::agent_server::{Agent as AgentRpc, AgentServer};
use crate::proto::{self};
use crate::serve::{ServeError, serve_service, within};
use crate::status::{status_of_agent_submit, status_of_field};

/// The gRPC name of the agent service, as health reports it.
pub const AGENT_SERVICE: &str = "quorum.v1.Agent";

/// What the agent server serves (the real node's handle to its driver loop; tests'
/// fakes).
pub trait ServedAgent: Send + Sync + 'static {
    /// This agent's id and its ed25519 public key (32 bytes): peers build their
    /// registry from it at startup.
    fn identity(&self) -> (AgentId, [u8; 32]);
    /// A peer's message; must not block (the node queues it).
    fn deliver(&self, from: AgentId, message: PeerMessage);
    /// A client's task.
    fn submit(&self, task: Task) -> impl Future<Output = Result<Submitted, SubmitError>> + Send;
    /// Where a task stands here.
    fn status(&self, task: TaskId) -> impl Future<Output = TaskStatus> + Send;
}

/// Serves `agent` on `incoming` until `shutdown` resolves; then accepts no new
/// connection and lets every call in flight end.
///
/// `incoming` is any stream of connections: [`tcp_incoming`](crate::tcp_incoming)
/// in real mode, a simulated network's listener in simulation.
///
/// # Errors
/// [`ServeError`] when the config is invalid or the server fails.
pub async fn serve_agent<A, I, IO, IE>(
    agent: Arc<A>,
    token: AuthToken,
    config: GrpcConfig,
    incoming: I,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ServeError>
where
    A: ServedAgent,
    I: Stream<Item = Result<IO, IE>>,
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    IE: core::fmt::Display,
{
    config.validate()?;
    let (id, _) = agent.identity();
    let service = AgentServer::new(AgentService { agent, config: config.clone() })
        .max_decoding_message_size(config.request_bytes_max)
        .max_encoding_message_size(config.reply_bytes_max);
    tracing::info!(agent = %id, "agent serving");
    let shutdown = async {
        shutdown.await;
        tracing::info!(agent = %id, "agent stops accepting; calls in flight finish");
    };
    let routes = Routes::new(tonic::service::interceptor::InterceptedService::new(service, token.checker()));
    serve_service(AGENT_SERVICE, routes, &config, incoming, shutdown).await
}

/// The service: a thin adapter of the wire to a [`ServedAgent`].
struct AgentService<A> {
    agent: Arc<A>,
    config: GrpcConfig,
}

#[tonic::async_trait]
impl<A: ServedAgent> AgentRpc for AgentService<A> {
    async fn identity(
        &self,
        _request: Request<proto::IdentityRequest>,
    ) -> Result<Response<proto::IdentityReply>, Status> {
        let (agent, public_key) = self.agent.identity();
        Ok(Response::new(identity_to_proto(&agent, &public_key)))
    }

    async fn deliver(
        &self,
        request: Request<proto::DeliverPeerRequest>,
    ) -> Result<Response<proto::DeliverPeerReply>, Status> {
        let (from, message) =
            delivery_from_proto(request.into_inner(), self.config.request_bytes_max).map_err(|error| {
                tracing::info!(%error, "refused a peer message");
                status_of_field(&error)
            })?;
        tracing::debug!(%from, kind = message.kind(), "peer message");
        self.agent.deliver(from, message);
        Ok(Response::new(proto::DeliverPeerReply {}))
    }

    async fn submit(
        &self,
        request: Request<proto::AgentSubmitRequest>,
    ) -> Result<Response<proto::AgentSubmitReply>, Status> {
        let task = task_from_proto(request.into_inner().task).map_err(|error| status_of_field(&error))?;
        let id = task.id.clone();
        let submitted = within("submit", self.config.deadlines.client_call_ms, self.agent.submit(task))
            .await?
            .map_err(|error| {
                tracing::info!(task = %id, %error, "task refused");
                status_of_agent_submit(&error)
            })?;
        tracing::info!(task = %id, ?submitted, "task submitted");
        Ok(Response::new(submitted_to_proto(submitted)))
    }

    async fn status(
        &self,
        request: Request<proto::AgentStatusRequest>,
    ) -> Result<Response<proto::AgentStatusReply>, Status> {
        let task = task_id("agent_status.task", request.into_inner().task).map_err(|error| status_of_field(&error))?;
        let status = within("status", self.config.deadlines.client_call_ms, self.agent.status(task)).await?;
        Ok(Response::new(task_status_to_proto(&status)))
    }
}

#[cfg(test)]
mod tests;
