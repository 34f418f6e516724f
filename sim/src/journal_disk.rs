//! [`TurmoilDisk`]: a redb [`StorageBackend`] over turmoil's simulated file system, so
//! the supervisor's journal (quorum-journal's `RedbJournal`) runs in simulation on a
//! disk that loses what was never synced when its host crashes.
//!
//! turmoil's model (`unstable-fs`): writes are pending until `sync_data` (or flushed
//! at random with `FsConfig::sync_probability`), and `Sim::crash` drops the pending
//! ones; a new file survives only once its directory entry is synced. Its file system
//! is per host and entered from inside the host: open the disk in the host's
//! software, never from the test loop.
//!
//! A crash drops the host's tasks, and with them the database, whose close would
//! otherwise flush and sync everything (a clean shutdown, not a crash). So every
//! disk hangs on a [`DiskPower`]: cut it right before `Sim::crash` and the dying
//! database writes nothing more; the next incarnation opens a new disk on the same
//! power and works again.

use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use redb::StorageBackend;
use turmoil::fs::shim::std::fs::{File, OpenOptions, create_dir_all, sync_dir};

/// The power of a host's disks; clones share it.
#[derive(Clone, Debug, Default)]
pub struct DiskPower {
    cuts: Arc<AtomicU64>,
}

impl DiskPower {
    /// Power that was never cut.
    pub fn new() -> Self {
        Self::default()
    }

    /// Cuts the power: every disk opened before fails every call from now on.
    pub fn cut(&self) {
        self.cuts.fetch_add(1, Ordering::Relaxed);
    }
}

/// One file of the current host's simulated file system as a redb backend.
#[derive(Debug)]
pub struct TurmoilDisk {
    file: File,
    path: PathBuf,
    power: DiskPower,
    /// The power's cuts when opened: a later cut kills this disk.
    cuts: u64,
}

impl TurmoilDisk {
    /// Opens the file at `path` (absolute) on the current host's file system,
    /// creating it and its directories; their entries are synced, so the file itself
    /// survives a crash. Call it from inside the host.
    ///
    /// # Errors
    /// The file system's error when a directory or the file cannot be made.
    pub fn open(path: &Path, power: &DiskPower) -> std::io::Result<Self> {
        let cuts = power.cuts.load(Ordering::Relaxed);
        let mut ancestors: Vec<&Path> = path.ancestors().skip(1).collect();
        if let Some(parent) = path.parent() {
            create_dir_all(parent)?;
        }
        let file = OpenOptions::new().read(true).write(true).create(true).truncate(false).open(path)?;
        // Root first, so every new entry on the way down is durable.
        ancestors.reverse();
        for directory in ancestors {
            sync_dir(directory)?;
        }
        Ok(Self { file, path: path.to_path_buf(), power: power.clone(), cuts })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn powered(&self) -> std::io::Result<()> {
        if self.power.cuts.load(Ordering::Relaxed) != self.cuts {
            return Err(std::io::Error::other(format!("{}: the power was cut", self.path.display())));
        }
        if !turmoil::in_simulation() {
            return Err(std::io::Error::other(format!("{}: used outside its simulation", self.path.display())));
        }
        Ok(())
    }
}

impl StorageBackend for TurmoilDisk {
    fn len(&self) -> Result<u64, std::io::Error> {
        self.powered()?;
        Ok(self.file.metadata()?.len())
    }

    fn read(&self, offset: u64, out: &mut [u8]) -> Result<(), std::io::Error> {
        self.powered()?;
        self.file.read_exact_at(out, offset)
    }

    fn set_len(&self, len: u64) -> Result<(), std::io::Error> {
        self.powered()?;
        self.file.set_len(len)
    }

    fn sync_data(&self) -> Result<(), std::io::Error> {
        self.powered()?;
        self.file.sync_data()
    }

    fn write(&self, offset: u64, data: &[u8]) -> Result<(), std::io::Error> {
        self.powered()?;
        self.file.write_all_at(data, offset)
    }
}
