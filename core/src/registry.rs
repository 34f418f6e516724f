//! The worker registry: which workers exist right now and where to reach them.
//!
//! Workers join and leave at run time. The registry is shared by the three parties
//! that care: a [`crate::WorkerLink`] resolves a worker's address through it, a
//! [`crate::Scaler`] joins the workers it starts and removes the ones it stops, and
//! the supervisor's driver watches its membership ([`Members`]) and tells the machine
//! who joined and who left.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::watch;

use crate::WorkerId;
use crate::pool::WORKERS_MAX;

/// Why a worker could not join.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    /// The registry holds [`WORKERS_MAX`] workers already; a pool could not use more.
    #[error("registry full: {workers_max} workers registered already, {worker} cannot join")]
    Full {
        /// The worker refused.
        worker: WorkerId,
        /// The limit.
        workers_max: usize,
    },
}

/// What a join changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Joined {
    /// A worker that was not registered.
    New,
    /// A registered worker, its address replaced (by the same one, or a new one
    /// after a restart elsewhere); its membership did not change.
    Replaced,
}

/// Workers by id, each with its address (`A`: a host name in simulation, a URI in
/// real mode, the worker itself in process). Cheap to clone: clones share one
/// registry.
#[derive(Debug)]
pub struct WorkerRegistry<A> {
    shared: Arc<Shared<A>>,
}

#[derive(Debug)]
struct Shared<A> {
    addresses: Mutex<BTreeMap<WorkerId, A>>,
    /// The member ids, published on every join and leave. Written only while
    /// `addresses` is locked, so watchers see changes in the order they were made.
    members: watch::Sender<BTreeSet<WorkerId>>,
}

/// A watch on a registry's membership, for a driver to select on.
#[derive(Debug)]
pub struct Members {
    receiver: watch::Receiver<BTreeSet<WorkerId>>,
}

impl<A> Clone for WorkerRegistry<A> {
    fn clone(&self) -> Self {
        Self { shared: Arc::clone(&self.shared) }
    }
}

impl<A: Clone> Default for WorkerRegistry<A> {
    fn default() -> Self {
        Self::new()
    }
}

impl<A: Clone> WorkerRegistry<A> {
    /// An empty registry.
    pub fn new() -> Self {
        let (members, _) = watch::channel(BTreeSet::new());
        Self { shared: Arc::new(Shared { addresses: Mutex::new(BTreeMap::new()), members }) }
    }

    /// Registers `worker` at `address`, or replaces its address if it is registered.
    ///
    /// # Errors
    /// [`RegistryError::Full`] when [`WORKERS_MAX`] other workers are registered.
    pub fn join(&self, worker: WorkerId, address: A) -> Result<Joined, RegistryError> {
        let mut addresses = self.lock();
        if let Some(known) = addresses.get_mut(&worker) {
            *known = address;
            return Ok(Joined::Replaced);
        }
        if addresses.len() >= WORKERS_MAX {
            return Err(RegistryError::Full { worker, workers_max: WORKERS_MAX });
        }
        addresses.insert(worker.clone(), address);
        self.shared.members.send_modify(|members| {
            members.insert(worker);
        });
        Ok(Joined::New)
    }

    /// Removes `worker`; returns its address, or `None` if it was not registered.
    pub fn leave(&self, worker: &WorkerId) -> Option<A> {
        let mut addresses = self.lock();
        let address = addresses.remove(worker)?;
        self.shared.members.send_modify(|members| {
            members.remove(worker);
        });
        Some(address)
    }

    /// Where `worker` is reached, if it is registered.
    pub fn address(&self, worker: &WorkerId) -> Option<A> {
        self.lock().get(worker).cloned()
    }

    /// Whether `worker` is registered.
    pub fn contains(&self, worker: &WorkerId) -> bool {
        self.lock().contains_key(worker)
    }

    /// The registered workers, in id order.
    pub fn members(&self) -> Vec<WorkerId> {
        self.lock().keys().cloned().collect()
    }

    /// Workers registered.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no worker is registered.
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    /// A watch on the membership, starting from the present one.
    pub fn watch(&self) -> Members {
        let _order = self.lock();
        Members { receiver: self.shared.members.subscribe() }
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<WorkerId, A>> {
        // The map is valid after any panic mid-update: each update is one insert or
        // remove.
        self.shared.addresses.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Members {
    /// The membership now, marking it seen.
    pub fn current(&mut self) -> BTreeSet<WorkerId> {
        self.receiver.borrow_and_update().clone()
    }

    /// Waits until the membership differs from the one last seen and returns it;
    /// `None` once the registry is gone (every clone dropped).
    pub async fn changed(&mut self) -> Option<BTreeSet<WorkerId>> {
        self.receiver.changed().await.ok()?;
        Some(self.current())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_moves_and_leaves_are_seen_through_every_clone() {
        let registry: WorkerRegistry<String> = WorkerRegistry::new();
        let link_view = registry.clone();
        assert_eq!(registry.join("w1".into(), "host-a".to_owned()), Ok(Joined::New));
        assert_eq!(link_view.address(&"w1".into()).as_deref(), Some("host-a"));
        assert_eq!(registry.join("w1".into(), "host-b".to_owned()), Ok(Joined::Replaced));
        assert_eq!(link_view.address(&"w1".into()).as_deref(), Some("host-b"));
        assert_eq!(link_view.leave(&"w1".into()).as_deref(), Some("host-b"));
        assert!(!registry.contains(&"w1".into()));
        assert_eq!(registry.leave(&"w1".into()), None, "a second leave changes nothing");
    }

    #[tokio::test]
    async fn a_watch_sees_joins_and_leaves_but_not_replaced_addresses() {
        let registry: WorkerRegistry<u16> = WorkerRegistry::new();
        registry.join("w1".into(), 7000).unwrap();
        let mut members = registry.watch();
        assert_eq!(members.current(), BTreeSet::from(["w1".into()]));
        registry.join("w2".into(), 7001).unwrap();
        assert_eq!(members.changed().await, Some(BTreeSet::from(["w1".into(), "w2".into()])));
        registry.join("w2".into(), 7002).unwrap();
        registry.leave(&"w1".into());
        assert_eq!(members.changed().await, Some(BTreeSet::from(["w2".into()])));
        drop(registry);
        assert_eq!(members.changed().await, None, "the registry is gone");
    }

    #[test]
    fn a_full_registry_refuses_a_new_worker_but_not_a_known_one() {
        let registry: WorkerRegistry<usize> = WorkerRegistry::new();
        for i in 0..WORKERS_MAX {
            registry.join(WorkerId::new(format!("w{i}")), i).unwrap();
        }
        let error = registry.join("late".into(), 0).unwrap_err();
        assert_eq!(error, RegistryError::Full { worker: "late".into(), workers_max: WORKERS_MAX });
        assert_eq!(registry.join("w0".into(), 1), Ok(Joined::Replaced));
        assert_eq!(registry.len(), WORKERS_MAX);
    }
}
