//! Deterministic lexical similarity: cosine over word and character n-grams.
//!
//! Half of the score is the cosine of content-word counts (order-free, so "Paris is the
//! capital" and "the capital is Paris" match), half the cosine of character trigrams
//! (so "boil"/"boils"/"boiling" overlap). Grams are hashed with FNV-1a, which is stable
//! across runs and machines, and kept as sorted vectors: no hash-map order anywhere.

/// Words too common to say anything about an answer's content. A `match` compiles to
/// a length switch and a few byte compares: this runs for every word of every answer.
fn is_stop_word(word: &str) -> bool {
    matches!(
        word,
        "a" | "about"
            | "an"
            | "and"
            | "are"
            | "as"
            | "at"
            | "be"
            | "because"
            | "by"
            | "for"
            | "from"
            | "has"
            | "have"
            | "i"
            | "in"
            | "is"
            | "it"
            | "its"
            | "of"
            | "on"
            | "or"
            | "so"
            | "that"
            | "the"
            | "their"
            | "this"
            | "to"
            | "was"
            | "were"
            | "which"
            | "with"
    )
}

/// The n-gram profile of one text, ready for repeated comparisons.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Profile {
    words: Vec<(u64, f32)>,
    words_norm: f32,
    trigrams: Vec<(u64, f32)>,
    trigrams_norm: f32,
}

impl Profile {
    /// Builds the profile of `text`.
    pub fn new(text: &str) -> Self {
        let mut word_hashes = Vec::with_capacity(16);
        let mut trigram_hashes = Vec::with_capacity(64);
        // One reused buffer: profiles are built for every answer of every decision.
        let mut word = String::with_capacity(32);
        let mut flush = |word: &mut String| {
            if !word.is_empty() && !is_stop_word(word) {
                let bytes = word.as_bytes();
                word_hashes.push(fnv1a(bytes));
                // Trigrams of " word ": padding marks word edges, so short words
                // still yield trigrams.
                let padded_len = bytes.len() + 2;
                let padded = |i: usize| if i == 0 || i == padded_len - 1 { b' ' } else { bytes[i - 1] };
                for start in 0..padded_len - 2 {
                    trigram_hashes.push(fnv1a(&[padded(start), padded(start + 1), padded(start + 2)]));
                }
            }
            word.clear();
        };
        for character in text.chars() {
            if character.is_alphanumeric() {
                if character.is_ascii() {
                    word.push(character.to_ascii_lowercase());
                } else {
                    word.extend(character.to_lowercase());
                }
            } else {
                flush(&mut word);
            }
        }
        flush(&mut word);
        let (words, words_norm) = counted(word_hashes);
        let (trigrams, trigrams_norm) = counted(trigram_hashes);
        Self { words, words_norm, trigrams, trigrams_norm }
    }

    /// Similarity in `0..=1`; 1 for texts with the same content words, 0 when nothing is
    /// shared. Two texts without content words (empty, stop words only) are identical.
    pub fn similarity(&self, other: &Self) -> f64 {
        if self.words.is_empty() && other.words.is_empty() {
            return 1.0;
        }
        let words = cosine(&self.words, self.words_norm, &other.words, other.words_norm);
        let trigrams = cosine(&self.trigrams, self.trigrams_norm, &other.trigrams, other.trigrams_norm);
        (0.5 * words + 0.5 * trigrams).clamp(0.0, 1.0)
    }
}

/// Cosine similarity of two embeddings, clamped to `0..=1` (opposite means unrelated
/// for voting purposes). Vectors of different lengths or zero norm are unrelated.
pub fn embedding_similarity(left: &[f32], right: &[f32]) -> f64 {
    if left.len() != right.len() || left.is_empty() {
        return 0.0;
    }
    let (mut dot, mut left_norm, mut right_norm) = (0.0f64, 0.0f64, 0.0f64);
    for (&a, &b) in left.iter().zip(right) {
        dot += f64::from(a) * f64::from(b);
        left_norm += f64::from(a) * f64::from(a);
        right_norm += f64::from(b) * f64::from(b);
    }
    if left_norm == 0.0 || right_norm == 0.0 {
        return 0.0;
    }
    (dot / (left_norm.sqrt() * right_norm.sqrt())).clamp(0.0, 1.0)
}

/// Similarity of two texts (builds both profiles; prefer [`Profile`] for many pairs).
pub fn text_similarity(left: &str, right: &str) -> f64 {
    Profile::new(left).similarity(&Profile::new(right))
}

fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &byte in bytes {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

fn counted(mut sorted: Vec<u64>) -> (Vec<(u64, f32)>, f32) {
    sorted.sort_unstable();
    let mut counts: Vec<(u64, f32)> = Vec::with_capacity(sorted.len());
    for hash in sorted {
        match counts.last_mut() {
            Some((last, count)) if *last == hash => *count += 1.0,
            _ => counts.push((hash, 1.0)),
        }
    }
    let norm = counts.iter().map(|(_, count)| count * count).sum::<f32>().sqrt();
    (counts, norm)
}

fn cosine(left: &[(u64, f32)], left_norm: f32, right: &[(u64, f32)], right_norm: f32) -> f64 {
    if left_norm == 0.0 || right_norm == 0.0 {
        return 0.0;
    }
    let (mut i, mut j, mut dot) = (0, 0, 0.0f32);
    while i < left.len() && j < right.len() {
        match left[i].0.cmp(&right[j].0) {
            core::cmp::Ordering::Less => i += 1,
            core::cmp::Ordering::Greater => j += 1,
            core::cmp::Ordering::Equal => {
                dot += left[i].1 * right[j].1;
                i += 1;
                j += 1;
            }
        }
    }
    f64::from(dot / (left_norm * right_norm))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_and_reordered_texts_are_close() {
        assert!((text_similarity("Paris is the capital", "Paris is the capital") - 1.0).abs() < 1e-6);
        assert!(text_similarity("Paris is the capital of France", "the capital of France is Paris") > 0.95);
    }

    #[test]
    fn paraphrases_beat_unrelated_answers() {
        let base = "Water boils at a lower temperature at high altitude because the air pressure is lower";
        let paraphrase = "At high altitude air pressure is lower, so water boils at a lower temperature";
        let unrelated = "The mitochondria is the powerhouse of the cell";
        let close = text_similarity(base, paraphrase);
        let far = text_similarity(base, unrelated);
        assert!(close > 0.6, "paraphrase similarity {close}");
        assert!(far < 0.2, "unrelated similarity {far}");
    }

    #[test]
    fn symmetric_and_bounded() {
        let pairs = [("a b c", "c d"), ("", "text"), ("running fast", "runs")];
        for (left, right) in pairs {
            let forward = text_similarity(left, right);
            let backward = text_similarity(right, left);
            assert_eq!(forward.to_bits(), backward.to_bits());
            assert!((0.0..=1.0).contains(&forward));
        }
    }

    #[test]
    fn case_punctuation_and_stop_words_do_not_matter() {
        let same = text_similarity("The Capital is PARIS!", "capital paris");
        assert!((same - 1.0).abs() < 1e-6, "{same}");
        assert!(text_similarity("Zürich", "ZÜRICH") > 0.999);
    }

    #[test]
    fn embeddings_compare_by_cosine() {
        assert!((embedding_similarity(&[1.0, 0.0], &[2.0, 0.0]) - 1.0).abs() < 1e-9);
        assert_eq!(embedding_similarity(&[1.0, 0.0], &[-1.0, 0.0]), 0.0);
        assert_eq!(embedding_similarity(&[1.0], &[1.0, 2.0]), 0.0);
    }
}
