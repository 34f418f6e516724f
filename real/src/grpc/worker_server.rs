//! The worker's gRPC server: core's [`Worker`] behind the `quorum.v1.Worker`
//! service, with the shared token checked on every call, health, reflection,
//! keepalive, message limits and graceful shutdown.

use core::future::Future;
use core::pin::Pin;
use std::sync::Arc;

use futures_util::{FutureExt, Stream, StreamExt, stream};
use quorum_core::{Llm, Worker};
use tokio::io::{AsyncRead, AsyncWrite};
use tonic::transport::server::Connected;
use tonic::{Request, Response, Status};

use super::auth::AuthToken;
use super::config::GrpcConfig;
use super::convert::{answer_to_proto, execute_request_from_proto, failure_to_proto, heartbeat_to_proto, task_id};
use super::proto::worker_server::{Worker as WorkerRpc, WorkerServer};
use super::proto::{self, execute_event::Event};
use super::serve::{ServeError, health_and_reflection};
use super::status::status_of_field;

/// The gRPC name of the worker service, as health reports it.
pub const WORKER_SERVICE: &str = "quorum.v1.Worker";

/// Serves `worker` on `incoming` until `shutdown` resolves; then accepts no new
/// connection and lets every execute call in flight end with its answer.
///
/// `incoming` is any stream of connections: a `TcpListenerStream` in real mode, a
/// simulated network's listener in tests.
///
/// # Errors
/// [`ServeError`] when the config is invalid or the server fails.
pub async fn serve_worker<L, I, IO, IE>(
    worker: Arc<Worker<L>>,
    token: AuthToken,
    config: GrpcConfig,
    incoming: I,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ServeError>
where
    L: Llm + 'static,
    I: Stream<Item = Result<IO, IE>>,
    IO: AsyncRead + AsyncWrite + Connected + Unpin + Send + 'static,
    IE: Into<Box<dyn core::error::Error + Send + Sync>>,
{
    config.validate()?;
    let mut server = config.server();
    let id = worker.id().clone();
    let service = WorkerServer::new(WorkerService { worker })
        .max_decoding_message_size(config.request_bytes_max)
        .max_encoding_message_size(config.reply_bytes_max);
    let (health, reflection, reporter) = health_and_reflection(WORKER_SERVICE).await?;
    tracing::info!(worker = %id, "worker serving");
    let shutdown = async {
        shutdown.await;
        reporter.set_service_status(WORKER_SERVICE, tonic_health::ServingStatus::NotServing).await;
        tracing::info!(worker = %id, "worker stops accepting; calls in flight finish");
    };
    server
        .add_service(tonic::service::interceptor::InterceptedService::new(service, token.checker()))
        .add_service(health)
        .add_service(reflection)
        .serve_with_incoming_shutdown(incoming, shutdown)
        .await?;
    Ok(())
}

/// The service: a thin adapter of the wire to [`Worker`].
struct WorkerService<L> {
    worker: Arc<Worker<L>>,
}

type EventStream = Pin<Box<dyn Stream<Item = Result<proto::ExecuteEvent, Status>> + Send>>;

#[tonic::async_trait]
impl<L: Llm + 'static> WorkerRpc for WorkerService<L> {
    type ExecuteStream = EventStream;

    async fn execute(&self, request: Request<proto::ExecuteRequest>) -> Result<Response<EventStream>, Status> {
        let request = execute_request_from_proto(request.into_inner()).map_err(|error| status_of_field(&error))?;
        let worker = Arc::clone(&self.worker);
        let started = Event::Started(proto::Started { worker: worker.id().as_str().to_owned() });
        // The answer is worked out as the stream is read: a caller that goes away
        // drops the stream, and with it the work (the worker frees its slot).
        let outcome = async move {
            match worker.execute(request).await {
                Ok(answer) => Event::Answer(answer_to_proto(answer)),
                Err(error) => Event::Failure(failure_to_proto(error)),
            }
        };
        let events = stream::once(async { started })
            .chain(outcome.into_stream())
            .map(|event| Ok(proto::ExecuteEvent { event: Some(event) }));
        Ok(Response::new(Box::pin(events)))
    }

    async fn heartbeat(
        &self,
        _request: Request<proto::HeartbeatRequest>,
    ) -> Result<Response<proto::HeartbeatReply>, Status> {
        Ok(Response::new(heartbeat_to_proto(self.worker.heartbeat())))
    }

    async fn cancel(&self, request: Request<proto::CancelRequest>) -> Result<Response<proto::CancelReply>, Status> {
        let task = task_id("cancel.task", request.into_inner().task).map_err(|error| status_of_field(&error))?;
        Ok(Response::new(proto::CancelReply { was_running: self.worker.cancel(&task) }))
    }
}
