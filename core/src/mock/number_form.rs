//! How a model writes a number: the messy forms real answers take, each stating one
//! value exactly ("5/8", "1 3/4", "3.4 thousand", "6.1 × 10^4", "nineteen",
//! "9.8 ± 0.3", "45 000", "−8", "４２", "17 (as of 2019)"), and the markers models put
//! around a final answer ("Final answer: 42", "\boxed{42}", "**42**").
//!
//! A form writes a value only when it can state it exactly (to 10 significant digits,
//! far inside the workload's truth tolerance), so a right answer in any form is
//! still right for a reader that understands the form.

use crate::SeededRng;

use super::number_words::number_in_words;

/// A way of writing a number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NumberForm {
    /// Digits: "42", "0.625".
    Plain,
    /// A fraction in lowest terms: "5/8" (non-integers with a small denominator).
    Fraction,
    /// A whole part and a fraction: "1 3/4" (non-integers above 1).
    MixedNumber,
    /// A scale word or suffix: "3.4 thousand", "3.4k", "2.5 million", "2.5M", "1.2bn".
    ScaleWord,
    /// Scientific notation: "6.1 × 10^4", "6.1e4", "6.1x10^4", "6.1·10⁴".
    Scientific,
    /// English words: "nineteen", "one hundred and five", "minus three".
    Words,
    /// A central value with its uncertainty: "9.8 ± 0.3", "17 +/- 2".
    PlusMinus,
    /// SI digit groups separated by a space, thin space or no-break space: "45 000".
    DigitGroups,
    /// A negative number with a Unicode minus or a word: "−8", "minus 8", "negative 8".
    Signed,
    /// Full-width digits: "４２", "０．６２５".
    FullWidth,
    /// The value followed by a remark holding another number: "17 (as of 2019)",
    /// "17, confidence 0.8", "≈ 42, rounded from 41.7".
    Remark,
}

impl NumberForm {
    /// Every form, in the fixed order choices are made from.
    pub(crate) const ALL: [Self; 11] = [
        Self::Plain,
        Self::Fraction,
        Self::MixedNumber,
        Self::ScaleWord,
        Self::Scientific,
        Self::Words,
        Self::PlusMinus,
        Self::DigitGroups,
        Self::Signed,
        Self::FullWidth,
        Self::Remark,
    ];

    /// Whether this form can state `value` exactly.
    pub(crate) fn fits(self, value: f64) -> bool {
        // A throwaway generator: whether a form fits never depends on the draws.
        self.write(value, 0, &mut SeededRng::new(0)).is_some()
    }

    /// `value` in this form, or `None` when the form cannot state it exactly.
    /// `task_hash` decides what a remark cites (the same year for every model
    /// answering one task, as a question's context would); `rng` every other choice.
    pub(crate) fn write(self, value: f64, task_hash: u64, rng: &mut SeededRng) -> Option<String> {
        if !value.is_finite() {
            return None;
        }
        match self {
            Self::Plain => Some(decimal(value)),
            Self::Fraction => fraction(value).map(|(numerator, denominator)| format!("{numerator}/{denominator}")),
            Self::MixedNumber => mixed_number(value),
            Self::ScaleWord => scale_word(value, rng),
            Self::Scientific => scientific(value, rng),
            Self::Words => {
                let whole = whole(value)?;
                number_in_words(whole, ["minus", "negative"][rng.index(2)])
            }
            Self::PlusMinus => Some(plus_minus(value, rng)),
            Self::DigitGroups => digit_groups(value, rng),
            Self::Signed => signed(value, rng),
            Self::FullWidth => Some(decimal(value).chars().map(full_width).collect()),
            Self::Remark => Some(remark(value, task_hash, rng)),
        }
    }
}

/// `value` written in one of the `preferred` forms that can state it (any form that
/// can, when none of them can), with or without a marker: every choice from `rng`,
/// in a fixed order (the form, the form's own choices, the marker).
pub(crate) fn messy_number(value: f64, preferred: &[NumberForm], task_hash: u64, rng: &mut SeededRng) -> String {
    let fitting = |forms: &[NumberForm]| forms.iter().copied().filter(|form| form.fits(value)).collect::<Vec<_>>();
    let mut forms = fitting(preferred);
    if forms.is_empty() {
        forms = fitting(&NumberForm::ALL);
    }
    // Plain fits every finite value; a value no form fits is written as Rust prints it.
    let Some(&form) = forms.get(rng.index(forms.len().max(1))) else {
        return format!("{value}");
    };
    let body = form.write(value, task_hash, rng).unwrap_or_else(|| decimal(value));
    with_marker(body, form, rng)
}

/// Puts a marker around a written number, or none (half the time): "Final answer: X",
/// "Answer: X", "The answer is X.", "x = X", "\boxed{X}", "**X**". A remark stays
/// outside the enclosing markers, as models write it.
pub(crate) fn with_marker(body: String, form: NumberForm, rng: &mut SeededRng) -> String {
    if rng.chance(0.5) {
        return body;
    }
    let enclosing = form != NumberForm::Remark;
    let choices = if enclosing { 6 } else { 4 };
    match rng.index(choices) {
        0 => format!("Final answer: {body}"),
        1 => format!("Answer: {body}"),
        2 => format!("The answer is {body}."),
        3 => format!("x = {body}"),
        4 => format!("\\boxed{{{body}}}"),
        _ => format!("**{body}**"),
    }
}

/// Digits to 10 significant digits, without trailing zeros: "42", "0.625",
/// "0.3333333333".
pub(crate) fn decimal(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        return format!("{}", value as i64);
    }
    let magnitude = value.abs().log10().floor() as i32;
    let decimals = (9 - magnitude).clamp(0, 17) as usize;
    let text = format!("{value:.decimals$}");
    let text = if text.contains('.') { text.trim_end_matches('0').trim_end_matches('.') } else { &text };
    if text == "-0" { "0".to_owned() } else { text.to_owned() }
}

/// Whether `a` and `b` are the same number to far better than any tolerance.
fn same(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

/// `value` as a whole number, when it is one (and small enough to be exact).
fn whole(value: f64) -> Option<i64> {
    (value.fract() == 0.0 && value.abs() < 1e15).then_some(value as i64)
}

/// `value` as `numerator / denominator` in lowest terms with a denominator up to 16,
/// when it is such a non-integer.
pub(crate) fn fraction(value: f64) -> Option<(i64, i64)> {
    if whole(value).is_some() || value.abs() > 1e12 {
        return None;
    }
    // The smallest denominator that fits is the one in lowest terms.
    (2..=16_i64).find_map(|denominator| {
        let numerator = (value * denominator as f64).round();
        same(numerator / denominator as f64, value).then_some((numerator as i64, denominator))
    })
}

fn mixed_number(value: f64) -> Option<String> {
    let (numerator, denominator) = fraction(value)?;
    (numerator > denominator).then(|| {
        let whole = numerator / denominator;
        format!("{whole} {}/{denominator}", numerator - whole * denominator)
    })
}

/// `value` as `mantissa × 10^exponent` with `exponent` a multiple of 3 (at least 3)
/// and a mantissa of at most two decimals in `1..1000`.
fn scaled(value: f64) -> Option<(f64, u32)> {
    [9_u32, 6, 3].into_iter().find_map(|exponent| {
        let mantissa = value / 10f64.powi(exponent as i32);
        let cents = (mantissa * 100.0).round();
        let fits = mantissa.abs() >= 1.0 && same(cents / 100.0 * 10f64.powi(exponent as i32), value);
        fits.then_some((cents / 100.0, exponent))
    })
}

fn scale_word(value: f64, rng: &mut SeededRng) -> Option<String> {
    let (mantissa, exponent) = scaled(value)?;
    let (word, suffixes): (&str, &[&str]) = match exponent {
        9 => ("billion", &["bn"]),
        6 => ("million", &["M"]),
        _ => ("thousand", &["k", "K"]),
    };
    let mantissa = decimal(mantissa);
    Some(if rng.chance(0.5) {
        format!("{mantissa} {word}")
    } else {
        format!("{mantissa}{}", suffixes[rng.index(suffixes.len())])
    })
}

/// `value` as `mantissa × 10^exponent` with a mantissa of at most three decimals in
/// `1..10`, for magnitudes of at least 1,000 or below 0.01 (where models use it).
pub(crate) fn scientific_parts(value: f64) -> Option<(f64, i32)> {
    let magnitude = value.abs();
    if value == 0.0 || (0.01..1_000.0).contains(&magnitude) {
        return None;
    }
    let mut exponent = magnitude.log10().floor() as i32;
    // log10 of an exact power of ten can land a hair below it.
    if magnitude / 10f64.powi(exponent) >= 10.0 {
        exponent += 1;
    }
    let mantissa = ((value / 10f64.powi(exponent)) * 1_000.0).round() / 1_000.0;
    same(mantissa * 10f64.powi(exponent), value).then_some((mantissa, exponent))
}

fn scientific(value: f64, rng: &mut SeededRng) -> Option<String> {
    let (mantissa, exponent) = scientific_parts(value)?;
    let mantissa = decimal(mantissa);
    Some(match rng.index(5) {
        0 => format!("{mantissa} × 10^{exponent}"),
        1 => format!("{mantissa}e{exponent}"),
        2 => format!("{mantissa}E{exponent}"),
        3 => format!("{mantissa}x10^{exponent}"),
        _ => format!("{mantissa}·10{}", superscript(exponent)),
    })
}

fn superscript(exponent: i32) -> String {
    const DIGITS: [char; 10] = ['⁰', '¹', '²', '³', '⁴', '⁵', '⁶', '⁷', '⁸', '⁹'];
    let digits = exponent.unsigned_abs().to_string();
    let sign = (exponent < 0).then_some('⁻');
    sign.into_iter().chain(digits.chars().map(|d| DIGITS[d as usize - '0' as usize])).collect()
}

fn plus_minus(value: f64, rng: &mut SeededRng) -> String {
    // An uncertainty about one digit below the value's leading digit.
    let magnitude = if value == 0.0 { 0 } else { value.abs().log10().floor() as i32 };
    let uncertainty = [1.0, 2.0, 3.0, 5.0][rng.index(4)] * 10f64.powi(magnitude - 1);
    let sign = if rng.chance(0.5) { "±" } else { "+/-" };
    format!("{} {sign} {}", decimal(value), decimal(uncertainty))
}

fn digit_groups(value: f64, rng: &mut SeededRng) -> Option<String> {
    let whole = whole(value).filter(|w| w.abs() >= 1_000)?;
    let separator = [' ', '\u{2009}', '\u{00A0}', '\u{202F}'][rng.index(4)];
    let digits = whole.unsigned_abs().to_string();
    let mut grouped = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            grouped.push(separator);
        }
        grouped.push(digit);
    }
    Some(if whole < 0 { format!("-{grouped}") } else { grouped })
}

fn signed(value: f64, rng: &mut SeededRng) -> Option<String> {
    if value >= 0.0 {
        return None;
    }
    let magnitude = decimal(-value);
    Some(match rng.index(3) {
        0 => format!("\u{2212}{magnitude}"),
        1 => format!("minus {magnitude}"),
        _ => format!("negative {magnitude}"),
    })
}

fn full_width(character: char) -> char {
    match character {
        // U+FF10..U+FF19, U+FF0E and U+FF0D: NFKC folds them back to ASCII.
        '0'..='9' => char::from_u32(0xFF10 + (character as u32 - '0' as u32)).unwrap_or(character),
        '.' => '\u{FF0E}',
        '-' => '\u{FF0D}',
        other => other,
    }
}

fn remark(value: f64, task_hash: u64, rng: &mut SeededRng) -> String {
    let body = decimal(value);
    let choices = if whole(value).is_some() { 4 } else { 3 };
    match rng.index(choices) {
        0 => format!("{body} (as of {})", 2015 + task_hash % 10),
        1 => format!("{body}, confidence {}", ["0.7", "0.8", "0.9"][rng.index(3)]),
        2 => format!("{body} (confidence: {})", ["0.75", "0.85", "0.95"][rng.index(3)]),
        _ => {
            // A whole number said to be rounded from a nearby decimal.
            let offset = [-0.4, -0.3, -0.2, -0.1, 0.1, 0.2, 0.3, 0.4][rng.index(8)];
            format!("≈ {body}, rounded from {:.1}", value + offset)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(form: NumberForm, value: f64) -> Vec<String> {
        let mut rng = SeededRng::new(5);
        let mut out: Vec<String> = (0..64).filter_map(|_| form.write(value, 4, &mut rng)).collect();
        out.sort();
        out.dedup();
        out
    }

    #[test]
    fn each_form_writes_what_it_names() {
        assert_eq!(written(NumberForm::Plain, 0.625), ["0.625"]);
        assert_eq!(written(NumberForm::Plain, 1.0 / 3.0), ["0.3333333333"]);
        assert_eq!(written(NumberForm::Fraction, 0.625), ["5/8"]);
        assert_eq!(written(NumberForm::Fraction, 4.0 / 3.0), ["4/3"]);
        assert_eq!(written(NumberForm::MixedNumber, 1.75), ["1 3/4"]);
        assert_eq!(written(NumberForm::ScaleWord, 3_400.0), ["3.4 thousand", "3.4K", "3.4k"]);
        assert_eq!(written(NumberForm::ScaleWord, 2_500_000.0), ["2.5 million", "2.5M"]);
        assert_eq!(written(NumberForm::Scientific, 61_000.0), ["6.1 × 10^4", "6.1E4", "6.1e4", "6.1x10^4", "6.1·10⁴"]);
        assert_eq!(written(NumberForm::Words, 105.0), ["one hundred and five"]);
        assert_eq!(written(NumberForm::Words, -3.0), ["minus three", "negative three"]);
        assert_eq!(
            written(NumberForm::PlusMinus, 9.8),
            [
                "9.8 +/- 0.1",
                "9.8 +/- 0.2",
                "9.8 +/- 0.3",
                "9.8 +/- 0.5",
                "9.8 ± 0.1",
                "9.8 ± 0.2",
                "9.8 ± 0.3",
                "9.8 ± 0.5"
            ]
        );
        assert_eq!(
            written(NumberForm::DigitGroups, 45_000.0),
            ["45 000", "45\u{A0}000", "45\u{2009}000", "45\u{202F}000"]
        );
        assert_eq!(written(NumberForm::Signed, -8.0), ["minus 8", "negative 8", "\u{2212}8"]);
        assert_eq!(written(NumberForm::FullWidth, 42.0), ["４２"]);
        assert_eq!(written(NumberForm::FullWidth, -0.5), ["－０．５"]);
        let remarks = written(NumberForm::Remark, 42.0);
        assert!(remarks.contains(&"42 (as of 2019)".to_owned()), "{remarks:?}");
        assert!(remarks.contains(&"42, confidence 0.8".to_owned()), "{remarks:?}");
        assert!(remarks.contains(&"≈ 42, rounded from 41.7".to_owned()), "{remarks:?}");
    }

    #[test]
    fn forms_refuse_values_they_cannot_state_exactly() {
        assert!(!NumberForm::Fraction.fits(42.0));
        assert!(!NumberForm::Fraction.fits(0.123_456));
        assert!(!NumberForm::MixedNumber.fits(0.625));
        assert!(!NumberForm::ScaleWord.fits(999.0));
        assert!(!NumberForm::ScaleWord.fits(3_456.0));
        assert!(!NumberForm::Scientific.fits(82.0));
        assert!(!NumberForm::Scientific.fits(61_234.0));
        assert!(!NumberForm::Words.fits(0.5));
        assert!(!NumberForm::Words.fits(1_000_000.0));
        assert!(!NumberForm::DigitGroups.fits(999.0));
        assert!(!NumberForm::Signed.fits(8.0));
        assert!(!NumberForm::Plain.fits(f64::NAN));
    }

    #[test]
    fn markers_wrap_the_body_and_keep_remarks_outside() {
        let mut rng = SeededRng::new(1);
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..200 {
            seen.insert(with_marker("42".to_owned(), NumberForm::Plain, &mut rng));
            let remark = with_marker("17 (as of 2019)".to_owned(), NumberForm::Remark, &mut rng);
            assert!(!remark.contains("boxed") && !remark.contains("**"), "{remark}");
        }
        let expected = ["42", "Final answer: 42", "Answer: 42", "The answer is 42.", "x = 42", "\\boxed{42}", "**42**"];
        assert_eq!(seen, expected.iter().map(|s| (*s).to_owned()).collect());
    }

    #[test]
    fn decimals_keep_ten_significant_digits() {
        assert_eq!(decimal(42.0), "42");
        assert_eq!(decimal(-7.0), "-7");
        assert_eq!(decimal(3.4), "3.4");
        assert_eq!(decimal(2.0 / 3.0), "0.6666666667");
        assert_eq!(decimal(123.456), "123.456");
        assert_eq!(decimal(-0.000_012_5), "-0.0000125");
    }
}
