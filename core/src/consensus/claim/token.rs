//! Splitting an answer into the words, numbers and boundaries that both the claim
//! signature and the similarity sketch are read from, in one pass.
//!
//! Answers may be 64 KiB and a decision may hold a thousand of them, so the common
//! case (a run of ASCII letters and digits) is scanned as a slice, lower-cased into a
//! stack buffer and hashed a word at a time; anything else takes a character-wise path
//! with the same result.

use super::lexicon::{self, Entry};
use super::{short_word_hash, word_hash};

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

/// One token of a claim.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Token {
    pub(super) kind: Kind,
    pub(super) shape: Shape,
    /// The first word or number of a sentence.
    pub(super) sentence_start: bool,
    /// A contraction ending in "n't".
    pub(super) negated: bool,
    /// Words: [`word_hash`] of the lower-cased word. Numbers: the value's bits.
    bits: u64,
    pub(super) entry: Option<&'static Entry>,
}

impl Token {
    fn boundary(kind: Kind) -> Self {
        Self { kind, shape: Shape::Lower, sentence_start: false, negated: false, bits: 0, entry: None }
    }

    pub(super) fn is_boundary(&self) -> bool {
        matches!(self.kind, Kind::Clause | Kind::Sentence)
    }

    /// Whether this is the listed word `word`.
    pub(super) fn is_word(&self, word: &str) -> bool {
        self.kind == Kind::Word && self.entry.is_some_and(|e| e.word == word)
    }

    /// A number's value (0 for other tokens).
    pub(super) fn value(&self) -> f64 {
        if self.kind == Kind::Number { f64::from_bits(self.bits) } else { 0.0 }
    }

    /// What identifies the token: a word's hash, a number's [`number_key`].
    pub(super) fn key(&self) -> u64 {
        match self.kind {
            Kind::Number => number_key(self.value()),
            _ => self.bits,
        }
    }
}

/// The key of a number: equal values give equal keys (`3.0` is `3`, `-0` is `0`).
pub(super) fn number_key(value: f64) -> u64 {
    let value = if value == 0.0 { 0.0 } else { value };
    super::mix(value.to_bits() ^ 0x6e75_6d62_6572) // "number"
}

/// Byte classes of ASCII: a table lookup instead of a chain of comparisons, on every
/// byte of up to 64 MiB of answers.
const ALPHABETIC: u8 = 1;
const DIGIT: u8 = 2;
/// Also the bit that lower-cases an ASCII capital.
const CAPITAL: u8 = 0x20;
const CLASSES: [u8; 256] = {
    let mut classes = [0u8; 256];
    let mut byte = 0;
    while byte < 128 {
        let b = byte as u8;
        if b.is_ascii_lowercase() {
            classes[byte] = ALPHABETIC;
        } else if b.is_ascii_uppercase() {
            classes[byte] = ALPHABETIC | CAPITAL;
        } else if b.is_ascii_digit() {
            classes[byte] = DIGIT;
        }
        byte += 1;
    }
    classes
};

/// Reads `text` into `tokens` (cleared first), and hands every word (lower-cased) and
/// every number (as written, without thousands separators), with its [`word_hash`],
/// to `on_word`. With `lookup` false the lexicon is not consulted (the similarity
/// sketch alone needs none of it).
#[inline]
pub(crate) fn read(text: &str, tokens: &mut Vec<Token>, lookup: bool, on_word: &mut impl FnMut(&[u8], u64)) {
    tokens.clear();
    let bytes = text.as_bytes();
    let mut sentence_start = true;
    let mut buffer = Vec::with_capacity(64);
    let mut index = 0;
    while index < bytes.len() {
        let byte = bytes[index];
        let class = CLASSES[usize::from(byte)];
        if class & ALPHABETIC != 0 || (!byte.is_ascii() && char_at(text, index).is_alphanumeric()) {
            let (end, token, word) = read_word(text, index, sentence_start, lookup, &mut buffer);
            on_word(word, token.bits);
            tokens.push(token);
            sentence_start = false;
            index = end;
        } else if class & DIGIT != 0 {
            let (end, value) = read_number(text, index, &mut buffer);
            let value = if is_negative_sign_before(text, index) { -value } else { value };
            on_word(&buffer, word_hash(&buffer));
            tokens.push(Token {
                kind: Kind::Number,
                shape: Shape::Lower,
                sentence_start,
                negated: false,
                bits: value.to_bits(),
                entry: None,
            });
            sentence_start = false;
            index = end;
        } else if byte == b' ' {
            index += 1;
        } else {
            let character = char_at(text, index);
            let next = index + character.len_utf8();
            let next_is_alphanumeric = next < bytes.len() && char_at(text, next).is_alphanumeric();
            let boundary = match character {
                // A point or colon between characters ("e.g", "10:30") ends nothing.
                '.' | ':' if next_is_alphanumeric => None,
                '.' | '!' | '?' | ';' | ':' | '\n' => Some(Kind::Sentence),
                ',' | '(' | ')' | '[' | ']' | '\u{2013}' | '\u{2014}' => Some(Kind::Clause),
                _ => None,
            };
            if let Some(kind) = boundary {
                push_boundary(tokens, kind);
                sentence_start |= kind == Kind::Sentence;
            }
            index = next;
        }
    }
}

/// The character at byte `index` (on a character boundary, `< text.len()`): ASCII
/// without decoding.
fn char_at(text: &str, index: usize) -> char {
    let byte = text.as_bytes()[index];
    if byte.is_ascii() { char::from(byte) } else { text[index..].chars().next().expect("on a boundary") }
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

/// Letters and capitals counted while a word is read.
#[derive(Default)]
struct Case {
    letters: usize,
    capitals: usize,
    first_capital: bool,
}

impl Case {
    fn shape(&self) -> Shape {
        if self.capitals == 0 {
            Shape::Lower
        } else if self.letters == 1 && self.capitals == 1 {
            Shape::Letter
        } else if self.letters >= 2 && self.capitals == self.letters {
            Shape::Acronym
        } else if self.first_capital {
            Shape::Capitalised
        } else {
            Shape::Inner
        }
    }
}

/// Reads the word at `start` (letters and digits, and an apostrophe between letters);
/// returns where it ends, its token and its lower-cased bytes (the text itself when it
/// is already lower-case ASCII, else `buffer`). Inlined: returned through memory, its
/// token would stall the loop on every word.
#[inline(always)]
fn read_word<'a>(
    text: &'a str,
    start: usize,
    sentence_start: bool,
    lookup: bool,
    buffer: &'a mut Vec<u8>,
) -> (usize, Token, &'a [u8]) {
    let bytes = text.as_bytes();
    if let Some(found) = read_ascii(bytes, start) {
        let end = start + found.length;
        let short = found.length < 8;
        let word: &'a [u8] = if found.shape == Shape::Lower {
            &bytes[start..end]
        } else {
            buffer.clear();
            if short {
                buffer.extend_from_slice(&found.short.to_le_bytes()[..found.length]);
            } else {
                buffer.extend(bytes[start..end].iter().map(u8::to_ascii_lowercase));
            }
            buffer.as_slice()
        };
        let hash = if short { short_word_hash(found.short, found.length) } else { word_hash(word) };
        let entry = if lookup && word.len() <= LONGEST_LISTED_WORD { lexicon::lookup(hash, word) } else { None };
        let token = Token { kind: Kind::Word, shape: found.shape, sentence_start, negated: false, bits: hash, entry };
        return (end, token, word);
    }
    // Longer words: ASCII letters and digits up to a space or punctuation; one scan
    // over the class table, and no copy at all for a lower-case word.
    let mut end = start;
    let mut classes = 0;
    while end < bytes.len() {
        let class = CLASSES[usize::from(bytes[end])];
        if class & (ALPHABETIC | DIGIT) == 0 {
            break;
        }
        classes |= class;
        end += 1;
    }
    let ends_cleanly = end == bytes.len() || (bytes[end].is_ascii() && bytes[end] != b'\'');
    let mut case = Case::default();
    let mut slow = false;
    let (end, word): (usize, &'a [u8]) = if ends_cleanly && classes & CAPITAL == 0 {
        (end, &bytes[start..end])
    } else if ends_cleanly {
        let run = &bytes[start..end];
        buffer.clear();
        buffer.extend(run.iter().map(|&b| b | (CLASSES[usize::from(b)] & CAPITAL)));
        case.letters = run.iter().filter(|&&b| CLASSES[usize::from(b)] & ALPHABETIC != 0).count();
        case.capitals = run.iter().filter(|&&b| CLASSES[usize::from(b)] & CAPITAL != 0).count();
        case.first_capital = CLASSES[usize::from(run[0])] & CAPITAL != 0;
        (end, buffer.as_slice())
    } else {
        buffer.clear();
        slow = true;
        let end = read_word_slowly(text, start, buffer, &mut case);
        (end, buffer.as_slice())
    };
    let mut negated = false;
    let mut word = word;
    // Only the character-wise path takes apostrophes in.
    if slow && let Some(at) = word.iter().position(|&b| b == b'\'') {
        if word.ends_with(b"n't") {
            negated = true;
        } else {
            // "France's", "it's", "they're": the word before the apostrophe.
            word = &word[..at];
        }
    }
    let hash = word_hash(word);
    let entry = if lookup && word.len() <= LONGEST_LISTED_WORD { lexicon::lookup(hash, word) } else { None };
    let token = Token { kind: Kind::Word, shape: case.shape(), sentence_start, negated, bits: hash, entry };
    (end, token, word)
}

/// A word of ASCII letters and digits, ended by an ASCII byte other than an
/// apostrophe: most words of most answers.
struct Ascii {
    length: usize,
    /// A word shorter than eight bytes lower-cased, packed little-endian (else 0).
    short: u64,
    shape: Shape,
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// Bytes of `chunk` in `low..=high` (ASCII bounds), as the high bit of each byte; only
/// for bytes below 0x80 (no carry crosses a byte: both sums stay below 0x100).
const fn in_range(chunk: u64, low: u8, high: u8) -> u64 {
    let at_least = chunk.wrapping_add((0x80 - low as u64) * ONES);
    let above = chunk.wrapping_add((0x7f - high as u64) * ONES);
    at_least & !above & HIGHS
}

/// Reads the [`Ascii`] word at `start` eight bytes at a time (bit tricks on one integer
/// instead of a loop over bytes), as long as eight bytes remain. The shape comes from
/// the masks without counting bits (the baseline instruction set has no popcount).
#[inline(always)]
fn read_ascii(bytes: &[u8], start: usize) -> Option<Ascii> {
    let (mut any_capital, mut any_lower, mut first_capital) = (false, false, false);
    // 0, 1, or 2 for "two or more" letters.
    let mut letters_seen = 0u8;
    let mut offset = start;
    loop {
        let chunk_bytes: [u8; 8] = bytes.get(offset..offset + 8)?.try_into().ok()?;
        let chunk = u64::from_le_bytes(chunk_bytes);
        let ascii = !chunk & HIGHS;
        let low7 = chunk & !HIGHS;
        let mut letters = in_range(low7 | (0x20 * ONES), b'a', b'z') & ascii;
        let digits = in_range(low7, b'0', b'9') & ascii;
        let mut capitals = in_range(low7, b'A', b'Z') & ascii;
        let stops = !(letters | digits) & HIGHS;
        let first = offset == start;
        if first {
            first_capital = capitals & 0x80 != 0;
        }
        let within = if stops == 0 { 8 } else { (stops.trailing_zeros() / 8) as usize };
        if within < 8 {
            let next = chunk_bytes[within];
            if (first && within == 0) || !next.is_ascii() || next == b'\'' {
                return None;
            }
            let kept_highs = ((1u64 << (8 * within)) - 1) & HIGHS;
            letters &= kept_highs;
            capitals &= kept_highs;
        }
        any_capital |= capitals != 0;
        any_lower |= letters & !capitals != 0;
        if letters != 0 {
            letters_seen = if letters & (letters - 1) != 0 { 2 } else { (letters_seen + 1).min(2) };
        }
        if within == 8 {
            offset += 8;
            continue;
        }
        let shape = if !any_capital {
            Shape::Lower
        } else if letters_seen == 1 {
            Shape::Letter
        } else if !any_lower {
            Shape::Acronym
        } else if first_capital {
            Shape::Capitalised
        } else {
            Shape::Inner
        };
        // A capital's high bit shifted down two is its 0x20 lower-case bit.
        let short = if first { (chunk | (capitals >> 2)) & ((1u64 << (8 * within)) - 1) } else { 0 };
        return Some(Ascii { length: offset - start + within, short, shape });
    }
}

/// [`read_word`] character by character: non-ASCII letters, apostrophes.
fn read_word_slowly(text: &str, start: usize, word: &mut Vec<u8>, case: &mut Case) -> usize {
    let bytes = text.as_bytes();
    let mut index = start;
    while index < bytes.len() {
        let character = char_at(text, index);
        let width = character.len_utf8();
        if matches!(character, '\'' | '\u{2019}') {
            if !(index + width < bytes.len() && char_at(text, index + width).is_alphabetic()) {
                break;
            }
            word.push(b'\'');
        } else if character.is_alphanumeric() {
            if character.is_alphabetic() {
                case.letters += 1;
                if character.is_uppercase() {
                    case.capitals += 1;
                    case.first_capital |= index == start;
                }
            }
            let mut encoded = [0u8; 4];
            for lower in character.to_lowercase() {
                word.extend_from_slice(lower.encode_utf8(&mut encoded).as_bytes());
            }
        } else {
            break;
        }
        index += width;
    }
    index
}

/// Longer words are not looked up: no list holds one ("counterclockwise" is 16).
const LONGEST_LISTED_WORD: usize = 16;

/// Reads the number at `start`: digits, thousands groups of exactly three digits after
/// a lead of one to three (`1,234,567`), and a decimal part; its digits go to
/// `literal`. Letters glued after it are a unit or suffix and are skipped (`5km`,
/// `3rd`, `1990s`).
fn read_number(text: &str, start: usize, literal: &mut Vec<u8>) -> (usize, f64) {
    let bytes = text.as_bytes();
    let digit = |i: usize| bytes.get(i).is_some_and(u8::is_ascii_digit);
    literal.clear();
    let mut index = start;
    while digit(index) {
        literal.push(bytes[index]);
        index += 1;
    }
    if (1..=3).contains(&literal.len()) {
        while bytes.get(index) == Some(&b',') && (1..=3).all(|k| digit(index + k)) && !digit(index + 4) {
            literal.extend_from_slice(&bytes[index + 1..index + 4]);
            index += 4;
        }
    }
    if bytes.get(index) == Some(&b'.') && digit(index + 1) {
        literal.push(b'.');
        index += 1;
        while digit(index) {
            literal.push(bytes[index]);
            index += 1;
        }
    }
    let value = decimal_value(literal);
    while index < bytes.len() {
        let character = char_at(text, index);
        if !character.is_alphanumeric() {
            break;
        }
        index += character.len_utf8();
    }
    (index, value)
}

/// The value of ASCII digits with at most one point. Up to 15 digits, exactly as
/// parsing would give it (an integer below 2^53 divided by an exact power of ten: one
/// correctly rounded operation, as the parse) without the parse; longer runs are
/// parsed, and a run too long for `f64` becomes infinity, still one distinct value.
fn decimal_value(literal: &[u8]) -> f64 {
    const POWERS: [f64; 16] = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];
    let digits = literal.iter().filter(|b| b.is_ascii_digit()).count();
    if digits <= 15 {
        let mut mantissa = 0u64;
        let mut fraction_digits = None;
        for &byte in literal {
            if byte == b'.' {
                fraction_digits = Some(0);
            } else {
                mantissa = mantissa * 10 + u64::from(byte - b'0');
                fraction_digits = fraction_digits.map(|n| n + 1);
            }
        }
        return mantissa as f64 / POWERS[fraction_digits.unwrap_or(0)];
    }
    core::str::from_utf8(literal).ok().and_then(|s| s.parse().ok()).unwrap_or(f64::INFINITY)
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

    fn tokens(text: &str) -> Vec<Token> {
        let mut tokens = Vec::new();
        read(text, &mut tokens, true, &mut |_, _| {});
        tokens
    }

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
            .map(Token::value)
            .collect();
        assert_eq!(numbers, vec![1234.0, -5.0, 5.0, 3.0, 3.5, 10.0, 30.0]);
    }

    #[test]
    fn words_handed_on_are_lower_case_and_numbers_plain() {
        let mut words = Vec::new();
        read("Zürich's 1,000 CATS isn't", &mut Vec::new(), false, &mut |word, hash| {
            assert_eq!(hash, word_hash(word));
            words.push(String::from_utf8(word.to_vec()).unwrap());
        });
        assert_eq!(words, vec!["zürich", "1000", "cats", "isn't"]);
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
    fn short_words_read_eight_bytes_at_once_match_the_long_way() {
        // Every word shape around the eight-byte boundary, in every case mix, ended by
        // every kind of byte.
        let words = [
            "a",
            "Ab",
            "abc",
            "ABCD",
            "aBcDe",
            "x1y2z3",
            "Paris12",
            "abcdefg",
            "abcdefgh",
            "Zürich",
            "it's",
            "Constantinople",
            "ABCDEFGHIJKLMNOPQRSTUVWX",
            "abcdefghijklmnopq1",
            "pneumonoultramicroscopic",
        ];
        for word in words {
            for end in [" ", ".", ",", "'", "’", "é", "", "        "] {
                let text = format!("{word}{end}        ");
                let mut handed = Vec::new();
                let found = {
                    let mut tokens = Vec::new();
                    read(&text, &mut tokens, true, &mut |w, h| handed.push((w.to_vec(), h)));
                    tokens
                };
                let (lower, hash) = &handed[0];
                assert_eq!(*hash, word_hash(lower), "{text:?}");
                assert_eq!(found[0].key(), *hash);
                let expected: String = word.split('\'').next().unwrap().to_lowercase();
                if !end.starts_with('\'') && !end.starts_with('’') && end != "é" {
                    assert_eq!(String::from_utf8(lower.clone()).unwrap(), expected, "{text:?}");
                }
            }
        }
        let found = read_ascii(b"NASA uses", 0).unwrap();
        assert_eq!((found.length, found.shape), (4, Shape::Acronym));
        let found = read_ascii(b"Paris is", 0).unwrap();
        assert_eq!((found.length, found.shape), (5, Shape::Capitalised));
        let found = read_ascii(b"ConstantinopleX2 is a city", 0).unwrap();
        assert_eq!((found.length, found.shape), (16, Shape::Capitalised));
        let found = read_ascii(b"ABCDEFGHIJKLMNOPQ is an acronym", 0).unwrap();
        assert_eq!((found.length, found.shape), (17, Shape::Acronym));
        let found = read_ascii(b"B2 is it", 0).unwrap();
        assert_eq!((found.length, found.shape), (2, Shape::Letter));
        assert!(read_ascii(b"abcdefgh", 0).is_none(), "no end within the bytes left");
        assert!(read_ascii(b"abc", 0).is_none(), "fewer than eight bytes left");
    }

    /// Words as the character-wise path alone reads them.
    fn words_the_slow_way(text: &str) -> Vec<(Vec<u8>, Shape)> {
        let mut words = Vec::new();
        let mut index = 0;
        while index < text.len() {
            let character = char_at(text, index);
            if character.is_alphabetic() {
                let (mut word, mut case) = (Vec::new(), Case::default());
                index = read_word_slowly(text, index, &mut word, &mut case);
                if let Some(at) = word.iter().position(|&b| b == b'\'')
                    && !word.ends_with(b"n't")
                {
                    word.truncate(at);
                }
                words.push((word, case.shape()));
            } else if character.is_ascii_digit() {
                index = read_number(text, index, &mut Vec::new()).0;
            } else {
                index += character.len_utf8();
            }
        }
        words
    }

    #[test]
    fn the_fast_paths_read_what_the_slow_path_reads() {
        let pieces =
            ["Paris", "is", "NASA", "iPhone", "a", "I", "Constantinople", "x1", "9", "don't", "It's", "Zürich"];
        let ends = [" ", ". ", ", ", "'", "-", "é ", "\n", ""];
        let mut state = 3u64;
        for _ in 0..2_000 {
            let mut text = String::new();
            for _ in 0..(state % 9) {
                state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
                text.push_str(pieces[(state >> 33) as usize % pieces.len()]);
                text.push_str(ends[(state >> 45) as usize % ends.len()]);
            }
            state = state.wrapping_add(1);
            let mut fast = Vec::new();
            let mut tokens = Vec::new();
            read(&text, &mut tokens, true, &mut |word, _| fast.push(word.to_vec()));
            let shapes: Vec<Shape> = tokens.iter().filter(|t| t.kind == Kind::Word).map(|t| t.shape).collect();
            let slow = words_the_slow_way(&text);
            let words: Vec<Vec<u8>> = fast.into_iter().filter(|w| !w[0].is_ascii_digit()).collect();
            assert_eq!(words, slow.iter().map(|(w, _)| w.clone()).collect::<Vec<_>>(), "{text:?}");
            assert_eq!(shapes, slow.iter().map(|(_, s)| *s).collect::<Vec<_>>(), "{text:?}");
        }
    }

    #[test]
    fn numbers_read_without_parsing_are_the_parsed_values() {
        let mut state = 11u64;
        for _ in 0..20_000 {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            let digits = 1 + (state >> 60) as usize;
            let point = (state >> 20) as usize % (digits + 1);
            let mut literal: Vec<u8> = (0..digits).map(|k| b'0' + ((state >> (k * 3)) % 10) as u8).collect();
            if point < digits && point > 0 {
                literal.insert(point, b'.');
            }
            let parsed: f64 = std::str::from_utf8(&literal).unwrap().parse().unwrap();
            assert_eq!(decimal_value(&literal).to_bits(), parsed.to_bits(), "{:?}", std::str::from_utf8(&literal));
        }
        assert_eq!(decimal_value(b"1234567890123456789"), 1_234_567_890_123_456_789.0);
    }

    #[test]
    fn apostrophes() {
        let found = tokens("France's capital isn't Lyon’s");
        assert_eq!(found[0].key(), word_hash(b"france"));
        assert!(found[2].negated);
        assert_eq!(found[3].key(), word_hash(b"lyon"));
    }

    #[test]
    fn arbitrary_text_never_panics() {
        for text in
            ["", "'", "’s", "-", "−9", "1,", "1.", "9".repeat(400).as_str(), "é\u{301}1,00", "\u{10ffff}a1", "a'"]
        {
            let _ = tokens(text);
        }
    }
}
