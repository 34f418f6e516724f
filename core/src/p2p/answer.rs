//! A worker agent's answer to a task, signed by the agent.

use super::encoding::Encoder;
use super::identity::{AgentId, AgentKey, Signature};
use crate::consensus::Ballot;
use crate::{TaskId, WorkerId};

/// What an agent answered, and how sure it said it was.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Answer {
    /// The task answered.
    pub task: TaskId,
    /// Who answered.
    pub agent: AgentId,
    /// The answer text.
    pub text: String,
    /// The agent's self-reported confidence, `0..=1` (checked by `decide`).
    pub confidence: f64,
}

impl Answer {
    /// The bytes its agent signs.
    pub(crate) fn signed_bytes(&self) -> Vec<u8> {
        let mut encoder = Encoder::new("quorum/p2p/answer/v1");
        encoder.str(self.task.as_str()).str(self.agent.as_str()).str(&self.text).f64(self.confidence);
        encoder.finish().to_vec()
    }

    /// The ballot consensus counts: every agent has unit voting power in P2P mode
    /// (learned powers would be shared state that itself needs agreement).
    pub(crate) fn ballot(&self) -> Ballot {
        Ballot::new(WorkerId::new(self.agent.as_str()), self.text.clone()).confidence(self.confidence)
    }
}

/// An [`Answer`] with its agent's signature.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SignedAnswer {
    /// The answer.
    pub answer: Answer,
    /// Its agent's signature over the answer's canonical bytes.
    pub signature: Signature,
}

impl SignedAnswer {
    /// `key`'s agent answers `task` with `text` at `confidence`.
    pub fn new(key: &AgentKey, task: TaskId, text: impl Into<String>, confidence: f64) -> Self {
        let answer = Answer { task, agent: key.id().clone(), text: text.into(), confidence };
        let signature = key.sign(&answer.signed_bytes());
        Self { answer, signature }
    }

    pub(crate) fn encode(&self, encoder: &mut Encoder) {
        let answer = &self.answer;
        encoder
            .str(answer.task.as_str())
            .str(answer.agent.as_str())
            .str(&answer.text)
            .f64(answer.confidence)
            .bytes(&self.signature.0);
    }
}
