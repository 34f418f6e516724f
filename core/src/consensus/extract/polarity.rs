//! Yes/no polarity: "Yes, it is." and "yes" are one answer, "No, it is not legal"
//! another, however each goes on.

/// Words that answer yes. "right" and "affirmative" are left out: "Right" is also a
/// direction, and classifications use "positive"/"negative".
pub(super) const YES_WORDS: [&str; 6] = ["yes", "yeah", "yep", "yup", "true", "correct"];
/// Words that answer no ("negative" is left out, as a sentiment label).
pub(super) const NO_WORDS: [&str; 4] = ["no", "nope", "false", "incorrect"];
/// Words that may follow a bare yes/no and keep it one ("yes it is", "no not at
/// all"). Any other word makes the first one part of a phrase ("no one", "true north",
/// "yes and no").
pub(super) const FOLLOWERS: [&str; 16] = [
    "it",
    "that",
    "this",
    "they",
    "he",
    "she",
    "there",
    "i",
    "we",
    "you",
    "indeed",
    "absolutely",
    "definitely",
    "certainly",
    "of",
    "not",
];

/// The key of a polarity: "yes" or "no".
pub(super) fn polarity_key(word: &str) -> Option<&'static str> {
    if YES_WORDS.contains(&word) {
        Some("yes")
    } else if NO_WORDS.contains(&word) {
        Some("no")
    } else {
        None
    }
}

/// The polarity of an answer whose folded words are `words`, where `paused_after_first`
/// says a punctuation mark followed the first word ("Yes, ...", "No. ...", "Yes — ...").
pub(super) fn polarity(words: &[&str], paused_after_first: bool) -> Option<&'static str> {
    let key = polarity_key(words.first()?)?;
    let one_answer = words.len() == 1 || paused_after_first || words.get(1).is_some_and(|w| FOLLOWERS.contains(w));
    one_answer.then_some(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<&str> {
        text.split_whitespace().collect()
    }

    #[test]
    fn reads_a_bare_or_continued_yes_or_no() {
        assert_eq!(polarity(&words("yes"), false), Some("yes"));
        assert_eq!(polarity(&words("no it is not legal"), false), Some("no"));
        assert_eq!(polarity(&words("correct"), false), Some("yes"));
        assert_eq!(polarity(&words("false"), false), Some("no"));
        assert_eq!(polarity(&words("no paris"), true), Some("no"));
    }

    #[test]
    fn a_phrase_is_no_polarity() {
        assert_eq!(polarity(&words("no one knows"), false), None);
        assert_eq!(polarity(&words("yes and no"), false), None);
        assert_eq!(polarity(&words("true north"), false), None);
        assert_eq!(polarity(&words("paris"), false), None);
    }
}
