//! Inputs the supervisor refuses at its boundary: a worker is untrusted input once it
//! is a process on a network, and nothing it sends may reach `decide()` or the pool
//! unchecked.
//!
//! Every refusal is counted in [`super::SupervisorStats`]. Where only a faulty (or
//! hostile) worker could have sent the input, it is also a health mark against that
//! worker ([`AnswerRejection::is_worker_fault`]): a failed call as far as the pool is
//! concerned, so a worker that keeps sending garbage goes suspect, then offline. The
//! marks assume the transport tells who sent what (real mode authenticates each
//! worker; P2P answers are signed): a forged sender would be marked in its victim's
//! name. A mark is cleared by the worker's next good call or heartbeat.

use crate::WorkerId;
use crate::consensus::{ANSWER_BYTES_MAX, ANSWERS_PER_DECISION_MAX};
use crate::link::{Heartbeat, WorkerAnswer};
use crate::pool::WORKER_CAPACITY_MAX;

/// Why an answer was refused before it could vote.
#[derive(Clone, Copy, Debug, PartialEq, thiserror::Error)]
pub enum AnswerRejection {
    /// Longer than consensus compares ([`ANSWER_BYTES_MAX`]).
    #[error("answer is {bytes} bytes; at most {ANSWER_BYTES_MAX} are accepted")]
    TooLong {
        /// Its length.
        bytes: usize,
    },
    /// A confidence that is not a number in `0..=1`.
    #[error("confidence {value} is not a number in 0..=1")]
    InvalidConfidence {
        /// The value sent.
        value: f64,
    },
    /// The reply to a call names another worker, task or round than the call asked.
    #[error("answer names another worker, task or round than the call it replies to")]
    Misaddressed,
    /// For a task this supervisor never had (or has forgotten: its result fell out of
    /// the completed-results memory, or an earlier incarnation ran it). Not a mark:
    /// an honest worker can answer an earlier incarnation's task.
    #[error("answer for a task this supervisor does not know")]
    UnknownTask,
    /// For a task that has its result already: a straggler after an early stop, or a
    /// reply that lost the race with the deadline. Not a mark: honest workers do it.
    #[error("answer for a task that has its result already")]
    Finished,
    /// From a worker never asked for the task.
    #[error("answer from a worker never asked for the task")]
    NotAsked,
    /// For round 0 (rounds count from 1) or a round the task has not reached.
    #[error("answer for round {attempt}; the task's rounds are 1..={latest}")]
    UnknownRound {
        /// The round named.
        attempt: u32,
        /// The task's latest round.
        latest: u32,
    },
    /// For a round of the task the worker was not asked in.
    #[error("answer for round {attempt}, in which the worker was not asked")]
    NotAskedInRound {
        /// The round named.
        attempt: u32,
    },
    /// More answers pushed outside calls than the worker was given calls for the
    /// task: an honest worker pushes an answer at most once per call.
    #[error("{pushed} answers pushed for one task after {calls} calls")]
    Flood {
        /// Answers pushed so far, this one included.
        pushed: u32,
        /// Calls the worker was given for the task.
        calls: u32,
    },
    /// The task holds as many votes as one decision takes
    /// ([`ANSWERS_PER_DECISION_MAX`]); nothing more can be counted.
    #[error("the task holds {ANSWERS_PER_DECISION_MAX} votes already")]
    BallotsFull,
}

impl AnswerRejection {
    /// The first thing wrong with `answer`'s content, if any (what it says, not
    /// whether it was asked for).
    pub fn check(answer: &WorkerAnswer) -> Option<Self> {
        if answer.text.len() > ANSWER_BYTES_MAX {
            return Some(Self::TooLong { bytes: answer.text.len() });
        }
        if !(answer.confidence.is_finite() && (0.0..=1.0).contains(&answer.confidence)) {
            return Some(Self::InvalidConfidence { value: answer.confidence });
        }
        None
    }

    /// Whether only a faulty or hostile worker sends this, so it counts against the
    /// worker's health.
    pub fn is_worker_fault(self) -> bool {
        match self {
            Self::TooLong { .. }
            | Self::InvalidConfidence { .. }
            | Self::Misaddressed
            | Self::NotAsked
            | Self::UnknownRound { .. }
            | Self::NotAskedInRound { .. }
            | Self::Flood { .. } => true,
            Self::UnknownTask | Self::Finished | Self::BallotsFull => false,
        }
    }
}

/// Why a heartbeat was refused (and counted as a failed one).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HeartbeatRejection {
    /// The reply names another worker than the one asked.
    #[error("heartbeat of {sent} on the call to {asked}")]
    WrongWorker {
        /// Whom the supervisor asked.
        asked: WorkerId,
        /// Whom the reply names.
        sent: WorkerId,
    },
    /// A capacity of 0 or above [`WORKER_CAPACITY_MAX`] (the worker's own config
    /// limit): one worker claiming more would draw every task to itself.
    #[error("capacity {capacity} is not in 1..={WORKER_CAPACITY_MAX}")]
    Capacity {
        /// The capacity claimed.
        capacity: u32,
    },
    /// More tasks running than the worker takes at once: an honest worker refuses
    /// work beyond its capacity.
    #[error("load {load} above capacity {capacity}")]
    LoadAboveCapacity {
        /// The load claimed.
        load: u32,
        /// The capacity claimed.
        capacity: u32,
    },
}

impl HeartbeatRejection {
    /// The first thing wrong with `heartbeat`, the reply of the call to `asked`.
    pub fn check(asked: &WorkerId, heartbeat: &Heartbeat) -> Option<Self> {
        if &heartbeat.worker != asked {
            return Some(Self::WrongWorker { asked: asked.clone(), sent: heartbeat.worker.clone() });
        }
        if heartbeat.capacity == 0 || heartbeat.capacity > WORKER_CAPACITY_MAX {
            return Some(Self::Capacity { capacity: heartbeat.capacity });
        }
        if heartbeat.load > heartbeat.capacity {
            return Some(Self::LoadAboveCapacity { load: heartbeat.load, capacity: heartbeat.capacity });
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn heartbeat(worker: &str, load: u32, capacity: u32) -> Heartbeat {
        Heartbeat { worker: WorkerId::from(worker), load, capacity }
    }

    #[test]
    fn heartbeats_are_checked_for_sender_capacity_and_load() {
        let asked = WorkerId::from("w1");
        assert_eq!(HeartbeatRejection::check(&asked, &heartbeat("w1", 4, 4)), None);
        assert_eq!(HeartbeatRejection::check(&asked, &heartbeat("w1", 0, WORKER_CAPACITY_MAX)), None);
        assert_eq!(
            HeartbeatRejection::check(&asked, &heartbeat("w2", 0, 4)),
            Some(HeartbeatRejection::WrongWorker { asked: asked.clone(), sent: WorkerId::from("w2") })
        );
        assert_eq!(
            HeartbeatRejection::check(&asked, &heartbeat("w1", 0, 0)),
            Some(HeartbeatRejection::Capacity { capacity: 0 })
        );
        assert_eq!(
            HeartbeatRejection::check(&asked, &heartbeat("w1", 0, WORKER_CAPACITY_MAX + 1)),
            Some(HeartbeatRejection::Capacity { capacity: WORKER_CAPACITY_MAX + 1 })
        );
        let error = HeartbeatRejection::check(&asked, &heartbeat("w1", 5, 4)).unwrap();
        assert_eq!(error, HeartbeatRejection::LoadAboveCapacity { load: 5, capacity: 4 });
        assert_eq!(error.to_string(), "load 5 above capacity 4");
    }

    #[test]
    fn only_what_an_honest_worker_never_sends_is_its_fault() {
        assert!(AnswerRejection::Flood { pushed: 2, calls: 1 }.is_worker_fault());
        assert!(AnswerRejection::UnknownRound { attempt: 0, latest: 1 }.is_worker_fault());
        assert!(!AnswerRejection::Finished.is_worker_fault(), "stragglers after an early stop are honest");
        assert!(!AnswerRejection::UnknownTask.is_worker_fault(), "an earlier incarnation's task");
        assert!(!AnswerRejection::BallotsFull.is_worker_fault());
    }
}
