//! What the cluster schedules: the inputs the machine gets later.

use crate::link::{Heartbeat, LinkError, WorkerAnswer};
use crate::task::Task;
use crate::{TaskId, WorkerId};

/// An input due at a time.
#[derive(Debug)]
pub(super) enum Event {
    /// A client submits a task.
    Submit(Task),
    /// An execute call returns (unless it was aborted since).
    CallReturned {
        /// The call's scheduling number, to tell an aborted call from its successor.
        call: u64,
        worker: WorkerId,
        task: TaskId,
        attempt: u32,
        outcome: Result<WorkerAnswer, LinkError>,
    },
    /// A worker pushes an answer outside its calls.
    Pushed(WorkerAnswer),
    /// A heartbeat call returns.
    Heartbeat { worker: WorkerId, outcome: Result<Heartbeat, LinkError> },
    /// A scale-up returns (the cluster has no spare workers).
    ScaledUp { requested: usize },
    /// A scale-down returns.
    ScaledDown { worker: WorkerId },
}
