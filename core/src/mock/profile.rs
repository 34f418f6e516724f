//! What makes one mock model behave as it does: accuracy, wording of right and wrong
//! answers, confidence, latency, failures and byzantine modes.

use serde::{Deserialize, Serialize};

/// How right answers are worded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnswerStyle {
    /// The canonical answer.
    #[default]
    Exact,
    /// Paraphrases and surface variants (case, punctuation, other phrasings).
    Paraphrase,
    /// Numbers buried in a sentence ("The total comes to 42 apples.").
    Wordy,
    /// Numbers with small noise: inside the tolerance mostly, outside sometimes.
    Noisy,
    /// The forms real models write, each stating the right answer exactly. Numbers:
    /// fractions ("5/8"), mixed numbers ("1 3/4"), scale words ("3.4 thousand",
    /// "3.4k"), number words ("one hundred and five", "minus three"), scientific
    /// notation ("6.1 × 10^4", "1.2e3"), an uncertainty ("9.8 ± 0.3"), SI digit groups
    /// ("45 000" with a thin or no-break space), a Unicode minus ("−8"), full-width
    /// digits, remarks holding other numbers ("17 (as of 2019)", "17, confidence 0.8",
    /// "≈ 42, rounded from 41.7"), with or without a marker ("Final answer: 42",
    /// "\\boxed{42}", "**42**"). Short answers: wrapped ("Answer: C",
    /// `{"answer": "Rome"}`, "**Rome**"), full-width letters, combining accents.
    /// Sentences: the workload's paraphrases, lightly wrapped.
    Messy,
}

/// How wrong answers are worded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MistakeStyle {
    /// The workload's wrong answers and numbers off by a small slip, written plainly:
    /// lexically unlike the right answer.
    #[default]
    Plain,
    /// Wrong the way models are, in the frame of the right answer and the profile's
    /// style: a claim negated ("X is not Y"), its arguments swapped, its predicate
    /// reversed (rises / falls), or one number, date or name changed inside the same
    /// sentence; a number with another numerator, scale word, exponent or sign, or a
    /// slip, written in the forms that make it look like the right one ("7/3" for
    /// "4/3", "3.4 million" for "3.4 thousand"); a near-miss short answer ("C" for
    /// "C++", "B-" for "B+") in the same wrappers.
    Contradictions,
}

/// How the reported confidence relates to being right.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConfidenceBehaviour {
    /// High when right, lower when wrong.
    #[default]
    Calibrated,
    /// Always near 1.
    Overconfident,
    /// Uniform noise.
    Random,
}

/// A byzantine model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "mode")]
pub enum Byzantine {
    /// Always gives the same wrong answer to a task (not coordinated with anyone).
    AlwaysWrong,
    /// Gives the wrong answer its group agreed on for the task.
    Colluding {
        /// Models with the same group give the same wrong answer.
        group: u64,
    },
    /// Gives wrong answer number `slot` of the task: models with different slots
    /// (below the number of wrong answers a task has, at least 2) never agree, which
    /// makes a split vote.
    Scatter {
        /// Which wrong answer.
        slot: u64,
    },
    /// The model answers honestly; the worker host sends answers over the size limit
    /// or with confidences of NaN or out of range.
    Oversized,
    /// The model answers honestly; with each call the worker host pushes answers for
    /// tasks and rounds it was not given, and repeats.
    Flood,
    /// The model answers honestly; the worker host pushes a different answer to the
    /// same call on each delivery.
    Equivocate,
}

impl Byzantine {
    /// Whether the misbehaviour is on the wire (the host's), not in the model's
    /// answers: the model then answers like an honest one.
    pub fn is_on_the_wire(self) -> bool {
        matches!(self, Self::Oversized | Self::Flood | Self::Equivocate)
    }
}

/// Probabilities of each failure per call.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FailureRates {
    /// HTTP 429 with a Retry-After.
    pub rate_limited: f64,
    /// HTTP 5xx.
    pub server_error: f64,
    /// No answer in time.
    pub timeout: f64,
    /// An empty completion.
    pub empty: f64,
    /// Unparseable bytes.
    pub garbage: f64,
    /// A reply cut off at the token limit.
    pub truncated: f64,
}

/// Latency of one call.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LatencyProfile {
    /// Least latency. Default 300 ms.
    pub base_ms: u64,
    /// Uniform extra latency up to this. Default 700 ms.
    pub jitter_ms: u64,
    /// Probability of a straggler. Default 0.
    pub straggler_rate: f64,
    /// A straggler's extra latency. Default 20 s.
    pub straggler_ms: u64,
}

impl Default for LatencyProfile {
    fn default() -> Self {
        Self { base_ms: 300, jitter_ms: 700, straggler_rate: 0.0, straggler_ms: 20_000 }
    }
}

/// How a mock model answers planner calls (those whose system message starts with
/// [`crate::p2p::PLANNER_SYSTEM_PREFIX`]); whatever is not a delegation or malformed
/// is "execute".
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PlannerProfile {
    /// Probability of splitting the task into [`Self::subtasks`] subtasks. Default 0.
    pub delegate_probability: f64,
    /// Probability of a reply that is no valid next step (prose, a one-part split, an
    /// unknown step, a cut-off object, ...). Default 0.
    pub malformed_probability: f64,
    /// Subtasks of a delegation, in `2..=`[`PLANNER_SUBTASKS_MAX`]. Default 2.
    pub subtasks: usize,
}

impl Default for PlannerProfile {
    fn default() -> Self {
        Self { delegate_probability: 0.0, malformed_probability: 0.0, subtasks: 2 }
    }
}

/// Most subtasks a mock planner makes: the most a delegation may have.
pub const PLANNER_SUBTASKS_MAX: usize = crate::p2p::SUBTASKS_MAX;

/// Longest latency setting of a mock model (10 min): longer would outlast any run.
pub const LLM_LATENCY_MS_MAX: u64 = 600_000;

impl LlmProfile {
    /// Checks every probability (finite, in `0..=1`; failure rates and the planner's
    /// probabilities each summing to at most 1), latency (at most
    /// [`LLM_LATENCY_MS_MAX`]) and the planner's subtasks (`2..=`[`PLANNER_SUBTASKS_MAX`]).
    ///
    /// # Errors
    /// The field (under `prefix`) and what is wrong.
    pub fn validate(&self, prefix: &str) -> Result<(), (String, String)> {
        let rates = [
            ("accuracy", self.accuracy),
            ("latency.straggler_rate", self.latency.straggler_rate),
            ("failures.rate_limited", self.failures.rate_limited),
            ("failures.server_error", self.failures.server_error),
            ("failures.timeout", self.failures.timeout),
            ("failures.empty", self.failures.empty),
            ("failures.garbage", self.failures.garbage),
            ("failures.truncated", self.failures.truncated),
            ("planner.delegate_probability", self.planner.delegate_probability),
            ("planner.malformed_probability", self.planner.malformed_probability),
        ];
        for (field, value) in rates {
            if !(value.is_finite() && (0.0..=1.0).contains(&value)) {
                return Err((format!("{prefix}.{field}"), format!("{value} is not a probability in 0..=1")));
            }
        }
        let failures = &self.failures;
        let failure_sum = failures.rate_limited
            + failures.server_error
            + failures.timeout
            + failures.empty
            + failures.garbage
            + failures.truncated;
        if failure_sum > 1.0 {
            return Err((format!("{prefix}.failures"), format!("rates sum to {failure_sum}; at most 1")));
        }
        let planner_sum = self.planner.delegate_probability + self.planner.malformed_probability;
        if planner_sum > 1.0 {
            return Err((format!("{prefix}.planner"), format!("probabilities sum to {planner_sum}; at most 1")));
        }
        if !(2..=PLANNER_SUBTASKS_MAX).contains(&self.planner.subtasks) {
            return Err((
                format!("{prefix}.planner.subtasks"),
                format!("{} is not in 2..={PLANNER_SUBTASKS_MAX}", self.planner.subtasks),
            ));
        }
        let latencies = [
            ("latency.base_ms", self.latency.base_ms),
            ("latency.jitter_ms", self.latency.jitter_ms),
            ("latency.straggler_ms", self.latency.straggler_ms),
        ];
        for (field, value) in latencies {
            if value > LLM_LATENCY_MS_MAX {
                return Err((format!("{prefix}.{field}"), format!("{value} ms; at most {LLM_LATENCY_MS_MAX}")));
            }
        }
        Ok(())
    }
}

/// Everything that makes one mock model behave as it does.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LlmProfile {
    /// Probability of a right answer. Default 0.95.
    pub accuracy: f64,
    /// Wording of answers. Default exact.
    pub style: AnswerStyle,
    /// Wording of wrong answers (worded in `style` too). Default plain.
    pub mistakes: MistakeStyle,
    /// Confidence behaviour. Default calibrated.
    pub confidence: ConfidenceBehaviour,
    /// Latency. Default 300..1000 ms.
    pub latency: LatencyProfile,
    /// Failure probabilities. Default none.
    pub failures: FailureRates,
    /// Byzantine mode. Default none.
    pub byzantine: Option<Byzantine>,
    /// Answers to planner calls (P2P delegation). Default: always "execute".
    pub planner: PlannerProfile,
}

impl Default for LlmProfile {
    fn default() -> Self {
        Self {
            accuracy: 0.95,
            style: AnswerStyle::Exact,
            mistakes: MistakeStyle::Plain,
            confidence: ConfidenceBehaviour::Calibrated,
            latency: LatencyProfile::default(),
            failures: FailureRates::default(),
            byzantine: None,
            planner: PlannerProfile::default(),
        }
    }
}
