//! What happens to one task, as its subscribers see it.

use serde::{Deserialize, Serialize};

use crate::WorkerId;
use crate::link::LinkError;
use crate::result::TaskResult;

/// One step in a task's life, in the order the driver saw it. Events report what
/// arrived, not what counted: an answer the machine refuses (a worker that was not
/// asked, an oversized one) still appears here, and its result says what counted.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "event")]
pub enum TaskEvent {
    /// The supervisor took the task; a result will follow.
    Accepted,
    /// A round of the task began.
    RoundStarted {
        /// Which round (1 for the first).
        attempt: u32,
        /// The workers asked, in the order they were asked.
        workers: Vec<WorkerId>,
    },
    /// A worker's answer arrived.
    Answered {
        /// Who answered.
        worker: WorkerId,
        /// For which round.
        attempt: u32,
        /// The answer.
        text: String,
        /// Its self-reported confidence, as sent.
        confidence: f64,
        /// Whether the worker pushed it outside its execute call.
        pushed: bool,
    },
    /// A worker's execute call failed.
    Failed {
        /// Whose call.
        worker: WorkerId,
        /// For which round.
        attempt: u32,
        /// Why.
        error: LinkError,
    },
    /// The subscriber fell behind and this many events were dropped before the next
    /// one (never the result: it always arrives, and stays readable by id).
    Dropped {
        /// Events lost.
        events: u64,
    },
    /// The task's one result; nothing follows it.
    Finished {
        /// The result.
        result: Box<TaskResult>,
    },
}

impl TaskEvent {
    /// Whether this is the last event of its task.
    pub fn is_final(&self) -> bool {
        matches!(self, Self::Finished { .. })
    }
}
