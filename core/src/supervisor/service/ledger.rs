//! What the service knows about tasks: the live ones with their event feeds, and the
//! finished ones' results by id. The driver writes it as it works; clients read it
//! without a round trip through the driver.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use serde::{Deserialize, Serialize};

use super::task_event::TaskEvent;
use super::task_events::{Feed, TaskEvents};
use crate::TaskId;
use crate::result::TaskResult;
use crate::supervisor::machine::SupervisorStats;

/// Where a task stands, as one supervisor incarnation knows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    /// Queued or running.
    Pending,
    /// Finished.
    Done(Box<TaskResult>),
    /// This supervisor does not know the task (never submitted here, forgotten
    /// after `completed_results_max` newer results, or lost in a restart): submit it
    /// again.
    Unknown,
}

/// Whether a result is the first of its task in this incarnation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Emission {
    /// The task's one result.
    First,
    /// A second result for a task that had one: a broken promise, counted.
    Duplicate,
}

/// The shared table. Every lock is held for a few map operations, never across an
/// await, so the driver never waits on a client.
#[derive(Debug)]
pub(crate) struct Ledger {
    state: Mutex<LedgerState>,
    /// The machine's counters as of the driver's last step.
    stats: StatsReader,
}

/// The supervisor's counters as of its driver's last step; readable after the
/// supervisor stopped, and keeping nothing else of it alive. Cheap to clone.
#[derive(Clone, Debug, Default)]
pub struct StatsReader(Arc<Mutex<SupervisorStats>>);

impl StatsReader {
    /// The counters now.
    pub fn get(&self) -> SupervisorStats {
        self.lock().clone()
    }

    fn lock(&self) -> MutexGuard<'_, SupervisorStats> {
        // A copy of plain counters: a panic elsewhere leaves it whole.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[derive(Debug)]
struct LedgerState {
    live: BTreeMap<TaskId, Arc<Feed>>,
    results: BTreeMap<TaskId, TaskResult>,
    /// Result ids oldest first, to forget the oldest beyond `results_max`.
    results_order: VecDeque<TaskId>,
    results_max: usize,
    task_events_max: usize,
    duplicate_results: u64,
    /// Tasks whose submission waits on the analyser: pending, not yet the machine's.
    analysing: BTreeSet<TaskId>,
    /// Whether deliveries are noted (the supervisor journals them).
    journaled: bool,
    /// Results a client received, among `results`.
    delivered: BTreeSet<TaskId>,
}

impl Ledger {
    /// An empty ledger keeping `results_max` results and `task_events_max` events
    /// per live task.
    pub(crate) fn new(results_max: usize, task_events_max: usize) -> Self {
        Self {
            state: Mutex::new(LedgerState {
                live: BTreeMap::new(),
                results: BTreeMap::new(),
                results_order: VecDeque::new(),
                results_max,
                task_events_max,
                duplicate_results: 0,
                analysing: BTreeSet::new(),
                journaled: false,
                delivered: BTreeSet::new(),
            }),
            stats: StatsReader::default(),
        }
    }

    /// The machine accepted `task`: it is pending, and its feed opens.
    pub(crate) fn accept(&self, task: &TaskId) {
        let mut state = self.lock();
        let feed = Feed::new(state.task_events_max);
        feed.push(TaskEvent::Accepted);
        if let Some(previous) = state.live.insert(task.clone(), feed) {
            // The machine accepts an id only when it is not live; close a stray
            // feed rather than leave its subscribers waiting.
            previous.close();
        }
    }

    /// Adds `event` to a live task's feed; events of other tasks are dropped.
    pub(crate) fn publish(&self, task: &TaskId, event: TaskEvent) {
        let feed = self.lock().live.get(task).cloned();
        if let Some(feed) = feed {
            feed.push(event);
        }
    }

    /// Records `result`: kept by id (the first of its task), its feed finished.
    pub(crate) fn finish(&self, result: &TaskResult) -> Emission {
        let mut state = self.lock();
        let emission = if state.results.contains_key(&result.task) {
            state.duplicate_results += 1;
            Emission::Duplicate
        } else {
            state.results.insert(result.task.clone(), result.clone());
            state.results_order.push_back(result.task.clone());
            while state.results_order.len() > state.results_max {
                if let Some(oldest) = state.results_order.pop_front() {
                    state.results.remove(&oldest);
                    state.delivered.remove(&oldest);
                }
            }
            Emission::First
        };
        if let Some(feed) = state.live.remove(&result.task) {
            feed.push(TaskEvent::Finished { result: Box::new(result.clone()) });
        }
        emission
    }

    /// Notes deliveries from now on (the supervisor journals them).
    pub(crate) fn note_deliveries(&self) {
        self.lock().journaled = true;
    }

    /// A client received `task`'s result: whether that is news worth journaling (the
    /// first delivery of a result this ledger holds, with deliveries noted).
    pub(crate) fn deliver(&self, task: &TaskId) -> bool {
        let mut state = self.lock();
        state.journaled && state.results.contains_key(task) && state.delivered.insert(task.clone())
    }

    /// The supervisor is gone: live tasks end without results and become unknown.
    pub(crate) fn stop(&self) {
        let live = core::mem::take(&mut self.lock().live);
        for feed in live.values() {
            feed.close();
        }
    }

    pub(crate) fn status(&self, task: &TaskId) -> TaskStatus {
        let state = self.lock();
        match state.results.get(task) {
            Some(result) => TaskStatus::Done(Box::new(result.clone())),
            None if state.live.contains_key(task) || state.analysing.contains(task) => TaskStatus::Pending,
            None => TaskStatus::Unknown,
        }
    }

    /// Whether the machine has `task` (live or finished), analysis aside.
    pub(crate) fn is_known(&self, task: &TaskId) -> bool {
        let state = self.lock();
        state.live.contains_key(task) || state.results.contains_key(task)
    }

    /// Marks `task` as being analysed; false when it is already.
    pub(crate) fn begin_analysis(&self, task: &TaskId) -> bool {
        self.lock().analysing.insert(task.clone())
    }

    pub(crate) fn end_analysis(&self, task: &TaskId) {
        self.lock().analysing.remove(task);
    }

    pub(crate) fn result(&self, task: &TaskId) -> Option<TaskResult> {
        self.lock().results.get(task).cloned()
    }

    /// A subscription to a live task (from its oldest buffered event) or to a
    /// finished one (its result alone); `None` for an unknown task.
    pub(crate) fn subscribe(&self, task: &TaskId) -> Option<TaskEvents> {
        let state = self.lock();
        if let Some(feed) = state.live.get(task) {
            return Some(feed.subscribe());
        }
        state.results.get(task).map(|result| Feed::finished(result.clone()).subscribe())
    }

    pub(crate) fn duplicate_results(&self) -> u64 {
        self.lock().duplicate_results
    }

    /// The machine's counters now (the driver calls this after every step).
    pub(crate) fn record_stats(&self, stats: &SupervisorStats) {
        let mut kept = self.stats.lock();
        if *kept != *stats {
            kept.clone_from(stats);
        }
    }

    /// A reader of the counters that keeps nothing else of the ledger alive.
    pub(crate) fn stats_reader(&self) -> StatsReader {
        StatsReader(Arc::clone(&self.stats.0))
    }

    fn lock(&self) -> MutexGuard<'_, LedgerState> {
        // Each update is a few map operations that leave the state whole.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
