//! Worker health as the machine acts on it: a worker going offline, the heartbeat
//! sweep, and scaling by load.

use super::{Command, SupervisorMachine};
use crate::link::LinkError;
use crate::pool::{ScaleDecision, WorkerStatus};
use crate::{TaskId, WorkerId};

impl SupervisorMachine {
    /// A worker is gone: its pending work anywhere is failed now, so those tasks can
    /// be reassigned without waiting for their deadlines.
    pub(super) fn handle_worker_offline(&mut self, worker: &WorkerId, now_ms: u64) {
        self.known_offline.insert(worker.clone());
        let affected: Vec<TaskId> = self
            .tasks
            .iter()
            .filter(|(_, s)| s.assignments.get(worker).is_some_and(|a| a.pending))
            .map(|(id, _)| id.clone())
            .collect();
        for task in affected {
            // Listed above, and an earlier task's evaluation finishes only that task.
            let Some(state) = self.tasks.get_mut(&task) else { continue };
            let Some(assignment) = state.assignments.get_mut(worker) else { continue };
            assignment.pending = false;
            let attempt = assignment.attempt;
            state.record_failure(worker.clone(), attempt, LinkError::Unavailable);
            self.pool.release(worker, now_ms);
            self.commands.push_back(Command::Cancel { worker: worker.clone(), task: task.clone() });
            self.evaluate(&task, now_ms);
        }
    }

    pub(super) fn consider_scaling(&mut self, now_ms: u64) {
        if !self.scaling_supported || self.shutting_down {
            return;
        }
        let queued_slots: usize = self.queue.iter().filter_map(|t| self.tasks.get(t)).map(|s| s.target_workers).sum();
        let running_slots: usize = self.tasks.values().map(|s| s.pending().len()).sum();
        let decision =
            self.pool.scaling_decision(queued_slots + running_slots, self.queue.len(), self.scale_up_pending, now_ms);
        tracing::debug!(
            queued_slots,
            running_slots,
            queued = self.queue.len(),
            pending_up = self.scale_up_pending,
            ?decision,
            "scaling"
        );
        match decision {
            ScaleDecision::Up(count) if count > 0 => {
                self.scale_up_pending += count;
                self.pool.record_scaling(now_ms);
                self.commands.push_back(Command::ScaleUp { count });
            }
            ScaleDecision::Down(worker) => {
                self.pool.drain(&worker);
                self.pool.record_scaling(now_ms);
                self.commands.push_back(Command::ScaleDown { worker });
            }
            ScaleDecision::Up(_) | ScaleDecision::Hold => {}
        }
    }

    /// Asks every worker for a heartbeat, and fails the pending work of any that
    /// went offline by silence since the last sweep.
    pub(super) fn sweep_heartbeats(&mut self, now_ms: u64) {
        let workers: Vec<WorkerId> = self.pool.ids().cloned().collect();
        for worker in workers {
            if self.pool.status(&worker, now_ms) == Some(WorkerStatus::Offline)
                && self.known_offline.insert(worker.clone())
            {
                self.handle_worker_offline(&worker, now_ms);
            }
            self.commands.push_back(Command::Heartbeat { worker });
        }
    }
}
