//! The `Scaler` seam: how the supervisor gets more or fewer workers.

use core::future::Future;

use serde::{Deserialize, Serialize};

use crate::WorkerId;

/// Why scaling failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(rename_all = "snake_case")]
pub enum ScaleError {
    /// This environment cannot add or remove workers.
    #[error("scaling is not supported here")]
    Unsupported,
    /// The environment has no room for more workers.
    #[error("no room for more workers")]
    NoCapacity,
    /// The worker to stop is not known to the environment.
    #[error("unknown worker {0}")]
    UnknownWorker(WorkerId),
}

/// Starts and stops workers: hosts in simulation, processes or an orchestrator in real
/// mode.
///
/// A scaler that shares a [`crate::WorkerRegistry`] with the link and the supervisor
/// joins the workers it starts to it (so the link can reach them) and removes the
/// ones it stops. The driver then hears of each worker twice, from the reply and from
/// the registry, and tells the machine once, whichever comes first.
pub trait Scaler: Send + Sync {
    /// Starts up to `count` workers and returns the ids of those started.
    fn scale_up(&self, count: usize) -> impl Future<Output = Result<Vec<WorkerId>, ScaleError>> + Send;

    /// Stops `worker`.
    fn scale_down(&self, worker: &WorkerId) -> impl Future<Output = Result<(), ScaleError>> + Send;
}

/// A scaler for a fixed set of workers: every request is [`ScaleError::Unsupported`].
#[derive(Clone, Copy, Debug, Default)]
pub struct FixedWorkers;

impl Scaler for FixedWorkers {
    async fn scale_up(&self, _count: usize) -> Result<Vec<WorkerId>, ScaleError> {
        Err(ScaleError::Unsupported)
    }

    async fn scale_down(&self, _worker: &WorkerId) -> Result<(), ScaleError> {
        Err(ScaleError::Unsupported)
    }
}
