//! [`SupervisorClient`]: what a client (submit, results, status) and a worker
//! (join, leave) call on the supervisor, with every reply checked.

use core::future::Future;
use core::time::Duration;

use quorum_core::{SupervisorStatus, Task, TaskEvent, TaskId, TaskResult, WorkerAnswer, WorkerId};
use tonic::Request;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Channel, Endpoint};

use crate::auth::{AuthToken, SendToken};
use crate::config::GrpcConfig;
use crate::convert::{
    FieldError, answer_to_proto, event_from_proto, result_from_proto, status_from_proto, task_to_proto,
};
use crate::link::{Connect, TcpConnect};
use crate::proto::supervisor_client::SupervisorClient as Rpc;
use crate::proto::{self, get_result_reply};
use crate::status::{ClientError, client_error_of_field, client_error_of_status};

type Inner = Rpc<InterceptedService<Channel, SendToken>>;

/// A client of the supervisor's gRPC service. Cheap to clone (clones share one
/// channel, which reconnects by itself).
#[derive(Clone)]
pub struct SupervisorClient {
    rpc: Inner,
    config: GrpcConfig,
}

impl core::fmt::Debug for SupervisorClient {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SupervisorClient").field("config", &self.config).finish_non_exhaustive()
    }
}

/// The events of one submitted task, read as they come, up to its result.
#[derive(Debug)]
pub struct SubmittedTask {
    task: TaskId,
    events: tonic::Streaming<proto::TaskEvent>,
    finished: bool,
}

impl SupervisorClient {
    /// A client of the supervisor at `address` (`http://host:port`) over TCP; it
    /// connects at its first call.
    ///
    /// # Errors
    /// [`ClientError::Invalid`] for an address that is not a URI.
    pub fn connect_lazy(address: &str, token: &AuthToken, config: GrpcConfig) -> Result<Self, ClientError> {
        Self::connect_with(&TcpConnect, address, token, config)
    }

    /// A client of the supervisor at `address` (`http://host:port`) through
    /// `connect` (a simulated network's, say); it connects at its first call.
    ///
    /// # Errors
    /// [`ClientError::Invalid`] for an address that is not a URI.
    pub fn connect_with(
        connect: &impl Connect,
        address: &str,
        token: &AuthToken,
        config: GrpcConfig,
    ) -> Result<Self, ClientError> {
        let endpoint = Endpoint::from_shared(address.to_owned())
            .map_err(|_| ClientError::Invalid { detail: format!("supervisor address {address:?} is not a URI") })?;
        let channel = connect.channel(&config.endpoint(endpoint));
        Ok(Self::with_channel(channel, token, config))
    }

    /// A client over `channel` (made with any connector).
    pub fn with_channel(channel: Channel, token: &AuthToken, config: GrpcConfig) -> Self {
        let rpc = Rpc::with_interceptor(channel, token.sender())
            .max_decoding_message_size(config.reply_bytes_max)
            .max_encoding_message_size(config.request_bytes_max);
        Self { rpc, config }
    }

    fn request<T>(&self, message: T, deadline_ms: u64) -> Request<T> {
        let mut request = Request::new(message);
        request.set_timeout(Duration::from_millis(deadline_ms));
        request
    }

    /// Submits `task` (idempotent by id) and returns its events. The submit itself
    /// is bounded by the client call and model call deadlines; the events come at
    /// the task's pace, and keepalive ends the stream if the supervisor vanishes.
    ///
    /// # Errors
    /// [`ClientError`] when the supervisor refuses the task or cannot be reached.
    pub async fn submit(&self, task: Task) -> Result<SubmittedTask, ClientError> {
        let id = task.id.clone();
        let deadlines = &self.config.deadlines;
        let deadline_ms = deadlines.client_call_ms.saturating_add(deadlines.model_call_ms);
        let message = proto::SubmitRequest { task: Some(task_to_proto(task)) };
        let events = unary(deadline_ms, Some(&id), self.rpc.clone().submit(self.request(message, deadline_ms))).await?;
        Ok(SubmittedTask { task: id, events, finished: false })
    }

    /// The result of `task`; `None` while it is pending.
    ///
    /// # Errors
    /// [`ClientError::UnknownTask`] when the supervisor does not know it; others
    /// when it cannot be reached or replies nonsense.
    pub async fn result(&self, task: &TaskId) -> Result<Option<TaskResult>, ClientError> {
        let message = proto::GetResultRequest { task: task.as_str().to_owned() };
        let deadline_ms = self.config.deadlines.client_call_ms;
        let reply =
            unary(deadline_ms, Some(task), self.rpc.clone().get_result(self.request(message, deadline_ms))).await?;
        match reply.status {
            Some(get_result_reply::Status::Pending(_)) => Ok(None),
            Some(get_result_reply::Status::Result(result)) => {
                result_from_proto(result).map(Some).map_err(|error| client_error_of_field(&error))
            }
            None => Err(client_error_of_field(&FieldError::new("get_result.status", "missing"))),
        }
    }

    /// The supervisor's workers and tasks now.
    ///
    /// # Errors
    /// [`ClientError`] when it cannot be reached or replies nonsense.
    pub async fn status(&self) -> Result<SupervisorStatus, ClientError> {
        let deadline_ms = self.config.deadlines.client_call_ms;
        let reply =
            unary(deadline_ms, None, self.rpc.clone().status(self.request(proto::StatusRequest {}, deadline_ms)))
                .await?;
        status_from_proto(reply).map_err(|error| client_error_of_field(&error))
    }

    /// Joins `worker`, served at `address` (`http://host:port`); returns whether it
    /// is new to the supervisor.
    ///
    /// # Errors
    /// [`ClientError::Unauthenticated`] with a wrong token; others as for any call.
    pub async fn join(&self, worker: &WorkerId, address: &str) -> Result<bool, ClientError> {
        let message = proto::JoinRequest { worker: worker.as_str().to_owned(), address: address.to_owned() };
        let deadline_ms = self.config.deadlines.client_call_ms;
        Ok(unary(deadline_ms, None, self.rpc.clone().join(self.request(message, deadline_ms))).await?.new)
    }

    /// Delivers `answer` outside an execute call. The supervisor checks it as any
    /// answer; `Ok` means it was handed over, not that it counts.
    ///
    /// # Errors
    /// As [`SupervisorClient::join`].
    pub async fn deliver(&self, answer: WorkerAnswer) -> Result<(), ClientError> {
        let task = answer.task.clone();
        let message = proto::DeliverRequest { answer: Some(answer_to_proto(answer)) };
        let deadline_ms = self.config.deadlines.client_call_ms;
        unary(deadline_ms, Some(&task), self.rpc.clone().deliver(self.request(message, deadline_ms))).await?;
        Ok(())
    }

    /// Removes `worker`; returns whether it was registered.
    ///
    /// # Errors
    /// As [`SupervisorClient::join`].
    pub async fn leave(&self, worker: &WorkerId) -> Result<bool, ClientError> {
        let message = proto::LeaveRequest { worker: worker.as_str().to_owned() };
        let deadline_ms = self.config.deadlines.client_call_ms;
        Ok(unary(deadline_ms, None, self.rpc.clone().leave(self.request(message, deadline_ms))).await?.was_member)
    }
}

/// Runs one call that must be answered within `deadline_ms`. tonic reports the
/// expiry of the deadline it enforces as `cancelled`, which reads as `Unavailable`:
/// a call that failed at or after its deadline timed out.
pub(crate) async fn unary<T>(
    deadline_ms: u64,
    task: Option<&TaskId>,
    call: impl Future<Output = Result<tonic::Response<T>, tonic::Status>>,
) -> Result<T, ClientError> {
    let started = tokio::time::Instant::now();
    match call.await {
        Ok(reply) => Ok(reply.into_inner()),
        Err(status) => {
            let error = client_error_of_status(&status, task);
            let expired = started.elapsed() >= Duration::from_millis(deadline_ms);
            Err(if error == ClientError::Unavailable && expired { ClientError::Timeout } else { error })
        }
    }
}

impl SubmittedTask {
    /// The task.
    pub fn task(&self) -> &TaskId {
        &self.task
    }

    /// The next event; `None` after the result.
    ///
    /// # Errors
    /// [`ClientError`] when the stream breaks, ends before the result, or carries
    /// nonsense.
    pub async fn next(&mut self) -> Result<Option<TaskEvent>, ClientError> {
        if self.finished {
            return Ok(None);
        }
        let message =
            self.events.message().await.map_err(|status| client_error_of_status(&status, Some(&self.task)))?;
        let Some(message) = message else {
            return Err(ClientError::Protocol {
                detail: format!("the events of {} ended before its result", self.task),
            });
        };
        let event = event_from_proto(message).map_err(|error| client_error_of_field(&error))?;
        self.finished = event.is_final();
        Ok(Some(event))
    }

    /// Reads to the result.
    ///
    /// # Errors
    /// As [`SubmittedTask::next`].
    pub async fn result(mut self) -> Result<TaskResult, ClientError> {
        loop {
            match self.next().await? {
                Some(TaskEvent::Finished { result }) => return Ok(*result),
                Some(_) => {}
                None => {
                    let detail = format!("the events of {} ended before its result", self.task);
                    return Err(ClientError::Protocol { detail });
                }
            }
        }
    }
}
