//! The client: submits the workload on schedule and holds on until every task has its
//! one result. Submission is idempotent per task id, so when the supervisor restarts
//! and forgets a task (a poll says `Unknown`), the client simply submits it again:
//! that is how a supervisor crash loses no task without a durable journal. With
//! `resubmit = false` it never does ([`crate::ClientConfig`]), and only the
//! supervisor's journal can keep the promise; with the journal on, the client checks
//! it (`lost_task`, `changed_result`).

use core::time::Duration;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use quorum_core::consensus::ConsensusConfig;
use quorum_core::mock::workload::PlannedTask;
use quorum_core::{Deadlines, Task, TaskId, TaskResult};

use crate::invariants::{Invariant, Violation, check_result};
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

/// Everything the client host needs.
pub(crate) struct ClientSpec {
    /// The tasks and when they arrive.
    pub workload: Vec<PlannedTask>,
    /// The supervisor's base consensus config, to check results against.
    pub consensus: ConsensusConfig,
    /// The supervisor's deadline table: each call waits at most its client call.
    pub deadlines: Deadlines,
    /// The wire.
    pub transport: Transport,
    /// Whether it resubmits, and what it holds the supervisor to.
    pub promises: Promises,
    /// Where results go.
    pub log: ClientLog,
    /// Where broken invariants go.
    pub violations: Arc<Mutex<Vec<Violation>>>,
    /// The trace.
    pub trace: Trace,
}

/// The client's software.
pub(crate) async fn client(spec: ClientSpec) -> turmoil::Result {
    let ClientSpec { workload, consensus, deadlines, transport, promises, log, violations, trace } = spec;
    let mut state = ClientState {
        origin: Instant::now(),
        tasks: workload.iter().map(|p| (p.task.id.clone(), p.task.clone())).collect(),
        acknowledged: BTreeMap::new(),
        log,
        consensus,
        client_call_ms: deadlines.client_call_ms,
        supervisor: SupervisorCalls::new(transport, &deadlines),
        promises,
        lost: BTreeMap::new(),
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
    promises: Promises,
    /// Tasks reported lost (once each).
    lost: BTreeMap<TaskId, ()>,
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
                count_submission(&self.log, id, self.now_ms());
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
                Some(SupervisorResponse::Status(TaskStatus::Done(result))) => self.take_result(*result),
                Some(SupervisorResponse::Status(TaskStatus::Unknown)) => {
                    if self.promises.journal && self.lost.insert(id.clone(), ()).is_none() {
                        self.violate(Invariant::LostTask, &id, "accepted, then unknown to the supervisor".to_owned());
                    }
                    if self.promises.resubmit {
                        self.trace.record("client", Happening::Resubmit { task: id.clone() });
                        self.acknowledged.insert(id, false);
                    }
                }
                Some(SupervisorResponse::Refused(reason)) => {
                    self.trace.record("client", Happening::Refused { task: id, reason })
                }
                Some(SupervisorResponse::Status(TaskStatus::Pending) | SupervisorResponse::Delivered) | None => {}
            }
        }
    }
}

impl ClientState {
    fn violate(&self, invariant: Invariant, task: &TaskId, detail: String) {
        let violation = Violation { invariant, task: Some(task.clone()), detail };
        self.violations.lock().unwrap_or_else(PoisonError::into_inner).push(violation);
    }

    /// Keeps the first result of a task and checks it. A later, different result is
    /// a re-run after a supervisor restart: ignored without a journal, a broken
    /// promise with one.
    fn take_result(&self, result: TaskResult) {
        let mut log = self.log.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(record) = log.get_mut(&result.task) else { return };
        if let Some(held) = &record.result {
            if self.promises.journal && *held != result {
                let detail = format!("{:?} was received, then {:?}", held.outcome, result.outcome);
                drop(log);
                self.violate(Invariant::ChangedResult, &result.task, detail);
            }
            return;
        }
        let (task, outcome) = (result.task.clone(), result.outcome.clone());
        self.trace.record("client", Happening::Result { task, outcome });
        let found = check_result(&result, &self.consensus);
        if !found.is_empty() {
            self.violations.lock().unwrap_or_else(PoisonError::into_inner).extend(found);
        }
        record.finished_at_ms = Some(self.now_ms());
        record.result = Some(result);
    }
}

/// What the client holds the supervisor to, and how it behaves: whether it submits
/// a forgotten task again, and whether the supervisor journals (then it must forget
/// nothing and never change a result).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Promises {
    /// Submit a task again when a restarted supervisor does not know it.
    pub resubmit: bool,
    /// The supervisor journals.
    pub journal: bool,
}

/// Counts a submission of `id` at `now_ms` (the first one is when it was submitted).
pub(crate) fn count_submission(log: &ClientLog, id: &TaskId, now_ms: u64) {
    let mut log = log.lock().unwrap_or_else(PoisonError::into_inner);
    let record = log.entry(id.clone()).or_insert(ClientRecord {
        submitted_at_ms: now_ms,
        submissions: 0,
        finished_at_ms: None,
        result: None,
    });
    record.submissions += 1;
}

/// Whether the client holds `id`'s result.
pub(crate) fn is_done(log: &ClientLog, id: &TaskId) -> bool {
    log.lock().unwrap_or_else(PoisonError::into_inner).get(id).is_some_and(|r| r.result.is_some())
}
