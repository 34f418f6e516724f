//! The bounded buffer of one task's events and the subscriptions that read it.
//!
//! The driver writes without ever waiting: when the buffer is full the oldest event
//! goes, and each subscriber that had not read it learns how many it missed. The
//! final event is written last and nothing after it, so it is never the one dropped.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::Notify;

use super::task_event::TaskEvent;
use crate::result::TaskResult;

/// One task's buffer, shared by the driver (writing) and its subscribers (reading).
#[derive(Debug)]
pub(crate) struct Feed {
    state: Mutex<FeedState>,
    changed: Notify,
}

#[derive(Debug)]
struct FeedState {
    events: VecDeque<TaskEvent>,
    /// Sequence number of `events[0]`; sequences count every event ever written.
    first_sequence: u64,
    capacity: usize,
    /// No more events will come: the task finished, or its supervisor is gone.
    closed: bool,
}

/// A subscription to one task's events. Reading at its own pace never slows the
/// supervisor; a subscriber that falls more than the buffer behind gets a
/// [`TaskEvent::Dropped`] in place of what it missed.
#[derive(Debug)]
pub struct TaskEvents {
    feed: Arc<Feed>,
    next_sequence: u64,
}

impl Feed {
    /// An open feed holding at most `capacity` events (at least one).
    pub(crate) fn new(capacity: usize) -> Arc<Self> {
        let state = FeedState { events: VecDeque::new(), first_sequence: 0, capacity: capacity.max(1), closed: false };
        Arc::new(Self { state: Mutex::new(state), changed: Notify::new() })
    }

    /// A closed feed holding only a task's result: for subscriptions that start
    /// after the task finished.
    pub(crate) fn finished(result: TaskResult) -> Arc<Self> {
        let feed = Self::new(1);
        feed.push(TaskEvent::Finished { result: Box::new(result) });
        feed
    }

    /// Appends `event`, dropping the oldest if full; a [`TaskEvent::Finished`]
    /// closes the feed. Nothing is appended to a closed feed.
    pub(crate) fn push(&self, event: TaskEvent) {
        let mut state = self.lock();
        if state.closed {
            return;
        }
        if state.events.len() == state.capacity {
            state.events.pop_front();
            state.first_sequence += 1;
        }
        state.closed = event.is_final();
        state.events.push_back(event);
        drop(state);
        self.changed.notify_waiters();
    }

    /// Ends the feed without a result: the supervisor that would have written it
    /// is gone.
    pub(crate) fn close(&self) {
        self.lock().closed = true;
        self.changed.notify_waiters();
    }

    /// A subscription reading from the oldest event still buffered.
    pub(crate) fn subscribe(self: &Arc<Self>) -> TaskEvents {
        let next_sequence = self.lock().first_sequence;
        TaskEvents { feed: Arc::clone(self), next_sequence }
    }

    fn lock(&self) -> MutexGuard<'_, FeedState> {
        // Every update leaves the state whole, so a panic elsewhere cannot spoil it.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl TaskEvents {
    /// The next event if one is ready now; `None` when nothing new is buffered (or
    /// the stream has ended: see [`TaskEvents::is_ended`]).
    pub fn try_next(&mut self) -> Option<TaskEvent> {
        let state = self.feed.lock();
        if self.next_sequence < state.first_sequence {
            let events = state.first_sequence - self.next_sequence;
            self.next_sequence = state.first_sequence;
            return Some(TaskEvent::Dropped { events });
        }
        let index = usize::try_from(self.next_sequence - state.first_sequence).ok()?;
        let event = state.events.get(index)?.clone();
        self.next_sequence += 1;
        Some(event)
    }

    /// Whether every event was read and no more will come.
    pub fn is_ended(&self) -> bool {
        let state = self.feed.lock();
        state.closed && self.next_sequence >= state.first_sequence + state.events.len() as u64
    }

    /// Waits for the next event; `None` once the stream has ended (after
    /// [`TaskEvent::Finished`], or without it when the supervisor stopped).
    pub async fn next(&mut self) -> Option<TaskEvent> {
        loop {
            // Registered before looking, so that a push between the look and the
            // wait still wakes this subscriber.
            let feed = Arc::clone(&self.feed);
            let notified = feed.changed.notified();
            let mut notified = core::pin::pin!(notified);
            notified.as_mut().enable();
            if let Some(event) = self.try_next() {
                return Some(event);
            }
            if self.is_ended() {
                return None;
            }
            notified.await;
        }
    }

    /// Skips to the task's result; `None` if the supervisor stopped without one.
    pub async fn result(mut self) -> Option<TaskResult> {
        while let Some(event) = self.next().await {
            if let TaskEvent::Finished { result } = event {
                return Some(*result);
            }
        }
        None
    }
}
