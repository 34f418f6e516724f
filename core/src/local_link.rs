//! An in-process `WorkerLink`: workers called directly, with switches to take one
//! down. For tests, examples and single-process runs.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, PoisonError};

use crate::link::{ExecuteRequest, Heartbeat, LinkError, WorkerAnswer, WorkerLink};
use crate::llm::Llm;
use crate::registry::{RegistryError, WorkerRegistry};
use crate::worker::Worker;
use crate::{TaskId, WorkerId};

/// Workers in this process, reachable unless marked down. Its workers are a
/// [`WorkerRegistry`] whose address is the worker itself: a supervisor built
/// `with_registry(link.registry())` follows every [`LocalLink::add`] and
/// [`LocalLink::remove`].
#[derive(Debug)]
pub struct LocalLink<L> {
    registry: WorkerRegistry<Arc<Worker<L>>>,
    down: Mutex<BTreeSet<WorkerId>>,
}

impl<L> Default for LocalLink<L> {
    fn default() -> Self {
        Self { registry: WorkerRegistry::new(), down: Mutex::new(BTreeSet::new()) }
    }
}

impl<L: Llm> LocalLink<L> {
    /// An empty link.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a worker (replacing one with the same id).
    ///
    /// # Errors
    /// [`RegistryError::Full`] when the registry holds its maximum.
    pub fn add(&self, worker: Worker<L>) -> Result<(), RegistryError> {
        self.registry.join(worker.id().clone(), Arc::new(worker)).map(|_| ())
    }

    /// Removes a worker: calls to it fail from now on, and a supervisor watching the
    /// registry sees it leave. Returns whether it was there.
    pub fn remove(&self, worker: &WorkerId) -> bool {
        self.registry.leave(worker).is_some()
    }

    /// The workers, as a registry to watch or share with a scaler.
    pub fn registry(&self) -> &WorkerRegistry<Arc<Worker<L>>> {
        &self.registry
    }

    /// Marks a worker unreachable (`true`) or reachable again (`false`).
    pub fn set_down(&self, worker: &WorkerId, down: bool) {
        let mut set = self.down.lock().unwrap_or_else(PoisonError::into_inner);
        if down {
            set.insert(worker.clone());
        } else {
            set.remove(worker);
        }
    }

    fn reachable(&self, worker: &WorkerId) -> Result<Arc<Worker<L>>, LinkError> {
        if self.down.lock().unwrap_or_else(PoisonError::into_inner).contains(worker) {
            return Err(LinkError::Unavailable);
        }
        self.registry.address(worker).ok_or(LinkError::Unavailable)
    }
}

impl<L: Llm + 'static> WorkerLink for LocalLink<L> {
    async fn execute(&self, worker: &WorkerId, request: ExecuteRequest) -> Result<WorkerAnswer, LinkError> {
        let target = self.reachable(worker)?;
        let answer = target.execute(request).await.map_err(LinkError::Worker)?;
        // Went down while working: the answer is lost with the connection.
        self.reachable(worker)?;
        Ok(answer)
    }

    async fn heartbeat(&self, worker: &WorkerId) -> Result<Heartbeat, LinkError> {
        Ok(self.reachable(worker)?.heartbeat())
    }

    async fn cancel(&self, worker: &WorkerId, task: &TaskId) -> Result<(), LinkError> {
        self.reachable(worker)?.cancel(task);
        Ok(())
    }
}
