//! A committed task as an agent reports it, and as a client reads it.

use super::block::{BlockHash, Payload};
use super::identity::AgentId;
use super::next_step::NextStep;
use super::view::View;
use crate::analysis::TaskPlan;
use crate::consensus::{ConsensusConfig, Decision};
use crate::result::{Outcome, ResultMetadata, TaskResult, Vote};
use crate::{TaskId, WorkerId};

/// A task (or a step of one) committed.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CommittedTask {
    /// The block's height.
    pub height: u64,
    /// The view it was proposed in.
    pub view: View,
    /// The block's hash.
    pub block: BlockHash,
    /// Who proposed it: the super agent of its view.
    pub proposer: AgentId,
    /// The task, whom the proposer asked, their signed answers and the decision.
    pub payload: Payload,
    /// For a plan step, the plan followed.
    pub plan: Option<NextStep>,
}

impl CommittedTask {
    /// The task or step.
    pub fn task(&self) -> &TaskId {
        &self.payload.task
    }

    /// The decision over the signed answers.
    pub fn decision(&self) -> &Decision {
        &self.payload.decision
    }

    /// The result in the supervisor's shape, so clients and reports read both modes
    /// alike: every agent asked, each signed answer a vote of unit power, the plan
    /// the network's consensus config. The times are the caller's (when it
    /// submitted, when it learned the commit).
    pub fn task_result(&self, consensus: &ConsensusConfig, submitted_at_ms: u64, finished_at_ms: u64) -> TaskResult {
        let decision = self.decision();
        let votes = self
            .payload
            .answers
            .iter()
            .map(|signed| Vote {
                worker: WorkerId::new(signed.answer.agent.as_str()),
                attempt: 1,
                text: signed.answer.text.clone(),
                confidence: signed.answer.confidence,
                reported_confidence: None,
                power: 1.0,
                latency_ms: 0,
                embedding: None,
                meaning: None,
            })
            .collect();
        let plan = TaskPlan {
            complexity: 1,
            workers: self.payload.asked.len(),
            timeout_ms: 0,
            strategy: consensus.strategy,
            threshold: consensus.threshold,
            tolerance_absolute: consensus.tolerance_absolute,
            tolerance_relative: consensus.tolerance_relative,
        };
        TaskResult {
            task: self.payload.task.clone(),
            outcome: Outcome::of_decision(decision),
            alternatives: decision.groups.clone(),
            metadata: ResultMetadata {
                plan,
                threshold: decision.threshold,
                workers_asked: self.payload.asked.iter().map(|agent| WorkerId::new(agent.as_str())).collect(),
                votes,
                excluded: decision.excluded.clone(),
                failures: Vec::new(),
                rounds: 1,
                early_stopped: false,
                submitted_at_ms,
                started_at_ms: Some(submitted_at_ms),
                finished_at_ms,
                llm_calls: 0,
                prompt_tokens: 0,
                completion_tokens: 0,
                rate_limit_wait_ms: 0,
            },
        }
    }
}
