//! [`Spawner`]: where the servers and channels spawn their tasks (one per
//! connection, one per HTTP/2 stream, a channel's connection and buffer workers).

use core::future::Future;

/// Where tasks are spawned. [`Spawner::Tokio`] in real mode; [`Spawner::Local`] in
/// simulation, where each host runs in a `LocalSet`: a crashed host's runtime drops
/// tokio-spawned tasks shard by shard, the shard chosen by a task id counter that is
/// global to the process, so two runs of one seed would close the host's
/// connections in different orders. A `LocalSet` drops its tasks in spawn order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Spawner {
    /// `tokio::spawn`: any runtime, tasks may move between threads.
    #[default]
    Tokio,
    /// `tokio::task::spawn_local`: only inside a `LocalSet`.
    Local,
}

impl Spawner {
    /// Spawns `task`, detached.
    pub fn spawn<F: Future<Output = ()> + Send + 'static>(self, task: F) {
        match self {
            Self::Tokio => drop(tokio::spawn(task)),
            Self::Local => drop(tokio::task::spawn_local(task)),
        }
    }
}

/// hyper (the HTTP/2 server and client under tonic) spawns through this.
impl<F: Future<Output = ()> + Send + 'static> hyper::rt::Executor<F> for Spawner {
    fn execute(&self, task: F) {
        self.spawn(task);
    }
}
