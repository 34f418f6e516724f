//! The worker's gRPC server: core's [`Worker`] (or anything that answers as one,
//! a [`ServedWorker`]) behind the `quorum.v1.Worker` service, with the shared token
//! checked on every call, health, reflection, keepalive, message limits and
//! graceful shutdown.

use core::future::Future;
use core::pin::Pin;
use std::sync::Arc;

use futures_util::{FutureExt, Stream, StreamExt, stream};
use quorum_core::{ExecuteRequest, Heartbeat, Llm, TaskId, Worker, WorkerAnswer, WorkerError, WorkerId};
use tokio::io::{AsyncRead, AsyncWrite};
use tonic::service::Routes;
use tonic::{Request, Response, Status};

use crate::auth::AuthToken;
use crate::config::GrpcConfig;
use crate::convert::{answer_to_proto, execute_request_from_proto, failure_to_proto, heartbeat_to_proto, task_id};
use crate::proto::worker_server::{Worker as WorkerRpc, WorkerServer};
use crate::proto::{self, execute_event::Event};
use crate::serve::{ServeError, serve_service};
use crate::status::status_of_field;

/// The gRPC name of the worker service, as health reports it.
pub const WORKER_SERVICE: &str = "quorum.v1.Worker";

/// What the worker server serves: core's [`Worker`] over any model, or a wrapper
/// that answers as one (the simulation's hostile workers push extra answers around
/// the real one).
pub trait ServedWorker: Send + Sync + 'static {
    /// The worker's id.
    fn id(&self) -> &WorkerId;
    /// Answers one round of a task.
    fn execute(&self, request: ExecuteRequest) -> impl Future<Output = Result<WorkerAnswer, WorkerError>> + Send;
    /// Load and capacity now.
    fn heartbeat(&self) -> Heartbeat;
    /// Stops work on every round of `task`; whether any was running.
    fn cancel(&self, task: &TaskId) -> bool;
}

impl<L: Llm + 'static> ServedWorker for Worker<L> {
    fn id(&self) -> &WorkerId {
        Worker::id(self)
    }

    fn execute(&self, request: ExecuteRequest) -> impl Future<Output = Result<WorkerAnswer, WorkerError>> + Send {
        Worker::execute(self, request)
    }

    fn heartbeat(&self) -> Heartbeat {
        Worker::heartbeat(self)
    }

    fn cancel(&self, task: &TaskId) -> bool {
        Worker::cancel(self, task)
    }
}

/// Serves `worker` on `incoming` until `shutdown` resolves; then accepts no new
/// connection and lets every execute call in flight end with its answer.
///
/// `incoming` is any stream of connections: a `TcpListenerStream` in real mode, a
/// simulated network's listener in tests.
///
/// # Errors
/// [`ServeError`] when the config is invalid or the server fails.
pub async fn serve_worker<W, I, IO, IE>(
    worker: Arc<W>,
    token: AuthToken,
    config: GrpcConfig,
    incoming: I,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ServeError>
where
    W: ServedWorker,
    I: Stream<Item = Result<IO, IE>>,
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    IE: core::fmt::Display,
{
    config.validate()?;
    let id = worker.id().clone();
    let service = WorkerServer::new(WorkerService { worker })
        .max_decoding_message_size(config.request_bytes_max)
        .max_encoding_message_size(config.reply_bytes_max);
    tracing::info!(worker = %id, "worker serving");
    let shutdown = async {
        shutdown.await;
        tracing::info!(worker = %id, "worker stops accepting; calls in flight finish");
    };
    let routes = Routes::new(tonic::service::interceptor::InterceptedService::new(service, token.checker()));
    serve_service(WORKER_SERVICE, routes, &config, incoming, shutdown).await
}

/// The service: a thin adapter of the wire to [`Worker`].
struct WorkerService<W> {
    worker: Arc<W>,
}

type EventStream = Pin<Box<dyn Stream<Item = Result<proto::ExecuteEvent, Status>> + Send>>;

#[tonic::async_trait]
impl<W: ServedWorker> WorkerRpc for WorkerService<W> {
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
