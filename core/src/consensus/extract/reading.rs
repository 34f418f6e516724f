//! Reading one value from the tokens at a position: a signed literal or number words,
//! with what may follow it (fraction, scale, "× 10^n", percent, "± uncertainty").

use super::tokens::{Literal, Token};
use super::words::{self, scale_exponent};

/// Longest exponent read from "10^n": beyond it every `f64` is 0 or infinite anyway.
const EXPONENT_DIGITS_MAX: usize = 4;

/// One value read from the text.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Reading {
    /// The value (infinite or NaN when out of range).
    pub value: f64,
    /// Written as a percentage ("12%", "12 percent").
    pub percent: bool,
    /// Index of its first token (the sign, when signed).
    pub first: usize,
    /// Index just past its last token.
    pub end: usize,
    /// A plain integer such as a year could be ("2019"): no sign, scale or percent.
    pub year_like: bool,
    /// The lone word "one".
    pub lone_one: bool,
}

/// What starts at a position.
pub(super) enum Scan {
    /// A value, to be weighed.
    Value(Reading),
    /// Digits that are no value (a version "1.2.3", "h2o", a date "3/4/2020", a
    /// division by zero): skip to this index.
    Skip(usize),
}

/// Currency symbols that may stand between a sign and the digits ("-$40").
const CURRENCY: [char; 6] = ['$', '€', '£', '¥', '₹', '₩'];

fn is_minus(c: char) -> bool {
    matches!(c, '-' | '\u{2212}')
}

/// Reads what starts at `index`, if a number does.
pub(super) fn read_at(tokens: &[Token], index: usize) -> Option<Scan> {
    let (negative, after_sign) = sign_at(tokens, index);
    let mut body = after_sign;
    if tokens.get(body)?.symbol().is_some_and(|c| CURRENCY.contains(&c))
        && tokens.get(body + 1).is_some_and(|t| t.literal().is_some() && t.glued())
    {
        body += 1;
    }
    let token = tokens.get(body)?;
    let mut reading = if let Some(literal) = token.literal() {
        if literal.dotted || literal.in_word || follows_caret(tokens, body) {
            return Some(Scan::Skip(body + 1));
        }
        match read_literal_value(tokens, body, literal) {
            Ok(reading) => reading,
            Err(skip) => return Some(Scan::Skip(skip)),
        }
    } else if let Some(scan) = read_latex_fraction(tokens, body) {
        match scan {
            Scan::Value(reading) => reading,
            skip => return Some(skip),
        }
    } else {
        let number = words::read(tokens, body)?;
        let mut reading = Reading {
            value: number.value,
            percent: false,
            first: body,
            end: number.end,
            year_like: false,
            lone_one: number.lone_one,
        };
        apply_scale(tokens, &mut reading, false);
        reading
    };
    if negative {
        reading.value = -reading.value;
        reading.year_like = false;
        reading.lone_one = false;
    }
    reading.first = index;
    read_percent(tokens, &mut reading);
    read_uncertainty(tokens, &mut reading);
    Some(Scan::Value(reading))
}

/// A sign at `index` ("-3", "−3", "+3", "minus 3", "negative 3"): whether negative,
/// and where the number itself starts. A '-' glued to a word or number before it is
/// a hyphen or an operator ("5-3"), not a sign; "10 minus 3" is an operator too.
fn sign_at(tokens: &[Token], index: usize) -> (bool, usize) {
    let Some(token) = tokens.get(index) else { return (false, index) };
    let before = index.checked_sub(1).map(|i| &tokens[i]);
    if let Some(symbol) = token.symbol().filter(|&c| is_minus(c) || c == '+') {
        let sign_context = token.space_before
            || before.is_none_or(|b| b.symbol().is_some_and(|c| !matches!(c, ')' | ']' | '%' | '}')));
        let next_glued = tokens
            .get(index + 1)
            .is_some_and(|t| t.glued() && (t.literal().is_some() || t.symbol().is_some_and(|c| CURRENCY.contains(&c))));
        if sign_context && next_glued {
            return (is_minus(symbol), index + 1);
        }
    }
    let always_a_sign = match token.word() {
        Some("negative") => true,
        Some("minus") => false,
        _ => return (false, index),
    };
    let next_is_number = tokens.get(index + 1).is_some_and(|t| {
        t.literal().is_some() || t.is_cardinal() || t.symbol().is_some_and(|c| CURRENCY.contains(&c)) || t.is_word("a")
    });
    // "10 minus 3" is an operator; "negative" is always a sign.
    let operand_before =
        before.is_some_and(|b| b.literal().is_some() || b.is_cardinal() || b.is_symbol(')') || b.is_symbol('%'));
    if next_is_number && (always_a_sign || !operand_before) { (true, index + 1) } else { (false, index) }
}

/// A number right after '^' is an exponent of something that is no number ("m/s^2",
/// "x^2"); exponents of numbers are read with their base.
fn follows_caret(tokens: &[Token], index: usize) -> bool {
    let mut before = index;
    while before > 0 && tokens[before - 1].symbol().is_some_and(|c| is_minus(c) || c == '+' || c == '{') {
        before -= 1;
    }
    before > 0 && tokens[before - 1].is_symbol('^')
}

/// The literal at `index` and what extends it. `Err(skip)` for digits that are no
/// value.
fn read_literal_value(tokens: &[Token], index: usize, literal: &Literal) -> Result<Reading, usize> {
    let mut reading = Reading {
        value: literal.value,
        percent: false,
        first: index,
        end: index + 1,
        year_like: literal.plain && literal.lead_digits == 4 && (1000.0..=2100.0).contains(&literal.value),
        lone_one: false,
    };
    // Scaling through the decimal text keeps "6.1 × 10^4" exactly 61000, while the
    // value is still the literal's.
    let mut exact = true;
    if let Some((value, end)) = read_fraction(tokens, index, literal)? {
        reading.value = value;
        reading.end = end;
        reading.year_like = false;
        exact = false;
    }
    if apply_scale(tokens, &mut reading, exact) {
        exact = false;
    }
    if let Some((exponent, end)) = read_times_ten(tokens, reading.end) {
        reading.value = scaled(reading.value, exact, exponent);
        reading.end = end;
        reading.year_like = false;
    } else if let Some((exponent, end)) = read_exponent(tokens, reading.end) {
        reading.value =
            if exact && is_ten(literal) { scaled(1.0, true, exponent) } else { reading.value.powi(exponent) };
        reading.end = end;
        reading.year_like = false;
    }
    Ok(reading)
}

/// The literal "10".
fn is_ten(literal: &Literal) -> bool {
    literal.plain && literal.lead_digits == 2 && literal.value == 10.0
}

/// `value` x 10^exponent; when `exact`, through its shortest decimal text (which
/// reads back to `value`), so the result is the correctly rounded decimal product.
fn scaled(value: f64, exact: bool, exponent: i32) -> f64 {
    let through_text = exact.then(|| format!("{value}e{exponent}").parse::<f64>().ok()).flatten();
    through_text.unwrap_or_else(|| value * 10f64.powi(exponent))
}

/// A fraction "5/8" (spaces allowed: a division written out is its value) or a mixed
/// number "1 1/2" starting with `literal` at `index`. `Ok(None)` when there is none;
/// `Err(skip)` for a date "3/4/2020" or a division by zero.
fn read_fraction(tokens: &[Token], index: usize, literal: &Literal) -> Result<Option<(f64, usize)>, usize> {
    let usable = |i: usize| tokens.get(i).and_then(Token::literal).filter(|l| !l.dotted && !l.in_word);
    let slash = |i: usize| tokens.get(i).is_some_and(|t| t.is_symbol('/'));
    // Mixed number: whole, space, then a proper fraction glued together.
    if literal.plain
        && let (Some(numerator), Some(denominator)) = (usable(index + 1), usable(index + 3))
        && tokens[index + 1].space_before
        && numerator.plain
        && denominator.plain
        && slash(index + 2)
        && tokens[index + 2].glued()
        && tokens[index + 3].glued()
        && numerator.value < denominator.value
        && !(slash(index + 4) && usable(index + 5).is_some())
    {
        return Ok(Some((literal.value + numerator.value / denominator.value, index + 4)));
    }
    let Some(denominator) = usable(index + 2).filter(|_| slash(index + 1)) else { return Ok(None) };
    if slash(index + 3) && usable(index + 4).is_some() {
        // "3/4/2020": a date.
        let mut end = index + 5;
        while slash(end) && usable(end + 1).is_some() {
            end += 2;
        }
        return Err(end);
    }
    if denominator.value == 0.0 {
        return Err(index + 3);
    }
    Ok(Some((literal.value / denominator.value, index + 3)))
}

/// LaTeX "\frac{5}{8}" (or \dfrac, \tfrac) at `index`.
fn read_latex_fraction(tokens: &[Token], index: usize) -> Option<Scan> {
    if !tokens.get(index)?.is_symbol('\\')
        || !tokens.get(index + 1)?.word().is_some_and(|w| matches!(w, "frac" | "dfrac" | "tfrac"))
    {
        return None;
    }
    let (numerator, after) = braced_number(tokens, index + 2)?;
    let (denominator, end) = braced_number(tokens, after)?;
    if denominator == 0.0 {
        return Some(Scan::Skip(end));
    }
    Some(Scan::Value(Reading {
        value: numerator / denominator,
        percent: false,
        first: index,
        end,
        year_like: false,
        lone_one: false,
    }))
}

/// "{-5}" at `index`: the number and the index past the closing brace.
fn braced_number(tokens: &[Token], index: usize) -> Option<(f64, usize)> {
    if !tokens.get(index)?.is_symbol('{') {
        return None;
    }
    let negative = tokens.get(index + 1)?.symbol().is_some_and(is_minus);
    let at = index + 1 + usize::from(negative);
    let literal = tokens.get(at)?.literal()?;
    tokens.get(at + 1)?.is_symbol('}').then_some((if negative { -literal.value } else { literal.value }, at + 2))
}

/// A scale after the number: "3.4 thousand", "3 hundred thousand", "1.2bn", "5k",
/// "3M", "$2B". Suffix letters count only glued to the digits, and only those that
/// are no common unit ("m" is metres, so millions are "M"). Returns whether it scaled.
fn apply_scale(tokens: &[Token], reading: &mut Reading, exact: bool) -> bool {
    let mut exponent = 0;
    let mut end = reading.end;
    while let Some(token) = tokens.get(end) {
        let Some(lower) = token.word() else { break };
        let capital = token.is_capitalised();
        let found = match scale_exponent(token) {
            Some(e) => Some(e),
            None if token.glued() && end == reading.end => match lower {
                "k" => Some(3),
                "m" if capital => Some(6),
                "mn" => Some(6),
                "b" if capital => Some(9),
                "bn" => Some(9),
                _ => None,
            },
            None if lower == "bn" || lower == "mn" => Some(if lower == "bn" { 9 } else { 6 }),
            None => None,
        };
        // "hundred thousand" multiplies; "thousand hundred" is no number.
        match found {
            Some(e) if exponent == 0 || (exponent == 2 && e > 2) => {
                exponent += e;
                end += 1;
            }
            _ => break,
        }
    }
    if exponent == 0 {
        return false;
    }
    reading.value = scaled(reading.value, exact, exponent);
    reading.end = end;
    reading.year_like = false;
    reading.lone_one = false;
    true
}

/// "× 10^3", "x10^3", "* 10^3", "· 10^3", "\times 10^{3}", "\cdot 10^3" at `index`:
/// the exponent and the index past it.
fn read_times_ten(tokens: &[Token], index: usize) -> Option<(i32, usize)> {
    let token = tokens.get(index)?;
    let after_operator =
        if token.symbol().is_some_and(|c| matches!(c, '×' | '*' | '·' | '⋅' | '∙')) || token.is_word("x") {
            index + 1
        } else if token.is_symbol('\\') && tokens.get(index + 1)?.word().is_some_and(|w| w == "times" || w == "cdot") {
            index + 2
        } else {
            return None;
        };
    let ten = tokens.get(after_operator)?.literal()?;
    if !is_ten(ten) {
        return None;
    }
    read_exponent(tokens, after_operator + 1)
}

/// "^3", "^-3", "^{3}", "^{-3}" at `index`: the exponent and the index past it.
fn read_exponent(tokens: &[Token], index: usize) -> Option<(i32, usize)> {
    if !tokens.get(index)?.is_symbol('^') {
        return None;
    }
    let mut at = index + 1;
    let braced = tokens.get(at)?.is_symbol('{');
    at += usize::from(braced);
    let sign = tokens.get(at)?.symbol().filter(|&c| is_minus(c) || c == '+');
    at += usize::from(sign.is_some());
    let literal = tokens.get(at)?.literal()?;
    if !literal.plain || literal.lead_digits > EXPONENT_DIGITS_MAX {
        return None;
    }
    at += 1;
    if braced {
        if !tokens.get(at)?.is_symbol('}') {
            return None;
        }
        at += 1;
    }
    // At most four digits: the cast cannot overflow.
    let magnitude = literal.value as i32;
    Some((if sign.is_some_and(is_minus) { -magnitude } else { magnitude }, at))
}

/// "%", "percent", "per cent", "pct" after the number.
fn read_percent(tokens: &[Token], reading: &mut Reading) {
    let Some(token) = tokens.get(reading.end) else { return };
    let length = if token.is_symbol('%') || token.word().is_some_and(|w| matches!(w, "percent" | "pct")) {
        1
    } else if token.is_word("per") && tokens.get(reading.end + 1).is_some_and(|t| t.is_word("cent")) {
        2
    } else {
        0
    };
    if length > 0 {
        reading.percent = true;
        reading.end += length;
        reading.year_like = false;
        reading.lone_one = false;
    }
}

/// "± 0.3", "+/- 0.3", "+- 0.3" after the value: the uncertainty is read and dropped
/// (the answer is the central value). "12 ± 2%" makes both percentages.
fn read_uncertainty(tokens: &[Token], reading: &mut Reading) {
    let at = reading.end;
    let symbol = |i: usize| tokens.get(i).and_then(Token::symbol);
    let glued = |i: usize| tokens.get(i).is_some_and(Token::glued);
    let after = match symbol(at) {
        Some('±' | '∓') => at + 1,
        Some('+')
            if symbol(at + 1) == Some('/')
                && glued(at + 1)
                && symbol(at + 2).is_some_and(is_minus)
                && glued(at + 2) =>
        {
            at + 3
        }
        Some('+') if symbol(at + 1).is_some_and(is_minus) && glued(at + 1) => at + 2,
        _ => return,
    };
    // The uncertainty is unsigned: read it from its digits.
    let start = if symbol(after).is_some_and(|c| CURRENCY.contains(&c)) { after + 1 } else { after };
    let Some(literal) = tokens.get(start).and_then(Token::literal) else { return };
    let Ok(mut uncertainty) = read_literal_value(tokens, start, literal) else { return };
    read_percent(tokens, &mut uncertainty);
    reading.percent |= uncertainty.percent;
    reading.end = uncertainty.end;
    reading.year_like = false;
}

#[cfg(test)]
mod tests {
    use super::super::tokens::{lowered_words, tokenise};
    use super::*;

    /// The value read at the first token, and whether it spans every token.
    fn read(text: &str) -> Option<(f64, bool, bool)> {
        let chars: Vec<char> = text.chars().collect();
        let lowered = lowered_words(&chars);
        let tokens = tokenise(&chars, &lowered);
        match read_at(&tokens, 0)? {
            Scan::Value(r) => Some((r.value, r.percent, r.end == tokens.len())),
            Scan::Skip(_) => None,
        }
    }

    #[test]
    fn reads_fractions_mixed_numbers_and_scales() {
        assert_eq!(read("5/8"), Some((0.625, false, true)));
        assert_eq!(read("1 1/2"), Some((1.5, false, true)));
        assert_eq!(read("3.4 thousand"), Some((3400.0, false, true)));
        assert_eq!(read("3.4 million"), Some((3_400_000.0, false, true)));
        assert_eq!(read("3 hundred thousand"), Some((300_000.0, false, true)));
        assert_eq!(read("1.2bn"), Some((1.2e9, false, true)));
        assert_eq!(read("5k"), Some((5000.0, false, true)));
        assert_eq!(read("$2B"), Some((2e9, false, true)));
        assert_eq!(read("\\frac{5}{8}"), Some((0.625, false, true)));
    }

    #[test]
    fn reads_scientific_forms() {
        assert_eq!(read("6.1 × 10^4"), Some((61_000.0, false, true)));
        assert_eq!(read("2.5x10^3"), Some((2500.0, false, true)));
        assert_eq!(read("2.5 \\times 10^{-3}"), Some((0.0025, false, true)));
        assert_eq!(read("10^6"), Some((1e6, false, true)));
        assert_eq!(read("2^10"), Some((1024.0, false, true)));
    }

    #[test]
    fn reads_signs_percent_and_uncertainty() {
        assert_eq!(read("-3"), Some((-3.0, false, true)));
        assert_eq!(read("−3"), Some((-3.0, false, true)));
        assert_eq!(read("minus 8"), Some((-8.0, false, true)));
        assert_eq!(read("negative four"), Some((-4.0, false, true)));
        assert_eq!(read("-$40"), Some((-40.0, false, true)));
        assert_eq!(read("12%"), Some((12.0, true, true)));
        assert_eq!(read("12 per cent"), Some((12.0, true, true)));
        assert_eq!(read("9.8 ± 0.3"), Some((9.8, false, true)));
        assert_eq!(read("9.8 +/- 0.3"), Some((9.8, false, true)));
        assert_eq!(read("12 ± 2%"), Some((12.0, true, true)));
    }

    #[test]
    fn skips_what_is_no_value() {
        assert!(read("3/4/2020").is_none());
        assert!(read("1/0").is_none());
        assert!(read("1.2.3").is_none());
    }
}
