//! How answers are compared.

use serde::{Deserialize, Serialize};

use super::number::final_number;

/// The matching rule that decides whether two answers say the same thing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// Equal after folding case, white space and punctuation (short factual answers,
    /// classifications).
    Exact,
    /// The final number of each answer, equal within an absolute plus relative
    /// tolerance (calculations).
    Numeric,
    /// Similar enough text (free text): lexical similarity by default, embeddings when
    /// every answer carries one.
    Semantic,
}

impl Strategy {
    /// The name used in configs, JSON and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Exact => "exact",
            Self::Numeric => "numeric",
            Self::Semantic => "semantic",
        }
    }

    /// Picks a strategy from the answers alone, for callers that have no task text:
    /// numeric when every answer is essentially one number, exact when every answer is
    /// short (at most [`SHORT_ANSWER_WORDS_MAX`] words), semantic otherwise.
    pub fn infer_from_answers<'a>(answers: impl IntoIterator<Item = &'a str>) -> Self {
        let mut all_numeric = true;
        let mut all_short = true;
        let mut any = false;
        for text in answers {
            any = true;
            let words = text.split_whitespace().count();
            all_short &= words <= SHORT_ANSWER_WORDS_MAX;
            // "42", "$1,200", "12%", "x = 3": a number and at most two other words.
            all_numeric &= final_number(text).is_some() && words <= 3;
        }
        match (any, all_numeric, all_short) {
            (false, _, _) => Self::Exact,
            (true, true, _) => Self::Numeric,
            (true, false, true) => Self::Exact,
            (true, false, false) => Self::Semantic,
        }
    }
}

/// Answers of at most this many words count as short (exact matching suits them).
pub const SHORT_ANSWER_WORDS_MAX: usize = 4;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn infers_from_answers() {
        assert_eq!(Strategy::infer_from_answers(["42", "$1,200", "x = 3"]), Strategy::Numeric);
        assert_eq!(Strategy::infer_from_answers(["Paris", "paris."]), Strategy::Exact);
        assert_eq!(
            Strategy::infer_from_answers([
                "Water boils at a lower temperature at altitude because air pressure is lower"
            ]),
            Strategy::Semantic
        );
        assert_eq!(Strategy::infer_from_answers(["42", "Paris"]), Strategy::Exact);
    }
}
