//! Folding answers to the form exact matching compares.

/// Leading words that never change a short answer's meaning ("the Pacific" is "Pacific").
const ARTICLES: [&str; 3] = ["the", "a", "an"];

/// The exact-matching key of an answer: lower case, punctuation dropped, white space
/// folded, a leading article dropped. Signs, decimal points and thousands separators
/// inside numbers survive (so "-3" and "3" differ, and "1,000" equals "1000").
pub fn exact_key(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut folded = String::with_capacity(text.len());
    for (index, &character) in chars.iter().enumerate() {
        let previous = index.checked_sub(1).map(|i| chars[i]);
        let next = chars.get(index + 1).copied();
        let digit_before = previous.is_some_and(|c| c.is_ascii_digit());
        let digit_after = next.is_some_and(|c| c.is_ascii_digit());
        if character.is_alphanumeric() {
            folded.extend(character.to_lowercase());
        } else if character == '.' && digit_before && digit_after {
            folded.push('.');
        } else if character == ',' && digit_before && digit_after {
            // A thousands separator: dropped, so "1,000" == "1000".
        } else if matches!(character, '-' | '\u{2212}') && digit_after && !previous.is_some_and(char::is_alphanumeric) {
            folded.push('-');
        } else {
            folded.push(' ');
        }
    }
    let words: Vec<&str> = folded.split_whitespace().collect();
    // An article alone is the answer ("a" to a multiple-choice question), not noise.
    let skip = usize::from(words.len() > 1 && ARTICLES.contains(&words[0]));
    words[skip..].join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_case_space_punctuation_and_articles() {
        assert_eq!(exact_key("  The  Pacific Ocean! "), "pacific ocean");
        assert_eq!(exact_key("Paris."), "paris");
        assert_eq!(exact_key("PARIS"), exact_key("paris"));
        assert_eq!(exact_key("yes"), exact_key("Yes!"));
    }

    #[test]
    fn keeps_what_numbers_need() {
        assert_eq!(exact_key("-3"), "-3");
        assert_ne!(exact_key("-3"), exact_key("3"));
        assert_eq!(exact_key("1,000"), exact_key("1000"));
        assert_eq!(exact_key("3.5."), "3.5");
        assert_ne!(exact_key("3.5"), exact_key("35"));
        assert_eq!(exact_key("well-known"), "well known");
        // Regression: "a" as a whole answer once folded to nothing and was excluded.
        assert_eq!(exact_key("A"), "a");
    }

    #[test]
    fn empty_and_punctuation_only_fold_to_nothing() {
        assert_eq!(exact_key(""), "");
        assert_eq!(exact_key("?!..."), "");
    }
}
