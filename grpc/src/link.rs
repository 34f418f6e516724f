//! [`GrpcLink`]: the supervisor's [`WorkerLink`] over gRPC.
//!
//! A worker's address comes from the [`WorkerRegistry`] (an unregistered worker is
//! [`LinkError::Unavailable`] without a connection attempt). Each worker has one
//! cached channel, rebuilt when its address changes; a channel reconnects by itself
//! after its connection breaks. Every call runs under its deadline from
//! [`quorum_core::Deadlines`], sent to the worker too (`grpc-timeout`), and the whole
//! call, stream included, is bounded by it: a stream that stalls (a dead peer, a
//! partition that swallows segments) ends as [`LinkError::Timeout`], never hangs.
//! Keepalive finds a dead connection within its interval and timeout; sooner than
//! that, a control call (heartbeat, cancel) that times out drops the worker's
//! channel, so the next call connects afresh instead of queueing behind a
//! connection that lost a segment for good (control calls answer at once, so their
//! timing out says the connection, not the worker, is stuck; an execute call may
//! time out on a slow model, and leaves the channel alone).

use core::future::Future;
use core::time::Duration;
use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};

use quorum_core::{
    ConfigError, ExecuteRequest, Heartbeat, LinkError, TaskId, WorkerAnswer, WorkerId, WorkerLink, WorkerRegistry,
};
use tonic::Request;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Channel, Endpoint};

use crate::auth::{AuthToken, SendToken};
use crate::config::{GrpcConfig, PROGRESS_EVENTS_MAX};
use crate::convert::{
    FieldError, answer_from_proto, execute_request_to_proto, failure_from_proto, heartbeat_from_proto,
};
use crate::proto::worker_client::WorkerClient;
use crate::proto::{self, execute_event::Event};
use crate::status::{link_error_of_field, link_error_of_status};

/// How a link (or a client) makes the channel to a peer from its endpoint (address,
/// keepalive, timeouts and spawner set). [`TcpConnect`] in real mode;
/// [`Dial`](crate::Dial) over a simulated network's dialer in simulation.
pub trait Connect: Send + Sync + 'static {
    /// A lazily connecting channel to `endpoint`.
    fn channel(&self, endpoint: &Endpoint) -> Channel;
}

/// Channels over TCP, by tonic's own connector.
#[derive(Clone, Copy, Debug, Default)]
pub struct TcpConnect;

impl Connect for TcpConnect {
    fn channel(&self, endpoint: &Endpoint) -> Channel {
        endpoint.connect_lazy()
    }
}

type Client = WorkerClient<InterceptedService<Channel, SendToken>>;

/// Calls workers over gRPC; see the module docs.
pub struct GrpcLink<C = TcpConnect> {
    registry: WorkerRegistry<String>,
    token: AuthToken,
    config: GrpcConfig,
    connect: C,
    /// A channel per worker, with the address it was made for.
    channels: Mutex<BTreeMap<WorkerId, (String, Channel)>>,
}

impl<C> core::fmt::Debug for GrpcLink<C> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("GrpcLink").field("token", &self.token).field("config", &self.config).finish_non_exhaustive()
    }
}

impl<C: Connect> GrpcLink<C> {
    /// A link resolving workers through `registry`, sending `token`, under `config`,
    /// connecting with `connect`.
    ///
    /// # Errors
    /// [`ConfigError`] naming a bad field of `config`.
    pub fn new(
        registry: WorkerRegistry<String>,
        token: AuthToken,
        config: GrpcConfig,
        connect: C,
    ) -> Result<Self, ConfigError> {
        config.validate()?;
        Ok(Self { registry, token, config, connect, channels: Mutex::new(BTreeMap::new()) })
    }

    fn client(&self, worker: &WorkerId) -> Result<Client, LinkError> {
        let address = self.registry.address(worker).ok_or(LinkError::Unavailable)?;
        let mut channels = self.channels.lock().unwrap_or_else(PoisonError::into_inner);
        let channel = match channels.get(worker) {
            Some((known, channel)) if *known == address => channel.clone(),
            _ => {
                let endpoint = Endpoint::from_shared(address.clone())
                    .map_err(|_| LinkError::Protocol { detail: format!("worker {worker} has a bad address") })?;
                let channel = self.connect.channel(&self.config.endpoint(endpoint));
                // Channels of workers that left go when a new one is made, so the
                // cache holds at most the registry's workers and one more.
                channels.retain(|cached, _| self.registry.contains(cached));
                channels.insert(worker.clone(), (address, channel.clone()));
                channel
            }
        };
        Ok(WorkerClient::with_interceptor(channel, self.token.sender())
            .max_decoding_message_size(self.config.reply_bytes_max)
            .max_encoding_message_size(self.config.request_bytes_max))
    }

    /// Runs `call` with `worker`'s client under `deadline_ms`; a `control` call that
    /// times out drops the worker's channel.
    async fn call<T, F>(
        &self,
        worker: &WorkerId,
        deadline_ms: u64,
        control: bool,
        call: impl FnOnce(Client, Duration) -> F,
    ) -> Result<T, LinkError>
    where
        F: Future<Output = Result<T, LinkError>>,
    {
        let client = self.client(worker)?;
        let deadline = Duration::from_millis(deadline_ms);
        let started = tokio::time::Instant::now();
        let outcome = match tokio::time::timeout(deadline, call(client, deadline)).await {
            // tonic's channel enforces the deadline the call carries as well, and
            // reports its own expiry as `cancelled`: a call that failed at its
            // deadline timed out, whichever timer spoke first.
            Ok(Err(LinkError::Unavailable)) if started.elapsed() >= deadline => Err(LinkError::Timeout),
            Ok(outcome) => outcome,
            Err(_) => Err(LinkError::Timeout),
        };
        if let Err(error) = &outcome {
            tracing::debug!(%worker, %error, "call to worker failed");
            if control && *error == LinkError::Timeout {
                self.channels.lock().unwrap_or_else(PoisonError::into_inner).remove(worker);
            }
        }
        outcome
    }
}

fn request<T>(message: T, deadline: Duration) -> Request<T> {
    let mut request = Request::new(message);
    request.set_timeout(deadline);
    request
}

/// Reads an execute call's events to its answer.
async fn read_answer(mut events: tonic::Streaming<proto::ExecuteEvent>) -> Result<WorkerAnswer, LinkError> {
    let mut progress = 0usize;
    loop {
        let event = events.message().await.map_err(|status| link_error_of_status(&status))?;
        let Some(event) = event else {
            return Err(LinkError::Protocol { detail: "the execute stream ended before an answer".to_owned() });
        };
        match event.event {
            None => return Err(link_error_of_field(&FieldError::new("execute_event.event", "missing"))),
            Some(Event::Started(_)) => {
                progress += 1;
                if progress > PROGRESS_EVENTS_MAX {
                    let detail = format!("more than {PROGRESS_EVENTS_MAX} progress events before an answer");
                    return Err(LinkError::Protocol { detail });
                }
            }
            Some(Event::Answer(answer)) => {
                return answer_from_proto(answer).map_err(|error| link_error_of_field(&error));
            }
            Some(Event::Failure(failure)) => {
                let error = failure_from_proto(failure).map_err(|error| link_error_of_field(&error))?;
                return Err(LinkError::Worker(error).bounded());
            }
        }
    }
}

impl<C: Connect> WorkerLink for GrpcLink<C> {
    async fn execute(&self, worker: &WorkerId, request_: ExecuteRequest) -> Result<WorkerAnswer, LinkError> {
        let deadline_ms = self.config.deadlines.execute_call_ms(request_.timeout_ms);
        self.call(worker, deadline_ms, false, |mut client, deadline| async move {
            let response = client
                .execute(request(execute_request_to_proto(request_), deadline))
                .await
                .map_err(|status| link_error_of_status(&status))?;
            read_answer(response.into_inner()).await
        })
        .await
    }

    async fn heartbeat(&self, worker: &WorkerId) -> Result<Heartbeat, LinkError> {
        self.call(worker, self.config.deadlines.heartbeat_call_ms, true, |mut client, deadline| async move {
            let reply = client
                .heartbeat(request(proto::HeartbeatRequest {}, deadline))
                .await
                .map_err(|status| link_error_of_status(&status))?;
            heartbeat_from_proto(reply.into_inner()).map_err(|error| link_error_of_field(&error))
        })
        .await
    }

    async fn cancel(&self, worker: &WorkerId, task: &TaskId) -> Result<(), LinkError> {
        let task = task.as_str().to_owned();
        self.call(worker, self.config.deadlines.control_call_ms, true, |mut client, deadline| async move {
            client
                .cancel(request(proto::CancelRequest { task }, deadline))
                .await
                .map_err(|status| link_error_of_status(&status))?;
            Ok(())
        })
        .await
    }
}
