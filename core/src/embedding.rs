//! Attaching embeddings to ballots, so that semantic matching compares vectors.
//!
//! All or nothing: the consensus engine uses embeddings only when every ballot has
//! one of one length, and this fills all ballots or none (on any error the ballots
//! stay as they were and matching stays lexical).

use crate::consensus::Ballot;
use crate::llm::{Embedder, LlmError};

/// Longest embedding accepted: larger vectors are a misconfigured model.
pub const EMBEDDING_DIMENSIONS_MAX: usize = 16_384;

/// Why embeddings could not be attached.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmbedError {
    /// The embedder failed.
    #[error("embedder: {0}")]
    Llm(#[from] LlmError),
    /// A vector per text was expected.
    #[error("embedder returned {got} vectors for {expected} texts")]
    CountMismatch {
        /// Texts sent.
        expected: usize,
        /// Vectors returned.
        got: usize,
    },
    /// Vectors must share one length in `1..=EMBEDDING_DIMENSIONS_MAX` and be finite.
    #[error("embedding {index} is unusable (length {length}, or not finite)")]
    Unusable {
        /// Which vector.
        index: usize,
        /// Its length.
        length: usize,
    },
}

/// Whether `vector` can stand for a text: a length in `1..=EMBEDDING_DIMENSIONS_MAX`
/// and every value finite. Whatever an embedder returns is checked with this before
/// a ballot or a vote carries it.
pub fn is_usable_embedding(vector: &[f32]) -> bool {
    (1..=EMBEDDING_DIMENSIONS_MAX).contains(&vector.len()) && vector.iter().all(|v| v.is_finite())
}

/// Embeds every ballot's text with `embedder` and attaches the vectors.
///
/// # Errors
/// [`EmbedError`]; the ballots are then left unchanged.
pub async fn embed_ballots<E: Embedder>(embedder: &E, ballots: &mut [Ballot]) -> Result<(), EmbedError> {
    if ballots.is_empty() {
        return Ok(());
    }
    let texts: Vec<String> = ballots.iter().map(|b| b.text.clone()).collect();
    let vectors = embedder.embed(&texts).await?;
    if vectors.len() != texts.len() {
        return Err(EmbedError::CountMismatch { expected: texts.len(), got: vectors.len() });
    }
    let dimensions = vectors[0].len();
    for (index, vector) in vectors.iter().enumerate() {
        if vector.len() != dimensions || !is_usable_embedding(vector) {
            return Err(EmbedError::Unusable { index, length: vector.len() });
        }
    }
    for (ballot, vector) in ballots.iter_mut().zip(vectors) {
        ballot.embedding = Some(vector);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consensus::{ConsensusConfig, Strategy, decide};

    /// Maps texts to fixed directions by keyword: "cat" and "feline" mean the same.
    struct KeywordEmbedder {
        broken: Option<Vec<Vec<f32>>>,
    }

    impl Embedder for KeywordEmbedder {
        async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, LlmError> {
            if let Some(vectors) = &self.broken {
                return Ok(vectors.clone());
            }
            Ok(texts
                .iter()
                .map(|t| if t.contains("cat") || t.contains("feline") { vec![1.0, 0.0] } else { vec![0.0, 1.0] })
                .collect())
        }
    }

    #[tokio::test]
    async fn embeddings_group_what_words_do_not() {
        let mut ballots =
            vec![Ballot::new("w1", "a cat"), Ballot::new("w2", "some feline"), Ballot::new("w3", "a dog")];
        let config = ConsensusConfig::default().with_strategy(Strategy::Semantic);
        let lexical = decide(&ballots, &config).unwrap();
        assert_eq!(lexical.groups.len(), 3, "no shared words");
        embed_ballots(&KeywordEmbedder { broken: None }, &mut ballots).await.unwrap();
        let embedded = decide(&ballots, &config).unwrap();
        assert_eq!(embedded.groups[0].members.len(), 2, "cat and feline together");
        assert!(embedded.is_agreed());
    }

    #[tokio::test]
    async fn bad_vectors_leave_the_ballots_alone() {
        let cases = [vec![vec![1.0]], vec![vec![1.0, 0.0], vec![1.0]], vec![vec![f32::NAN], vec![1.0]]];
        for vectors in cases {
            let mut ballots = vec![Ballot::new("w1", "a"), Ballot::new("w2", "b")];
            let error = embed_ballots(&KeywordEmbedder { broken: Some(vectors) }, &mut ballots).await.unwrap_err();
            assert!(matches!(error, EmbedError::CountMismatch { .. } | EmbedError::Unusable { .. }), "{error}");
            assert!(ballots.iter().all(|b| b.embedding.is_none()));
        }
    }
}
