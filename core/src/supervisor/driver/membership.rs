//! Which workers the driver has told the machine about, so that a worker reported
//! twice (by a scaler's reply and by the registry it joined) joins the machine once.

use std::collections::BTreeSet;

use crate::WorkerId;

/// A change the machine must hear about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Change {
    /// Tell the machine `handle_worker_joined`.
    Joined(WorkerId),
    /// Tell the machine `handle_worker_left`.
    Left(WorkerId),
}

/// The driver's view of membership.
#[derive(Debug, Default)]
pub(super) struct Membership {
    /// Workers the machine knows (joined and not left), whoever reported them.
    known: BTreeSet<WorkerId>,
    /// The registry's membership as last seen: changes are diffs against it, so a
    /// worker that only a scaler reported is never taken for one that left.
    registered: BTreeSet<WorkerId>,
}

impl Membership {
    /// The registry's membership changed to `now`: the joins and leaves the machine
    /// has not heard of, joins first, each in id order.
    pub(super) fn registry_changed(&mut self, now: BTreeSet<WorkerId>) -> Vec<Change> {
        let joined: Vec<WorkerId> = now.difference(&self.registered).cloned().collect();
        let left: Vec<WorkerId> = self.registered.difference(&now).cloned().collect();
        self.registered = now;
        let mut changes = Vec::new();
        for worker in joined {
            if self.known.insert(worker.clone()) {
                changes.push(Change::Joined(worker));
            }
        }
        for worker in left {
            if self.known.remove(&worker) {
                changes.push(Change::Left(worker));
            }
        }
        changes
    }

    /// Workers configured at start or started by a scaler: those the machine has not
    /// heard of, in the order given.
    pub(super) fn joined(&mut self, workers: Vec<WorkerId>) -> Vec<WorkerId> {
        workers.into_iter().filter(|worker| self.known.insert(worker.clone())).collect()
    }

    /// A scaler stopped `worker`: whether the machine still knew it (it may have
    /// heard of the leave from the registry first).
    pub(super) fn scaled_down(&mut self, worker: &WorkerId) -> bool {
        self.known.remove(worker)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(ids: &[&str]) -> BTreeSet<WorkerId> {
        ids.iter().map(|id| WorkerId::from(*id)).collect()
    }

    #[test]
    fn a_scaled_up_worker_the_registry_also_reports_joins_once() {
        let mut membership = Membership::default();
        assert_eq!(membership.joined(vec!["w1".into()]), vec![WorkerId::from("w1")]);
        // The scaler joined s1 to the registry and the driver saw that first ...
        assert_eq!(membership.registry_changed(set(&["w1", "s1"])), vec![Change::Joined("s1".into())]);
        // ... then the scaler's reply names it again: nothing more to tell.
        assert!(membership.joined(vec!["s1".into()]).is_empty());
        // The other order: the reply first, then the registry.
        assert_eq!(membership.joined(vec!["s2".into()]), vec![WorkerId::from("s2")]);
        assert!(membership.registry_changed(set(&["w1", "s1", "s2"])).is_empty());
    }

    #[test]
    fn a_leave_is_told_once_whichever_report_comes_first() {
        let mut membership = Membership::default();
        membership.registry_changed(set(&["w1", "w2"]));
        assert_eq!(membership.registry_changed(set(&["w2"])), vec![Change::Left("w1".into())]);
        assert!(!membership.scaled_down(&"w1".into()), "the registry reported it first");
        assert!(membership.scaled_down(&"w2".into()));
        assert!(membership.registry_changed(BTreeSet::new()).is_empty(), "the scaler reported it first");
        // A worker that left may join again.
        assert_eq!(membership.registry_changed(set(&["w1"])), vec![Change::Joined("w1".into())]);
    }

    #[test]
    fn a_worker_only_a_scaler_reported_is_not_taken_for_one_that_left() {
        let mut membership = Membership::default();
        membership.registry_changed(set(&["w1"]));
        membership.joined(vec!["elsewhere".into()]);
        assert!(membership.registry_changed(set(&["w1", "w2"])).iter().all(|c| *c == Change::Joined("w2".into())));
        assert!(membership.scaled_down(&"elsewhere".into()), "still known until a scaler stops it");
    }
}
