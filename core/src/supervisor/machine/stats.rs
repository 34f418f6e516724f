//! What the machine refused or ignored, counted for reports and checks.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::super::rejection::{AnswerRejection, HeartbeatRejection};
use super::super::task_state::Recorded;

/// Counters of inputs the machine refused or ignored, for reports and invariant
/// checks. Each refusal is also logged (at debug level) with its worker and task.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupervisorStats {
    /// Answers for tasks already finished ([`AnswerRejection::Finished`]).
    pub late_answers: u64,
    /// Answers from workers never asked for that task, never counted
    /// ([`AnswerRejection::NotAsked`], a health mark).
    pub unassigned_answers: u64,
    /// Repeated answers (counted once; no health mark: a worker re-asked after a
    /// timeout may answer both rounds).
    pub repeated_answers: u64,
    /// Workers caught sending two different answers for one round (a health mark).
    pub equivocations: u64,
    /// Rounds started.
    pub rounds_started: u64,
    /// Answers refused as longer than consensus compares (never counted; a health
    /// mark against the worker).
    #[serde(default)]
    pub rejected_too_long: u64,
    /// Answers refused for a confidence that is not a number in `0..=1`.
    #[serde(default)]
    pub rejected_confidence: u64,
    /// Call replies naming another worker, task or round than the call
    /// ([`AnswerRejection::Misaddressed`]).
    #[serde(default)]
    pub rejected_misaddressed: u64,
    /// Answers for tasks this supervisor does not know ([`AnswerRejection::UnknownTask`]).
    #[serde(default)]
    pub unknown_task_answers: u64,
    /// Answers for round 0 or a round the task has not reached
    /// ([`AnswerRejection::UnknownRound`]).
    #[serde(default)]
    pub rejected_unknown_round: u64,
    /// Answers for a round the worker was not asked in
    /// ([`AnswerRejection::NotAskedInRound`]).
    #[serde(default)]
    pub rejected_not_asked_in_round: u64,
    /// Pushed answers beyond one per call ([`AnswerRejection::Flood`]).
    #[serde(default)]
    pub rejected_flood: u64,
    /// Answers for a task holding as many votes as a decision takes
    /// ([`AnswerRejection::BallotsFull`]).
    #[serde(default)]
    pub rejected_ballots_full: u64,
    /// Heartbeats naming another worker ([`HeartbeatRejection::WrongWorker`]).
    #[serde(default)]
    pub rejected_heartbeat_worker: u64,
    /// Heartbeats with a capacity of 0 or above the limit ([`HeartbeatRejection::Capacity`]).
    #[serde(default)]
    pub rejected_heartbeat_capacity: u64,
    /// Heartbeats with a load above their capacity
    /// ([`HeartbeatRejection::LoadAboveCapacity`]).
    #[serde(default)]
    pub rejected_heartbeat_load: u64,
}

impl SupervisorStats {
    /// Every counter by its field name, for reports and expectations that name one.
    pub fn counters(&self) -> BTreeMap<String, u64> {
        let fields = serde_json::to_value(self).expect("counters are plain numbers");
        let serde_json::Value::Object(fields) = fields else { unreachable!("a struct serializes as an object") };
        fields.into_iter().filter_map(|(name, value)| Some((name, value.as_u64()?))).collect()
    }

    pub(super) fn count_rejection(&mut self, rejection: AnswerRejection) {
        let counter = match rejection {
            AnswerRejection::TooLong { .. } => &mut self.rejected_too_long,
            AnswerRejection::InvalidConfidence { .. } => &mut self.rejected_confidence,
            AnswerRejection::Misaddressed => &mut self.rejected_misaddressed,
            AnswerRejection::UnknownTask => &mut self.unknown_task_answers,
            AnswerRejection::Finished => &mut self.late_answers,
            AnswerRejection::NotAsked => &mut self.unassigned_answers,
            AnswerRejection::UnknownRound { .. } => &mut self.rejected_unknown_round,
            AnswerRejection::NotAskedInRound { .. } => &mut self.rejected_not_asked_in_round,
            AnswerRejection::Flood { .. } => &mut self.rejected_flood,
            AnswerRejection::BallotsFull => &mut self.rejected_ballots_full,
        };
        *counter += 1;
    }

    pub(super) fn count_heartbeat_rejection(&mut self, rejection: &HeartbeatRejection) {
        let counter = match rejection {
            HeartbeatRejection::WrongWorker { .. } => &mut self.rejected_heartbeat_worker,
            HeartbeatRejection::Capacity { .. } => &mut self.rejected_heartbeat_capacity,
            HeartbeatRejection::LoadAboveCapacity { .. } => &mut self.rejected_heartbeat_load,
        };
        *counter += 1;
    }

    pub(super) fn count(&mut self, recorded: Recorded) {
        match recorded {
            Recorded::Vote => {}
            Recorded::Repeat => self.repeated_answers += 1,
            Recorded::Conflict => self.equivocations += 1,
            Recorded::Full => self.count_rejection(AnswerRejection::BallotsFull),
        }
    }
}
