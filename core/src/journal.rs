//! The supervisor's journal: what it writes down so that a crash loses nothing it
//! promised. A task it accepted will get a result; a result it published never
//! changes.
//!
//! The machine emits [`JournalWrite`]s (sans-IO, like its commands); the driver
//! hands them to a [`Journal`] before it acts on anything that depends on them: an
//! accepted task is written and synced before the client hears "accepted", a result
//! before anyone hears it. Answers, rounds and deliveries are written without a
//! sync of their own (the next synced write carries them): losing one in a crash
//! costs a repeated question, never a wrong result. On start the supervisor loads
//! the [`JournalState`] and resumes from it (`Supervisor::with_journal`).
//!
//! # Layout
//! - this file: the [`Journal`] trait, the writes, the error;
//! - `state`: [`JournalState`], the writes folded into what a restart needs, and its
//!   compaction;
//! - `memory`: [`MemoryJournal`], a journal in memory that can lose its unsynced
//!   writes on demand, for tests and the in-memory harness.

mod memory;
mod state;

use serde::{Deserialize, Serialize};

use crate::TaskId;
use crate::analysis::TaskPlan;
use crate::power::VotingPowers;
use crate::result::{Spent, TaskResult, Vote};
use crate::task::Task;

pub use memory::MemoryJournal;
pub use state::{JournalState, JournaledTask};

/// One change the supervisor journals.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JournalWrite {
    /// A task was accepted with this plan. Synced before the client hears it.
    Accepted {
        /// The task.
        task: Task,
        /// Its plan.
        plan: TaskPlan,
    },
    /// Round `attempt` of `task` started: a restart goes on from the next round, so
    /// no round number is used twice and no late answer lands in the wrong round.
    RoundStarted {
        /// The task.
        task: TaskId,
        /// The round.
        attempt: u32,
    },
    /// An answer counted as a vote (after every check at the boundary).
    Voted {
        /// The task.
        task: TaskId,
        /// The vote, as it counts.
        vote: Vote,
        /// What the task's answers cost so far, this one included.
        #[serde(default)]
        spent: Spent,
    },
    /// The task's one result, and the voting powers as they stand after it. Synced
    /// before anyone hears the result.
    Finished {
        /// The result.
        result: Box<TaskResult>,
        /// Every worker's record.
        powers: VotingPowers,
    },
    /// A client received the result (a poll, or the end of its event stream).
    Delivered {
        /// The task.
        task: TaskId,
    },
}

impl JournalWrite {
    /// Whether it must be durable before the supervisor goes on: an acceptance and
    /// a result are promises to a client; a round, because a restart must never use
    /// its number again (a worker still busy with it, or an answer it pushed for it,
    /// would meet a new round under the same number). A task's first round usually
    /// starts with its acceptance, in the same sync.
    pub fn must_sync(&self) -> bool {
        matches!(self, Self::Accepted { .. } | Self::RoundStarted { .. } | Self::Finished { .. })
    }

    /// The task it is about.
    pub fn task(&self) -> &TaskId {
        match self {
            Self::Accepted { task, .. } => &task.id,
            Self::Finished { result, .. } => &result.task,
            Self::RoundStarted { task, .. } | Self::Voted { task, .. } | Self::Delivered { task } => task,
        }
    }
}

/// Why the journal could not be read or written.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum JournalError {
    /// The storage failed (a disk error, a full disk, a closed file).
    #[error("journal storage: {detail}")]
    Storage {
        /// For humans.
        detail: String,
    },
    /// What was read is not a journal quorum wrote.
    #[error("journal corrupt: {detail}")]
    Corrupt {
        /// For humans: what and where.
        detail: String,
    },
}

/// Where a supervisor journals. Calls are synchronous and short (a local embedded
/// store); the driver makes them between inputs, never while an input is half done.
pub trait Journal: Send + Sync + core::fmt::Debug + 'static {
    /// Everything kept: what a restart resumes from.
    ///
    /// # Errors
    /// [`JournalError`] when the store cannot be read or is not a journal.
    fn load(&self) -> Result<JournalState, JournalError>;

    /// Applies `writes` in order; with `sync`, they (and every write before them)
    /// are durable when it returns.
    ///
    /// # Errors
    /// [`JournalError`] when the store cannot be written; the supervisor then stops
    /// rather than promise what it cannot keep.
    fn write(&self, writes: &[JournalWrite], sync: bool) -> Result<(), JournalError>;
}
