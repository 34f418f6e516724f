//! What the supervisor promises: exactly one `TaskResult` per submitted task.

use serde::{Deserialize, Serialize};

use crate::TaskId;
use crate::WorkerId;
use crate::analysis::TaskPlan;
use crate::consensus::{Ballot, Decision, Exclusion, Group, NoConsensusReason, Verdict};
use crate::link::LinkError;

/// How a task ended.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "outcome")]
pub enum Outcome {
    /// Workers agreed.
    Agreed {
        /// The winning group's representative: an answer some worker gave.
        answer: String,
        /// The winner's share of the counted weight.
        support: f64,
        /// Its lead over the runner-up.
        margin: f64,
        /// The winners' power-weighted mean confidence.
        confidence: f64,
    },
    /// Enough workers answered, but they did not agree.
    NoConsensus {
        /// Why no group won.
        reason: NoConsensusReason,
        /// The leader's support.
        support: f64,
        /// The leader's margin.
        margin: f64,
    },
    /// Not enough answers could be had.
    Failed {
        /// Why.
        reason: FailureReason,
    },
}

impl Outcome {
    /// How a decision ends a task: agreed on its answer, or no consensus and why.
    pub fn of_decision(decision: &Decision) -> Self {
        match (decision.verdict, &decision.answer) {
            (Verdict::Agreed, Some(answer)) => Self::Agreed {
                answer: answer.clone(),
                support: decision.support,
                margin: decision.margin,
                confidence: decision.confidence,
            },
            // `decide` gives every agreed decision its answer; a decision without one
            // agreed on nothing.
            (Verdict::Agreed, None) => Self::NoConsensus {
                reason: NoConsensusReason::NoAnswers,
                support: decision.support,
                margin: decision.margin,
            },
            (Verdict::NoConsensus(reason), _) => {
                Self::NoConsensus { reason, support: decision.support, margin: decision.margin }
            }
        }
    }
}

/// Why a task failed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureReason {
    /// No healthy workers were available for as long as the task could wait.
    NoWorkers {
        /// How long it waited.
        waited_ms: u64,
    },
    /// Fewer workers answered than a quorum of the plan, with every retry used.
    NotEnoughAnswers {
        /// Answers counted.
        received: usize,
        /// The quorum.
        needed: usize,
    },
    /// The supervisor shut down before the task could start.
    ShutDown,
}

/// One answer as recorded for a result.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Vote {
    /// Who answered.
    pub worker: WorkerId,
    /// The round it was asked in.
    pub attempt: u32,
    /// The answer.
    pub text: String,
    /// The confidence its ballot carried: the reported one, or under log-odds
    /// weighting the one the worker's record calibrates it to
    /// ([`crate::VotingPowers::confidence`]).
    pub confidence: f64,
    /// The confidence the worker reported, when its ballot carried another.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reported_confidence: Option<f64>,
    /// The worker's voting power when it answered.
    pub power: f64,
    /// How long it took.
    pub latency_ms: u64,
    /// The answer's embedding by the supervisor's own embedder (never the worker's),
    /// when one was configured and answered in time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub embedding: Option<Vec<f32>>,
    /// The answer's meaning class among the task's answers by the supervisor's own
    /// entailment judge (never the worker's), when one was configured and answered
    /// in time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meaning: Option<u64>,
}

impl Vote {
    /// The ballot this vote was counted as: what the supervisor decided on, and what
    /// a recompute decides on again.
    pub fn ballot(&self) -> Ballot {
        Ballot {
            worker: self.worker.clone(),
            text: self.text.clone(),
            confidence: self.confidence,
            power: self.power,
            latency_ms: self.latency_ms,
            embedding: self.embedding.clone(),
            meaning: self.meaning,
        }
    }
}

/// An assignment that produced no answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssignmentFailure {
    /// Which worker.
    pub worker: WorkerId,
    /// Which round.
    pub attempt: u32,
    /// Why.
    pub error: LinkError,
}

/// The numbers behind a result.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResultMetadata {
    /// The plan the task ran under.
    pub plan: TaskPlan,
    /// The threshold applied in the final decision (after adaptation).
    pub threshold: f64,
    /// Every worker asked, in order of assignment.
    pub workers_asked: Vec<WorkerId>,
    /// Every answer received, counted or not, by worker id.
    pub votes: Vec<Vote>,
    /// Answers that were received but not counted, and why.
    pub excluded: Vec<Exclusion>,
    /// Assignments that produced no answer.
    pub failures: Vec<AssignmentFailure>,
    /// Rounds of assignment (1 when the first round decided).
    pub rounds: u32,
    /// Whether the decision came before every assigned worker answered.
    pub early_stopped: bool,
    /// Supervisor clock at submission, ms.
    pub submitted_at_ms: u64,
    /// Supervisor clock when the first round started, ms.
    pub started_at_ms: Option<u64>,
    /// Supervisor clock at the result, ms.
    pub finished_at_ms: u64,
    /// LLM calls the workers made for the answers received.
    pub llm_calls: u64,
    /// Prompt tokens spent on them.
    pub prompt_tokens: u64,
    /// Completion tokens spent on them.
    pub completion_tokens: u64,
    /// Time the workers spent waiting for rate limits for the answers received, ms.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub rate_limit_wait_ms: u64,
}

impl ResultMetadata {
    /// LLM calls repeated for the answers received: after a retryable failure or an
    /// unusable reply (each answer needed one call that worked).
    pub fn llm_retries(&self) -> u64 {
        self.llm_calls.saturating_sub(self.votes.len() as u64)
    }
}

/// What a task's answers cost, as their workers reported it (saturating: absurd
/// counts cannot overflow).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Spent {
    /// LLM calls, retries included.
    pub llm_calls: u64,
    /// Prompt tokens.
    pub prompt_tokens: u64,
    /// Completion tokens.
    pub completion_tokens: u64,
    /// Time spent waiting for rate limits, ms.
    pub rate_limit_wait_ms: u64,
}

impl Spent {
    /// Adds what `answer` reports.
    pub fn add(&mut self, answer: &crate::link::WorkerAnswer) {
        self.llm_calls = self.llm_calls.saturating_add(u64::from(answer.llm_calls));
        self.prompt_tokens = self.prompt_tokens.saturating_add(answer.prompt_tokens);
        self.completion_tokens = self.completion_tokens.saturating_add(answer.completion_tokens);
        self.rate_limit_wait_ms = self.rate_limit_wait_ms.saturating_add(answer.rate_limit_wait_ms);
    }
}

/// Whether a counter is zero (left out of serialised output, which stays as it was
/// before the counter existed).
pub(crate) fn is_zero(value: &u64) -> bool {
    *value == 0
}

/// The one result of one task.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TaskResult {
    /// Which task.
    pub task: TaskId,
    /// How it ended.
    pub outcome: Outcome,
    /// Every group of answers, ranked (the winner first), with supporters and weight.
    pub alternatives: Vec<Group>,
    /// The numbers behind it.
    pub metadata: ResultMetadata,
}

impl TaskResult {
    /// The agreed answer, if any.
    pub fn answer(&self) -> Option<&str> {
        match &self.outcome {
            Outcome::Agreed { answer, .. } => Some(answer),
            _ => None,
        }
    }

    /// Whether the workers agreed.
    pub fn is_agreed(&self) -> bool {
        matches!(self.outcome, Outcome::Agreed { .. })
    }

    /// Time from submission to result.
    pub fn latency_ms(&self) -> u64 {
        self.metadata.finished_at_ms.saturating_sub(self.metadata.submitted_at_ms)
    }
}
