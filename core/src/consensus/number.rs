//! Finding the number an answer ends on.

/// The final number in `text`, or `None` when there is none.
///
/// Understands signs (`-3`, and `−3` with a Unicode minus), thousands separators
/// (`1,234.5`), decimals (`.5`), exponents (`1e3`), and ignores units and decorations
/// around the number (`$40`, `12%` is 12, `42.` at the end of a sentence is 42). Each
/// number is read on its own: digits of different numbers are never glued together
/// (`1,2,3` ends on 3; `5-3` ends on 3). Digits that are part of a word (`h2o`, `mp3`)
/// are not numbers. Percentages stay in percent: `12%` and `0.12` differ.
pub fn final_number(text: &str) -> Option<f64> {
    let chars: Vec<char> = text.chars().collect();
    let mut last = None;
    let mut index = 0;
    while index < chars.len() {
        match read_number_at(&chars, index) {
            Some((value, end)) => {
                if value.is_finite() {
                    last = Some(value);
                }
                index = end;
            }
            None => index += 1,
        }
    }
    last
}

/// Reads the number starting at `start`, returning it and the index just past it.
fn read_number_at(chars: &[char], start: usize) -> Option<(f64, usize)> {
    let digit = |i: usize| chars.get(i).is_some_and(char::is_ascii_digit);
    let at = |i: usize| chars.get(i).copied();
    let starts_fraction = at(start) == Some('.') && digit(start + 1);
    if !(digit(start) || starts_fraction) {
        return None;
    }
    let before = start.checked_sub(1).and_then(at);
    // A digit glued to a letter is part of a word; a '.' after a digit continues an
    // earlier number ("1.2.3"), it does not start one.
    if before.is_some_and(|c| c.is_alphabetic() || (starts_fraction && c.is_ascii_digit())) {
        return None;
    }
    let mut literal = String::new();
    if matches!(before, Some('-' | '\u{2212}')) {
        let sign_context = start.checked_sub(2).and_then(at);
        if !sign_context.is_some_and(char::is_alphanumeric) {
            literal.push('-');
        }
    }
    let mut index = start;
    let mut integer_digits = 0;
    while digit(index) {
        literal.push(chars[index]);
        integer_digits += 1;
        index += 1;
    }
    // Thousands groups only after a lead of 1 to 3 digits, each exactly 3 digits long.
    if (1..=3).contains(&integer_digits) {
        while at(index) == Some(',') && (1..=3).all(|k| digit(index + k)) && !digit(index + 4) {
            literal.extend(&chars[index + 1..index + 4]);
            index += 4;
        }
    }
    if at(index) == Some('.') && digit(index + 1) {
        literal.push('.');
        index += 1;
        while digit(index) {
            literal.push(chars[index]);
            index += 1;
        }
    }
    if matches!(at(index), Some('e' | 'E')) {
        let sign = matches!(at(index + 1), Some('+' | '-'));
        let first_exponent_digit = index + 1 + usize::from(sign);
        let next_is_letter = at(first_exponent_digit + 1).is_some_and(char::is_alphabetic);
        if digit(first_exponent_digit) && !next_is_letter {
            literal.push('e');
            literal.extend(&chars[index + 1..first_exponent_digit]);
            index = first_exponent_digit;
            while digit(index) {
                literal.push(chars[index]);
                index += 1;
            }
        }
    }
    let value: f64 = literal.parse().ok()?;
    Some((value, index))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn number(text: &str) -> Option<f64> {
        final_number(text)
    }

    #[test]
    fn reads_the_forms_the_issue_names() {
        assert_eq!(number("1,234.5"), Some(1234.5));
        assert_eq!(number("-3"), Some(-3.0));
        assert_eq!(number("12%"), Some(12.0));
        assert_eq!(number("$40"), Some(40.0));
        assert_eq!(number("1e3"), Some(1000.0));
        assert_eq!(number("the answer is 42."), Some(42.0));
    }

    #[test]
    fn takes_the_final_number() {
        assert_eq!(number("3 apples and 4 pears make 7 fruits"), Some(7.0));
        assert_eq!(number("5 - 3 = 2"), Some(2.0));
        assert_eq!(number("the result is -3"), Some(-3.0));
        assert_eq!(number("x = .5"), Some(0.5));
        assert_eq!(number("about 2.5e-3 m"), Some(0.0025));
        assert_eq!(number("12,345,678 people"), Some(12_345_678.0));
        assert_eq!(number("−7"), Some(-7.0));
    }

    #[test]
    fn never_glues_digits_of_several_numbers() {
        assert_eq!(number("1,2,3"), Some(3.0));
        assert_eq!(number("5-3"), Some(3.0));
        assert_eq!(number("1234,567"), Some(567.0));
        assert_eq!(number("1,2345"), Some(2345.0));
        assert_eq!(number("10 20 30"), Some(30.0));
    }

    #[test]
    fn ignores_what_is_not_a_number() {
        assert_eq!(number("h2o"), None);
        assert_eq!(number("no numbers here"), None);
        assert_eq!(number(""), None);
        assert_eq!(number("3eggs"), Some(3.0));
        assert_eq!(number("1e999"), None);
        assert_eq!(number("well-known 4"), Some(4.0));
    }
}
