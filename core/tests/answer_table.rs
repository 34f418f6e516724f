//! The answer table: numeric, exact and auto rows, each with its reason. Issue 8's
//! examples are here, with every class of answer they stand for.

mod table;

use quorum_core::consensus::ExclusionReason::{AmbiguousNumber, Empty, NoNumber, NumberOutOfRange};
use quorum_core::consensus::Strategy;
use table::Expect::{Excluded, Groups, Key, Percent, Routed, RoutedGroups, Value};
use table::{AUTO, EXACT, Mode, NUMERIC, Row, row};

/// Numeric rows: the number an answer commits to.
const NUMERIC_ROWS: &[Row] = &[
    // Fractions and mixed numbers.
    row(NUMERIC, &["x = 5/8"], Value(0.625), "'=' marks the value and 5/8 is one number, not 8"),
    row(NUMERIC, &["1/3"], Value(1.0 / 3.0), "a fraction is its quotient"),
    row(
        NUMERIC,
        &["1/3", "4/3", "7/3"],
        Groups(&[&[0], &[1], &[2]]),
        "different fractions never agree on their denominator",
    ),
    row(
        NUMERIC,
        &["5/8", "0.625", "\\frac{5}{8}"],
        Groups(&[&[0, 1, 2]]),
        "a fraction, its decimal and LaTeX \\frac agree",
    ),
    row(NUMERIC, &["1 1/2 cups"], Value(1.5), "a mixed number is whole plus fraction"),
    row(NUMERIC, &["1\u{bd}"], Value(1.5), "a vulgar fraction after digits is a mixed number, not 11/2"),
    row(NUMERIC, &["10 / 4 = 2.5"], Value(2.5), "a spaced division is its value and agrees with the result"),
    row(NUMERIC, &["3/4/2020"], Excluded(NoNumber), "a date is no value"),
    // Scale words and suffixes.
    row(NUMERIC, &["3.4 thousand"], Value(3400.0), "a scale word multiplies"),
    row(NUMERIC, &["3.4 million"], Value(3_400_000.0), "million is not thousand"),
    row(NUMERIC, &["3.4 thousand", "3.4 million"], Groups(&[&[0], &[1]]), "different scales never agree"),
    row(NUMERIC, &["1.5 billion", "1.5bn", "1,500,000,000"], Groups(&[&[0, 1, 2]]), "bn is billion"),
    row(NUMERIC, &["2 trillion"], Value(2e12), "trillions"),
    row(NUMERIC, &["5k"], Value(5000.0), "k suffix"),
    row(NUMERIC, &["3.4K"], Value(3400.0), "K suffix"),
    row(NUMERIC, &["3M"], Value(3e6), "M suffix is million (m is metres)"),
    row(NUMERIC, &["$2.5bn"], Value(2.5e9), "currency and bn suffix"),
    row(NUMERIC, &["3 hundred thousand"], Value(300_000.0), "hundred thousand multiplies"),
    row(NUMERIC, &["roughly 1.5 million people"], Value(1.5e6), "approximation words and units around a scaled number"),
    // Scientific forms.
    row(NUMERIC, &["6.1 × 10^4"], Value(61_000.0), "× 10^n is scientific notation, not the exponent 4"),
    row(NUMERIC, &["1e3"], Value(1000.0), "e notation"),
    row(NUMERIC, &["1.2e-3"], Value(0.0012), "negative exponent"),
    row(
        NUMERIC,
        &["2.5 × 10^3", "2.5x10^3", "2.5\u{b7}10\u{b3}", "2.5 \\times 10^{3}", "2500"],
        Groups(&[&[0, 1, 2, 3, 4]]),
        "every scientific spelling agrees",
    ),
    row(NUMERIC, &["10^6"], Value(1e6), "a power of ten alone"),
    row(NUMERIC, &["The speed of light is about 3 × 10^8 m/s"], Value(3e8), "scientific inside a sentence"),
    row(NUMERIC, &["1e999"], Excluded(NumberOutOfRange), "beyond f64 is reported, not read as another number"),
    // Uncertainty.
    row(NUMERIC, &["9.8 ± 0.3"], Value(9.8), "± gives the central value, not the uncertainty"),
    row(NUMERIC, &["9.8 +/- 0.3"], Value(9.8), "+/- is ±"),
    row(NUMERIC, &["(9.8 ± 0.3) m/s\u{b2}"], Value(9.8), "bracketed value with a superscript unit"),
    // Digit groups, separators, signs.
    row(NUMERIC, &["45\u{2009}000"], Value(45_000.0), "thin-space SI group"),
    row(
        NUMERIC,
        &[
            "45 000",
            "45,000",
            "45\u{2009}000",
            "45\u{a0}000",
            "45\u{202f}000",
            "45000",
            "4.5 × 10^4",
            "45k",
            "forty-five thousand",
        ],
        Groups(&[&[0, 1, 2, 3, 4, 5, 6, 7, 8]]),
        "every spelling of 45000 agrees",
    ),
    row(NUMERIC, &["12 34"], Excluded(AmbiguousNumber), "a group of two digits is no SI group: two numbers"),
    row(NUMERIC, &["1,234"], Value(1234.0), "comma thousands"),
    row(NUMERIC, &["$1,234,567.89"], Value(1_234_567.89), "several groups and decimals"),
    row(NUMERIC, &["It is 2,5"], Value(2.5), "one comma not before three digits is a decimal comma"),
    row(NUMERIC, &["2,5", "25"], Groups(&[&[0], &[1]]), "a decimal comma is never glued away"),
    row(NUMERIC, &["1,2,3"], Excluded(AmbiguousNumber), "a list is several numbers"),
    row(NUMERIC, &["\u{2212}7"], Value(-7.0), "Unicode minus"),
    row(
        NUMERIC,
        &["-3", "\u{2212}3", "minus 3", "negative three", "\u{ff0d}\u{ff13}"],
        Groups(&[&[0, 1, 2, 3, 4]]),
        "every spelling of minus three agrees",
    ),
    row(NUMERIC, &["-$40", "$-40"], Value(-40.0), "a sign around a currency symbol"),
    row(NUMERIC, &["\u{ff14}\u{ff15}"], Value(45.0), "full-width digits through NFKC"),
    row(NUMERIC, &["Total: $45.00", "45.00 USD"], Value(45.0), "currency and trailing zeros"),
    // Number words.
    row(NUMERIC, &["minus 8"], Value(-8.0), "minus as a sign word"),
    row(NUMERIC, &["nineteen"], Value(19.0), "a teen"),
    row(NUMERIC, &["one hundred and five"], Value(105.0), "hundreds with and"),
    row(NUMERIC, &["two thousand and twenty"], Value(2020.0), "thousands with and"),
    row(NUMERIC, &["negative 4"], Value(-4.0), "negative as a sign word before digits"),
    row(NUMERIC, &["a dozen"], Value(12.0), "a dozen"),
    row(NUMERIC, &["twenty-one"], Value(21.0), "hyphenated tens and units"),
    row(NUMERIC, &["two point seven five"], Value(2.75), "spoken decimals"),
    row(NUMERIC, &["The answer is zero."], Value(0.0), "zero is a number"),
    row(NUMERIC, &["nineteen", "19", "90"], Groups(&[&[0, 1], &[2]]), "nineteen is 19, not 90"),
    row(
        NUMERIC,
        &["42", "The answer is 42.", "$42.00", "forty-two", "**42**", "Answer: forty two"],
        Groups(&[&[0, 1, 2, 3, 4, 5]]),
        "one value in every form",
    ),
    row(NUMERIC, &["10 minus 3 is 7"], Value(7.0), "minus between numbers is an operator: the result counts"),
    row(NUMERIC, &["One of them is 5"], Value(5.0), "the lone word one is weak: a pronoun as often as a number"),
    // Percent.
    row(NUMERIC, &["12%"], Percent(12.0), "percent is read in percent"),
    row(NUMERIC, &["12 percent", "12 per cent", "twelve percent"], Percent(12.0), "percent words"),
    row(NUMERIC, &["12%", "0.12"], Groups(&[&[0], &[1]]), "12% is not 0.12"),
    row(NUMERIC, &["-40%"], Percent(-40.0), "signed percentage"),
    // Markers: the last one wins.
    row(NUMERIC, &["5 + 3 = 8"], Value(8.0), "the value after the last '=' wins over the operands"),
    row(NUMERIC, &["I tried 40 and 41. Final answer: 42"], Value(42.0), "final answer beats earlier numbers"),
    row(NUMERIC, &["Between 40 and 45; **43** fits best"], Value(43.0), "bold marks the answer"),
    row(NUMERIC, &["so $x = \\boxed{12}$"], Value(12.0), "boxed marks the answer"),
    row(NUMERIC, &["The answer is 42, since 6 * 7 = 42"], Value(42.0), "identical marked values"),
    row(
        NUMERIC,
        &["The answer is 42 = 6 × 7"],
        Value(42.0),
        "operands after the last '=' are no value: the earlier marker holds",
    ),
    row(
        NUMERIC,
        &["Step 1: 6 * 7 = 42\nStep 2: add 3 = 45\nFinal answer: 45"],
        Value(45.0),
        "worked steps end on the final answer",
    ),
    row(NUMERIC, &["**Final Answer:** 11"], Value(11.0), "a bold label followed by the value"),
    row(NUMERIC, &["x^2 + 3x = 10 so x = 2"], Value(2.0), "the last '=' in an equation"),
    row(NUMERIC, &["E = mc^2 and the answer is 42"], Value(42.0), "an exponent of a letter is no value"),
    row(NUMERIC, &[r#"{"answer": 42, "confidence": 0.9}"#], Value(42.0), "JSON answer field, confidence ignored"),
    row(NUMERIC, &["Answer = -5"], Value(-5.0), "answer = marker with a sign"),
    row(NUMERIC, &["The result equals 12"], Value(12.0), "equals marker"),
    row(NUMERIC, &["22/7 \u{2248} 3.1429"], Value(3.1429), "≈ marks the value after the fraction"),
    row(NUMERIC, &["What is 17 × 23? It is 391"], Value(391.0), "the question's operands are no answer"),
    row(NUMERIC, &["6 × 7 is 42"], Value(42.0), "operands before the result"),
    // Remarks are skipped.
    row(NUMERIC, &["17 (as of 2019)"], Value(17.0), "a year in an aside is a remark, not the answer"),
    row(NUMERIC, &["17 million as of 2019"], Value(17e6), "as of a year is a remark"),
    row(NUMERIC, &["17, confidence 0.8"], Value(17.0), "confidence is a remark"),
    row(NUMERIC, &["Confidence: 0.9. Answer: 42"], Value(42.0), "confidence before the answer"),
    row(NUMERIC, &["I am 90% sure it is 42"], Value(42.0), "N% sure is a remark"),
    row(NUMERIC, &["42 (rounded from 41.7)"], Value(42.0), "rounded from is a remark"),
    row(NUMERIC, &["42, rounded from 41.7"], Value(42.0), "rounded from outside brackets"),
    row(NUMERIC, &["It is 42, not 41"], Value(42.0), "a rejected value is a remark"),
    row(NUMERIC, &["Step 3: it comes to 12"], Value(12.0), "a step label is no answer"),
    row(NUMERIC, &["The 2nd answer is 7"], Value(7.0), "an ordinal is no answer"),
    row(NUMERIC, &["The Eiffel tower is 330 m tall (1,083 ft)"], Value(330.0), "a conversion in an aside"),
    row(NUMERIC, &["In 1969"], Value(1969.0), "a year alone is the answer"),
    row(NUMERIC, &["version 1.2.3 gives 7"], Value(7.0), "a version is no value"),
    row(NUMERIC, &["H2O has 3 atoms"], Value(3.0), "digits inside a word are no value"),
    row(NUMERIC, &["42 km/h"], Value(42.0), "a unit with a slash"),
    row(NUMERIC, &["42. So the answer: 42"], Value(42.0), "identical repeats are one value"),
    row(
        NUMERIC,
        &["17 (as of 2019)", "17", "2019"],
        Groups(&[&[0, 1], &[2]]),
        "the aside's year does not join the year answer",
    ),
    // Ambiguity is refused, never guessed.
    row(NUMERIC, &["between 40 and 45"], Excluded(AmbiguousNumber), "a range has no single value"),
    row(NUMERIC, &["10-12"], Excluded(AmbiguousNumber), "a dashed range"),
    row(NUMERIC, &["2 + 2"], Excluded(AmbiguousNumber), "an expression without its result"),
    row(
        NUMERIC,
        &["Apollo 11 landed in 1969"],
        Excluded(AmbiguousNumber),
        "two numbers, no marker: which one the question wants is not the reader's guess",
    ),
    row(NUMERIC, &["3 apples and 4 pears make 7 fruits"], Excluded(AmbiguousNumber), "three values, no marker"),
    row(NUMERIC, &["It is 17 in one count and 19 in another"], Excluded(AmbiguousNumber), "two candidate values"),
    // Nothing to read.
    row(NUMERIC, &["I cannot say"], Excluded(NoNumber), "no number at all"),
    row(NUMERIC, &["h2o"], Excluded(NoNumber), "digits inside a word only"),
    row(NUMERIC, &[""], Excluded(NoNumber), "empty answer under numeric"),
];

/// Exact rows: the key an answer folds to.
const EXACT_ROWS: &[Row] = &[
    // Unicode.
    row(EXACT, &["Caf\u{e9}", "Cafe\u{301}"], Groups(&[&[0, 1]]), "precomposed and combining accents are one answer"),
    row(
        EXACT,
        &["\u{ff30}\u{ff21}\u{ff32}\u{ff29}\u{ff33}", "Paris"],
        Groups(&[&[0, 1]]),
        "full-width letters are ASCII",
    ),
    row(EXACT, &["Stra\u{df}e", "STRASSE"], Groups(&[&[0, 1]]), "full case folding: ß is ss"),
    row(
        EXACT,
        &["\u{dc}n\u{ef}c\u{f6}d\u{e9}", "\u{fc}n\u{ef}c\u{f6}d\u{e9}"],
        Groups(&[&[0, 1]]),
        "accented capitals fold",
    ),
    row(EXACT, &["Caf\u{e9}"], Key("caf\u{e9}"), "accents are kept, composed"),
    // Symbols that carry meaning.
    row(EXACT, &["F#", "F", "F\u{266f}"], Groups(&[&[0, 2], &[1]]), "a sharp is part of the note"),
    row(EXACT, &["B+", "B-", "B"], Groups(&[&[0], &[1], &[2]]), "grade signs are kept"),
    row(EXACT, &["C++", "C"], Groups(&[&[0], &[1]]), "C++ is not C"),
    row(EXACT, &["C#", "c#"], Groups(&[&[0, 1]]), "case folds, the sharp stays"),
    row(EXACT, &["2,5", "25", "2.5"], Groups(&[&[0], &[1], &[2]]), "decimal separators are kept"),
    row(EXACT, &["3.5", "35"], Groups(&[&[0], &[1]]), "a decimal point is kept"),
    row(EXACT, &["1,000", "1000"], Groups(&[&[0, 1]]), "a thousands comma is dropped"),
    row(EXACT, &["-3", "3"], Groups(&[&[0], &[1]]), "a sign is kept"),
    row(EXACT, &["-$40", "$40"], Groups(&[&[0], &[1]]), "a sign before a currency is kept"),
    row(EXACT, &["well-known", "well known"], Groups(&[&[0, 1]]), "a hyphen between letters is a space"),
    // White space and punctuation.
    row(EXACT, &["  The  Pacific Ocean! "], Key("pacific ocean"), "space, article and punctuation fold"),
    row(
        EXACT,
        &["Paris", "paris.", "PARIS!", "\"Paris\"", "(Paris)"],
        Groups(&[&[0, 1, 2, 3, 4]]),
        "case, quotes, brackets and sentence punctuation fold",
    ),
    row(EXACT, &["The Pacific"], Key("pacific"), "a leading article is dropped"),
    row(EXACT, &["A"], Key("a"), "an article alone is the answer"),
    row(EXACT, &["3.5."], Key("3.5"), "a full stop after a decimal"),
    // Wrappers.
    row(
        EXACT,
        &[
            "Answer: C",
            "The answer is C.",
            "Final answer: C",
            "C",
            "**C**",
            "`C`",
            "\\boxed{C}",
            "\"C\"",
            "(C)",
            "$C$",
            "Answer - C",
        ],
        Groups(&[&[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]]),
        "every wrapper of C is C",
    ),
    row(
        EXACT,
        &[r#"{"answer": "Rome"}"#, "Rome", "**Rome**", "rome.", "`Rome`"],
        Groups(&[&[0, 1, 2, 3, 4]]),
        "JSON, bold and code are wrappers",
    ),
    row(EXACT, &[r#"{"final_answer": "Rome", "confidence": 0.8}"#], Key("rome"), "the final_answer field"),
    row(EXACT, &["```json\n{\"answer\": \"Rome\"}\n```"], Key("rome"), "a fenced JSON answer"),
    row(
        EXACT,
        &[r#"{"answer": "Rome""#],
        Key("rome"),
        "broken JSON is folded as text (never a crash), its label still read",
    ),
    row(EXACT, &["Let me think. Rome is old. Final answer: Rome"], Key("rome"), "the final answer after reasoning"),
    row(EXACT, &["I think the answer is Paris"], Key("paris"), "an announced answer mid-sentence"),
    row(EXACT, &["**Answer** Rome"], Key("rome"), "a bold label"),
    row(EXACT, &["Incorrect, the answer is B"], Key("b"), "the announced answer wins over a leading word"),
    // Polarity.
    row(
        EXACT,
        &["Yes, it is.", "yes", "Yes \u{2014} it is legal", "Yes!", "YES"],
        Groups(&[&[0, 1, 2, 3, 4]]),
        "every yes is yes",
    ),
    row(EXACT, &["No, it is not legal", "no", "No.", "No it isn't"], Groups(&[&[0, 1, 2, 3]]), "every no is no"),
    row(
        EXACT,
        &["Yes, it is legal", "No, it is not legal"],
        Groups(&[&[0], &[1]]),
        "opposite polarities never share a group",
    ),
    row(EXACT, &["True", "Yes", "Correct"], Groups(&[&[0, 1, 2]]), "true and correct answer yes"),
    row(EXACT, &["False", "No", "Incorrect", "nope"], Groups(&[&[0, 1, 2, 3]]), "false and incorrect answer no"),
    row(EXACT, &["Answer: Yes, with a permit"], Key("yes"), "a labelled polarity"),
    row(EXACT, &["No one knows"], Key("no one knows"), "no one is no polarity"),
    row(EXACT, &["Yes and no"], Key("yes and no"), "yes and no is no polarity"),
    row(EXACT, &["True north"], Key("true north"), "true north is a phrase"),
    // Nothing left.
    row(EXACT, &["?!..."], Excluded(Empty), "punctuation only"),
    row(EXACT, &[""], Excluded(Empty), "empty answer"),
    row(EXACT, &["** **"], Excluded(Empty), "an empty wrapper"),
];

/// Auto rows: which strategy `auto` picks, and what it does with the answers.
const AUTO_ROWS: &[Row] = &[
    row(
        AUTO,
        &["Yes, it is legal", "No, it is not legal"],
        RoutedGroups(Strategy::Exact, &[&[0], &[1]]),
        "yes/no answers go to exact on their polarity, never one semantic group",
    ),
    row(
        AUTO,
        &[
            "Yes, it is legal to drive there at sixteen with a permit",
            "No, it is not legal to drive there at sixteen with a permit",
        ],
        RoutedGroups(Strategy::Exact, &[&[0], &[1]]),
        "long yes/no answers too",
    ),
    row(AUTO, &["Yes", "yes.", "No"], RoutedGroups(Strategy::Exact, &[&[0, 1], &[2]]), "short polar answers"),
    row(
        AUTO,
        &["True", "False", "Correct"],
        RoutedGroups(Strategy::Exact, &[&[0, 2], &[1]]),
        "true/false answers are polar",
    ),
    row(AUTO, &["42", "$42", "x = 42"], RoutedGroups(Strategy::Numeric, &[&[0, 1, 2]]), "short numeric answers"),
    row(AUTO, &["5/8", "0.625"], RoutedGroups(Strategy::Numeric, &[&[0, 1]]), "fractions are numbers"),
    row(AUTO, &["Paris", "paris."], RoutedGroups(Strategy::Exact, &[&[0, 1]]), "short text answers"),
    row(AUTO, &["42", "Paris"], Routed(Strategy::Exact), "mixed short answers"),
    row(
        AUTO,
        &["Water boils at a lower temperature at altitude because the pressure is lower", "It depends on the pot"],
        Routed(Strategy::Semantic),
        "free text",
    ),
    row(
        AUTO,
        &["Yes, it is legal in most states today", "It depends on the state you live in"],
        Routed(Strategy::Semantic),
        "one answer without polarity keeps free text semantic",
    ),
    row(AUTO, &["between 3 and 4", "5"], Routed(Strategy::Exact), "an ambiguous number is no numeric answer"),
    row(
        Mode::Auto { task: Some("Is it legal to drive at sixteen in Ohio?") },
        &["Yes, with a permit it is legal", "No, it is not legal at sixteen"],
        RoutedGroups(Strategy::Exact, &[&[0], &[1]]),
        "a yes/no question goes to exact",
    ),
    row(
        Mode::Auto { task: Some("True or false: the Earth is flat.") },
        &["False", "No", "True"],
        RoutedGroups(Strategy::Exact, &[&[0, 1], &[2]]),
        "a true/false question goes to exact",
    ),
    row(
        Mode::Auto { task: Some("Does 7 divide 91?") },
        &["Yes", "Yes, 91 = 7 × 13", "No"],
        RoutedGroups(Strategy::Exact, &[&[0, 1], &[2]]),
        "a yes/no question with numbers is still yes/no",
    ),
    row(
        Mode::Auto { task: Some("What is 17 * 23?") },
        &["391", "The answer is 391.", "17 × 23 = 391"],
        RoutedGroups(Strategy::Numeric, &[&[0, 1, 2]]),
        "a calculation goes to numeric",
    ),
    row(
        Mode::Auto { task: Some("What is the total of 3 and 4?") },
        &["7", "seven"],
        RoutedGroups(Strategy::Numeric, &[&[0, 1]]),
        "a task stating several numbers is still a calculation",
    ),
    row(
        Mode::Auto { task: Some("How many legs do 3 spiders have in total?") },
        &["24", "twenty-four", "3 spiders \u{d7} 8 legs = 24"],
        RoutedGroups(Strategy::Numeric, &[&[0, 1, 2]]),
        "worked answers agree on the result",
    ),
    row(
        Mode::Auto { task: Some("What is the capital of France?") },
        &["Paris", "**Paris**", "Answer: Paris"],
        RoutedGroups(Strategy::Exact, &[&[0, 1, 2]]),
        "a short factual question goes to exact",
    ),
    row(
        Mode::Auto { task: Some("Can you compute 17 * 23?") },
        &["391"],
        Routed(Strategy::Numeric),
        "can you asks for work, not yes/no",
    ),
    row(
        Mode::Auto { task: Some("Is the answer 3 or 4?") },
        &["3", "4"],
        RoutedGroups(Strategy::Exact, &[&[0], &[1]]),
        "an alternative question is answered by a value",
    ),
    row(
        Mode::Auto { task: Some("Explain why the sky is blue.") },
        &["Rayleigh scattering"],
        Routed(Strategy::Semantic),
        "an open question goes to semantic",
    ),
];

#[test]
fn numeric_rows() {
    table::run(NUMERIC_ROWS);
}

#[test]
fn exact_rows() {
    table::run(EXACT_ROWS);
}

#[test]
fn auto_rows() {
    table::run(AUTO_ROWS);
}

#[test]
fn the_table_covers_at_least_a_hundred_answer_sets() {
    assert!(NUMERIC_ROWS.len() + EXACT_ROWS.len() + AUTO_ROWS.len() >= 100);
}
