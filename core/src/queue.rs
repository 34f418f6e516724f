//! The task queue: priority order, first come first served within a priority, and a
//! retry budget per task.

use std::collections::{BTreeMap, BTreeSet};

use crate::TaskId;
use crate::task::Priority;

/// Why the queue refused a task.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueueError {
    /// The queue holds its maximum.
    #[error("queue full ({length_max} tasks)")]
    Full {
        /// The limit.
        length_max: usize,
    },
    /// The task is queued already.
    #[error("task {0} is queued already")]
    Duplicate(TaskId),
    /// The task used its retry budget.
    #[error("task {task} used its {attempts_max} attempts")]
    RetriesExhausted {
        /// Which task.
        task: TaskId,
        /// Its budget.
        attempts_max: u32,
    },
}

/// Position key: higher priority first, then requeued work, then arrival order.
type Slot = (core::cmp::Reverse<Priority>, i64);

/// Pending tasks in the order they should start.
#[derive(Debug, Clone)]
pub struct TaskQueue {
    order: BTreeSet<(Slot, TaskId)>,
    slots: BTreeMap<TaskId, Slot>,
    attempts: BTreeMap<TaskId, u32>,
    next_arrival: i64,
    next_requeue: i64,
    length_max: usize,
    attempts_max: u32,
}

impl TaskQueue {
    /// A queue of at most `length_max` tasks, each started at most `attempts_max` times.
    pub fn new(length_max: usize, attempts_max: u32) -> Self {
        Self {
            order: BTreeSet::new(),
            slots: BTreeMap::new(),
            attempts: BTreeMap::new(),
            next_arrival: 0,
            next_requeue: -1,
            length_max,
            attempts_max,
        }
    }

    /// Queues a new task behind others of its priority.
    ///
    /// # Errors
    /// [`QueueError::Full`] or [`QueueError::Duplicate`].
    pub fn push(&mut self, task: TaskId, priority: Priority) -> Result<(), QueueError> {
        self.check_room(&task)?;
        let slot = (core::cmp::Reverse(priority), self.next_arrival);
        self.next_arrival += 1;
        self.insert(task, slot);
        Ok(())
    }

    /// Queues a task that a previous incarnation accepted and started
    /// `attempts_used` times (from its journal), behind others of its priority. The
    /// length limit does not apply: the task was accepted already (running tasks were
    /// out of the queue, so a restart may hold more than `length_max`), and refusing
    /// it now would break that promise.
    ///
    /// # Errors
    /// [`QueueError::Duplicate`].
    pub fn resume(&mut self, task: TaskId, priority: Priority, attempts_used: u32) -> Result<(), QueueError> {
        if self.slots.contains_key(&task) {
            return Err(QueueError::Duplicate(task));
        }
        let slot = (core::cmp::Reverse(priority), self.next_arrival);
        self.next_arrival += 1;
        self.insert(task.clone(), slot);
        if attempts_used > 0 {
            self.attempts.insert(task, attempts_used);
        }
        Ok(())
    }

    /// Queues unanswered work again, ahead of new tasks of its priority (it has waited
    /// longest), if its retry budget allows.
    ///
    /// # Errors
    /// [`QueueError::RetriesExhausted`], or as [`TaskQueue::push`].
    pub fn requeue(&mut self, task: TaskId, priority: Priority) -> Result<(), QueueError> {
        if self.attempts_used(&task) >= self.attempts_max {
            return Err(QueueError::RetriesExhausted { task, attempts_max: self.attempts_max });
        }
        self.check_room(&task)?;
        let slot = (core::cmp::Reverse(priority), self.next_requeue);
        self.next_requeue -= 1;
        self.insert(task, slot);
        Ok(())
    }

    /// The next task to start, without taking it.
    pub fn peek(&self) -> Option<&TaskId> {
        self.order.first().map(|(_, task)| task)
    }

    /// Takes the next task and counts an attempt for it.
    pub fn pop(&mut self) -> Option<TaskId> {
        let task = self.peek()?.clone();
        self.take(&task);
        Some(task)
    }

    /// Takes `task` out of the queue, wherever it stands, and counts an attempt for
    /// it; whether it was queued.
    pub fn take(&mut self, task: &TaskId) -> bool {
        let taken = self.remove(task);
        if taken {
            *self.attempts.entry(task.clone()).or_insert(0) += 1;
        }
        taken
    }

    /// Removes a queued task; whether it was queued.
    pub fn remove(&mut self, task: &TaskId) -> bool {
        match self.slots.remove(task) {
            Some(slot) => self.order.remove(&(slot, task.clone())),
            None => false,
        }
    }

    /// Forgets a finished task's attempt count.
    pub fn forget(&mut self, task: &TaskId) {
        self.remove(task);
        self.attempts.remove(task);
    }

    /// Attempts started for `task`.
    pub fn attempts_used(&self, task: &TaskId) -> u32 {
        self.attempts.get(task).copied().unwrap_or(0)
    }

    /// Tasks waiting.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// Whether no task waits.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// Whether `task` waits.
    pub fn contains(&self, task: &TaskId) -> bool {
        self.slots.contains_key(task)
    }

    /// Waiting tasks in start order.
    pub fn iter(&self) -> impl Iterator<Item = &TaskId> {
        self.order.iter().map(|(_, task)| task)
    }

    fn check_room(&self, task: &TaskId) -> Result<(), QueueError> {
        if self.slots.contains_key(task) {
            return Err(QueueError::Duplicate(task.clone()));
        }
        if self.order.len() >= self.length_max {
            return Err(QueueError::Full { length_max: self.length_max });
        }
        Ok(())
    }

    fn insert(&mut self, task: TaskId, slot: Slot) {
        self.order.insert((slot, task.clone()));
        self.slots.insert(task, slot);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_resumed_task_is_queued_past_the_length_limit_with_its_rounds_counted() {
        let mut queue = TaskQueue::new(1, 3);
        queue.push("new".into(), Priority::Normal).unwrap();
        // Accepted by a previous incarnation (maybe while running, out of the
        // queue): the limit cannot refuse it now.
        queue.resume("old".into(), Priority::Normal, 2).unwrap();
        assert_eq!(queue.len(), 2);
        assert_eq!(queue.attempts_used(&"old".into()), 2);
        assert!(matches!(queue.resume("old".into(), Priority::Normal, 2), Err(QueueError::Duplicate(_))));
        assert!(matches!(queue.push("more".into(), Priority::Normal), Err(QueueError::Full { .. })));
    }

    #[test]
    fn priority_then_requeued_then_arrival() {
        let mut queue = TaskQueue::new(10, 3);
        queue.push("a".into(), Priority::Normal).unwrap();
        queue.push("b".into(), Priority::High).unwrap();
        queue.push("c".into(), Priority::Normal).unwrap();
        queue.push("d".into(), Priority::Low).unwrap();
        assert_eq!(queue.pop(), Some("b".into()));
        assert_eq!(queue.pop(), Some("a".into()));
        queue.requeue("a".into(), Priority::Normal).unwrap();
        let order: Vec<_> = queue.iter().map(TaskId::as_str).collect();
        assert_eq!(order, ["a", "c", "d"]);
    }

    #[test]
    fn limits_duplicates_and_retry_budget() {
        let mut queue = TaskQueue::new(2, 2);
        queue.push("a".into(), Priority::Normal).unwrap();
        assert_eq!(queue.push("a".into(), Priority::Normal), Err(QueueError::Duplicate("a".into())));
        queue.push("b".into(), Priority::Normal).unwrap();
        assert_eq!(queue.push("c".into(), Priority::Normal), Err(QueueError::Full { length_max: 2 }));
        queue.pop();
        queue.requeue("a".into(), Priority::Normal).unwrap();
        queue.remove(&"b".into());
        queue.pop();
        assert_eq!(queue.attempts_used(&"a".into()), 2);
        assert!(matches!(queue.requeue("a".into(), Priority::Normal), Err(QueueError::RetriesExhausted { .. })));
        assert!(queue.is_empty());
    }
}
