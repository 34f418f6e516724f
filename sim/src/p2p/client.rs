//! The P2P client: submits the workload on schedule to any agent (spread by task),
//! and asks agents for each task until one reports it committed. There is no
//! supervisor to remember a task: an agent that does not know a task (it crashed
//! before telling its peers, or has not heard of it yet) is given it again, and an
//! agent that does not answer is replaced by the next one. Submission is idempotent
//! per id everywhere, so a task is never run twice.

use core::time::Duration;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::time::Instant;
use turmoil::net::TcpStream;

use quorum_core::consensus::ConsensusConfig;
use quorum_core::mock::workload::PlannedTask;
use quorum_core::{Task, TaskId, TaskResult};

use crate::client::{ClientLog, count_submission, is_done};
use crate::invariants::{Violation, check_result};
use crate::trace::{Happening, Trace};
use crate::wire::{AGENT_PORT, AgentRequest, AgentResponse, read_frame, write_frame};

/// How often the client polls for results and retries submissions.
const CLIENT_POLL_MS: u64 = 500;
/// How long one call may take.
const CLIENT_CALL_MS: u64 = 2_000;
/// Calls open at once (back-pressure on the agents' listeners).
const CLIENT_CALLS_IN_FLIGHT_MAX: usize = 32;

/// Everything the P2P client needs.
pub(crate) struct P2pClientSpec {
    pub workload: Vec<PlannedTask>,
    /// The agents' hosts it may call (twins are not addresses of their own).
    pub agents: Vec<String>,
    /// The network's consensus config, to check results against.
    pub consensus: ConsensusConfig,
    pub log: ClientLog,
    pub violations: Arc<Mutex<Vec<Violation>>>,
    pub trace: Trace,
}

/// Where the client stands with one task.
struct Pending {
    task: Task,
    /// Which agent it calls next (an index into the agents, advanced on no reply).
    agent: usize,
    /// Whether that agent took the task.
    taken: bool,
}

/// The P2P client's software.
pub(crate) async fn p2p_client(spec: P2pClientSpec) -> turmoil::Result {
    let origin = Instant::now();
    let now_ms = || origin.elapsed().as_millis() as u64;
    let mut pending: BTreeMap<TaskId, Pending> = BTreeMap::new();
    let mut next = 0;
    loop {
        while next < spec.workload.len() && spec.workload[next].at_ms <= now_ms() {
            let task = spec.workload[next].task.clone();
            // Spread over the agents: every agent is a front door.
            let agent = next % spec.agents.len();
            pending.insert(task.id.clone(), Pending { task, agent, taken: false });
            next += 1;
        }
        let open: Vec<TaskId> = pending.keys().filter(|id| !is_done(&spec.log, id)).cloned().collect();
        if next == spec.workload.len() && open.is_empty() {
            spec.trace.record("client", Happening::ClientDone { results: spec.workload.len() });
            return Ok(());
        }
        for batch in open.chunks(CLIENT_CALLS_IN_FLIGHT_MAX) {
            call_batch(&spec, &mut pending, batch, now_ms()).await;
        }
        tokio::time::sleep(Duration::from_millis(CLIENT_POLL_MS)).await;
    }
}

/// One batch of submit-or-status calls at once; replies are handled in task order.
async fn call_batch(spec: &P2pClientSpec, pending: &mut BTreeMap<TaskId, Pending>, batch: &[TaskId], now_ms: u64) {
    let mut calls = Vec::with_capacity(batch.len());
    for id in batch {
        let state = &pending[id];
        let host = spec.agents[state.agent % spec.agents.len()].clone();
        let request = if state.taken {
            spec.trace.record("client", Happening::Poll { task: id.clone() });
            AgentRequest::Status(id.clone())
        } else {
            spec.trace.record("client", Happening::Submit { task: id.clone() });
            count_submission(&spec.log, id, now_ms);
            AgentRequest::Submit(state.task.clone())
        };
        calls.push(call(host, request));
    }
    let responses = futures_util::future::join_all(calls).await;
    for (id, response) in batch.iter().zip(responses) {
        let Some(state) = pending.get_mut(id) else { continue };
        match response {
            Some(AgentResponse::Submitted) => state.taken = true,
            Some(AgentResponse::Open) => {}
            Some(AgentResponse::Committed(result)) => take_result(spec, *result),
            Some(AgentResponse::Unknown) => {
                // Not (or no longer) known there: give it the task.
                spec.trace.record("client", Happening::Resubmit { task: id.clone() });
                state.taken = false;
            }
            Some(AgentResponse::Refused(reason)) => {
                spec.trace.record("client", Happening::Refused { task: id.clone(), reason });
                state.agent += 1;
                state.taken = false;
            }
            None => {
                state.agent += 1;
                state.taken = false;
            }
        }
    }
}

/// One framed call; `None` is no reply in time, whatever the reason.
async fn call(host: String, request: AgentRequest) -> Option<AgentResponse> {
    let exchange = async {
        let mut stream = TcpStream::connect((host.as_str(), AGENT_PORT)).await.ok()?;
        write_frame(&mut stream, &request).await.ok()?;
        read_frame(&mut stream).await.ok()
    };
    tokio::time::timeout(Duration::from_millis(CLIENT_CALL_MS), exchange).await.ok().flatten()
}

/// Keeps a task's first result, with the client's own times, and checks it as a
/// supervisor's result is checked (recomputed from its votes, nothing fabricated).
fn take_result(spec: &P2pClientSpec, mut result: TaskResult) {
    let mut log = spec.log.lock().unwrap_or_else(PoisonError::into_inner);
    let Some(record) = log.get_mut(&result.task) else { return };
    if record.result.is_some() {
        return;
    }
    let finished_at_ms = turmoil::sim_elapsed().map_or(0, |elapsed| elapsed.as_millis() as u64);
    result.metadata.submitted_at_ms = record.submitted_at_ms;
    result.metadata.started_at_ms = Some(record.submitted_at_ms);
    result.metadata.finished_at_ms = finished_at_ms.max(record.submitted_at_ms);
    spec.trace.record("client", Happening::Result { task: result.task.clone(), outcome: result.outcome.clone() });
    let found = check_result(&result, &spec.consensus);
    if !found.is_empty() {
        spec.violations.lock().unwrap_or_else(PoisonError::into_inner).extend(found);
    }
    record.finished_at_ms = Some(result.metadata.finished_at_ms);
    record.result = Some(result);
}
