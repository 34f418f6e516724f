//! quorum-journal: the supervisor's durable journal.
//!
//! [`RedbJournal`] implements quorum-core's [`quorum_core::Journal`] in a redb
//! database: on a file in real mode ([`RedbJournal::open`]), on any redb
//! [`redb::StorageBackend`] elsewhere ([`RedbJournal::with_backend`]; the simulation
//! passes one over turmoil's simulated file system). One write is one redb
//! transaction; a synced one is durable when it returns.
//!
//! # Layout
//! - `redb_journal`: [`RedbJournal`], its [`JournalOptions`] and storage layout;
//! - `counting_backend`: [`CountingBackend`], a backend wrapper counting syncs and
//!   bytes written (tests and the cost bench);
//! - `crash_disk`: [`CrashDisk`], a backend in memory that loses unsynced writes in a
//!   crash, for recovery tests.

#![warn(unreachable_pub)]

mod counting_backend;
mod crash_disk;
mod redb_journal;

pub use counting_backend::{BackendCounts, CountingBackend};
pub use crash_disk::{CrashDisk, CrashDiskHandle};
pub use redb_journal::{JOURNAL_FORMAT_VERSION, JournalOptions, RedbJournal};
