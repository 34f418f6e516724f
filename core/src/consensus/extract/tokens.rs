//! Splitting normalised text into numbers, words and symbols, for numeric reading.
//!
//! Digits become one [`Literal`] each: a thousands-grouped run ("1,234", "45 000"),
//! a decimal ("3.5", ".5", the decimal comma "2,5"), an exponent ("1e3"). Everything
//! that joins several literals (fractions, scale words, "× 10^3", signs) is left to
//! the reader, which sees the tokens around a literal.

use super::words::NumberWord;

/// One literal run of digits.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Literal {
    /// Its value (infinite when it overflows `f64`).
    pub value: f64,
    /// Digits only: no separator, decimal or exponent ("2019", "10").
    pub plain: bool,
    /// Digits before any separator.
    pub lead_digits: usize,
    /// Several dots ("1.2.3", "03.05.2019"): a version, an address or a date, no value.
    pub dotted: bool,
    /// Glued after a letter ("h2o", "mp3", the "10" of "2.5x10^3").
    pub in_word: bool,
}

/// What a token is.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Kind<'a> {
    /// A run of digits.
    Number(Literal),
    /// A run of letters.
    Word(Word<'a>),
    /// Any other character that is not white space.
    Symbol(char),
}

/// A word in lower case (borrowed from the text [`lowered_words`] builds), with what
/// it means as a number.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Word<'a> {
    lower: &'a str,
    /// Its first letter was a capital (which tells "3M", millions, from "3m", metres).
    capital: bool,
    /// Its meaning as a number word, found once here rather than at every look.
    number: Option<NumberWord>,
}

/// Appends `letter` in lower case (ASCII first: the Unicode case table is a search).
fn push_lower(letter: char, lowered: &mut String) {
    if letter.is_ascii() {
        lowered.push(letter.to_ascii_lowercase());
    } else {
        lowered.extend(letter.to_lowercase());
    }
}

/// How many bytes `letter` takes in lower case (as [`push_lower`] writes it).
fn lower_length(letter: char) -> usize {
    if letter.is_ascii() { 1 } else { letter.to_lowercase().map(char::len_utf8).sum() }
}

/// The letters of every word of `chars` in lower case, one word after another: the
/// text that [`tokenise`]'s words borrow, so that no word costs an allocation.
pub(super) fn lowered_words(chars: &[char]) -> String {
    let mut lowered = String::new();
    for &character in chars {
        if character.is_alphabetic() {
            push_lower(character, &mut lowered);
        }
    }
    lowered
}

/// A token and what separates it from the one before.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Token<'a> {
    /// What it is.
    pub kind: Kind<'a>,
    /// White space stands between it and the token before.
    pub space_before: bool,
    /// It is the first token of a line.
    pub line_start: bool,
}

impl<'a> Token<'a> {
    /// The lower-case word, if this is one.
    pub fn word(&self) -> Option<&'a str> {
        match &self.kind {
            Kind::Word(word) => Some(word.lower),
            _ => None,
        }
    }

    /// The number word this is, if it is one.
    pub fn number_word(&self) -> Option<NumberWord> {
        match &self.kind {
            Kind::Word(word) => word.number,
            _ => None,
        }
    }

    /// Whether this is a cardinal number word (or a scale word, or "dozen").
    pub fn is_cardinal(&self) -> bool {
        self.number_word().is_some()
    }

    /// Whether this is a word whose first letter is a capital.
    pub fn is_capitalised(&self) -> bool {
        matches!(&self.kind, Kind::Word(word) if word.capital)
    }

    /// The symbol, if this is one.
    pub fn symbol(&self) -> Option<char> {
        match self.kind {
            Kind::Symbol(c) => Some(c),
            _ => None,
        }
    }

    /// The literal, if this is one.
    pub fn literal(&self) -> Option<&Literal> {
        match &self.kind {
            Kind::Number(literal) => Some(literal),
            _ => None,
        }
    }

    /// Whether this is the word `word` (lower case).
    pub fn is_word(&self, word: &str) -> bool {
        self.word() == Some(word)
    }

    /// Whether this is the symbol `symbol`.
    pub fn is_symbol(&self, symbol: char) -> bool {
        self.symbol() == Some(symbol)
    }

    /// Whether this token follows the one before without white space.
    pub fn glued(&self) -> bool {
        !self.space_before
    }
}

/// The tokens of `chars` (already normalised: NFKC, ASCII digits, '/' for fraction
/// slashes, plain spaces); their words borrow from `lowered`, which must be
/// [`lowered_words`] of the same `chars`.
pub(super) fn tokenise<'a>(chars: &[char], lowered: &'a str) -> Vec<Token<'a>> {
    // About one token per four characters of prose; a guess, not a bound.
    let mut tokens = Vec::with_capacity(chars.len() / 4 + 1);
    // One buffer for every literal's text, reused.
    let mut literal = String::new();
    let mut cursor = 0;
    let mut index = 0;
    let mut space_before = false;
    let mut line_start = true;
    while index < chars.len() {
        let character = chars[index];
        if character.is_whitespace() {
            space_before = true;
            line_start |= matches!(character, '\n' | '\r' | '\u{2028}' | '\u{2029}');
            index += 1;
            continue;
        }
        let (kind, end) = if starts_number(chars, index) {
            let (kind, end) = read_literal(chars, index, &mut literal);
            // An exponent's 'e' is a letter that `lowered_words` wrote too.
            cursor += chars[index..end].iter().filter(|c| c.is_alphabetic()).map(|&c| lower_length(c)).sum::<usize>();
            (kind, end)
        } else if character.is_alphabetic() {
            let end = index + chars[index..].iter().take_while(|c| c.is_alphabetic()).count();
            let length: usize = chars[index..end].iter().map(|&c| lower_length(c)).sum();
            // Built from the same letters in the same order: the slice is this word.
            let lower = lowered.get(cursor..cursor + length).unwrap_or_default();
            cursor += length;
            let word = Word { lower, capital: character.is_uppercase(), number: NumberWord::of(lower) };
            (Kind::Word(word), end)
        } else {
            (Kind::Symbol(character), index + 1)
        };
        tokens.push(Token { kind, space_before, line_start });
        space_before = false;
        line_start = false;
        index = end;
    }
    // Every letter of `lowered` went to exactly one token: the words are aligned.
    debug_assert_eq!(cursor, lowered.len(), "words misaligned with their lower case");
    tokens
}

fn digit_at(chars: &[char], index: usize) -> bool {
    chars.get(index).is_some_and(char::is_ascii_digit)
}

/// Exactly three digits at `index`, then no fourth.
fn group_of_three_at(chars: &[char], index: usize) -> bool {
    (0..3).all(|k| digit_at(chars, index + k)) && !digit_at(chars, index + 3)
}

fn starts_number(chars: &[char], index: usize) -> bool {
    if digit_at(chars, index) {
        return true;
    }
    // ".5" is a number; the ".3" of "1.2.3" was already taken by the literal before.
    chars[index] == '.'
        && digit_at(chars, index + 1)
        && !index.checked_sub(1).is_some_and(|i| chars[i].is_ascii_digit() || chars[i] == '.')
}

/// Reads the literal starting at `start`; returns it and the index just past it.
fn read_literal(chars: &[char], start: usize, text: &mut String) -> (Kind<'static>, usize) {
    let at = |i: usize| chars.get(i).copied();
    text.clear();
    let mut index = start;
    while digit_at(chars, index) {
        text.push(chars[index]);
        index += 1;
    }
    let lead_digits = text.len();
    let grouped = if (1..=3).contains(&lead_digits) { read_groups(chars, &mut index, text) } else { false };
    let mut plain = !grouped;
    let mut dotted = false;
    if at(index) == Some('.') && digit_at(chars, index + 1) {
        if text.is_empty() {
            text.push('0');
        }
        text.push('.');
        index += 1;
        while digit_at(chars, index) {
            text.push(chars[index]);
            index += 1;
        }
        plain = false;
        // "1.2.3", "03.05.2019": a version, an address or a date.
        while at(index) == Some('.') && digit_at(chars, index + 1) {
            dotted = true;
            index += 1;
            while digit_at(chars, index) {
                index += 1;
            }
        }
    } else if !grouped && lead_digits > 0 && at(index) == Some(',') && digit_at(chars, index + 1) {
        // A decimal comma ("2,5"): one comma, not followed by exactly three digits
        // (a thousands group), and not an item of a list ("1,2,3").
        let after = chars[index + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
        let list_after = at(index + 1 + after) == Some(',') && digit_at(chars, index + 2 + after);
        let list_before = start >= 2 && chars[start - 1] == ',' && chars[start - 2].is_ascii_digit();
        if after != 3 && !list_after && !list_before {
            text.push('.');
            text.extend(&chars[index + 1..index + 1 + after]);
            index += 1 + after;
            plain = false;
        }
    }
    if !dotted && matches!(at(index), Some('e' | 'E')) {
        let signed = matches!(at(index + 1), Some('+' | '-'));
        let first = index + 1 + usize::from(signed);
        let digits = chars.get(first..).map_or(0, |rest| rest.iter().take_while(|c| c.is_ascii_digit()).count());
        // "3eggs" and "2e5x" are not exponents.
        if digits > 0 && !at(first + digits).is_some_and(char::is_alphabetic) {
            text.push('e');
            text.extend(&chars[index + 1..first + digits]);
            index = first + digits;
            plain = false;
        }
    }
    let in_word = start.checked_sub(1).is_some_and(|i| chars[i].is_alphabetic());
    // Well formed by construction; an overflow parses to infinity.
    let value = text.parse::<f64>().unwrap_or(f64::INFINITY);
    (Kind::Number(Literal { value, plain, lead_digits, dotted, in_word }), index)
}

/// Thousands groups after a lead of 1 to 3 digits: ",ddd" ("1,234,567") or, SI style,
/// " ddd" with a space ("45 000"; thin and no-break spaces are plain spaces after
/// NFKC). Each group is exactly three digits; the two styles never mix.
fn read_groups(chars: &[char], index: &mut usize, text: &mut String) -> bool {
    let mut grouped = false;
    while chars.get(*index) == Some(&',') && group_of_three_at(chars, *index + 1) {
        text.extend(&chars[*index + 1..*index + 4]);
        *index += 4;
        grouped = true;
    }
    if grouped {
        return true;
    }
    // A '/' after the group makes it the numerator of a mixed number ("1 100/200").
    while chars.get(*index) == Some(&' ') && group_of_three_at(chars, *index + 1) && chars.get(*index + 4) != Some(&'/')
    {
        text.extend(&chars[*index + 1..*index + 4]);
        *index += 4;
        grouped = true;
    }
    grouped
}

#[cfg(test)]
mod tests {
    use super::*;

    fn literals(text: &str) -> Vec<f64> {
        let chars: Vec<char> = text.chars().collect();
        let lowered = lowered_words(&chars);
        tokenise(&chars, &lowered).iter().filter_map(|t| t.literal().filter(|l| !l.dotted).map(|l| l.value)).collect()
    }

    #[test]
    fn reads_grouped_decimal_and_exponent_literals() {
        assert_eq!(literals("1,234,567.5"), vec![1_234_567.5]);
        assert_eq!(literals("45 000 people"), vec![45_000.0]);
        assert_eq!(literals("2,5"), vec![2.5]);
        assert_eq!(literals("2,50"), vec![2.5]);
        assert_eq!(literals(".5"), vec![0.5]);
        assert_eq!(literals("2.5e-3"), vec![0.0025]);
        assert_eq!(literals("3eggs"), vec![3.0]);
    }

    #[test]
    fn keeps_separate_numbers_apart() {
        assert_eq!(literals("1,2,3"), vec![1.0, 2.0, 3.0]);
        assert_eq!(literals("1234,567"), vec![1234.0, 567.0]);
        assert_eq!(literals("1 1/2"), vec![1.0, 1.0, 2.0]);
        assert_eq!(literals("12 34"), vec![12.0, 34.0]);
        assert_eq!(literals("1.2.3"), Vec::<f64>::new());
    }

    #[test]
    fn words_are_lower_case_slices() {
        let chars: Vec<char> =
            "Thousand \u{dc}n\u{ef}c\u{f6}d\u{e9} 3 \u{130}stanbul incomprehensibilities".chars().collect();
        let lowered = lowered_words(&chars);
        let tokens = tokenise(&chars, &lowered);
        assert_eq!(tokens[0].word(), Some("thousand"));
        assert!(tokens[0].is_capitalised());
        assert_eq!(tokens[0].number_word(), Some(NumberWord::Scale(3)));
        assert_eq!(tokens[1].word(), Some("\u{fc}n\u{ef}c\u{f6}d\u{e9}"));
        assert_eq!(tokens[3].word(), Some("i\u{307}stanbul"), "a lower case longer than its capital");
        assert_eq!(tokens[4].word(), Some("incomprehensibilities"));
        // Regression: the 'e' of an exponent once shifted every later word by a letter.
        let chars: Vec<char> = "1e3 Thousand 2E5 dozen".chars().collect();
        let lowered = lowered_words(&chars);
        let words: Vec<&str> = tokenise(&chars, &lowered).iter().filter_map(Token::word).collect();
        assert_eq!(words, ["thousand", "dozen"]);
    }

    #[test]
    fn marks_digits_inside_words_and_line_starts() {
        let chars: Vec<char> = "h2o\nx".chars().collect();
        let lowered = lowered_words(&chars);
        let tokens = tokenise(&chars, &lowered);
        assert!(tokens[1].literal().unwrap().in_word);
        assert!(tokens[3].line_start && tokens[3].is_word("x"));
    }
}
