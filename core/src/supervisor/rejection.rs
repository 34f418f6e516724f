//! Answers the supervisor refuses at its boundary: a worker is untrusted input once it
//! is a process on a network, and nothing it sends may reach `decide()` unchecked.

use crate::consensus::ANSWER_BYTES_MAX;
use crate::link::WorkerAnswer;

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
}

impl AnswerRejection {
    /// The first thing wrong with `answer`, if any.
    pub fn check(answer: &WorkerAnswer) -> Option<Self> {
        if answer.text.len() > ANSWER_BYTES_MAX {
            return Some(Self::TooLong { bytes: answer.text.len() });
        }
        if !(answer.confidence.is_finite() && (0.0..=1.0).contains(&answer.confidence)) {
            return Some(Self::InvalidConfidence { value: answer.confidence });
        }
        None
    }
}
