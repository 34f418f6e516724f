//! Answer extraction: turning a raw answer into what its strategy compares, or saying
//! why it has nothing to compare.
//!
//! [`extract`] is the one entry point; its documentation says what each strategy
//! reads. Layout: `unwrap` peels wrappers, `normal` normalises Unicode, `exact` folds
//! keys, `polarity` reads yes/no, `tokens` / `reading` / `words` read numbers and
//! `numeric` chooses the committed one.

mod exact;
mod normal;
mod numeric;
mod polarity;
mod reading;
mod tokens;
mod unwrap;
mod words;

use core::fmt;

use serde::{Deserialize, Serialize};

use super::{ExclusionReason, Strategy};

/// Most wrapper layers peeled from one answer, and most announcement, article and
/// `$` rules applied to an exact key. Each costs a pass over the text; a deeper nest
/// keeps its inner layers (exact keys fold quotes, brackets and emphasis away
/// anyway), so extraction stays linear in the answer's length.
/// Real answers nest a handful (a code fence, a JSON field, bold, quotes, a label).
pub const WRAPPER_LAYERS_MAX: usize = 16;

/// A number read from an answer.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct NumberValue {
    /// The value, as written: "12%" is 12, not 0.12.
    pub value: f64,
    /// Written as a percentage ("12%", "12 percent"), so a reader can tell "12%" from
    /// "12".
    pub percent: bool,
}

impl fmt::Display for NumberValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `f64`'s Display is the shortest text that reads back to the same value.
        write!(f, "{}{}", self.value, if self.percent { "%" } else { "" })
    }
}

/// What a strategy compares, extracted from one answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Extracted {
    /// Exact matching: the folded key.
    Key(String),
    /// Numeric matching: the committed number.
    Number(NumberValue),
    /// Semantic matching: the answer without its wrappers.
    Text(String),
}

impl fmt::Display for Extracted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Key(key) => f.write_str(key),
            Self::Number(number) => number.fmt(f),
            Self::Text(text) => f.write_str(text),
        }
    }
}

/// Why an answer has nothing its strategy can compare. Such an answer is excluded
/// from the vote and reported, never guessed.
#[derive(Clone, Copy, Debug, PartialEq, thiserror::Error)]
pub enum Unreadable {
    /// Exact or semantic: nothing is left once wrappers, white space and punctuation
    /// are removed (semantic: no letter or digit at all).
    #[error("nothing is left of the answer once folded")]
    Empty,
    /// Numeric: the answer states no number.
    #[error("the answer states no number")]
    NoNumber,
    /// Numeric: two or more different values and no marker ("final answer", "=",
    /// bold, ...) to tell which one is the answer.
    #[error("the answer states {} and {} with no marker saying which is the answer", candidates[0], candidates[1])]
    AmbiguousNumber {
        /// The first two different values, in text order.
        candidates: [NumberValue; 2],
    },
    /// Numeric: the committed number is beyond the range of `f64` ("1e999").
    #[error("the number is beyond the range of a 64-bit float")]
    OutOfRange,
}

impl Unreadable {
    /// The exclusion reason reported in a [`super::Decision`].
    pub fn reason(&self) -> ExclusionReason {
        match self {
            Self::Empty => ExclusionReason::Empty,
            Self::NoNumber => ExclusionReason::NoNumber,
            Self::AmbiguousNumber { .. } => ExclusionReason::AmbiguousNumber,
            Self::OutOfRange => ExclusionReason::NumberOutOfRange,
        }
    }
}

/// What `strategy` compares in `text`. By strategy:
///
/// - **Exact** gives a [`Extracted::Key`]: NFKC and case folding (precomposed and
///   combining accents match, full-width letters are ASCII, "ß" is "ss"); wrappers
///   peeled (a JSON object's `answer`/`final_answer` field, code fences, `\boxed{}`,
///   `$...$`, markdown emphasis and code, quotes, brackets around the whole answer);
///   an announcement cut ("Answer: C", "The answer is C", "... Final answer: C");
///   white space and sentence punctuation (`. , ; : ! ?`, quotes, brackets, dashes
///   between words) folded, while symbols that carry meaning stay: `+`, `#`, a `-`
///   touching a token ("B+", "B-" and "B" differ, "F#" is not "F", "C++"), decimal
///   separators ("2,5" is not "25", "3.5" is not "35"; "1,000" is "1000"); a leading
///   article dropped. A yes/no answer is its polarity: "Yes, it is.", "yes", "Yes —
///   it is legal", "True", "Correct" are `yes`; "No, it is not legal", "nope",
///   "False", "Incorrect" are `no`. Yes words: yes, yeah, yep, yup, true, correct;
///   no words: no, nope, false, incorrect. The word is a polarity when it stands
///   alone, is followed by punctuation, or by a pronoun or adverb ("yes it is", "no
///   not at all"); "no one", "true north", "yes and no" are phrases, not polarities.
/// - **Numeric** gives a [`Extracted::Number`]: the number the answer commits to, in
///   every written form: fractions and mixed numbers ("5/8", "1 1/2", "\frac{5}{8}"),
///   scale words and suffixes ("3.4 thousand", "2.5bn", "5k", "3M"), scientific
///   notation ("1e3", "6.1 × 10^4", "2.5·10³"), `±` (the central value), SI digit
///   groups with thin or no-break spaces, the Unicode minus, full-width digits,
///   decimal commas ("2,5"), number words ("one hundred and five", "minus eight"),
///   percentages (kept in percent: "12%" reads 12 and remembers it was a percentage).
///   Explicit markers come first, the last one winning: "final answer", "answer:",
///   "answer is", "result is", "=", "≈", "equals", `**bold**`, `\boxed{}`. Without
///   one, remarks are skipped ("confidence: 0.9", "90% sure", "rounded from 41.7",
///   "not 41"), values in brackets, a year after "as of", ordinals, step labels, a
///   question's operands ("17 × 23" in "What is 17 × 23? It is 391") and the lone
///   word "one" count only when nothing else does; then one distinct value is the
///   answer and two are [`Unreadable::AmbiguousNumber`], never a guess.
/// - **Semantic** gives a [`Extracted::Text`]: the answer with its wrappers peeled,
///   trimmed; an answer without a single letter or digit is [`Unreadable::Empty`].
///
/// Extraction is total (any `&str`, never a panic: characters are indexed, never
/// bytes) and idempotent: extracting an extracted value's text ([`Extracted`]'s
/// `Display`) again gives the same value, provided the answer nests fewer than
/// [`WRAPPER_LAYERS_MAX`] wrappers and announcements. Its cost is linear in the
/// answer's length, whatever the answer.
///
/// # Errors
/// [`Unreadable`] naming why the answer has nothing to compare: exact and semantic
/// answers can be [`Unreadable::Empty`]; numeric answers [`Unreadable::NoNumber`],
/// [`Unreadable::AmbiguousNumber`] or [`Unreadable::OutOfRange`].
pub fn extract(text: &str, strategy: Strategy) -> Result<Extracted, Unreadable> {
    match strategy {
        Strategy::Exact => exact::key(text).map(Extracted::Key).ok_or(Unreadable::Empty),
        Strategy::Numeric => {
            let prepared = unwrap::unwrap(&normal::normalise(text));
            let chars: Vec<char> = prepared.chars().collect();
            let lowered = tokens::lowered_words(&chars);
            numeric::number(&tokens::tokenise(&chars, &lowered)).map(Extracted::Number)
        }
        Strategy::Semantic => {
            let text = unwrap::unwrap(text);
            if text.chars().any(char::is_alphanumeric) { Ok(Extracted::Text(text)) } else { Err(Unreadable::Empty) }
        }
    }
}

/// The exact key of `text` ([`extract`] with [`Strategy::Exact`]), empty when nothing
/// is left.
pub fn exact_key(text: &str) -> String {
    match extract(text, Strategy::Exact) {
        Ok(Extracted::Key(key)) => key,
        _ => String::new(),
    }
}

/// The number `text` commits to ([`extract`] with [`Strategy::Numeric`]), `None` when
/// it has none, or several with no marker, or one out of range. Percentages read in
/// percent ("12%" is 12).
pub fn final_number(text: &str) -> Option<f64> {
    match extract(text, Strategy::Numeric) {
        Ok(Extracted::Number(number)) => Some(number.value),
        _ => None,
    }
}

/// Whether `text` carries a yes/no polarity (its exact key is `yes` or `no`).
pub(crate) fn is_polar(text: &str) -> bool {
    matches!(exact::key(text).as_deref(), Some("yes" | "no"))
}

#[cfg(test)]
mod tests;
