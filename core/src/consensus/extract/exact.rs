//! Exact keys: NFKC and case folding, white space and sentence punctuation folded,
//! symbols that carry meaning kept, wrappers and announcements removed, yes/no read
//! as its polarity.

use std::borrow::Cow;

use super::WRAPPER_LAYERS_MAX;
use super::normal::{fold_case, normalise};
use super::polarity::polarity;
use super::unwrap::unwrap;

/// Leading words that never change a short answer's meaning ("the Pacific" is
/// "Pacific"); an article alone is the answer ("a" to a multiple-choice question).
const ARTICLES: [&str; 3] = ["the", "a", "an"];
/// Words that may stand before "answer" in an announcement ("my final answer").
const ANNOUNCER_WORDS: [&str; 7] = ["the", "my", "our", "final", "correct", "right", "best"];

/// A folded word (a range of [`Words::buffer`]) and the punctuation that followed it.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Word {
    start: usize,
    end: usize,
    /// A ':' or a dash followed it (announces what comes next: "Answer: C").
    colon_after: bool,
    /// Any folded punctuation mark followed it ("Yes, ...", "No. ...").
    pause_after: bool,
}

/// The folded words of an answer: their text in one buffer, no allocation per word.
#[derive(Debug)]
struct Words {
    buffer: String,
    list: Vec<Word>,
}

impl Words {
    fn text(&self, index: usize) -> Option<&str> {
        self.list.get(index).map(|w| &self.buffer[w.start..w.end])
    }

    fn is(&self, index: usize, word: &str) -> bool {
        self.text(index) == Some(word)
    }

    fn len(&self) -> usize {
        self.list.len()
    }

    /// The words joined by single spaces.
    fn joined(&self) -> String {
        let mut key = String::with_capacity(self.buffer.len() + self.list.len());
        for (index, word) in self.list.iter().enumerate() {
            if index > 0 {
                key.push(' ');
            }
            key.push_str(&self.buffer[word.start..word.end]);
        }
        key
    }
}

/// The exact key of `text`, or `None` when nothing is left.
pub(super) fn key(text: &str) -> Option<String> {
    // Invisible format characters (zero-width space and joiners, word joiner, byte
    // order mark, soft hyphen) join what they stand between ("Pa\u{200b}ris" is
    // Paris). They go first: before NFKC, which must compose what they separated
    // ("i\u{feff}\u{301}" is "í"), and before folding looks at neighbours.
    let visible: Cow<'_, str> = if text.is_ascii() || !text.chars().any(is_invisible) {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(text.chars().filter(|&c| !is_invisible(c)).collect())
    };
    let unwrapped = unwrap(&normalise(&visible));
    let mut words = fold(&fold_case(&unwrapped));
    // Every rule shortens the words; at most WRAPPER_LAYERS_MAX apply, each a pass over
    // the words, so hostile chains ("the $the $the ...") stay linear. A polarity is
    // read last: an announcement may stand before it ("The answer is: yes, it is").
    for _ in 0..WRAPPER_LAYERS_MAX {
        let changed = strip_dollars(&mut words)
            || cut_after_announcement(&mut words)
            || strip_leading_answer(&mut words)
            || drop_leading_article(&mut words);
        if !changed {
            break;
        }
    }
    if let Some(key) = read_polarity(&words) {
        return Some(key.to_owned());
    }
    (words.len() > 0).then(|| words.joined())
}

fn is_invisible(character: char) -> bool {
    matches!(character, '\u{200b}'..='\u{200d}' | '\u{2060}' | '\u{feff}' | '\u{ad}')
}

/// Folds case-folded text into words. Kept inside words: letters and digits, '.'
/// and ',' between digits (a decimal separator; a ',' before exactly three digits is
/// a thousands separator and dropped, so "1,000" is "1000"), a '-' touching a letter
/// or digit on one side only or between digits ("B-", "-3", "5-3", "COVID-19"), and
/// every symbol that is no punctuation ('+', '#', '%', '$', '/', '=', ...). Folded:
/// white space and control characters, sentence punctuation (. , ; : ! ? …), dashes
/// between words, quotes, brackets, markdown ('*', '_', '`', '~'), '\' and '|';
/// invisible format characters (zero-width space, joiners, soft hyphen) vanish. A hyphen between two letters
/// separates words ("well-known" is "well known").
fn fold(text: &str) -> Words {
    let chars: Vec<char> = text.chars().collect();
    let mut words = Words { buffer: String::with_capacity(text.len()), list: Vec::new() };
    let mut start = 0;
    let flush = |words: &mut Words, start: &mut usize| {
        let end = words.buffer.len();
        if end > *start {
            words.list.push(Word { start: *start, end, colon_after: false, pause_after: false });
        }
        *start = end;
    };
    for (index, &character) in chars.iter().enumerate() {
        let previous = index.checked_sub(1).map(|i| chars[i]);
        let next = chars.get(index + 1).copied();
        let digits_around = previous.is_some_and(|c| c.is_ascii_digit()) && next.is_some_and(|c| c.is_ascii_digit());
        match classify(character, previous, next, digits_around, &chars[index + 1..]) {
            Action::Keep => words.buffer.push(character),
            Action::KeepAs(replacement) => words.buffer.push(replacement),
            Action::Drop => {}
            Action::Space => flush(&mut words, &mut start),
            Action::Pause { colon } => {
                flush(&mut words, &mut start);
                if let Some(last) = words.list.last_mut() {
                    last.pause_after = true;
                    last.colon_after |= colon;
                }
            }
        }
    }
    flush(&mut words, &mut start);
    words
}

/// What folding does with one character.
enum Action {
    Keep,
    KeepAs(char),
    Drop,
    Space,
    Pause { colon: bool },
}

fn is_dash(character: char) -> bool {
    matches!(character, '-' | '\u{2212}' | '\u{2010}' | '\u{2011}')
}

fn classify(character: char, previous: Option<char>, next: Option<char>, digits_around: bool, rest: &[char]) -> Action {
    if character.is_alphanumeric() {
        return Action::Keep;
    }
    if character.is_whitespace() || character.is_control() {
        return Action::Space;
    }

    match character {
        '.' if digits_around => Action::Keep,
        ',' if digits_around => {
            let group = rest.iter().take_while(|c| c.is_ascii_digit()).count();
            if group == 3 { Action::Drop } else { Action::Keep }
        }
        c if is_dash(c) => {
            let letter = |c: Option<char>| c.is_some_and(char::is_alphabetic);
            let alphanumeric = |c: Option<char>| c.is_some_and(char::is_alphanumeric);
            if letter(previous) && letter(next) {
                Action::Space
            } else if alphanumeric(previous) || alphanumeric(next) || signs_an_amount(rest) {
                Action::KeepAs('-')
            } else {
                Action::Pause { colon: true }
            }
        }
        ':' | '\u{2014}' | '\u{2013}' => Action::Pause { colon: true },
        '.' | ',' | ';' | '!' | '?' | '\u{bf}' | '\u{a1}' | '\u{2026}' => Action::Pause { colon: false },
        '"' | '\'' | '`' | '\u{201c}' | '\u{201d}' | '\u{2018}' | '\u{2019}' | '\u{ab}' | '\u{bb}' | '\u{201e}'
        | '\u{2039}' | '\u{203a}' | '\u{300c}' | '\u{300d}' | '(' | ')' | '[' | ']' | '{' | '}' | '*' | '_' | '~'
        | '\\' | '|' | '\u{2022}' | '\u{b7}' => Action::Space,
        _ => Action::Keep,
    }
}

/// "-$40": a minus before a currency symbol and digits is the amount's sign.
fn signs_an_amount(rest: &[char]) -> bool {
    matches!(rest, [currency, digit, ..] if matches!(currency, '$' | '€' | '£' | '¥' | '₹' | '₩') && digit.is_ascii_digit())
}

/// "$x$" (LaTeX math) is "x". A lone "$" or "$$" stays.
fn strip_dollars(words: &mut Words) -> bool {
    let wrapped = words.text(0).is_some_and(|w| w.starts_with('$'))
        && words.text(words.len().wrapping_sub(1)).is_some_and(|w| w.ends_with('$'));
    let length: usize = words.list.iter().map(|w| w.end - w.start).sum();
    if !wrapped || length <= 2 {
        return false;
    }
    // '$' is one byte: the ranges stay on character boundaries.
    words.list[0].start += 1;
    let last = words.len() - 1;
    words.list[last].end -= 1;
    words.list.retain(|w| w.end > w.start);
    true
}

/// The words after an announcement of the answer, where it ends an answer's
/// announcement: after the last "final answer", "answer:", "answer is", "answer =",
/// "answer equals", "answer would/will/should be" ("I think the answer is Paris").
fn cut_after_announcement(words: &mut Words) -> bool {
    let start = (0..words.len()).rev().find_map(|i| {
        if !words.is(i, "answer") {
            return None;
        }
        let verb_end = match (words.text(i + 1), words.text(i + 2)) {
            (Some("is" | "equals" | "="), _) => Some(i + 2),
            (Some("would" | "will" | "should" | "must"), Some("be")) => Some(i + 3),
            _ => None,
        };
        let announced = words.list[i].colon_after || (i > 0 && words.is(i - 1, "final"));
        let from = verb_end.or(announced.then_some(i + 1))?;
        (from < words.len()).then_some(from)
    });
    match start {
        Some(from) => {
            words.list.drain(..from);
            true
        }
        None => false,
    }
}

/// A leading "answer" (after "the", "my", "final" ...), as in "Answer C" or "**Answer**
/// C", when something follows it.
fn strip_leading_answer(words: &mut Words) -> bool {
    let announcers =
        (0..words.len()).take_while(|&i| words.text(i).is_some_and(|w| ANNOUNCER_WORDS.contains(&w))).count();
    if words.is(announcers, "answer") && announcers + 1 < words.len() {
        words.list.drain(..=announcers);
        return true;
    }
    false
}

fn drop_leading_article(words: &mut Words) -> bool {
    if words.len() > 1 && words.text(0).is_some_and(|w| ARTICLES.contains(&w)) {
        words.list.remove(0);
        return true;
    }
    false
}

/// "Yes, it is legal" is "yes"; "No it is not" is "no" (see [`super::polarity`]).
fn read_polarity(words: &Words) -> Option<&'static str> {
    let first_two: Vec<&str> = (0..words.len().min(2)).filter_map(|i| words.text(i)).collect();
    polarity(&first_two, words.list.first().is_some_and(|w| w.pause_after))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(text: &str) -> String {
        key(text).unwrap_or_default()
    }

    #[test]
    fn folds_case_space_punctuation_and_articles() {
        assert_eq!(k("  The  Pacific Ocean! "), "pacific ocean");
        assert_eq!(k("Paris."), "paris");
        assert_eq!(k("PARIS"), k("paris"));
        assert_eq!(k("well-known"), "well known");
        assert_eq!(k("A"), "a", "an article alone is the answer");
    }

    #[test]
    fn normalises_unicode() {
        assert_eq!(k("Cafe\u{301}"), k("Caf\u{e9}"));
        assert_eq!(k("\u{ff30}\u{ff41}\u{ff52}\u{ff49}\u{ff53}"), "paris");
        assert_eq!(k("STRASSE"), k("Stra\u{df}e"));
        assert_eq!(k("F\u{266f}"), "f#");
    }

    #[test]
    fn keeps_symbols_that_carry_meaning() {
        assert_ne!(k("B+"), k("B-"));
        assert_ne!(k("B+"), k("B"));
        assert_ne!(k("B-"), k("B"));
        assert_ne!(k("F#"), k("F"));
        assert_eq!(k("C++"), "c++");
        assert_ne!(k("2,5"), k("25"));
        assert_ne!(k("3.5"), k("35"));
        assert_eq!(k("1,000"), k("1000"));
        assert_eq!(k("-3"), "-3");
        assert_eq!(k("3.5."), "3.5");
        assert_ne!(k("-$40"), k("$40"));
        assert_eq!(k("6.1 \u{d7} 10\u{2074}"), k("6.1 \u{d7} 10^4"));
        assert_eq!(k("1\u{bd}"), "1 1/2");
    }

    #[test]
    fn removes_wrappers_and_announcements() {
        for text in ["Answer: C", "The answer is C.", "Final answer: C", "**C**", "`C`", "\\boxed{C}", "\"C\"", "(C)"] {
            assert_eq!(k(text), "c", "{text}");
        }
        assert_eq!(k(r#"{"answer": "Rome"}"#), "rome");
        assert_eq!(k("Let me think. Rome is old. Final answer: Rome"), "rome");
        assert_eq!(k("**Answer** Rome"), "rome");
        assert_eq!(k("Answer - C"), "c");
        // Regression (found by the idempotence property): "answer-" glued to a symbol
        // was a label to the unwrapper but a word to the folding, so the key of the
        // key differed from the key.
        let glued = "answer\u{2212}\u{3347a}";
        assert_eq!(k(&k(glued)), k(glued));
    }

    #[test]
    fn reads_polarity() {
        for text in ["Yes, it is.", "yes", "Yes \u{2014} it is legal", "Yes!", "True", "Correct."] {
            assert_eq!(k(text), "yes", "{text}");
        }
        for text in ["No, it is not legal", "no.", "False", "No it isn't"] {
            assert_eq!(k(text), "no", "{text}");
        }
        assert_eq!(k("No one knows"), "no one knows");
        assert_eq!(k("Yes and no"), "yes and no");
        assert_eq!(k("Incorrect, the answer is B"), "b", "the announced answer wins over a leading word");
    }

    #[test]
    fn hostile_chains_stay_linear() {
        let chain = format!("{}x$", "the $".repeat(10_000));
        assert!(key(&chain).is_some());
        let answers = format!("{}Rome", "answer ".repeat(10_000));
        assert!(key(&answers).is_some());
    }

    #[test]
    fn empty_and_punctuation_only_fold_to_nothing() {
        assert_eq!(key(""), None);
        assert_eq!(key("?!..."), None);
        assert_eq!(key("** **"), None);
        assert_eq!(key("\u{1}\u{2}"), None, "control characters are no answer");
        assert_eq!(k("Pa\u{200b}ris"), "paris");
        // Regression (found by the idempotence property): a dropped invisible character
        // once left "answer-" glued, which the key of the key read as "answer x".
        let glued = "final answer-\u{feff}x";
        assert_eq!(k(&k(glued)), k(glued));
        assert_eq!(k("i\u{feff}\u{301}"), "\u{ed}", "NFKC composes what an invisible character split");
    }
}
