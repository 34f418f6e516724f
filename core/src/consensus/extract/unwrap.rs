//! Peeling the wrappers models put around an answer: a JSON object with an answer
//! field, code fences, `\boxed{}`, LaTeX math delimiters, markdown emphasis and code,
//! quotes, brackets around the whole answer, and a leading label ("Answer:", "The
//! answer is", "Final answer -").

use super::WRAPPER_LAYERS_MAX;

/// JSON keys that hold the answer, most specific first, compared without case,
/// spaces, '_' or '-'.
const ANSWER_KEYS: [&str; 2] = ["finalanswer", "answer"];

/// Delimiters that wrap a whole answer and never appear inside it: the inner text
/// must not contain the closing one ("\"a\" or \"b\"" is no quoted answer).
const ENCLOSERS: [(&str, &str); 17] = [
    ("$$", "$$"),
    ("\\(", "\\)"),
    ("\\[", "\\]"),
    ("**", "**"),
    ("__", "__"),
    ("*", "*"),
    ("_", "_"),
    ("`", "`"),
    ("$", "$"),
    ("\"", "\""),
    ("'", "'"),
    ("\u{201c}", "\u{201d}"),
    ("\u{2018}", "\u{2019}"),
    ("\u{ab}", "\u{bb}"),
    ("\u{201e}", "\u{201c}"),
    ("\u{2039}", "\u{203a}"),
    ("\u{300c}", "\u{300d}"),
];

/// Brackets around the whole answer: the opening one must close at the very end.
/// Braces are left alone: a JSON object without an answer field is no wrapper.
const BRACKETS: [(char, char); 2] = [('(', ')'), ('[', ']')];

/// The answer inside its wrappers, trimmed. Text without wrappers comes back trimmed
/// and otherwise unchanged (trailing punctuation included).
pub(super) fn unwrap(text: &str) -> String {
    let mut current = text.trim().to_owned();
    for _ in 0..WRAPPER_LAYERS_MAX {
        match peel(&current) {
            Some(inner) => current = inner.trim().to_owned(),
            None => break,
        }
    }
    current
}

/// Longest answer, in bytes, whose enclosing delimiters (brackets, quotes, emphasis,
/// `\boxed{}`) are peeled. Checking that a pair wraps the whole answer costs a pass
/// over it, per layer; a longer answer is prose, whose delimiters exact keys fold away
/// anyway, and a hostile nest of them then costs nothing.
pub(super) const ENCLOSED_BYTES_MAX: usize = 4 * 1024;

/// One layer off, if there is one.
fn peel(text: &str) -> Option<String> {
    // "**Rome**." and "(Paris)!" are wrapped answers ending a sentence.
    let core = text.trim_end_matches(|c: char| matches!(c, '.' | '!' | ';' | ',') || c.is_whitespace());
    let short = core.len() <= ENCLOSED_BYTES_MAX;
    json_answer(core)
        .or_else(|| fenced(core).map(str::to_owned))
        .or_else(|| boxed(core).filter(|_| short).map(str::to_owned))
        .or_else(|| enclosed(core).filter(|_| short).map(str::to_owned))
        .or_else(|| bracketed(core).filter(|_| short).map(str::to_owned))
        .or_else(|| after_label(text).map(str::to_owned))
}

/// The answer field of a JSON object (`{"answer": "Rome"}`, `{"final_answer": 42}`).
/// Text that is no JSON object, or has no such field, gives `None`.
fn json_answer(text: &str) -> Option<String> {
    if !(text.starts_with('{') && text.ends_with('}')) {
        return None;
    }
    // serde_json bounds its recursion, so hostile nesting is an error, not a crash.
    let serde_json::Value::Object(fields) = serde_json::from_str::<serde_json::Value>(text).ok()? else {
        return None;
    };
    let squash = |key: &str| -> String {
        key.chars().filter(|c| !matches!(c, '_' | '-' | ' ')).flat_map(char::to_lowercase).collect()
    };
    ANSWER_KEYS.iter().find_map(|wanted| {
        fields.iter().find(|(key, _)| squash(key) == *wanted).and_then(|(_, value)| match value {
            serde_json::Value::String(answer) => Some(answer.clone()),
            serde_json::Value::Number(number) => Some(number.to_string()),
            serde_json::Value::Bool(flag) => Some(flag.to_string()),
            _ => None,
        })
    })
}

/// The inside of a code fence, without its language tag.
fn fenced(text: &str) -> Option<&str> {
    let inner = text.strip_prefix("```")?.strip_suffix("```")?;
    match inner.split_once('\n') {
        Some((tag, rest)) if !tag.trim().contains(char::is_whitespace) => Some(rest),
        _ => Some(inner),
    }
}

/// The inside of `\boxed{...}` (or `\fbox{...}`) spanning the whole text.
fn boxed(text: &str) -> Option<&str> {
    let inner = text.strip_prefix("\\boxed{").or_else(|| text.strip_prefix("\\fbox{"))?.strip_suffix('}')?;
    balanced(inner, '{', '}').then_some(inner)
}

/// The inside of a delimiter pair that wraps the whole text.
fn enclosed(text: &str) -> Option<&str> {
    ENCLOSERS.iter().find_map(|(open, close)| {
        let inner = text.strip_prefix(open)?.strip_suffix(close)?;
        (!inner.trim().is_empty() && !inner.contains(close) && !inner.contains(open)).then_some(inner)
    })
}

/// The inside of brackets that wrap the whole text.
fn bracketed(text: &str) -> Option<&str> {
    BRACKETS.iter().find_map(|&(open, close)| {
        let inner = text.strip_prefix(open)?.strip_suffix(close)?;
        (!inner.trim().is_empty() && balanced(inner, open, close)).then_some(inner)
    })
}

/// Whether `open` and `close` pair up in `text` without ever closing more than opened.
fn balanced(text: &str, open: char, close: char) -> bool {
    let mut depth = 0usize;
    for character in text.chars() {
        if character == open {
            depth += 1;
        } else if character == close {
            match depth.checked_sub(1) {
                Some(d) => depth = d,
                None => return false,
            }
        }
    }
    depth == 0
}

/// The text after a leading label: optional "the"/"my"/"our", optional
/// "final"/"correct"/"right"/"best", "answer", then "is" / "would be" / "will be" /
/// "should be" and/or one of ':' '—' '–' or a hyphen with spaces around it. At least the verb or the separator must
/// be there ("Answer Records" keeps its first word), and something must follow.
fn after_label(text: &str) -> Option<&str> {
    let mut rest = text;
    for optional in [&["the", "my", "our"][..], &["final", "correct", "right", "best"][..]] {
        if let Some(after) = optional.iter().find_map(|w| word_prefix(rest, w)) {
            rest = after;
        }
    }
    rest = word_prefix(rest, "answer")?;
    let mut announced = false;
    for verb in [&["is"][..], &["would", "be"], &["will", "be"], &["should", "be"]] {
        if let Some(after) = verb.iter().try_fold(rest, |at, w| word_prefix(at, w)) {
            rest = after;
            announced = true;
            break;
        }
    }
    let trimmed = rest.trim_start();
    if let Some(after) = trimmed.strip_prefix([':', '\u{2014}', '\u{2013}']) {
        rest = after;
        announced = true;
    } else if let Some(after) = trimmed.strip_prefix('-')
        && trimmed.len() < rest.len()
        && after.starts_with(char::is_whitespace)
    {
        // A spaced hyphen ("Answer - C"); "Answer -3" and "answer-x" are no labels.
        rest = after;
        announced = true;
    }
    let rest = rest.trim_start();
    (announced && !rest.is_empty()).then_some(rest)
}

/// `text` after the word `word` (ASCII, any case) and the white space before it, if
/// it starts with that word as a whole word.
fn word_prefix<'a>(text: &'a str, word: &str) -> Option<&'a str> {
    let text = text.trim_start();
    let head = text.get(..word.len())?;
    let rest = &text[word.len()..];
    (head.eq_ignore_ascii_case(word) && !rest.starts_with(char::is_alphanumeric)).then_some(rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peels_every_wrapper() {
        assert_eq!(unwrap("Answer: C"), "C");
        assert_eq!(unwrap("The answer is C."), "C.");
        assert_eq!(unwrap("Final answer - C"), "C");
        assert_eq!(unwrap(r#"{"answer": "Rome"}"#), "Rome");
        assert_eq!(unwrap(r#"{"final_answer": 42, "confidence": 0.9}"#), "42");
        assert_eq!(unwrap("**Rome**."), "Rome");
        assert_eq!(unwrap("`Rome`"), "Rome");
        assert_eq!(unwrap("\u{201c}Rome\u{201d}"), "Rome");
        assert_eq!(unwrap("$\\boxed{C}$"), "C");
        assert_eq!(unwrap("```json\n{\"answer\": \"Rome\"}\n```"), "Rome");
        assert_eq!(unwrap("(Answer: **Paris**)"), "Paris");
    }

    #[test]
    fn leaves_what_is_not_wrapped() {
        assert_eq!(unwrap("\"a\" or \"b\""), "\"a\" or \"b\"");
        assert_eq!(unwrap("(a) and (b)"), "(a) and (b)");
        assert_eq!(unwrap("Answer Records"), "Answer Records");
        assert_eq!(unwrap("Answer:"), "Answer:");
        assert_eq!(unwrap(r#"{"answer": [1, 2]}"#), r#"{"answer": [1, 2]}"#);
        assert_eq!(unwrap("{not json"), "{not json");
        assert_eq!(unwrap("  Paris is lovely.  "), "Paris is lovely.");
    }

    #[test]
    fn long_answers_keep_their_enclosing_delimiters() {
        let long = format!("({})", "word ".repeat(ENCLOSED_BYTES_MAX / 5 + 1));
        assert_eq!(unwrap(&long), long.trim());
        assert_eq!(unwrap(&format!("Answer: {long}")), long.trim(), "labels are peeled at any length");
    }

    #[test]
    fn hostile_nesting_neither_crashes_nor_loops() {
        let deep = format!("{}x{}", "[".repeat(1_000), "]".repeat(1_000));
        assert_eq!(unwrap(&deep).len(), deep.len() - 2 * WRAPPER_LAYERS_MAX, "peeled up to the layer limit");
        let json = format!("{}{}", "{\"answer\":".repeat(500), "}".repeat(500));
        assert!(json.contains(&unwrap(&json)));
    }
}
