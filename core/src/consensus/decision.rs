//! What consensus decided, and the numbers behind it.

use serde::{Deserialize, Serialize};

use super::{Strategy, Weighting};
use crate::WorkerId;

/// The verdict of one consensus round.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The winning group met the threshold and the margin.
    Agreed,
    /// No group did.
    NoConsensus(NoConsensusReason),
}

/// Why no group won.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoConsensusReason {
    /// No answer could be counted.
    NoAnswers,
    /// The leader's support is below the threshold applied.
    BelowThreshold,
    /// The leader met the threshold but not the margin over the runner-up.
    MarginTooSmall,
}

/// Why an answer was not counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExclusionReason {
    /// The same worker gave conflicting answers (a "twin"); none of them counts.
    Equivocated,
    /// Numeric strategy, and the answer contains no number.
    NoNumber,
    /// Nothing is left of the answer once folded.
    Empty,
    /// Numeric strategy, and the answer states two or more different values with no
    /// marker ("final answer", "=", bold, ...) saying which is the answer.
    AmbiguousNumber,
    /// Numeric strategy, and the committed number is beyond the range of `f64`.
    NumberOutOfRange,
}

/// An answer that was not counted, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exclusion {
    /// Whose answer.
    pub worker: WorkerId,
    /// Why it was not counted.
    pub reason: ExclusionReason,
    /// What was read, when the reason alone does not say it ("the answer states 17 and
    /// 2019 with no marker saying which is the answer").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl Exclusion {
    /// An exclusion with no detail.
    pub fn new(worker: WorkerId, reason: ExclusionReason) -> Self {
        Self { worker, reason, detail: None }
    }
}

/// One group of matching answers, as ranked in a [`Decision`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Group {
    /// The text of the member that represents the group (always a real answer).
    pub representative: String,
    /// The members' worker ids, sorted.
    pub members: Vec<WorkerId>,
    /// Sum of the members' weights (see [`Weighting`]).
    pub weight: f64,
    /// `weight` over the weight of all counted answers.
    pub support: f64,
    /// Members' confidence, averaged with their voting power as weights.
    pub confidence: f64,
}

/// The outcome of [`super::decide`], with everything that led to it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    /// Agreed, or why not.
    pub verdict: Verdict,
    /// The winning group's representative when agreed.
    pub answer: Option<String>,
    /// The leading group's support, `0..=1`.
    pub support: f64,
    /// Leader's support minus the runner-up's.
    pub margin: f64,
    /// The leader's confidence (see [`Group::confidence`]).
    pub confidence: f64,
    /// The strategy used.
    pub strategy: Strategy,
    /// The weighting rule used.
    #[serde(default)]
    pub weighting: Weighting,
    /// The threshold configured.
    pub threshold_base: f64,
    /// The threshold applied after adaptation (`>= threshold_base`).
    pub threshold: f64,
    /// Groups ranked by weight, then size, then smallest member id.
    pub groups: Vec<Group>,
    /// How many answers were counted.
    pub counted: usize,
    /// Answers that were not counted.
    pub excluded: Vec<Exclusion>,
}

impl Decision {
    /// Whether the verdict is [`Verdict::Agreed`].
    pub fn is_agreed(&self) -> bool {
        self.verdict == Verdict::Agreed
    }

    /// The leading group, if any answer was counted.
    pub fn leader(&self) -> Option<&Group> {
        self.groups.first()
    }
}
