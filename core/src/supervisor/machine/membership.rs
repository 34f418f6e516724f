//! Workers leaving at run time (joining is `handle_worker_joined`).

use super::SupervisorMachine;
use crate::WorkerId;

impl SupervisorMachine {
    /// A worker left (its registry entry was removed: stopped, or deregistered).
    /// Its pending work fails now so those tasks are reassigned without waiting for
    /// their deadlines, and it is forgotten: it is no longer selected nor sent
    /// heartbeats. A worker the machine does not know changes nothing.
    pub fn handle_worker_left(&mut self, worker: &WorkerId, now_ms: u64) {
        if self.pool.contains(worker) {
            self.handle_worker_offline(worker, now_ms);
            self.pool.remove(worker);
            // Offline is a state of a known worker; a worker that left is not known.
            self.known_offline.remove(worker);
            self.schedule(now_ms);
        }
        self.check_invariants();
    }
}
