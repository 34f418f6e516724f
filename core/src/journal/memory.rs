//! [`MemoryJournal`]: a journal in memory with a disk's failure model: writes are
//! pending until synced, and [`MemoryJournal::crash`] loses what was never synced.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use super::{Journal, JournalError, JournalState, JournalWrite};

/// Durable state and pending writes; clones share them (a restarted supervisor gets
/// a clone of the crashed one's journal).
#[derive(Clone, Debug, Default)]
pub struct MemoryJournal {
    inner: Arc<Mutex<Inner>>,
}

#[derive(Debug, Default)]
struct Inner {
    durable: JournalState,
    pending: Vec<JournalWrite>,
    finished_kept_max: Option<usize>,
    syncs: u64,
}

impl MemoryJournal {
    /// An empty journal that keeps every finished task.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty journal that keeps at most `finished_kept_max` finished tasks.
    pub fn with_finished_kept_max(finished_kept_max: usize) -> Self {
        let journal = Self::default();
        journal.lock().finished_kept_max = Some(finished_kept_max);
        journal
    }

    /// Loses every write not yet synced, as a crash does.
    pub fn crash(&self) {
        self.lock().pending.clear();
    }

    /// Syncs made so far.
    pub fn syncs(&self) -> u64 {
        self.lock().syncs
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Journal for MemoryJournal {
    /// What survives a crash now, and what a read sees: durable state with the
    /// pending writes applied (a process reads its own writes).
    fn load(&self) -> Result<JournalState, JournalError> {
        let inner = self.lock();
        let mut state = inner.durable.clone();
        for write in &inner.pending {
            state.apply(write);
        }
        Ok(state)
    }

    fn write(&self, writes: &[JournalWrite], sync: bool) -> Result<(), JournalError> {
        let mut inner = self.lock();
        inner.pending.extend(writes.iter().cloned());
        if sync {
            let pending = core::mem::take(&mut inner.pending);
            for write in &pending {
                inner.durable.apply(write);
            }
            if let Some(kept_max) = inner.finished_kept_max {
                inner.durable.compact(kept_max);
            }
            inner.syncs += 1;
        }
        Ok(())
    }
}
