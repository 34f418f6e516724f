//! One worker's answer as consensus sees it.

use serde::{Deserialize, Serialize};

use crate::WorkerId;

/// A worker's answer with what weighs it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Ballot {
    /// Who answered.
    pub worker: WorkerId,
    /// The answer text as the worker gave it.
    pub text: String,
    /// The worker's self-reported confidence, `0..=1`.
    pub confidence: f64,
    /// The worker's voting power (learned from its record), `> 0`.
    pub power: f64,
    /// How long the worker took, for reports; it does not weigh the vote.
    #[serde(default)]
    pub latency_ms: u64,
    /// Embedding of `text`; used by semantic matching only when every ballot has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub embedding: Option<Vec<f32>>,
    /// Meaning class of `text` assigned by an entailment judge (answers of one class
    /// entail each other; see [`crate::judge_meanings`]); used by semantic matching, in
    /// place of similarity, only when every ballot has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meaning: Option<u64>,
}

impl Ballot {
    /// A ballot with full confidence and unit power.
    pub fn new(worker: impl Into<WorkerId>, text: impl Into<String>) -> Self {
        Self {
            worker: worker.into(),
            text: text.into(),
            confidence: 1.0,
            power: 1.0,
            latency_ms: 0,
            embedding: None,
            meaning: None,
        }
    }

    /// Sets the confidence.
    #[must_use]
    pub fn confidence(mut self, confidence: f64) -> Self {
        self.confidence = confidence;
        self
    }

    /// Sets the voting power.
    #[must_use]
    pub fn power(mut self, power: f64) -> Self {
        self.power = power;
        self
    }
}
