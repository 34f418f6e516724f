//! The hard question bank: tasks whose answers models write in forms that fool a
//! naive reader. Numeric: quotients (fractions, mixed numbers), thousands and
//! millions (scale words, scientific notation, digit groups), differences below zero
//! (minus signs and words), small sums (number words). Exact: capitals with accents,
//! answers whose symbols carry the meaning ("C++", "C#", "F#", "B+"), lettered
//! choices. Semantic: claims with a relation (see [`super::claim`]).

use crate::SeededRng;

use super::Truth;
use super::claim::CLAIMS;

/// Denominators of quotient tasks: small enough for a model to write the fraction.
const DENOMINATORS: [u64; 9] = [2, 3, 4, 5, 6, 8, 10, 12, 16];
/// Multipliers of scaled products.
const SCALES: [u64; 4] = [1_000, 10_000, 100_000, 1_000_000];

const ACCENTED_CAPITALS: [(&str, &str, [&str; 2]); 8] = [
    ("Colombia", "Bogotá", ["Medellín", "Cali"]),
    ("Iceland", "Reykjavík", ["Akureyri", "Oslo"]),
    ("Cameroon", "Yaoundé", ["Douala", "Lagos"]),
    ("Paraguay", "Asunción", ["Encarnación", "Montevideo"]),
    ("Brazil", "Brasília", ["São Paulo", "Rio de Janeiro"]),
    ("Canada", "Ottawa", ["Montréal", "Toronto"]),
    ("Australia", "Canberra", ["Sydney", "Melbourne"]),
    ("Turkey", "Ankara", ["İstanbul", "İzmir"]),
];

/// Answers whose punctuation is the answer: a reader that folds it away merges the
/// right answer with its near misses.
const SYMBOL_ANSWERS: [(&str, &str, [&str; 3]); 4] = [
    ("Which programming language did Bjarne Stroustrup create? Give only its name.", "C++", ["C", "C#", "Java"]),
    (
        "Which programming language did Microsoft announce in 2000 for its .NET platform? Give only its name.",
        "C#",
        ["C++", "C", "F#"],
    ),
    ("Which note lies one semitone above F, written with a sharp? Give only the note.", "F#", ["F", "G", "E"]),
    (
        "A score of 87 earns which letter grade, when A is 90 and above, B+ is 85 to 89 and B is 80 to 84? Give only \
         the grade.",
        "B+",
        ["B", "B-", "A"],
    ),
];

const LETTERED_CHOICES: [(&str, &str, [&str; 3]); 3] = [
    (
        "Which planet is the largest? Options: A) Mars, B) Jupiter, C) Venus, D) Earth. Reply with the letter only.",
        "B",
        ["A", "C", "D"],
    ),
    (
        "Which gas do plants take in for photosynthesis? Options: A) oxygen, B) nitrogen, C) carbon dioxide, D) \
         helium. Reply with the letter only.",
        "C",
        ["A", "B", "D"],
    ),
    (
        "Which ocean is the largest? Options: A) Atlantic, B) Indian, C) Arctic, D) Pacific. Reply with the letter \
         only.",
        "D",
        ["A", "B", "C"],
    ),
];

/// A numeric task of the hard bank.
pub(crate) fn numeric_task(rng: &mut SeededRng) -> (String, Truth) {
    let (question, value) = match rng.index(5) {
        0 => {
            let numerator = rng.range_u64(1, 40);
            let denominator = DENOMINATORS[rng.index(DENOMINATORS.len())];
            (format!("What is {numerator} / {denominator}?"), numerator as f64 / denominator as f64)
        }
        1 => {
            let factor = rng.range_u64(11, 99);
            let scale = SCALES[rng.index(SCALES.len())];
            (format!("What is {factor} * {scale}?"), (factor * scale) as f64)
        }
        2 => {
            let (a, b) = (rng.range_u64(2, 40) as i64, rng.range_u64(2, 99) as i64);
            (format!("What is {a} - {b}?"), (a - b) as f64)
        }
        3 => {
            let (a, b) = (rng.range_u64(2, 60), rng.range_u64(2, 60));
            (format!("What is {a} + {b}?"), (a + b) as f64)
        }
        _ => {
            let (a, b) = (rng.range_u64(12, 99), rng.range_u64(12, 99));
            (format!("What is {a} * {b}?"), (a * b) as f64)
        }
    };
    (question, Truth::Numeric { value })
}

/// An exact task of the hard bank.
pub(crate) fn exact_task(rng: &mut SeededRng) -> (String, Truth) {
    let owned = |items: &[&str]| items.iter().map(|item| (*item).to_owned()).collect();
    match rng.index(3) {
        0 => {
            let (country, capital, wrong) = ACCENTED_CAPITALS[rng.index(ACCENTED_CAPITALS.len())];
            (
                format!("What is the capital of {country}?"),
                Truth::Exact { answer: capital.to_owned(), wrong: owned(&wrong) },
            )
        }
        1 => {
            let (question, answer, wrong) = SYMBOL_ANSWERS[rng.index(SYMBOL_ANSWERS.len())];
            (question.to_owned(), Truth::Exact { answer: answer.to_owned(), wrong: owned(&wrong) })
        }
        _ => {
            let (question, answer, wrong) = LETTERED_CHOICES[rng.index(LETTERED_CHOICES.len())];
            (question.to_owned(), Truth::Exact { answer: answer.to_owned(), wrong: owned(&wrong) })
        }
    }
}

/// A semantic task of the hard bank: a claim, its frames, its contradictions.
pub(crate) fn semantic_task(rng: &mut SeededRng) -> (String, Truth) {
    let claim = &CLAIMS[rng.index(CLAIMS.len())];
    (
        claim.question.to_owned(),
        Truth::Semantic {
            phrasings: claim.phrasings(),
            wrong: claim.unrelated.iter().map(|w| (*w).to_owned()).collect(),
            contradictions: claim.contradictions(),
        },
    )
}
