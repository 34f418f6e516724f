//! What the supervisor's own models said about one answer, handed to the machine with
//! the answer.

use serde::{Deserialize, Serialize};

use crate::embedding::is_usable_embedding;

/// The supervisor's own reading of one answer: its embedding and its meaning class
/// among the task's answers (see [`crate::Supervisor::with_embedder`] and
/// [`crate::Supervisor::with_judge`]). Consensus uses them for semantic tasks when
/// every counted answer has one ([`crate::consensus::Ballot::embedding`],
/// [`crate::consensus::Ballot::meaning`]); the result's votes keep them, so a decision recomputes
/// from its votes.
///
/// Annotations never come from a worker: a vector or a class a worker sent would be
/// untrusted input that could steer grouping (one "same meaning" claim joins a lie to
/// the truth), and workers may run other models whose vectors do not compare. The
/// driver makes them with the supervisor's models; the machine takes them only with
/// an answer it admits, and drops an embedding that is not usable.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Annotations {
    /// The answer's embedding by the supervisor's embedder.
    pub embedding: Option<Vec<f32>>,
    /// The answer's meaning class among the task's answers, by the supervisor's
    /// entailment judge.
    pub meaning: Option<u64>,
}

impl Annotations {
    /// No annotation: matching stays lexical for the answer.
    pub const NONE: Self = Self { embedding: None, meaning: None };

    /// Whether nothing is annotated.
    pub fn is_empty(&self) -> bool {
        self.embedding.is_none() && self.meaning.is_none()
    }

    /// These annotations without an embedding that is not usable (empty, longer than
    /// [`crate::EMBEDDING_DIMENSIONS_MAX`], or not finite).
    #[must_use]
    pub fn usable(mut self) -> Self {
        if self.embedding.as_deref().is_some_and(|vector| !is_usable_embedding(vector)) {
            self.embedding = None;
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::EMBEDDING_DIMENSIONS_MAX;

    #[test]
    fn an_unusable_embedding_is_dropped_and_the_meaning_kept() {
        let unusable = [vec![], vec![f32::NAN, 1.0], vec![0.5; EMBEDDING_DIMENSIONS_MAX + 1]];
        for vector in unusable {
            let annotations = Annotations { embedding: Some(vector), meaning: Some(3) }.usable();
            assert_eq!(annotations, Annotations { embedding: None, meaning: Some(3) });
        }
        let good = Annotations { embedding: Some(vec![0.0, 1.0]), meaning: None };
        assert_eq!(good.clone().usable(), good);
        assert!(Annotations::NONE.is_empty());
    }
}
