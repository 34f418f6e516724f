//! Which number an answer commits to.
//!
//! 1. Every value in the text is read ([`super::reading`]).
//! 2. Each is weighed: *dropped* when it is a remark about something else
//!    ("confidence: 0.9", "90% sure", "rounded from 41.7", "not 41", "up from 40"),
//!    *weak* when it is likely not the answer (inside parentheses or brackets, a year
//!    after "as of", an ordinal, a step or list label, an operand of an arithmetic
//!    expression such as "5 + 3", the lone word "one"), *strong* otherwise.
//! 3. Explicit markers come first, the last one in the text winning: "final answer",
//!    "answer:", "answer is", "result is", "=", "≈", "equals", a `**bold**` span and
//!    `\boxed{}`. A marker takes the first strong value after it in its clause (else
//!    the first weak value that is no operand); a marker that takes none is ignored.
//! 4. Without a marker the strong values decide (the weak ones when there is no
//!    strong one): one distinct value is the answer (identical repeats are one value);
//!    two or more are ambiguous and the answer is not guessed. An expression with no
//!    result ("2 + 2") is ambiguous too: its operands are no answer.

use super::reading::{Reading, Scan, read_at};
use super::tokens::Token;
use super::{NumberValue, Unreadable};

/// How far past a marker its value may stand, in tokens ("Final answer: the total
/// cost is $42").
const MARKER_REACH_TOKENS: usize = 24;
/// Deepest nesting of parentheses tracked; deeper is still inside an aside.
const ASIDE_DEPTH_MAX: u32 = 1_000;

/// How much a value counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Weight {
    Strong,
    Weak,
    /// An operand of an arithmetic expression: weak, and never what a marker points to.
    Operand,
    Dropped,
}

/// A value with its weight.
struct Candidate {
    reading: Reading,
    weight: Weight,
}

/// A place after which the answer is announced.
struct Marker {
    /// Token index where the search for its value starts.
    from: usize,
    /// Token index where the search stops (exclusive).
    to: usize,
}

/// The number `tokens` commit to.
pub(super) fn number(tokens: &[Token]) -> Result<NumberValue, Unreadable> {
    let candidates = weigh(tokens, read_all(tokens));
    let markers = markers(tokens);
    // The last marker that points to a value wins.
    let pointer = Pointer::new(&candidates);
    if let Some(reading) = markers.iter().rev().find_map(|marker| pointer.marked(marker)) {
        return finite(reading);
    }
    let strong: Vec<&Reading> = candidates.iter().filter(|c| c.weight == Weight::Strong).map(|c| &c.reading).collect();
    let pool = if strong.is_empty() {
        let weak: Vec<&Candidate> =
            candidates.iter().filter(|c| matches!(c.weight, Weight::Weak | Weight::Operand)).collect();
        if let [first, second, ..] = weak[..]
            && weak.iter().all(|c| c.weight == Weight::Operand)
        {
            // Only operands: "2 + 2" states an expression, not its value.
            return Err(Unreadable::AmbiguousNumber { candidates: [first, second].map(|c| shown(&c.reading)) });
        }
        weak.into_iter().map(|c| &c.reading).collect()
    } else {
        strong
    };
    let mut distinct: Vec<NumberValue> = Vec::new();
    for reading in pool {
        // Out-of-range values all show as infinite, so they are one value here.
        let value = shown(reading);
        if !distinct.contains(&value) {
            distinct.push(value);
        }
        if let [first, second] = distinct[..] {
            return Err(Unreadable::AmbiguousNumber { candidates: [first, second] });
        }
    }
    match distinct.first() {
        Some(value) if value.value.is_finite() => Ok(*value),
        Some(_) => Err(Unreadable::OutOfRange),
        None => Err(Unreadable::NoNumber),
    }
}

/// NaN (out of range, as "1e999 × 10^-999") shown as infinite.
fn finite_or_infinite(value: f64) -> f64 {
    if value.is_nan() { f64::INFINITY } else { value }
}

/// A reading as reported in an ambiguity.
fn shown(reading: &Reading) -> NumberValue {
    NumberValue { value: finite_or_infinite(reading.value), percent: reading.percent }
}

fn finite(reading: &Reading) -> Result<NumberValue, Unreadable> {
    if reading.value.is_finite() {
        Ok(NumberValue { value: reading.value, percent: reading.percent })
    } else {
        Err(Unreadable::OutOfRange)
    }
}

/// Every value in the text, in order.
fn read_all(tokens: &[Token]) -> Vec<Reading> {
    let mut readings = Vec::new();
    let mut index = 0;
    while index < tokens.len() {
        match read_at(tokens, index) {
            Some(Scan::Value(reading)) => {
                index = reading.end.max(index + 1);
                readings.push(reading);
            }
            Some(Scan::Skip(end)) => index = end.max(index + 1),
            None => index += 1,
        }
    }
    readings
}

fn weigh(tokens: &[Token], readings: Vec<Reading>) -> Vec<Candidate> {
    let in_aside = asides(tokens);
    let mut candidates: Vec<Candidate> = readings
        .into_iter()
        .map(|reading| {
            let weight = if is_remark(tokens, &reading) {
                Weight::Dropped
            } else if in_aside[reading.first]
                || reading.lone_one
                || is_year_remark(tokens, &reading)
                || is_label(tokens, &reading)
            {
                Weight::Weak
            } else {
                Weight::Strong
            };
            Candidate { reading, weight }
        })
        .collect();
    for index in 1..candidates.len() {
        let (left, right) = (&candidates[index - 1].reading, &candidates[index].reading);
        if operator_between(tokens, left.end, right.first) {
            for candidate in &mut candidates[index - 1..=index] {
                if candidate.weight != Weight::Dropped {
                    candidate.weight = Weight::Operand;
                }
            }
        }
    }
    candidates
}

/// For each token, whether it stands inside parentheses or brackets.
fn asides(tokens: &[Token]) -> Vec<bool> {
    let mut depth = 0u32;
    tokens
        .iter()
        .map(|token| match token.symbol() {
            Some('(' | '[') => {
                let inside = depth > 0;
                depth = (depth + 1).min(ASIDE_DEPTH_MAX);
                inside
            }
            Some(')' | ']') => {
                depth = depth.saturating_sub(1);
                depth > 0
            }
            _ => depth > 0,
        })
        .collect()
}

/// The words before `index`, skipping symbols and the `filler` words, at most `reach`
/// tokens back.
fn word_before(tokens: &[Token], index: usize, reach: usize, filler: &[&str]) -> Option<usize> {
    let mut at = index;
    for _ in 0..reach {
        at = at.checked_sub(1)?;
        match tokens[at].word() {
            Some(word) if filler.contains(&word) => {}
            Some(_) => return Some(at),
            None if tokens[at].symbol().is_some_and(|c| !matches!(c, '.' | ';' | '!' | '?')) => {}
            None => return None,
        }
    }
    None
}

/// A value that is about something else than the answer.
fn is_remark(tokens: &[Token], reading: &Reading) -> bool {
    const FILLER: [&str; 12] = [
        "level",
        "score",
        "of",
        "is",
        "about",
        "around",
        "approximately",
        "roughly",
        "my",
        "at",
        "overall",
        "estimated",
    ];
    let before = word_before(tokens, reading.first, 5, &FILLER).and_then(|i| tokens[i].word());
    if before.is_some_and(|w| matches!(w, "confidence" | "certainty" | "confident" | "unrounded")) {
        return true;
    }
    let after = tokens.get(reading.end).and_then(Token::word);
    if after.is_some_and(|w| matches!(w, "confidence" | "confident" | "sure" | "certain" | "certainty")) {
        return true;
    }
    // "rounded from 41.7", "up from 40", "not 41", "instead of 41", "rather than 41".
    let previous = |back: usize| reading.first.checked_sub(back).and_then(|i| tokens[i].word());
    matches!(
        (previous(2), previous(1)),
        (Some("rounded" | "rounding" | "up" | "down"), Some("from"))
            | (Some("instead"), Some("of"))
            | (Some("rather"), Some("than"))
            | (_, Some("not"))
    )
}

/// A year given as the time of the answer, "as of 2019": weak, the answer only when
/// nothing else is. Other years stay strong ("Apollo 11 landed in 1969" states two
/// numbers, and which one a question wants is not for the reader to guess).
fn is_year_remark(tokens: &[Token], reading: &Reading) -> bool {
    let previous = |back: usize| reading.first.checked_sub(back).and_then(|i| tokens[i].word());
    reading.year_like && previous(1) == Some("of") && previous(2) == Some("as")
}

/// An ordinal ("2nd"), a step label ("Step 2", "Question 3") or a list label at the
/// start of a line ("1. First ...", "2) Then ...").
fn is_label(tokens: &[Token], reading: &Reading) -> bool {
    let next = tokens.get(reading.end);
    if next.is_some_and(|t| t.glued() && t.word().is_some_and(|w| matches!(w, "st" | "nd" | "rd" | "th"))) {
        return true;
    }
    let previous = reading.first.checked_sub(1).and_then(|i| tokens[i].word());
    if previous.is_some_and(|w| matches!(w, "step" | "question" | "part" | "option" | "case" | "item" | "problem")) {
        return true;
    }
    let at_line_start = tokens[reading.first].line_start;
    let numbered = next.is_some_and(|t| t.glued() && (t.is_symbol('.') || t.is_symbol(')')));
    let text_follows = tokens.get(reading.end + 1).is_some_and(|t| t.space_before && t.word().is_some());
    at_line_start && numbered && text_follows && reading.end == reading.first + 1
}

/// Whether the tokens from `from` to `to` are exactly one arithmetic operator.
fn operator_between(tokens: &[Token], from: usize, to: usize) -> bool {
    let between = &tokens[from.min(to)..to];
    match between {
        [one] => {
            one.symbol().is_some_and(|c| matches!(c, '+' | '-' | '\u{2212}' | '*' | '×' | '÷' | '/' | '·' | '^'))
                || one.word().is_some_and(|w| matches!(w, "x" | "plus" | "minus" | "times" | "over"))
        }
        [first, second] => first.word().is_some_and(|w| w == "multiplied" || w == "divided") && second.is_word("by"),
        _ => false,
    }
}

/// Every marker, ordered by where its value is looked for.
fn markers(tokens: &[Token]) -> Vec<Marker> {
    let mut found = Vec::new();
    let closing = closing_braces(tokens);
    let mut bold_open: Option<usize> = None;
    let mut index = 0;
    while index < tokens.len() {
        let token = &tokens[index];
        if token.is_symbol('*') && tokens.get(index + 1).is_some_and(|t| t.is_symbol('*') && t.glued()) {
            // "**" opens a bold span or closes the open one.
            match bold_open.take() {
                Some(open) => found.push(Marker { from: open, to: index }),
                None => bold_open = Some(index + 2),
            }
            index += 2;
            continue;
        }
        if let Some(from) = phrase_marker(tokens, index) {
            found.push(Marker { from, to: clause_end(tokens, from) });
        }
        if token.is_symbol('\\')
            && tokens.get(index + 1).is_some_and(|t| t.is_word("boxed"))
            && tokens.get(index + 2).is_some_and(|t| t.is_symbol('{'))
        {
            found.push(Marker { from: index + 3, to: closing[index + 2] });
        }
        index += 1;
    }
    // Spans are found at their end; the last marker is the one whose value comes last.
    found.sort_by_key(|m| m.from);
    found
}

/// Where the value of a phrase marker at `index` is looked for, if it is one.
fn phrase_marker(tokens: &[Token], index: usize) -> Option<usize> {
    let token = &tokens[index];
    let next = |k: usize| tokens.get(index + k);
    if let Some(symbol) = token.symbol() {
        let after_comparison = index > 0
            && token.glued()
            && tokens[index - 1].symbol().is_some_and(|c| matches!(c, '<' | '>' | '!' | '='));
        let before_equals = next(1).is_some_and(|t| t.glued() && t.is_symbol('='));
        return (matches!(symbol, '=' | '≈') && !after_comparison && !before_equals).then_some(index + 1);
    }
    match token.word()? {
        "equals" => Some(index + 1),
        "equal" if next(1).is_some_and(|t| t.is_word("to")) => Some(index + 2),
        "answer" | "result" | "solution" => {
            let final_before = index > 0 && tokens[index - 1].is_word("final");
            let next_word = next(1).and_then(Token::word);
            let announced = next(1)
                .is_some_and(|t| t.symbol().is_some_and(|c| matches!(c, ':' | '=' | '-' | '—' | '–')))
                || matches!(next_word, Some("is" | "equals"));
            if announced {
                Some(index + 2)
            } else if matches!(next_word, Some("would" | "will" | "should" | "must"))
                && next(2).is_some_and(|t| t.is_word("be"))
            {
                Some(index + 3)
            } else {
                final_before.then_some(index + 1)
            }
        }
        _ => None,
    }
}

/// The end of the clause starting at `from`: a sentence end ('.', '!', '?', ';' then
/// space), or [`MARKER_REACH_TOKENS`] later.
fn clause_end(tokens: &[Token], from: usize) -> usize {
    let limit = (from + MARKER_REACH_TOKENS).min(tokens.len());
    (from..limit)
        .find(|&i| {
            tokens[i].symbol().is_some_and(|c| matches!(c, '.' | '!' | '?' | ';'))
                && tokens.get(i + 1).is_none_or(|t| t.space_before)
        })
        .unwrap_or(limit)
}

/// For each token, the index of the '}' closing it when it is a '{' (the end of the
/// text when none does); found in one pass, so nested `\boxed{}` stay linear.
fn closing_braces(tokens: &[Token]) -> Vec<usize> {
    let mut closing = vec![tokens.len(); tokens.len()];
    let mut open: Vec<usize> = Vec::new();
    for (index, token) in tokens.iter().enumerate() {
        match token.symbol() {
            Some('{') => open.push(index),
            Some('}') => {
                if let Some(opening) = open.pop() {
                    closing[opening] = index;
                }
            }
            _ => {}
        }
    }
    closing
}

/// Finds what markers point to in logarithmic time each, however many markers and
/// values the text holds (a marker's reach can be long: a bold span, a `\boxed{}`).
struct Pointer<'a> {
    candidates: &'a [Candidate],
    /// For each candidate index, the first strong candidate at or after it.
    next_strong: Vec<usize>,
    /// For each candidate index, the first weak (non-operand) candidate at or after it.
    next_weak: Vec<usize>,
}

impl<'a> Pointer<'a> {
    fn new(candidates: &'a [Candidate]) -> Self {
        let next = |weight: Weight| {
            let mut next = vec![candidates.len(); candidates.len() + 1];
            for index in (0..candidates.len()).rev() {
                next[index] = if candidates[index].weight == weight { index } else { next[index + 1] };
            }
            next
        };
        Self { candidates, next_strong: next(Weight::Strong), next_weak: next(Weight::Weak) }
    }

    /// The value a marker points to: the first strong value in its reach, else the
    /// first weak one that is no operand.
    fn marked(&self, marker: &Marker) -> Option<&'a Reading> {
        // Candidates are in text order.
        let start = self.candidates.partition_point(|c| c.reading.first < marker.from);
        let within =
            |index: usize| self.candidates.get(index).filter(|c| c.reading.first < marker.to).map(|c| &c.reading);
        within(self.next_strong[start]).or_else(|| within(self.next_weak[start]))
    }
}

#[cfg(test)]
mod tests {
    use super::super::tokens::{lowered_words, tokenise};
    use super::*;

    fn read(text: &str) -> Result<NumberValue, Unreadable> {
        let chars: Vec<char> = text.chars().collect();
        let lowered = lowered_words(&chars);
        number(&tokenise(&chars, &lowered))
    }

    fn value(text: &str) -> f64 {
        match read(text) {
            Ok(number) => number.value,
            Err(error) => panic!("{text:?}: {error}"),
        }
    }

    #[test]
    fn markers_win_the_last_one_first() {
        assert_eq!(value("x = 5/8"), 0.625);
        assert_eq!(value("5 + 3 = 8"), 8.0);
        assert_eq!(value("The answer is 42, since 6 * 7 = 42"), 42.0);
        assert_eq!(value("I tried 40 and 41. Final answer: 42"), 42.0);
        assert_eq!(value("Between 40 and 45; **43** fits best"), 43.0);
        assert_eq!(value("so $x = \\boxed{12}$"), 12.0);
        assert_eq!(value("The answer is 42 = 6 × 7"), 42.0, "operands after '=' are no value");
    }

    #[test]
    fn remarks_are_skipped() {
        assert_eq!(value("17 (as of 2019)"), 17.0);
        assert_eq!(value("17, confidence 0.8"), 17.0);
        assert_eq!(value("I am 90% sure it is 42"), 42.0);
        assert_eq!(value("42 (rounded from 41.7)"), 42.0);
        assert_eq!(value("42, rounded from 41.7"), 42.0);
        assert_eq!(value("It is 42, not 41"), 42.0);
        assert_eq!(value("17 million (in 2019)"), 17e6);
        assert_eq!(value("17 million as of 2019"), 17e6);
        assert!(read("Apollo 11 landed in 1969").is_err(), "two numbers, no marker");
        assert_eq!(value("Step 3: it comes to 12"), 12.0);
        assert_eq!(value("What is 17 × 23? It is 391"), 391.0);
        assert_eq!(value("In 1969"), 1969.0, "a year alone is the answer");
    }

    #[test]
    fn two_values_without_a_marker_are_ambiguous() {
        assert!(matches!(read("between 40 and 45"), Err(Unreadable::AmbiguousNumber { .. })));
        assert!(matches!(read("10-12"), Err(Unreadable::AmbiguousNumber { .. })));
        assert!(matches!(read("2 + 2"), Err(Unreadable::AmbiguousNumber { .. })), "an expression is no value");
        assert_eq!(value("42. So it is 42"), 42.0);
        let Err(Unreadable::AmbiguousNumber { candidates }) = read("3 apples and 4 pears") else { panic!() };
        assert_eq!(candidates.map(|c| c.value), [3.0, 4.0]);
    }

    #[test]
    fn hostile_shapes_stay_linear() {
        // Thousands of markers pointing at operands only, and deeply nested boxes: each
        // once cost a pass over every value.
        let markers = "1 + 1 = 1 + 1 = ".repeat(4_000);
        assert!(read(&markers).is_err());
        let boxes = format!("{}7{}", "\\boxed{".repeat(4_000), "}".repeat(4_000));
        assert_eq!(value(&boxes), 7.0);
    }

    #[test]
    fn nothing_to_read() {
        assert_eq!(read("no idea"), Err(Unreadable::NoNumber));
        assert_eq!(read("h2o"), Err(Unreadable::NoNumber));
        assert_eq!(read("1e999"), Err(Unreadable::OutOfRange));
    }
}
