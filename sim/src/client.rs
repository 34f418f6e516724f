//! The client: submits the workload on schedule and holds on until every task has its
//! one result. Submission is idempotent per task id, so when the supervisor restarts
//! and forgets a task (a poll says `Unknown`), the client simply submits it again.
//! That is how a supervisor crash loses no task without a durable journal.

use core::time::Duration;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use quorum_core::consensus::ConsensusConfig;
use quorum_core::mock::workload::PlannedTask;
use quorum_core::{Deadlines, Task, TaskId, TaskResult};

use crate::invariants::{Violation, check_result};
use crate::trace::{Happening, Trace};
use crate::transport::{SupervisorCalls, Transport};
use crate::wire::{SupervisorRequest, SupervisorResponse, TaskStatus};

/// How often the client polls for results and retries submissions.
const CLIENT_POLL_MS: u64 = 500;
/// Calls the client has open at once: back-pressure, so that a burst of tasks (or a
/// backlog built up while its link was held) never floods the supervisor's listener.
const CLIENT_CALLS_IN_FLIGHT_MAX: usize = 32;

/// What the client holds for one task.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClientRecord {
    /// When it was first submitted, ms.
    pub submitted_at_ms: u64,
    /// Submissions made (more than one after supervisor restarts or lost replies).
    pub submissions: u32,
    /// When its result arrived, ms.
    pub finished_at_ms: Option<u64>,
    /// The result: the first one received, kept.
    pub result: Option<TaskResult>,
}

/// Results gathered by the client, by task.
pub(crate) type ClientLog = Arc<Mutex<BTreeMap<TaskId, ClientRecord>>>;

/// The client's software on `transport`; each call waits at most the client call
/// deadline of the supervisor's `deadlines`.
pub(crate) async fn client(
    workload: Vec<PlannedTask>,
    consensus: ConsensusConfig,
    deadlines: Deadlines,
    transport: Transport,
    log: ClientLog,
    violations: Arc<Mutex<Vec<Violation>>>,
    trace: Trace,
) -> turmoil::Result {
    let mut state = ClientState {
        origin: Instant::now(),
        tasks: workload.iter().map(|p| (p.task.id.clone(), p.task.clone())).collect(),
        acknowledged: BTreeMap::new(),
        log,
        consensus,
        client_call_ms: deadlines.client_call_ms,
        supervisor: SupervisorCalls::new(transport, &deadlines),
        violations,
        trace,
    };
    let mut next = 0;
    loop {
        while next < workload.len() && workload[next].at_ms <= state.now_ms() {
            state.acknowledged.insert(workload[next].task.id.clone(), false);
            next += 1;
        }
        let open: Vec<TaskId> = state.acknowledged.keys().filter(|id| !is_done(&state.log, id)).cloned().collect();
        if next == workload.len() && open.is_empty() {
            state.trace.record("client", Happening::ClientDone { results: workload.len() });
            return Ok(());
        }
        // In batches of at most CLIENT_CALLS_IN_FLIGHT_MAX calls.
        for batch in open.chunks(CLIENT_CALLS_IN_FLIGHT_MAX) {
            state.call_batch(batch).await;
        }
        tokio::time::sleep(Duration::from_millis(CLIENT_POLL_MS)).await;
    }
}

/// What the client keeps between its calls.
struct ClientState {
    origin: Instant,
    tasks: BTreeMap<TaskId, Task>,
    /// Whether the current supervisor has acknowledged the task.
    acknowledged: BTreeMap<TaskId, bool>,
    log: ClientLog,
    consensus: ConsensusConfig,
    client_call_ms: u64,
    supervisor: SupervisorCalls,
    violations: Arc<Mutex<Vec<Violation>>>,
    trace: Trace,
}

impl ClientState {
    fn now_ms(&self) -> u64 {
        self.origin.elapsed().as_millis() as u64
    }

    /// One batch of submit-or-poll calls, at once; answers are handled in task
    /// order, so the run stays deterministic.
    async fn call_batch(&mut self, batch: &[TaskId]) {
        let mut calls = Vec::with_capacity(batch.len());
        for id in batch {
            let submitting = !self.acknowledged[id];
            let request = if submitting {
                SupervisorRequest::Submit(self.tasks[id].clone())
            } else {
                SupervisorRequest::Poll(id.clone())
            };
            if submitting {
                let now_ms = self.now_ms();
                let mut log = self.log.lock().unwrap_or_else(PoisonError::into_inner);
                let record = log.entry(id.clone()).or_insert(ClientRecord {
                    submitted_at_ms: now_ms,
                    submissions: 0,
                    finished_at_ms: None,
                    result: None,
                });
                record.submissions += 1;
            }
            let task = id.clone();
            self.trace.record("client", if submitting { Happening::Submit { task } } else { Happening::Poll { task } });
            calls.push(self.supervisor.call(request, self.client_call_ms));
        }
        let responses = futures_util::future::join_all(calls).await;
        for (id, response) in batch.iter().cloned().zip(responses) {
            match response {
                Some(SupervisorResponse::Submitted) => {
                    self.acknowledged.insert(id, true);
                }
                Some(SupervisorResponse::Status(TaskStatus::Done(result))) => {
                    take_result(*result, self.now_ms(), &self.log, &self.consensus, &self.violations, &self.trace);
                }
                Some(SupervisorResponse::Status(TaskStatus::Unknown)) => {
                    self.trace.record("client", Happening::Resubmit { task: id.clone() });
                    self.acknowledged.insert(id, false);
                }
                Some(SupervisorResponse::Refused(reason)) => {
                    self.trace.record("client", Happening::Refused { task: id, reason })
                }
                Some(SupervisorResponse::Status(TaskStatus::Pending) | SupervisorResponse::Delivered) | None => {}
            }
        }
    }
}

fn is_done(log: &ClientLog, id: &TaskId) -> bool {
    log.lock().unwrap_or_else(PoisonError::into_inner).get(id).is_some_and(|r| r.result.is_some())
}

/// Keeps the first result of a task and checks it; a later, different result for a
/// task already held is a re-run after a supervisor restart, which the client ignores.
fn take_result(
    result: TaskResult,
    now_ms: u64,
    log: &ClientLog,
    consensus: &ConsensusConfig,
    violations: &Arc<Mutex<Vec<Violation>>>,
    trace: &Trace,
) {
    let mut log = log.lock().unwrap_or_else(PoisonError::into_inner);
    let Some(record) = log.get_mut(&result.task) else { return };
    if record.result.is_some() {
        return;
    }
    trace.record("client", Happening::Result { task: result.task.clone(), outcome: result.outcome.clone() });
    let found = check_result(&result, consensus);
    if !found.is_empty() {
        violations.lock().unwrap_or_else(PoisonError::into_inner).extend(found);
    }
    record.finished_at_ms = Some(now_ms);
    record.result = Some(result);
}
