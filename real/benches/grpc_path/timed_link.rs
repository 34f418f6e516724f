//! [`TimedLink`]: the supervisor's link to its workers with a stopwatch on every
//! execute call, so that a task's time can be split into the worker calls it waited
//! on and what the supervisor added around them.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use quorum_core::{ExecuteRequest, Heartbeat, LinkError, TaskId, WorkerAnswer, WorkerId, WorkerLink};

/// When the execute calls of one task ran: from the start of its first to the end
/// of its last (calls of one round run at once, so this is the round's slowest call).
#[derive(Clone, Copy, Debug)]
pub struct CallSpan {
    /// The first call's start.
    pub first_started: Instant,
    /// The last call's end.
    pub last_ended: Instant,
    /// Calls that ended (with an answer or an error).
    pub calls: u32,
}

impl CallSpan {
    /// Wall time from the first call's start to the last call's end.
    pub fn duration(&self) -> core::time::Duration {
        self.last_ended.duration_since(self.first_started)
    }
}

/// The spans of the tasks whose calls ended, by task; shared by the link and the
/// bench that reads them.
#[derive(Clone, Debug, Default)]
pub struct SpanBook {
    spans: Arc<Mutex<BTreeMap<TaskId, CallSpan>>>,
}

impl SpanBook {
    fn record(&self, task: TaskId, started: Instant, ended: Instant) {
        let mut spans = self.spans.lock().unwrap_or_else(PoisonError::into_inner);
        spans
            .entry(task)
            .and_modify(|span| {
                span.first_started = span.first_started.min(started);
                span.last_ended = span.last_ended.max(ended);
                span.calls += 1;
            })
            .or_insert(CallSpan { first_started: started, last_ended: ended, calls: 1 });
    }

    /// Removes and returns the span of `task`; `None` when none of its calls ended.
    pub fn take(&self, task: &TaskId) -> Option<CallSpan> {
        self.spans.lock().unwrap_or_else(PoisonError::into_inner).remove(task)
    }

    /// Forgets every span (the throughput runs do not read them).
    pub fn clear(&self) {
        self.spans.lock().unwrap_or_else(PoisonError::into_inner).clear();
    }
}

/// `inner`, timing every execute call into a [`SpanBook`]. Heartbeats and cancels
/// pass through untimed: no task waits on them.
#[derive(Debug)]
pub struct TimedLink<L> {
    inner: L,
    book: SpanBook,
}

impl<L> TimedLink<L> {
    /// Times `inner`'s execute calls into `book`.
    pub fn new(inner: L, book: SpanBook) -> Self {
        Self { inner, book }
    }
}

impl<L: WorkerLink> WorkerLink for TimedLink<L> {
    async fn execute(&self, worker: &WorkerId, request: ExecuteRequest) -> Result<WorkerAnswer, LinkError> {
        let task = request.task.clone();
        let started = Instant::now();
        let answer = self.inner.execute(worker, request).await;
        self.book.record(task, started, Instant::now());
        answer
    }

    async fn heartbeat(&self, worker: &WorkerId) -> Result<Heartbeat, LinkError> {
        self.inner.heartbeat(worker).await
    }

    async fn cancel(&self, worker: &WorkerId, task: &TaskId) -> Result<(), LinkError> {
        self.inner.cancel(worker, task).await
    }
}
