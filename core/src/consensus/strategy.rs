//! How answers are compared.

use serde::{Deserialize, Serialize};

use super::extract::{Extracted, extract, is_polar};

/// The matching rule that decides whether two answers say the same thing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// Equal keys after Unicode and case folding, wrappers peeled, white space and
    /// sentence punctuation folded, yes/no read as its polarity (short factual
    /// answers, classifications, yes/no questions; see [`super::extract()`]).
    Exact,
    /// The number each answer commits to (see [`super::extract()`]), equal within an
    /// absolute plus relative tolerance (calculations).
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
    /// exact when every answer is a yes or a no (matched on its polarity, so "Yes, it
    /// is legal" and "No, it is not legal" never share a group, however alike their
    /// words), numeric when every answer is essentially one number, exact when every
    /// answer is short (at most [`SHORT_ANSWER_WORDS_MAX`] words), semantic otherwise.
    pub fn infer_from_answers<'a>(answers: impl IntoIterator<Item = &'a str>) -> Self {
        let mut all_polar = true;
        let mut all_numeric = true;
        let mut all_short = true;
        let mut any = false;
        for text in answers {
            any = true;
            let words = text.split_whitespace().count();
            all_short &= words <= SHORT_ANSWER_WORDS_MAX;
            all_polar = all_polar && is_polar(text);
            // "42", "$1,200", "12%", "x = 3": a number and at most two other words.
            all_numeric = all_numeric && words <= 3 && matches!(extract(text, Self::Numeric), Ok(Extracted::Number(_)));
        }
        match (any, all_polar, all_numeric, all_short) {
            (false, _, _, _) | (true, true, _, _) => Self::Exact,
            (true, false, true, _) => Self::Numeric,
            (true, false, false, true) => Self::Exact,
            (true, false, false, false) => Self::Semantic,
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

    #[test]
    fn yes_and_no_answers_are_matched_on_their_polarity() {
        // Regression: these went to semantic matching, whose lexical score put them in
        // one group.
        assert_eq!(
            Strategy::infer_from_answers([
                "Yes, it is legal to drive there at sixteen with a permit",
                "No, it is not legal to drive there at sixteen with a permit",
            ]),
            Strategy::Exact
        );
        assert_eq!(Strategy::infer_from_answers(["Yes", "no.", "Correct"]), Strategy::Exact);
        assert_eq!(
            Strategy::infer_from_answers([
                "Yes, it is legal in most states today",
                "It depends on the state you live in"
            ]),
            Strategy::Semantic
        );
    }
}
