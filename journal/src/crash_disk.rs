//! [`CrashDisk`]: a disk in memory with a real disk's failure model, as a
//! [`StorageBackend`], to prove the journal's recovery.
//!
//! Writes and length changes are pending until `sync_data`; a read sees them (the
//! page cache). [`CrashDisk::crash`] loses every pending one, or
//! [`CrashDisk::crash_keeping`] lets the first few reach the platter, as a disk that
//! flushed part of its queue in order before the power went. A crash also detaches
//! every handle attached before it: a process that died writes nothing more, so a
//! database dropped after the crash cannot tidy up behind it.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use redb::StorageBackend;

/// One disk; clones share it. Attach a handle per open database.
#[derive(Clone, Debug, Default)]
pub struct CrashDisk {
    shared: Arc<Mutex<Disk>>,
}

/// A handle on a [`CrashDisk`], given to one database; it fails every call after a
/// crash.
#[derive(Debug)]
pub struct CrashDiskHandle {
    disk: CrashDisk,
    /// The disk's incarnation when attached.
    incarnation: u64,
}

#[derive(Debug, Default)]
struct Disk {
    /// What survives a crash.
    durable: Vec<u8>,
    /// What a read sees: durable with the pending operations applied.
    visible: Vec<u8>,
    pending: Vec<Pending>,
    incarnation: u64,
    syncs: u64,
}

#[derive(Clone, Debug)]
enum Pending {
    Write { offset: u64, data: Vec<u8> },
    SetLen { len: u64 },
}

impl Pending {
    fn apply(&self, bytes: &mut Vec<u8>) {
        match self {
            Self::Write { offset, data } => {
                let start = usize::try_from(*offset).unwrap_or(usize::MAX);
                let end = start.saturating_add(data.len());
                if bytes.len() < end {
                    bytes.resize(end, 0);
                }
                bytes[start..end].copy_from_slice(data);
            }
            Self::SetLen { len } => bytes.resize(usize::try_from(*len).unwrap_or(usize::MAX), 0),
        }
    }
}

impl CrashDisk {
    /// An empty disk.
    pub fn new() -> Self {
        Self::default()
    }

    /// A handle for a database to open the disk with.
    pub fn attach(&self) -> CrashDiskHandle {
        CrashDiskHandle { disk: self.clone(), incarnation: self.lock().incarnation }
    }

    /// Loses every write not yet synced and detaches every handle.
    pub fn crash(&self) {
        self.crash_keeping(0);
    }

    /// As [`CrashDisk::crash`], but the first `operations_kept` pending operations
    /// (in the order they were made) reached the disk before the crash.
    pub fn crash_keeping(&self, operations_kept: usize) {
        let mut disk = self.lock();
        let pending = core::mem::take(&mut disk.pending);
        for operation in pending.iter().take(operations_kept) {
            operation.apply(&mut disk.durable);
        }
        disk.visible = disk.durable.clone();
        disk.incarnation += 1;
    }

    /// Operations waiting for a sync.
    pub fn pending_operations(&self) -> usize {
        self.lock().pending.len()
    }

    /// Syncs made so far.
    pub fn syncs(&self) -> u64 {
        self.lock().syncs
    }

    /// Bytes on disk now (what a read sees).
    pub fn len_bytes(&self) -> u64 {
        self.lock().visible.len() as u64
    }

    /// Runs `change` on the durable bytes and what reads see, as a bit rot at rest.
    pub fn corrupt(&self, change: impl FnOnce(&mut Vec<u8>)) {
        let mut disk = self.lock();
        change(&mut disk.durable);
        disk.visible = disk.durable.clone();
        disk.pending.clear();
    }

    fn lock(&self) -> MutexGuard<'_, Disk> {
        self.shared.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl CrashDiskHandle {
    /// The disk, if this handle was attached since the last crash.
    fn live(&self) -> Result<MutexGuard<'_, Disk>, std::io::Error> {
        let disk = self.disk.lock();
        if disk.incarnation == self.incarnation {
            Ok(disk)
        } else {
            Err(std::io::Error::other("the disk crashed since this handle was attached"))
        }
    }
}

impl StorageBackend for CrashDiskHandle {
    fn len(&self) -> Result<u64, std::io::Error> {
        Ok(self.live()?.visible.len() as u64)
    }

    fn read(&self, offset: u64, out: &mut [u8]) -> Result<(), std::io::Error> {
        let disk = self.live()?;
        let start = usize::try_from(offset).map_err(std::io::Error::other)?;
        let end = start
            .checked_add(out.len())
            .filter(|end| *end <= disk.visible.len())
            .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "read past the end of the disk"))?;
        out.copy_from_slice(&disk.visible[start..end]);
        Ok(())
    }

    fn set_len(&self, len: u64) -> Result<(), std::io::Error> {
        let mut disk = self.live()?;
        let operation = Pending::SetLen { len };
        operation.apply(&mut disk.visible);
        disk.pending.push(operation);
        Ok(())
    }

    fn sync_data(&self) -> Result<(), std::io::Error> {
        let mut disk = self.live()?;
        let pending = core::mem::take(&mut disk.pending);
        for operation in &pending {
            operation.apply(&mut disk.durable);
        }
        disk.syncs += 1;
        Ok(())
    }

    fn write(&self, offset: u64, data: &[u8]) -> Result<(), std::io::Error> {
        let mut disk = self.live()?;
        let operation = Pending::Write { offset, data: data.to_vec() };
        operation.apply(&mut disk.visible);
        disk.pending.push(operation);
        Ok(())
    }
}
