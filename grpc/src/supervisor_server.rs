//! The supervisor's gRPC server: core's [`SupervisorService`] and the
//! [`WorkerRegistry`] it follows behind the `quorum.v1.Supervisor` service, with
//! the shared token checked on every call (so an unauthenticated worker can never
//! join, and so never vote), health, reflection, keepalive, per-call deadlines,
//! message limits and graceful shutdown.

use core::future::Future;
use core::pin::Pin;

use futures_util::{Stream, stream};
use quorum_core::{Joined, Submitted, SupervisorService, TaskEvent, TaskEvents, TaskStatus, WorkerRegistry};
use tokio::io::{AsyncRead, AsyncWrite};
use tonic::service::Routes;
use tonic::{Request, Response, Status};
use tracing::Instrument as _;

use crate::auth::AuthToken;
use crate::config::GrpcConfig;
use crate::convert::{
    answer_from_proto, event_to_proto, result_to_proto, status_to_proto, task_from_proto, task_id, worker_address,
    worker_id,
};
use crate::proto::supervisor_server::{Supervisor as SupervisorRpc, SupervisorServer};
use crate::proto::{self, get_result_reply};
use crate::serve::{ServeError, serve_service, within};
use crate::status::{status_of_field, status_of_registry, status_of_stopped, status_of_submit, status_of_unknown};

/// The gRPC name of the supervisor service, as health reports it.
pub const SUPERVISOR_SERVICE: &str = "quorum.v1.Supervisor";

/// Serves `service` on `incoming` until `shutdown` resolves: clients submit and
/// follow tasks; workers join and leave `registry` (the one the supervisor follows
/// and its link resolves through). At `shutdown` it accepts no new connection,
/// lets every task stream in flight run to its result, then shuts the supervisor
/// down (every accepted task ends with its result).
///
/// # Errors
/// [`ServeError`] when the config is invalid or the server fails.
pub async fn serve_supervisor<I, IO, IE>(
    service: SupervisorService,
    registry: WorkerRegistry<String>,
    token: AuthToken,
    config: GrpcConfig,
    incoming: I,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ServeError>
where
    I: Stream<Item = Result<IO, IE>>,
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    IE: core::fmt::Display,
{
    config.validate()?;
    let adapter = SupervisorAdapter { service: service.clone(), registry, config: config.clone() };
    let rpc = SupervisorServer::new(adapter)
        .max_decoding_message_size(config.request_bytes_max)
        .max_encoding_message_size(config.reply_bytes_max);
    tracing::info!("supervisor serving");
    let shutdown = async {
        shutdown.await;
        tracing::info!("supervisor stops accepting; task streams in flight run to their results");
    };
    let routes = Routes::new(tonic::service::interceptor::InterceptedService::new(rpc, token.checker()));
    serve_service(SUPERVISOR_SERVICE, routes, &config, incoming, shutdown).await?;
    service.shutdown().await;
    Ok(())
}

/// The service: a thin adapter of the wire to [`SupervisorService`] and the registry.
struct SupervisorAdapter {
    service: SupervisorService,
    registry: WorkerRegistry<String>,
    config: GrpcConfig,
}

type EventStream = Pin<Box<dyn Stream<Item = Result<proto::TaskEvent, Status>> + Send>>;

/// A task's events on the wire; a stream that ends without the result (the
/// supervisor stopped) ends with `unavailable` instead of silently. The result, once
/// handed to the wire, counts as delivered.
fn event_stream(events: TaskEvents, service: SupervisorService, task: quorum_core::TaskId) -> EventStream {
    Box::pin(stream::unfold(Some(events), move |events| {
        let (service, task) = (service.clone(), task.clone());
        async move {
            let mut events = events?;
            match events.next().await {
                Some(event) => {
                    let last = event.is_final();
                    if last {
                        service.result_delivered(&task);
                    }
                    Some((Ok(event_to_proto(&event)), (!last).then_some(events)))
                }
                None => Some((Err(Status::unavailable("the supervisor stopped before the task's result")), None)),
            }
        }
    }))
}

impl SupervisorAdapter {
    /// Submits `task` and streams its events, inside the task's span.
    async fn submit_task(&self, task: quorum_core::Task) -> Result<Response<EventStream>, Status> {
        let id = task.id.clone();
        // A submit may wait for the supervisor's analyser as well as for the driver.
        let deadlines = &self.config.deadlines;
        let deadline_ms = deadlines.client_call_ms.saturating_add(deadlines.model_call_ms);
        let submitted = within("submit", deadline_ms, self.service.submit(task)).await?.map_err(|error| {
            tracing::info!(%error, "task refused");
            status_of_submit(&error)
        })?;
        let events = match submitted {
            Submitted::Completed(result) => {
                tracing::info!("task already done: its result is sent again");
                self.service.result_delivered(&id);
                let finished = Ok(event_to_proto(&TaskEvent::Finished { result }));
                return Ok(Response::new(Box::pin(stream::iter([finished]))));
            }
            Submitted::Accepted => {
                tracing::info!("task accepted");
                self.service.subscribe(&id).map_err(|error| status_of_unknown(&error))?
            }
            Submitted::InProgress => {
                tracing::info!("task already in progress: following it");
                self.service.subscribe(&id).map_err(|error| status_of_unknown(&error))?
            }
        };
        Ok(Response::new(event_stream(events, self.service.clone(), id)))
    }
}

#[tonic::async_trait]
impl SupervisorRpc for SupervisorAdapter {
    type SubmitStream = EventStream;

    async fn submit(&self, request: Request<proto::SubmitRequest>) -> Result<Response<EventStream>, Status> {
        let task = task_from_proto(request.into_inner().task).map_err(|error| status_of_field(&error))?;
        // One span per task, named by its id, around its handling here: every log
        // line of the submission (the analyser's too) carries the id.
        let span = tracing::info_span!("task", task = %task.id);
        self.submit_task(task).instrument(span).await
    }

    async fn get_result(
        &self,
        request: Request<proto::GetResultRequest>,
    ) -> Result<Response<proto::GetResultReply>, Status> {
        let task = task_id("get_result.task", request.into_inner().task).map_err(|error| status_of_field(&error))?;
        let status = match self.service.task_status(&task) {
            TaskStatus::Pending => get_result_reply::Status::Pending(proto::Pending {}),
            TaskStatus::Done(result) => get_result_reply::Status::Result(result_to_proto(&result)),
            TaskStatus::Unknown => {
                return Err(status_of_unknown(&quorum_core::UnknownTask { task }));
            }
        };
        Ok(Response::new(proto::GetResultReply { status: Some(status) }))
    }

    async fn status(&self, _request: Request<proto::StatusRequest>) -> Result<Response<proto::StatusReply>, Status> {
        let status = within("status", self.config.deadlines.client_call_ms, self.service.status())
            .await?
            .map_err(|error| status_of_stopped(&error))?;
        Ok(Response::new(status_to_proto(&status)))
    }

    async fn join(&self, request: Request<proto::JoinRequest>) -> Result<Response<proto::JoinReply>, Status> {
        let request = request.into_inner();
        let worker = worker_id("join.worker", request.worker).map_err(|error| status_of_field(&error))?;
        let address = worker_address(request.address).map_err(|error| status_of_field(&error))?;
        let joined = self.registry.join(worker.clone(), address).map_err(|error| status_of_registry(&error))?;
        tracing::info!(%worker, new = joined == Joined::New, "worker joined");
        Ok(Response::new(proto::JoinReply { new: joined == Joined::New }))
    }

    async fn leave(&self, request: Request<proto::LeaveRequest>) -> Result<Response<proto::LeaveReply>, Status> {
        let worker = worker_id("leave.worker", request.into_inner().worker).map_err(|error| status_of_field(&error))?;
        let was_member = self.registry.leave(&worker).is_some();
        tracing::info!(%worker, was_member, "worker left");
        Ok(Response::new(proto::LeaveReply { was_member }))
    }

    async fn deliver(&self, request: Request<proto::DeliverRequest>) -> Result<Response<proto::DeliverReply>, Status> {
        let Some(answer) = request.into_inner().answer else {
            return Err(status_of_field(&crate::convert::FieldError::new("deliver.answer", "missing")));
        };
        let answer = answer_from_proto(answer).map_err(|error| status_of_field(&error))?;
        // The machine checks a delivered answer like any other: one that was not
        // asked for is refused and counted there, never voted.
        within("deliver", self.config.deadlines.client_call_ms, self.service.deliver(answer))
            .await?
            .map_err(|error| status_of_stopped(&error))?;
        Ok(Response::new(proto::DeliverReply {}))
    }
}
