//! Cardinal number words: "nineteen", "one hundred and five", "two thousand and
//! twenty", "a dozen", "two point five", up to trillions.

use super::tokens::Token;

/// "zero" to "nineteen".
const SMALL: [&str; 20] = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
];
/// "twenty" to "ninety", from 20 in steps of 10.
const TENS: [&str; 8] = ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"];

/// What a number word means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum NumberWord {
    /// "zero" to "nineteen".
    Small(u8),
    /// "twenty" to "ninety".
    Tens(u8),
    /// "hundred" (2), "thousand" (3), "million" (6), "billion" (9), "trillion" (12),
    /// singular or plural: the power of ten.
    Scale(i32),
    /// "dozen", "dozens".
    Dozen,
}

impl NumberWord {
    /// The meaning of the lower-case word `word`, if it is a number word.
    pub(super) fn of(word: &str) -> Option<Self> {
        if let Some(position) = SMALL.iter().position(|w| *w == word) {
            return Some(Self::Small(position as u8));
        }
        if let Some(position) = TENS.iter().position(|w| *w == word) {
            return Some(Self::Tens(20 + 10 * position as u8));
        }
        match word.strip_suffix('s').unwrap_or(word) {
            "hundred" => Some(Self::Scale(2)),
            "thousand" => Some(Self::Scale(3)),
            "million" => Some(Self::Scale(6)),
            "billion" => Some(Self::Scale(9)),
            "trillion" => Some(Self::Scale(12)),
            "dozen" => Some(Self::Dozen),
            _ => None,
        }
    }
}

/// The power of ten of a scale word ("thousand" is 3).
pub(super) fn scale_exponent(token: &Token) -> Option<i32> {
    match token.number_word()? {
        NumberWord::Scale(exponent) => Some(exponent),
        _ => None,
    }
}

/// The value of "zero" to "nineteen".
fn small(token: &Token) -> Option<u8> {
    match token.number_word()? {
        NumberWord::Small(value) => Some(value),
        _ => None,
    }
}

/// A number read from words.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct WordNumber {
    /// Its value.
    pub value: f64,
    /// The index just past its last token.
    pub end: usize,
    /// The lone word "one", as often a pronoun ("one of them") as a number.
    pub lone_one: bool,
}

/// What the previous word was, which decides what may follow.
#[derive(Clone, Copy, PartialEq)]
enum Last {
    Start,
    /// "a" before a scale word or "dozen".
    Article,
    Unit,
    Teen,
    Tens,
    Hundred,
    Scale(i32),
    And,
}

/// Reads the cardinal starting at `start`, if a number word starts there.
pub(super) fn read(tokens: &[Token], start: usize) -> Option<WordNumber> {
    let mut total = 0.0_f64;
    let mut current = 0.0_f64;
    let mut last = Last::Start;
    let mut smallest_scale = i32::MAX;
    let mut index = start;
    let mut end = start;
    while let Some(token) = tokens.get(index) {
        let Some(word) = token.word() else { break };
        // Words of one number are spaced, or hyphenated between tens and units.
        if index > start && !token.space_before && !tokens[index - 1].is_symbol('-') {
            break;
        }
        let next = match (word, last) {
            ("a", Last::Start) if next_is_multiplier(tokens, index + 1) => Last::Article,
            ("and", Last::Hundred | Last::Scale(_)) if next_is_small_or_tens(tokens, index + 1) => Last::And,
            _ => match token.number_word().and_then(|m| step(m, last, &mut total, &mut current, &mut smallest_scale)) {
                Some(next) => next,
                None => break,
            },
        };
        last = next;
        index += 1;
        if !matches!(last, Last::Article | Last::And) {
            end = index;
        }
        // "twenty-one": the hyphen joins tens and a unit, nothing else.
        if last == Last::Tens
            && tokens.get(index).is_some_and(|t| t.is_symbol('-') && t.glued())
            && tokens.get(index + 1).is_some_and(|t| t.glued() && small(t).is_some_and(|v| (1..10).contains(&v)))
        {
            index += 1;
        }
    }
    if end == start {
        return None;
    }
    let mut value = total + current;
    let lone_one = end == start + 1 && tokens[start].is_word("one");
    if let Some((fraction, after)) = read_point(tokens, end) {
        value += fraction;
        end = after;
    }
    Some(WordNumber { value, end, lone_one })
}

/// Applies one number word; `None` when it cannot continue the number.
fn step(meaning: NumberWord, last: Last, total: &mut f64, current: &mut f64, smallest_scale: &mut i32) -> Option<Last> {
    let after_unit = matches!(last, Last::Unit | Last::Teen | Last::Tens | Last::Article);
    match meaning {
        NumberWord::Small(value) => {
            let unit = (1..10).contains(&value);
            let allowed = matches!(last, Last::Start | Last::Hundred | Last::Scale(_) | Last::And)
                || (unit && last == Last::Tens);
            if !allowed || (value == 0 && last != Last::Start) {
                return None;
            }
            *current += f64::from(value);
            Some(if value < 10 { Last::Unit } else { Last::Teen })
        }
        NumberWord::Tens(value) => {
            if !matches!(last, Last::Start | Last::Hundred | Last::Scale(_) | Last::And) {
                return None;
            }
            *current += f64::from(value);
            Some(Last::Tens)
        }
        NumberWord::Dozen if after_unit => {
            *current = current.max(1.0) * 12.0;
            Some(Last::Unit)
        }
        NumberWord::Scale(2) if after_unit => {
            *current = current.max(1.0) * 100.0;
            Some(Last::Hundred)
        }
        NumberWord::Scale(exponent)
            if exponent > 2 && (after_unit || last == Last::Hundred) && exponent < *smallest_scale =>
        {
            *total += current.max(1.0) * 10f64.powi(exponent);
            *current = 0.0;
            *smallest_scale = exponent;
            Some(Last::Scale(exponent))
        }
        _ => None,
    }
}

fn next_is_multiplier(tokens: &[Token], index: usize) -> bool {
    tokens
        .get(index)
        .and_then(Token::number_word)
        .is_some_and(|m| matches!(m, NumberWord::Dozen | NumberWord::Scale(_)))
}

fn next_is_small_or_tens(tokens: &[Token], index: usize) -> bool {
    tokens
        .get(index)
        .and_then(Token::number_word)
        .is_some_and(|m| matches!(m, NumberWord::Small(_) | NumberWord::Tens(_)))
}

/// "point seven five" after a cardinal: the decimal digits, spoken one by one.
fn read_point(tokens: &[Token], index: usize) -> Option<(f64, usize)> {
    if !tokens.get(index)?.is_word("point") {
        return None;
    }
    let mut fraction = 0.0;
    let mut scale = 0.1;
    let mut end = index + 1;
    while let Some(digit) = tokens.get(end).and_then(small).filter(|&d| d < 10) {
        fraction += f64::from(digit) * scale;
        scale /= 10.0;
        end += 1;
    }
    (end > index + 1).then_some((fraction, end))
}

#[cfg(test)]
mod tests {
    use super::super::tokens::{lowered_words, tokenise};
    use super::*;

    fn value(text: &str) -> Option<f64> {
        let chars: Vec<char> = text.chars().collect();
        let lowered = lowered_words(&chars);
        let tokens = tokenise(&chars, &lowered);
        read(&tokens, 0).filter(|n| n.end == tokens.len()).map(|n| n.value)
    }

    #[test]
    fn reads_cardinals() {
        assert_eq!(value("nineteen"), Some(19.0));
        assert_eq!(value("twenty-one"), Some(21.0));
        assert_eq!(value("one hundred and five"), Some(105.0));
        assert_eq!(value("two thousand and twenty"), Some(2020.0));
        assert_eq!(value("three million four hundred thousand"), Some(3_400_000.0));
        assert_eq!(value("a dozen"), Some(12.0));
        assert_eq!(value("two dozen"), Some(24.0));
        assert_eq!(value("a hundred"), Some(100.0));
        assert_eq!(value("five trillion"), Some(5e12));
        assert_eq!(value("zero"), Some(0.0));
    }

    #[test]
    fn stops_where_the_number_stops() {
        let chars: Vec<char> = "one two three".chars().collect();
        let lowered = lowered_words(&chars);
        let tokens = tokenise(&chars, &lowered);
        assert_eq!(read(&tokens, 0).unwrap().end, 1, "a list is three numbers");
        assert_eq!(value("thousand million"), None);
        assert_eq!(value("a cat"), None);
        let one: Vec<char> = "one of them".chars().collect();
        let lowered = lowered_words(&one);
        assert!(read(&tokenise(&one, &lowered), 0).unwrap().lone_one);
    }

    #[test]
    fn reads_spoken_decimals() {
        let got = value("two point seven five").unwrap();
        assert!((got - 2.75).abs() < 1e-12);
    }
}
