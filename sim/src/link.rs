//! `SimLink`: the supervisor's `WorkerLink` over turmoil TCP, on either
//! [`Transport`](crate::Transport), recording every call in the trace.
//!
//! A worker's host is resolved through the registry; a worker that is not
//! registered is unavailable without a connection attempt. Every call runs under one
//! deadline from the supervisor's [`Deadlines`] (the driver enforces the same ones;
//! the link enforces them too so that its trace says the call timed out). turmoil
//! never resends segments a partition swallowed, so a call that loses its request or
//! reply simply times out. With frames the next call connects afresh, which is the
//! reconnect; with gRPC, keepalive finds the dead connection and the channel
//! reconnects.

use std::sync::Arc;

use quorum_core::{Deadlines, ExecuteRequest, Heartbeat, LinkError, TaskId, WorkerAnswer, WorkerId, WorkerLink};

use crate::hosts::SimRegistry;
use crate::trace::{Happening, Reply, Request, Trace};
use crate::transport::{Transport, WorkerCalls};
use crate::wire::{WorkerRequest, WorkerResponse};

/// Calls worker hosts found in the registry.
#[derive(Clone, Debug)]
pub(crate) struct SimLink {
    host: String,
    trace: Trace,
    calls: Arc<WorkerCalls>,
    deadlines: Deadlines,
}

impl SimLink {
    /// A link used by `host` on `transport`, recording into `trace`, resolving
    /// workers through `registry`, under `deadlines`.
    pub(crate) fn new(
        host: &str,
        transport: Transport,
        trace: Trace,
        registry: SimRegistry,
        deadlines: Deadlines,
    ) -> Self {
        let calls = Arc::new(WorkerCalls::new(transport, registry, &deadlines));
        Self { host: host.to_owned(), trace, calls, deadlines }
    }

    async fn call(
        &self,
        worker: &WorkerId,
        request: WorkerRequest,
        timeout_ms: u64,
    ) -> Result<WorkerResponse, LinkError> {
        let traced = traced_request(&request);
        self.trace.record(&self.host, Happening::Send { to: worker.clone(), request: traced.clone() });
        let outcome = self.calls.call(worker, request, timeout_ms).await;
        match &outcome {
            Ok(response) => {
                self.trace.record(&self.host, Happening::Recv { from: worker.clone(), reply: traced_reply(response) });
            }
            Err(error) => {
                let error = error.to_string();
                self.trace.record(&self.host, Happening::Drop { to: worker.clone(), request: traced, error });
            }
        }
        outcome
    }
}

fn traced_request(request: &WorkerRequest) -> Request {
    match request {
        WorkerRequest::Execute(request) => Request::Execute { task: request.task.clone(), attempt: request.attempt },
        WorkerRequest::Heartbeat => Request::Heartbeat,
        WorkerRequest::Cancel(task) => Request::Cancel { task: task.clone() },
    }
}

fn traced_reply(response: &WorkerResponse) -> Reply {
    match response {
        WorkerResponse::Answer(Ok(answer)) => {
            Reply::Answer { task: answer.task.clone(), attempt: answer.attempt, text: answer.text.clone() }
        }
        WorkerResponse::Answer(Err(error)) => Reply::Failed { error: error.to_string() },
        WorkerResponse::Heartbeat(heartbeat) => Reply::Heartbeat { load: heartbeat.load },
        WorkerResponse::Cancelled => Reply::Cancelled,
    }
}

fn unexpected(response: &WorkerResponse) -> LinkError {
    LinkError::Protocol { detail: format!("unexpected reply: {}", traced_reply(response).label()) }
}

impl WorkerLink for SimLink {
    async fn execute(&self, worker: &WorkerId, request: ExecuteRequest) -> Result<WorkerAnswer, LinkError> {
        let timeout_ms = self.deadlines.execute_call_ms(request.timeout_ms);
        match self.call(worker, WorkerRequest::Execute(request), timeout_ms).await? {
            WorkerResponse::Answer(Ok(answer)) => Ok(answer),
            WorkerResponse::Answer(Err(error)) => Err(LinkError::Worker(error)),
            other => Err(unexpected(&other)),
        }
    }

    async fn heartbeat(&self, worker: &WorkerId) -> Result<Heartbeat, LinkError> {
        match self.call(worker, WorkerRequest::Heartbeat, self.deadlines.heartbeat_call_ms).await? {
            WorkerResponse::Heartbeat(heartbeat) => Ok(heartbeat),
            other => Err(unexpected(&other)),
        }
    }

    async fn cancel(&self, worker: &WorkerId, task: &TaskId) -> Result<(), LinkError> {
        match self.call(worker, WorkerRequest::Cancel(task.clone()), self.deadlines.control_call_ms).await? {
            WorkerResponse::Cancelled => Ok(()),
            other => Err(unexpected(&other)),
        }
    }
}
