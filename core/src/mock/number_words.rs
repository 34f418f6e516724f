//! Whole numbers written in English words, as models write them when they spell a
//! number out ("nineteen", "one hundred and five", "minus three", "forty-two").

/// Largest magnitude written in words: beyond a million, models write digits.
pub(crate) const WORDS_MAGNITUDE_MAX: i64 = 999_999;

/// "zero" to "nineteen".
pub(crate) const ONES: [&str; 20] = [
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
/// Tens by their digit ("twenty" at 2); 0 and 1 have no tens word.
pub(crate) const TENS: [&str; 10] =
    ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"];

/// `value` in British English words ("and" before the last part, hyphens inside
/// tens), with `negative` (such as "minus" or "negative") in front of a value below
/// zero; `None` beyond [`WORDS_MAGNITUDE_MAX`].
pub(crate) fn number_in_words(value: i64, negative: &str) -> Option<String> {
    let magnitude = value.checked_abs()?;
    if magnitude > WORDS_MAGNITUDE_MAX {
        return None;
    }
    let words = if magnitude < 1_000 {
        below_thousand(magnitude)
    } else {
        let (thousands, rest) = (magnitude / 1_000, magnitude % 1_000);
        let head = format!("{} thousand", below_thousand(thousands));
        match rest {
            0 => head,
            // "two thousand and twenty": the "and" that British English puts before a
            // last part below one hundred.
            1..=99 => format!("{head} and {}", below_hundred(rest)),
            _ => format!("{head} {}", below_thousand(rest)),
        }
    };
    Some(if value < 0 { format!("{negative} {words}") } else { words })
}

fn below_thousand(value: i64) -> String {
    let (hundreds, rest) = (value / 100, value % 100);
    match (hundreds, rest) {
        (0, _) => below_hundred(rest),
        (_, 0) => format!("{} hundred", ONES[hundreds as usize]),
        _ => format!("{} hundred and {}", ONES[hundreds as usize], below_hundred(rest)),
    }
}

fn below_hundred(value: i64) -> String {
    let (tens, ones) = (value / 10, value % 10);
    match (tens, ones) {
        (0 | 1, _) => ONES[value as usize].to_owned(),
        (_, 0) => TENS[tens as usize].to_owned(),
        _ => format!("{}-{}", TENS[tens as usize], ONES[ones as usize]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_numbers_as_people_do() {
        let cases = [
            (0, "zero"),
            (7, "seven"),
            (19, "nineteen"),
            (40, "forty"),
            (42, "forty-two"),
            (100, "one hundred"),
            (105, "one hundred and five"),
            (999, "nine hundred and ninety-nine"),
            (2_020, "two thousand and twenty"),
            (3_400, "three thousand four hundred"),
            (61_000, "sixty-one thousand"),
            (999_999, "nine hundred and ninety-nine thousand nine hundred and ninety-nine"),
            (-3, "minus three"),
        ];
        for (value, words) in cases {
            assert_eq!(number_in_words(value, "minus").as_deref(), Some(words), "{value}");
        }
        assert_eq!(number_in_words(-4, "negative").as_deref(), Some("negative four"));
    }

    #[test]
    fn large_numbers_stay_in_digits() {
        assert_eq!(number_in_words(1_000_000, "minus"), None);
        assert_eq!(number_in_words(i64::MIN, "minus"), None);
    }
}
