//! The wrong numbers a model plausibly gives, each in the forms where it looks most
//! like the right one: another numerator over the same denominator ("7/3" for "4/3"),
//! the same mantissa under another scale word ("3.4 million" for "3.4 thousand") or
//! exponent, the opposite sign, or a small slip (off by one, ten, seven or a hundred)
//! that a remark, an uncertainty or digit groups may share with the right answer.

use super::number_form::{NumberForm, fraction, scientific_parts};

/// A wrong value and the forms that make it look like the right one (empty: any
/// form fits the mistake).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct WrongNumber {
    /// The value stated.
    pub(crate) value: f64,
    /// Forms to write it in, when one of them can.
    pub(crate) forms: &'static [NumberForm],
}

/// Slips of the plain mock: what it adds to the right value, in order.
pub(crate) const SLIPS: [f64; 5] = [1.0, -1.0, 10.0, -7.0, 100.0];

/// Every wrong value for a right `value`, in a fixed order: the mistakes of the messy
/// forms, then the plain slips (a slip equal to an earlier mistake is dropped). Each differs from `value` and from the others by far
/// more than any tolerance, so two models picking different entries never agree.
pub(crate) fn wrong_numbers(value: f64) -> Vec<WrongNumber> {
    const SCALES: &[NumberForm] = &[NumberForm::ScaleWord, NumberForm::Scientific];
    const FRACTIONS: &[NumberForm] = &[NumberForm::Fraction, NumberForm::MixedNumber];
    const SIGNS: &[NumberForm] = &[NumberForm::Signed, NumberForm::Words, NumberForm::Plain];
    const MANTISSAS: &[NumberForm] = &[NumberForm::Scientific, NumberForm::ScaleWord, NumberForm::DigitGroups];
    let mut candidates = Vec::new();
    if let Some((numerator, denominator)) = fraction(value) {
        for step in [1, 2] {
            let wrong = (numerator + step * denominator) as f64 / denominator as f64;
            candidates.push(WrongNumber { value: wrong, forms: FRACTIONS });
        }
    }
    // A scale word one step off: thousand for million and the reverse.
    candidates.push(WrongNumber { value: value * 1_000.0, forms: SCALES });
    candidates.push(WrongNumber { value: value / 1_000.0, forms: SCALES });
    candidates.push(WrongNumber { value: -value, forms: SIGNS });
    if let Some((_, exponent)) = scientific_parts(value) {
        // The mantissa one higher, the exponent the same.
        candidates.push(WrongNumber { value: value + 10f64.powi(exponent), forms: MANTISSAS });
    }
    candidates.extend(SLIPS.iter().map(|slip| WrongNumber { value: value + slip, forms: &[] }));
    let mut distinct: Vec<WrongNumber> = Vec::with_capacity(candidates.len());
    for candidate in candidates {
        let apart =
            |other: f64| (candidate.value - other).abs() > 1e-3 * candidate.value.abs().max(other.abs()).max(1.0);
        if candidate.value.is_finite() && apart(value) && distinct.iter().all(|d| apart(d.value)) {
            distinct.push(candidate);
        }
    }
    distinct
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(value: f64) -> Vec<f64> {
        wrong_numbers(value).iter().map(|w| w.value).collect()
    }

    #[test]
    fn mistakes_keep_the_frame_of_the_right_number() {
        assert_eq!(values(42.0), [42_000.0, 0.042, -42.0, 43.0, 41.0, 52.0, 35.0, 142.0]);
        let thirds = wrong_numbers(4.0 / 3.0);
        assert_eq!(
            thirds[..2],
            [
                WrongNumber { value: 7.0 / 3.0, forms: &[NumberForm::Fraction, NumberForm::MixedNumber] },
                WrongNumber { value: 10.0 / 3.0, forms: &[NumberForm::Fraction, NumberForm::MixedNumber] },
            ]
        );
        let thousands = wrong_numbers(3_400.0);
        assert!(thousands.iter().any(|w| w.value == 3_400_000.0 && w.forms.contains(&NumberForm::ScaleWord)));
        assert!(thousands.iter().any(|w| w.value == 4_400.0 && w.forms.contains(&NumberForm::Scientific)));
    }

    #[test]
    fn mistakes_are_wrong_and_distinct() {
        for value in [0.0, 1.0, -1.0, 0.5, 0.625, 82.0, -33.0, 3_400.0, 61_000.0, 1e-3] {
            let wrong = values(value);
            assert!(wrong.len() >= 5, "{value}: {wrong:?}");
            for (index, a) in wrong.iter().enumerate() {
                assert!((a - value).abs() > 1e-6, "{value}: {a} is the right value");
                assert!(wrong[index + 1..].iter().all(|b| (a - b).abs() > 1e-6), "{value}: {wrong:?}");
            }
        }
    }
}
