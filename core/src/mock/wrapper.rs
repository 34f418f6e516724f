//! How a model dresses a short answer or a sentence: the wrappers, markup and Unicode
//! variants real answers come in ("Answer: C", `{"answer": "Rome"}`, "**Rome**",
//! full-width letters, combining accents), each keeping the answer itself intact.

use crate::SeededRng;

/// Ways of writing a short answer `X`, in the fixed order choices are made from.
const SHORT_FORMS: usize = 12;

/// A short answer dressed one of the ways models dress it: as is, "Answer: X",
/// "The answer is X.", "Final answer: X", `{"answer": "X"}`, "**X**", "`X`",
/// "\boxed{X}", full-width letters, decomposed accents (base letter and combining
/// mark), lower case, or with a full stop. A form that would not change the answer
/// (decomposing an answer without accents) writes it as is.
pub(crate) fn dressed_short_answer(answer: &str, rng: &mut SeededRng) -> String {
    match rng.index(SHORT_FORMS) {
        0 => answer.to_owned(),
        1 => format!("Answer: {answer}"),
        2 => format!("The answer is {answer}."),
        3 => format!("Final answer: {answer}"),
        4 => serde_json::json!({ "answer": answer }).to_string(),
        5 => format!("**{answer}**"),
        6 => format!("`{answer}`"),
        7 => format!("\\boxed{{{answer}}}"),
        8 => answer.chars().map(full_width).collect(),
        9 => answer.chars().map(decomposed).collect(),
        10 => answer.to_lowercase(),
        _ => format!("{answer}."),
    }
}

/// A sentence dressed lightly: as is, "Answer: S", "**S**", or without its full stop.
pub(crate) fn dressed_sentence(sentence: &str, rng: &mut SeededRng) -> String {
    match rng.index(4) {
        0 => sentence.to_owned(),
        1 => format!("Answer: {sentence}"),
        2 => format!("**{sentence}**"),
        _ => sentence.trim_end_matches('.').to_owned(),
    }
}

/// The full-width form of a printable ASCII character (U+FF01..U+FF5E; a space is an
/// ideographic space), which NFKC folds back.
fn full_width(character: char) -> char {
    match character {
        ' ' => '\u{3000}',
        '!'..='~' => char::from_u32(character as u32 - 0x21 + 0xFF01).unwrap_or(character),
        other => other,
    }
}

/// A precomposed accented letter as its base letter and combining mark (NFD), which
/// NFKC composes back; other characters as they are.
fn decomposed(character: char) -> String {
    const MARKS: [(char, char, char); 16] = [
        ('á', 'a', '\u{301}'),
        ('é', 'e', '\u{301}'),
        ('í', 'i', '\u{301}'),
        ('ó', 'o', '\u{301}'),
        ('ú', 'u', '\u{301}'),
        ('Á', 'A', '\u{301}'),
        ('É', 'E', '\u{301}'),
        ('à', 'a', '\u{300}'),
        ('è', 'e', '\u{300}'),
        ('ã', 'a', '\u{303}'),
        ('õ', 'o', '\u{303}'),
        ('ñ', 'n', '\u{303}'),
        ('ç', 'c', '\u{327}'),
        ('ü', 'u', '\u{308}'),
        ('ö', 'o', '\u{308}'),
        ('â', 'a', '\u{302}'),
    ];
    match MARKS.iter().find(|(precomposed, _, _)| *precomposed == character) {
        Some((_, base, mark)) => [*base, *mark].iter().collect(),
        None => character.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_forms(answer: &str) -> std::collections::BTreeSet<String> {
        let mut rng = SeededRng::new(3);
        (0..400).map(|_| dressed_short_answer(answer, &mut rng)).collect()
    }

    #[test]
    fn short_answers_come_in_every_wrapper() {
        let forms = all_forms("Rome");
        let expected = [
            "Rome",
            "Answer: Rome",
            "The answer is Rome.",
            "Final answer: Rome",
            "{\"answer\":\"Rome\"}",
            "**Rome**",
            "`Rome`",
            "\\boxed{Rome}",
            "Ｒｏｍｅ",
            "rome",
            "Rome.",
        ];
        assert_eq!(forms, expected.iter().map(|s| (*s).to_owned()).collect());
    }

    #[test]
    fn symbols_and_accents_survive_their_variants() {
        let forms = all_forms("Bogotá");
        assert!(forms.contains("Bogota\u{301}"), "decomposed: {forms:?}");
        assert!(forms.contains("Ｂｏｇｏｔá"), "full-width: {forms:?}");
        let forms = all_forms("C++");
        assert!(forms.contains("Ｃ＋＋") && forms.contains("c++") && forms.contains("**C++**"), "{forms:?}");
    }

    #[test]
    fn sentences_are_dressed_lightly() {
        let mut rng = SeededRng::new(2);
        let forms: std::collections::BTreeSet<String> =
            (0..100).map(|_| dressed_sentence("Mercury is closer to the Sun than Venus.", &mut rng)).collect();
        let expected = [
            "Mercury is closer to the Sun than Venus.",
            "Answer: Mercury is closer to the Sun than Venus.",
            "**Mercury is closer to the Sun than Venus.**",
            "Mercury is closer to the Sun than Venus",
        ];
        assert_eq!(forms, expected.iter().map(|s| (*s).to_owned()).collect());
    }
}
