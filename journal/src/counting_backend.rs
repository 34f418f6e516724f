//! [`CountingBackend`]: a [`StorageBackend`] that counts what it passes on, for tests
//! and the journal's cost bench.

use std::ops::Bound;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use redb::{BackendError, StorageBackend};

/// Wraps a backend and counts its syncs and the bytes written through it.
#[derive(Debug)]
pub struct CountingBackend<B> {
    inner: B,
    counts: BackendCounts,
}

/// The counts of a [`CountingBackend`]; clones share them, so they can be read after
/// the backend went into a database.
#[derive(Clone, Debug, Default)]
pub struct BackendCounts {
    inner: Arc<Counts>,
}

#[derive(Debug, Default)]
struct Counts {
    syncs: AtomicU64,
    writes: AtomicU64,
    bytes_written: AtomicU64,
}

impl<B: StorageBackend> CountingBackend<B> {
    /// Counts what goes to `inner`.
    pub fn new(inner: B) -> Self {
        Self { inner, counts: BackendCounts::default() }
    }

    /// A handle on its counts.
    pub fn counts(&self) -> BackendCounts {
        self.counts.clone()
    }
}

impl BackendCounts {
    /// `sync_data` calls (fsyncs on a file).
    pub fn syncs(&self) -> u64 {
        self.inner.syncs.load(Ordering::Relaxed)
    }

    /// `write` calls.
    pub fn writes(&self) -> u64 {
        self.inner.writes.load(Ordering::Relaxed)
    }

    /// Bytes passed to `write`.
    pub fn bytes_written(&self) -> u64 {
        self.inner.bytes_written.load(Ordering::Relaxed)
    }
}

impl<B: StorageBackend> StorageBackend for CountingBackend<B> {
    fn len(&self) -> Result<u64, std::io::Error> {
        self.inner.len()
    }

    fn read(&self, offset: u64, out: &mut [u8]) -> Result<(), std::io::Error> {
        self.inner.read(offset, out)
    }

    fn set_len(&self, len: u64) -> Result<(), std::io::Error> {
        self.inner.set_len(len)
    }

    fn sync_data(&self) -> Result<(), std::io::Error> {
        self.counts.inner.syncs.fetch_add(1, Ordering::Relaxed);
        self.inner.sync_data()
    }

    fn write(&self, offset: u64, data: &[u8]) -> Result<(), std::io::Error> {
        self.counts.inner.writes.fetch_add(1, Ordering::Relaxed);
        self.counts.inner.bytes_written.fetch_add(data.len() as u64, Ordering::Relaxed);
        self.inner.write(offset, data)
    }

    fn close(&self) -> Result<(), std::io::Error> {
        self.inner.close()
    }

    // Locks pass through, so a wrapped file stays locked against a second writer.
    fn try_lock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<bool, BackendError> {
        self.inner.try_lock_range(start, end)
    }

    fn try_lock_shared_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<bool, BackendError> {
        self.inner.try_lock_shared_range(start, end)
    }

    fn lock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<(), BackendError> {
        self.inner.lock_range(start, end)
    }

    fn lock_shared_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<(), BackendError> {
        self.inner.lock_shared_range(start, end)
    }

    fn unlock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<(), BackendError> {
        self.inner.unlock_range(start, end)
    }

    fn query_lock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<bool, BackendError> {
        self.inner.query_lock_range(start, end)
    }
}
