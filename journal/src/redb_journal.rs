//! [`RedbJournal`]: quorum-core's [`Journal`] in a redb database, on a file or on any
//! [`StorageBackend`].
//!
//! # Storage layout (format version 1)
//! - `tasks`: task id -> one [`JournaledTask`] as JSON (the core types already derive
//!   serde, and a journal a human can dump beats a few bytes saved per task);
//! - `meta`: `format_version`, `next_sequence` and `powers`, each as JSON;
//! - `finished`: [`JournaledTask::compaction_key`] -> task id, for every finished
//!   task, so that compaction drops the first keys of an ordered index instead of
//!   decoding every task.
//!
//! One [`Journal::write`] is one redb write transaction: all of its writes or none
//! survive a crash. A synced write commits with `Durability::Immediate` (fsync), which
//! also makes every earlier unsynced commit durable; an unsynced one with
//! `Durability::None`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use quorum_core::{Journal, JournalError, JournalState, JournalWrite, JournaledTask, SupervisorConfig, TaskId};
use redb::{
    Builder, Database, Durability, ReadTransaction, ReadableDatabase, ReadableTable, ReadableTableMetadata,
    StorageBackend, Table, TableDefinition, TableError, TableHandle, WriteTransaction,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

const TASKS: TableDefinition<&str, &[u8]> = TableDefinition::new("tasks");
const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
const FINISHED: TableDefinition<(bool, u64), &str> = TableDefinition::new("finished");

const META_FORMAT_VERSION: &str = "format_version";
const META_NEXT_SEQUENCE: &str = "next_sequence";
const META_POWERS: &str = "powers";

/// The layout this build writes and reads; a journal with a higher one was written
/// by a newer quorum and is refused rather than misread.
pub const JOURNAL_FORMAT_VERSION: u32 = 1;

/// How a [`RedbJournal`] behaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JournalOptions {
    /// Finished tasks kept; past it, a synced write drops the oldest delivered ones
    /// first (the rule of [`JournalState::compact`]). Unfinished tasks are always kept.
    pub finished_kept_max: usize,
}

impl Default for JournalOptions {
    /// As many finished tasks as the supervisor keeps results in memory
    /// (`SupervisorConfig::completed_results_max`).
    fn default() -> Self {
        Self { finished_kept_max: SupervisorConfig::default().completed_results_max }
    }
}

/// The supervisor's journal in a redb database.
pub struct RedbJournal {
    database: Database,
    /// Where it is, for errors and `Debug`: the path, or the backend's type.
    location: String,
    options: JournalOptions,
}

impl core::fmt::Debug for RedbJournal {
    /// The location, never the content.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("RedbJournal")
            .field("location", &self.location)
            .field("finished_kept_max", &self.options.finished_kept_max)
            .finish()
    }
}

impl RedbJournal {
    /// Opens the journal in the file at `path`, creating it (and an empty journal in
    /// it) when the file does not exist or is empty.
    ///
    /// # Errors
    /// [`JournalError::Storage`] when the file cannot be opened or is locked by
    /// another process; [`JournalError::Corrupt`] when it is not a redb database,
    /// not a quorum journal, or a journal of a newer format.
    pub fn open(path: &Path, options: JournalOptions) -> Result<Self, JournalError> {
        let location = path.display().to_string();
        let database = builder().create(path).map_err(|error| redb_error(&location, "open", error))?;
        Self::init(database, location, options)
    }

    /// Opens the journal on `backend` (an empty one starts an empty journal): the
    /// simulation passes a backend over its simulated file system.
    ///
    /// # Errors
    /// As [`RedbJournal::open`].
    pub fn with_backend<B: StorageBackend>(backend: B, options: JournalOptions) -> Result<Self, JournalError> {
        let location = format!("backend {}", core::any::type_name::<B>());
        let database = builder().create_with_backend(backend).map_err(|error| redb_error(&location, "open", error))?;
        Self::init(database, location, options)
    }

    /// The options it runs with.
    pub fn options(&self) -> JournalOptions {
        self.options
    }

    /// Checks that the database is a journal this build reads, or makes an empty one
    /// a journal (synced, so the format is on disk before anything else is).
    fn init(database: Database, location: String, options: JournalOptions) -> Result<Self, JournalError> {
        let journal = Self { database, location, options };
        let read = journal.begin_read()?;
        let is_empty = read.list_tables().map_err(|error| journal.error("list tables", error))?.next().is_none();
        match read.open_table(META) {
            Ok(meta) => {
                journal.check_format(&meta)?;
                Ok(journal)
            }
            Err(TableError::TableDoesNotExist(_)) if is_empty => {
                drop(read);
                let transaction = journal.begin_write(true)?;
                {
                    let mut meta = journal.open_table(&transaction, META)?;
                    journal.put_meta(&mut meta, META_FORMAT_VERSION, &JOURNAL_FORMAT_VERSION)?;
                    journal.put_meta(&mut meta, META_NEXT_SEQUENCE, &0_u64)?;
                    journal.open_table(&transaction, TASKS)?;
                    journal.open_table(&transaction, FINISHED)?;
                }
                transaction.commit().map_err(|error| journal.error("create the journal", error))?;
                Ok(journal)
            }
            Err(TableError::TableDoesNotExist(_)) => Err(JournalError::Corrupt {
                detail: format!(
                    "journal {}: a redb database without a `meta` table: not a quorum journal",
                    journal.location
                ),
            }),
            Err(error) => Err(journal.error("open table `meta`", error)),
        }
    }

    fn check_format(&self, meta: &impl ReadableTable<&'static str, &'static [u8]>) -> Result<(), JournalError> {
        let version: u32 = self.get_meta(meta, META_FORMAT_VERSION)?.ok_or_else(|| JournalError::Corrupt {
            detail: format!(
                "journal {}: table `meta` has no `{META_FORMAT_VERSION}`: not a quorum journal",
                self.location
            ),
        })?;
        if version > JOURNAL_FORMAT_VERSION {
            return Err(JournalError::Corrupt {
                detail: format!(
                    "journal {}: format version {version} is newer than this build reads ({JOURNAL_FORMAT_VERSION})",
                    self.location
                ),
            });
        }
        Ok(())
    }

    fn begin_read(&self) -> Result<ReadTransaction, JournalError> {
        self.database.begin_read().map_err(|error| self.error("begin a read", error))
    }

    fn begin_write(&self, sync: bool) -> Result<WriteTransaction, JournalError> {
        let mut transaction = self.database.begin_write().map_err(|error| self.error("begin a write", error))?;
        let durability = if sync { Durability::Immediate } else { Durability::None };
        transaction.set_durability(durability).map_err(|error| self.error("set durability", error))?;
        Ok(transaction)
    }

    fn open_table<'txn, K: redb::Key + 'static, V: redb::Value + 'static>(
        &self,
        transaction: &'txn WriteTransaction,
        table: TableDefinition<K, V>,
    ) -> Result<Table<'txn, K, V>, JournalError> {
        transaction.open_table(table).map_err(|error| self.error(&format!("open table `{}`", table.name()), error))
    }

    fn get_meta<T: DeserializeOwned>(
        &self,
        meta: &impl ReadableTable<&'static str, &'static [u8]>,
        key: &str,
    ) -> Result<Option<T>, JournalError> {
        let Some(guard) = meta.get(key).map_err(|error| self.error(&format!("read meta `{key}`"), error))? else {
            return Ok(None);
        };
        serde_json::from_slice(guard.value()).map(Some).map_err(|error| JournalError::Corrupt {
            detail: format!("journal {}: table `meta`, key {key:?}: {error}", self.location),
        })
    }

    fn put_meta<T: Serialize>(
        &self,
        meta: &mut Table<'_, &'static str, &'static [u8]>,
        key: &str,
        value: &T,
    ) -> Result<(), JournalError> {
        let bytes = self.encode(value, "meta", key)?;
        meta.insert(key, bytes.as_slice()).map_err(|error| self.error(&format!("write meta `{key}`"), error))?;
        Ok(())
    }

    fn get_task(
        &self,
        tasks: &impl ReadableTable<&'static str, &'static [u8]>,
        id: &TaskId,
    ) -> Result<Option<JournaledTask>, JournalError> {
        let Some(guard) = tasks.get(id.as_str()).map_err(|error| self.error(&format!("read task {id}"), error))? else {
            return Ok(None);
        };
        self.decode_task(id.as_str(), guard.value()).map(Some)
    }

    fn decode_task(&self, key: &str, bytes: &[u8]) -> Result<JournaledTask, JournalError> {
        let corrupt = |what: String| JournalError::Corrupt {
            detail: format!("journal {}: table `tasks`, key {key:?}: {what}", self.location),
        };
        let entry: JournaledTask = serde_json::from_slice(bytes).map_err(|error| corrupt(error.to_string()))?;
        if entry.task.id.as_str() != key {
            return Err(corrupt(format!("holds task {:?}", entry.task.id.as_str())));
        }
        Ok(entry)
    }

    fn encode<T: Serialize>(&self, value: &T, table: &str, key: &str) -> Result<Vec<u8>, JournalError> {
        serde_json::to_vec(value).map_err(|error| JournalError::Storage {
            detail: format!("journal {}: encode table `{table}`, key {key:?}: {error}", self.location),
        })
    }

    /// Drops the finished tasks past `finished_kept_max`, first keys of the
    /// `finished` index first: the order of [`JournalState::compact`].
    fn compact(
        &self,
        tasks: &mut Table<'_, &'static str, &'static [u8]>,
        finished: &mut Table<'_, (bool, u64), &'static str>,
    ) -> Result<(), JournalError> {
        let count = finished.len().map_err(|error| self.error("count finished tasks", error))?;
        let excess = count.saturating_sub(self.options.finished_kept_max as u64);
        for _ in 0..excess {
            let popped = finished.pop_first().map_err(|error| self.error("compact `finished`", error))?;
            let Some((_, id)) = popped else { break };
            let id = id.value().to_owned();
            tasks.remove(id.as_str()).map_err(|error| self.error(&format!("compact task {id}"), error))?;
        }
        Ok(())
    }

    fn error(&self, doing: &str, error: impl Into<redb::Error>) -> JournalError {
        redb_error(&self.location, doing, error)
    }
}

fn builder() -> Builder {
    let mut builder = Builder::new();
    // A file altered at rest fails to open as corrupt instead of being trusted (a
    // plain open may panic on it); the journal is bounded, so reading it all is cheap.
    builder.set_check_integrity_on_open(true);
    builder
}

/// Content redb cannot make sense of is `Corrupt`; every other failure is `Storage`.
fn redb_error(location: &str, doing: &str, error: impl Into<redb::Error>) -> JournalError {
    let error = error.into();
    let detail = format!("journal {location}: {doing}: {error}");
    let is_corrupt = match &error {
        redb::Error::Corrupted(_)
        | redb::Error::UpgradeRequired(_)
        | redb::Error::TableTypeMismatch { .. }
        | redb::Error::TableIsMultimap(_)
        | redb::Error::TypeDefinitionChanged { .. } => true,
        redb::Error::Io(io) => io.kind() == std::io::ErrorKind::InvalidData,
        _ => false,
    };
    if is_corrupt { JournalError::Corrupt { detail } } else { JournalError::Storage { detail } }
}

impl Journal for RedbJournal {
    fn load(&self) -> Result<JournalState, JournalError> {
        let read = self.begin_read()?;
        let meta = read.open_table(META).map_err(|error| self.error("open table `meta`", error))?;
        self.check_format(&meta)?;
        let mut state = JournalState {
            tasks: BTreeMap::new(),
            powers: self.get_meta(&meta, META_POWERS)?,
            next_sequence: self.get_meta(&meta, META_NEXT_SEQUENCE)?.unwrap_or(0),
        };
        let tasks = read.open_table(TASKS).map_err(|error| self.error("open table `tasks`", error))?;
        for row in tasks.iter().map_err(|error| self.error("read table `tasks`", error))? {
            let (key, value) = row.map_err(|error| self.error("read table `tasks`", error))?;
            let entry = self.decode_task(key.value(), value.value())?;
            state.tasks.insert(entry.task.id.clone(), entry);
        }
        Ok(state)
    }

    fn write(&self, writes: &[JournalWrite], sync: bool) -> Result<(), JournalError> {
        let transaction = self.begin_write(sync)?;
        {
            let mut tasks = self.open_table(&transaction, TASKS)?;
            let mut meta = self.open_table(&transaction, META)?;
            let mut finished = self.open_table(&transaction, FINISHED)?;
            let next_sequence: u64 = self.get_meta(&meta, META_NEXT_SEQUENCE)?.unwrap_or(0);

            // The tasks these writes touch, as stored: folded by `JournalState::apply`
            // itself, then only what changed is written back.
            let mut state = JournalState { tasks: BTreeMap::new(), powers: None, next_sequence };
            let mut looked_up = BTreeSet::new();
            for write in writes {
                let id = write.task();
                if looked_up.insert(id.clone())
                    && let Some(entry) = self.get_task(&tasks, id)?
                {
                    state.tasks.insert(id.clone(), entry);
                }
            }
            let before = state.tasks.clone();
            for write in writes {
                state.apply(write);
            }

            for (id, entry) in &state.tasks {
                let old = before.get(id);
                if old == Some(entry) {
                    continue;
                }
                let bytes = self.encode(entry, "tasks", id.as_str())?;
                tasks
                    .insert(id.as_str(), bytes.as_slice())
                    .map_err(|error| self.error(&format!("write task {id}"), error))?;
                if let Some(old) = old.filter(|old| old.is_finished()) {
                    finished.remove(old.compaction_key()).map_err(|error| self.error("write `finished`", error))?;
                }
                if entry.is_finished() {
                    finished
                        .insert(entry.compaction_key(), id.as_str())
                        .map_err(|error| self.error("write `finished`", error))?;
                }
            }
            if state.next_sequence != next_sequence {
                self.put_meta(&mut meta, META_NEXT_SEQUENCE, &state.next_sequence)?;
            }
            if let Some(powers) = &state.powers {
                self.put_meta(&mut meta, META_POWERS, powers)?;
            }
            if sync {
                self.compact(&mut tasks, &mut finished)?;
            }
        }
        transaction.commit().map_err(|error| self.error("commit", error))
    }
}
