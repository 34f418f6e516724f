//! Splitting an answer into the words, numbers and boundaries a claim is read from.
//!
//! One pass over the text, no allocation per word beyond one reused buffer: answers
//! may be 64 KiB and a decision may hold a thousand of them.

use super::lexicon::{self, Entry};
use super::word_hash;

/// What a token is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    Word,
    Number,
    /// A comma, parenthesis or dash: ends the argument of a relation.
    Clause,
    /// `.`, `!`, `?`, `;`, `:` or a line break: also ends a sentence.
    Sentence,
}

/// How a word is capitalised.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Shape {
    /// No capital letter.
    Lower,
    /// A capital first letter, not all capitals ("Paris").
    Capitalised,
    /// A capital after the first letter ("iPhone", "eBay").
    Inner,
    /// Two or more letters, all capitals ("NASA", "CO2").
    Acronym,
    /// One capital letter alone ("A", "I").
    Letter,
}

/// One token.
#[derive(Clone, Copy, Debug)]
pub(super) struct Token {
    pub(super) kind: Kind,
    /// Words: [`word_hash`] of the lower-cased word. Numbers: [`number_key`].
    pub(super) hash: u64,
    /// Numbers: the value read.
    pub(super) value: f64,
    pub(super) entry: Option<&'static Entry>,
    pub(super) shape: Shape,
    /// The first word or number of a sentence.
    pub(super) sentence_start: bool,
    /// A contraction ending in "n't".
    pub(super) negated: bool,
}

impl Token {
    fn boundary(kind: Kind) -> Self {
        Self { kind, hash: 0, value: 0.0, entry: None, shape: Shape::Lower, sentence_start: false, negated: false }
    }

    pub(super) fn is_boundary(&self) -> bool {
        matches!(self.kind, Kind::Clause | Kind::Sentence)
    }

    /// The word's lexicon entry, when it is a word the lists name.
    pub(super) fn is_word(&self, word: &str) -> bool {
        self.kind == Kind::Word && self.entry.is_some_and(|e| e.word == word)
    }
}

/// The key of a number: equal values give equal keys (`3.0` is `3`, `-0` is `0`).
pub(super) fn number_key(value: f64) -> u64 {
    let value = if value == 0.0 { 0.0 } else { value };
    super::mix(value.to_bits() ^ 0x6e75_6d62_6572) // "number"
}

/// The tokens of `text`, in order.
pub(super) fn tokens(text: &str) -> Vec<Token> {
    let mut tokens: Vec<Token> = Vec::with_capacity(text.len() / 5 + 1);
    let mut word = String::with_capacity(32);
    let mut sentence_start = true;
    let mut index = 0;
    while let Some(character) = char_at(text, index) {
        if character.is_alphabetic() {
            let (end, token) = read_word(text, index, sentence_start, &mut word);
            tokens.push(token);
            sentence_start = false;
            index = end;
        } else if character.is_ascii_digit() {
            let (end, value) = read_number(text, index);
            let value = if is_negative_sign_before(text, index) { -value } else { value };
            tokens.push(Token {
                kind: Kind::Number,
                hash: number_key(value),
                value,
                entry: None,
                shape: Shape::Lower,
                sentence_start,
                negated: false,
            });
            sentence_start = false;
            index = end;
        } else {
            let next = char_at(text, index + character.len_utf8());
            let boundary = match character {
                // A point or colon between characters ("e.g", "10:30") ends nothing.
                '.' | ':' if next.is_some_and(char::is_alphanumeric) => None,
                '.' | '!' | '?' | ';' | ':' | '\n' => Some(Kind::Sentence),
                ',' | '(' | ')' | '[' | ']' | '\u{2013}' | '\u{2014}' => Some(Kind::Clause),
                _ => None,
            };
            if let Some(kind) = boundary {
                push_boundary(&mut tokens, kind);
                sentence_start |= kind == Kind::Sentence;
            }
            index += character.len_utf8();
        }
    }
    tokens
}

fn char_at(text: &str, index: usize) -> Option<char> {
    text.get(index..).and_then(|rest| rest.chars().next())
}

/// Boundaries in a row collapse into the strongest.
fn push_boundary(tokens: &mut Vec<Token>, kind: Kind) {
    match tokens.last_mut() {
        Some(last) if last.is_boundary() => {
            if kind == Kind::Sentence {
                last.kind = Kind::Sentence;
            }
        }
        _ => tokens.push(Token::boundary(kind)),
    }
}

/// Reads the word at `start` (letters and digits, and an apostrophe between letters),
/// lower-cased into `word`.
fn read_word(text: &str, start: usize, sentence_start: bool, word: &mut String) -> (usize, Token) {
    word.clear();
    let (mut letters, mut capitals, mut first_capital) = (0usize, 0usize, false);
    let mut apostrophe = None;
    let mut index = start;
    while let Some(character) = char_at(text, index) {
        let is_apostrophe = matches!(character, '\'' | '\u{2019}');
        if is_apostrophe {
            let next = char_at(text, index + character.len_utf8());
            if !next.is_some_and(char::is_alphabetic) {
                break;
            }
            apostrophe.get_or_insert(word.len());
            word.push('\'');
        } else if character.is_alphanumeric() {
            if character.is_alphabetic() {
                letters += 1;
                if character.is_uppercase() {
                    capitals += 1;
                    first_capital |= index == start;
                }
            }
            if character.is_ascii() {
                word.push(character.to_ascii_lowercase());
            } else {
                word.extend(character.to_lowercase());
            }
        } else {
            break;
        }
        index += character.len_utf8();
    }
    let mut negated = false;
    if let Some(at) = apostrophe {
        if word.ends_with("n't") {
            negated = true;
        } else {
            // "France's", "it's", "they're": the word before the apostrophe.
            word.truncate(at);
        }
    }
    let shape = if letters == 1 && capitals == 1 {
        Shape::Letter
    } else if letters >= 2 && capitals == letters {
        Shape::Acronym
    } else if first_capital {
        Shape::Capitalised
    } else if capitals > 0 {
        Shape::Inner
    } else {
        Shape::Lower
    };
    let hash = word_hash(word.as_bytes());
    let entry = if word.len() <= LONGEST_LISTED_WORD { lexicon::lookup(hash, word) } else { None };
    let token = Token { kind: Kind::Word, hash, value: 0.0, entry, shape, sentence_start, negated };
    (index, token)
}

/// Longer words are not looked up: no list holds one ("counterclockwise" is 16).
const LONGEST_LISTED_WORD: usize = 16;

/// Reads the number at `start`: digits, thousands groups of exactly three digits after
/// a lead of one to three (`1,234,567`), and a decimal part. Letters glued after it are
/// a unit or suffix and are skipped (`5km`, `3rd`, `1990s`).
fn read_number(text: &str, start: usize) -> (usize, f64) {
    let bytes = text.as_bytes();
    let digit = |i: usize| bytes.get(i).is_some_and(u8::is_ascii_digit);
    let mut literal = String::with_capacity(16);
    let mut index = start;
    while digit(index) {
        literal.push(char::from(bytes[index]));
        index += 1;
    }
    if (1..=3).contains(&literal.len()) {
        while bytes.get(index) == Some(&b',') && (1..=3).all(|k| digit(index + k)) && !digit(index + 4) {
            literal.push_str(&text[index + 1..index + 4]);
            index += 4;
        }
    }
    if bytes.get(index) == Some(&b'.') && digit(index + 1) {
        literal.push('.');
        index += 1;
        while digit(index) {
            literal.push(char::from(bytes[index]));
            index += 1;
        }
    }
    while let Some(character) = char_at(text, index) {
        if !character.is_alphanumeric() {
            break;
        }
        index += character.len_utf8();
    }
    // Digits and one point always parse; a run too long for f64 becomes infinity,
    // which is still one distinct value.
    (index, literal.parse().unwrap_or(f64::INFINITY))
}

/// A minus sign right before the number, itself not inside a word or range ("-5",
/// "−5", but not "5-3" or "COVID-19").
fn is_negative_sign_before(text: &str, start: usize) -> bool {
    let mut before = text[..start].chars().rev();
    matches!(before.next(), Some('-' | '\u{2212}')) && !before.next().is_some_and(char::is_alphanumeric)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<Kind> {
        tokens(text).iter().map(|t| t.kind).collect()
    }

    #[test]
    fn words_numbers_and_boundaries() {
        use Kind::*;
        assert_eq!(kinds("Paris, 1,000.5km. Then"), vec![Word, Clause, Number, Sentence, Word]);
        let numbers: Vec<f64> = tokens("1,234 and -5 and 5-3 and 3.50 and e.g. 10:30")
            .iter()
            .filter(|t| t.kind == Number)
            .map(|t| t.value)
            .collect();
        assert_eq!(numbers, vec![1234.0, -5.0, 5.0, 3.0, 3.5, 10.0, 30.0]);
    }

    #[test]
    fn shapes_and_sentence_starts() {
        let found = tokens("Paris is in France. NASA uses an iPhone, says I.");
        let shapes: Vec<(Shape, bool)> =
            found.iter().filter(|t| t.kind == Kind::Word).map(|t| (t.shape, t.sentence_start)).collect();
        assert_eq!(
            shapes,
            vec![
                (Shape::Capitalised, true),
                (Shape::Lower, false),
                (Shape::Lower, false),
                (Shape::Capitalised, false),
                (Shape::Acronym, true),
                (Shape::Lower, false),
                (Shape::Lower, false),
                (Shape::Inner, false),
                (Shape::Lower, false),
                (Shape::Letter, false),
            ]
        );
    }

    #[test]
    fn apostrophes() {
        let found = tokens("France's capital isn't Lyon’s");
        assert_eq!(found[0].hash, word_hash(b"france"));
        assert!(found[2].negated);
        assert_eq!(found[3].hash, word_hash(b"lyon"));
    }

    #[test]
    fn arbitrary_text_never_panics() {
        for text in ["", "'", "’s", "-", "−9", "1,", "1.", "9".repeat(400).as_str(), "é\u{301}1,00", "\u{10ffff}a1"]
        {
            let _ = tokens(text);
        }
    }
}
