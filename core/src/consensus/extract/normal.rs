//! Unicode normalisation before extraction.

use unicode_normalization::UnicodeNormalization;

/// Lower case, with the full case folds `to_lowercase` leaves out ("ß" is "ss", final
/// sigma is sigma), normalised again: lowering a letter can leave a sequence NFKC
/// composes.
pub(super) fn fold_case(text: &str) -> String {
    if text.is_ascii() {
        return text.to_ascii_lowercase();
    }
    let mut lowered = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '\u{df}' | '\u{1e9e}' => lowered.push_str("ss"),
            '\u{3c2}' => lowered.push('\u{3c3}'),
            other => lowered.extend(other.to_lowercase()),
        }
    }
    if unicode_normalization::is_nfkc_quick(lowered.chars()) == unicode_normalization::IsNormalized::Yes {
        lowered
    } else {
        lowered.nfkc().collect()
    }
}

/// Superscript digits and signs, and their ASCII forms.
const SUPERSCRIPTS: [(char, char); 12] = [
    ('\u{2070}', '0'),
    ('\u{b9}', '1'),
    ('\u{b2}', '2'),
    ('\u{b3}', '3'),
    ('\u{2074}', '4'),
    ('\u{2075}', '5'),
    ('\u{2076}', '6'),
    ('\u{2077}', '7'),
    ('\u{2078}', '8'),
    ('\u{2079}', '9'),
    ('\u{207a}', '+'),
    ('\u{207b}', '-'),
];

/// Whether `c` is a vulgar fraction ("½", "⅜"), which NFKC spells "1⁄2".
fn is_vulgar_fraction(c: char) -> bool {
    matches!(c, '\u{bc}'..='\u{be}' | '\u{2150}'..='\u{215f}' | '\u{2189}')
}

/// NFKC, prepared for numbers: superscripts become an explicit power ("10³" is "10^3",
/// where NFKC alone would make it 103), a vulgar fraction after digits is spaced from
/// them ("1½" is the mixed number "1 1/2", not 11/2), fraction slashes are '/', and
/// musical sharps and flats are the letters people type for them ("F♯" is "F#", "B♭"
/// is "Bb"). NFKC itself makes full-width digits and letters ASCII, thin and no-break
/// spaces plain spaces, and composes accents.
pub(super) fn normalise(text: &str) -> String {
    // ASCII is its own NFKC and holds no superscript, fraction or sharp.
    if text.is_ascii() {
        return text.to_owned();
    }
    let mut prepared = String::with_capacity(text.len());
    let mut in_superscript = false;
    let mut previous: Option<char> = None;
    for character in text.chars() {
        if let Some(&(_, ascii)) = SUPERSCRIPTS.iter().find(|(sup, _)| *sup == character) {
            if !in_superscript {
                prepared.push('^');
                in_superscript = true;
            }
            prepared.push(ascii);
        } else {
            in_superscript = false;
            if is_vulgar_fraction(character) && previous.is_some_and(|c| c.is_ascii_digit()) {
                prepared.push(' ');
            }
            prepared.push(character);
        }
        previous = Some(character);
    }
    prepared
        .nfkc()
        .map(|c| match c {
            '\u{2044}' | '\u{2215}' => '/',
            '\u{266f}' => '#',
            '\u{266d}' => 'b',
            other => other,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prepares_numbers() {
        assert_eq!(normalise("2.5\u{b7}10\u{b3}"), "2.5\u{b7}10^3");
        assert_eq!(normalise("10\u{207b}\u{b3}"), "10^-3");
        assert_eq!(normalise("1\u{bd}"), "1 1/2");
        assert_eq!(normalise("\u{ff14}\u{ff12}"), "42");
        assert_eq!(normalise("45\u{2009}000"), "45 000");
        assert_eq!(normalise("45\u{202f}000"), "45 000");
    }

    #[test]
    fn folds_case_fully() {
        assert_eq!(fold_case("Stra\u{df}e"), "strasse");
        assert_eq!(fold_case("\u{3a3}\u{39f}\u{3a3}"), fold_case("\u{3c3}\u{3bf}\u{3c2}"));
        assert_eq!(normalise("F\u{266f}"), "F#");
    }
}
