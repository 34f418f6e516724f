//! Families of answers: several ways to say the right answer, and wrong answers that
//! no form of the right one (nor of another wrong one) may match under the config.

use proptest::prelude::*;
use proptest::sample::select;

use crate::consensus::{ConsensusConfig, Strategy as Matching};

/// The answers of one question.
#[derive(Clone, Debug, PartialEq)]
pub struct AnswerFamily {
    /// Forms of the right answer; every one means the same.
    pub right: Vec<String>,
    /// Wrong answers, each as its own forms; they contradict the right answer and each
    /// other.
    pub wrong: Vec<Vec<String>>,
}

/// Answer families for `config`'s strategy, with numeric wrong answers outside its
/// tolerances.
pub fn family(config: &ConsensusConfig) -> BoxedStrategy<AnswerFamily> {
    match config.strategy {
        Matching::Numeric => numeric(config.tolerance_absolute, config.tolerance_relative),
        Matching::Exact => exact(),
        Matching::Semantic => semantic(),
    }
}

/// Ways to write a number that every reader of answers must read as that number.
const NUMBER_FORMS: [fn(&str) -> String; 9] = [
    |v| v.to_owned(),
    |v| format!("The answer is {v}."),
    |v| format!("**{v}**"),
    |v| format!("x = {v}"),
    |v| format!("Final answer: {v}"),
    |v| format!("\\boxed{{{v}}}"),
    |v| format!("{v} (computed in 2 steps)"),
    |v| format!("{v}, confidence 0.8"),
    |v| format!("After checking twice, I get {v}"),
];

fn numeric(absolute: f64, relative: f64) -> BoxedStrategy<AnswerFamily> {
    let value =
        prop_oneof![(-1_000i32..10_000).prop_map(f64::from), (-100_000i32..100_000).prop_map(|v| f64::from(v) / 100.0)];
    (value, 2usize..=4)
        .prop_map(move |(value, wrong_count)| {
            let forms = |value: f64| -> Vec<String> {
                let literal = format!("{value}");
                NUMBER_FORMS.iter().map(|form| form(&literal)).collect()
            };
            // Each wrong value lies beyond the tolerance of every smaller one:
            // w - last - relative x w = 2 x absolute + 1 > absolute.
            let mut last = value.abs();
            let wrong = (0..wrong_count)
                .map(|_| {
                    last = (last + 2.0 * absolute + 1.0) / (1.0 - relative);
                    forms(last)
                })
                .collect();
            AnswerFamily { right: forms(value), wrong }
        })
        .boxed()
}

/// Short answers with nothing in common, so no two fold to one key.
const NAMES: [&str; 12] =
    ["Paris", "Rome", "Lyon", "Oslo", "Lima", "Cairo", "Quito", "Dakar", "Hanoi", "Seoul", "Bern", "Accra"];

const NAME_FORMS: [fn(&str) -> String; 7] = [
    |n| n.to_owned(),
    |n| format!("{}.", n.to_lowercase()),
    |n| n.to_uppercase(),
    |n| format!("Answer: {n}"),
    |n| format!("**{n}**"),
    |n| format!("{{\"answer\": \"{n}\"}}"),
    |n| format!("The answer is {n}."),
];

fn exact() -> BoxedStrategy<AnswerFamily> {
    (proptest::sample::subsequence(NAMES.to_vec(), 3..=5), any::<prop::sample::Index>())
        .prop_map(|(names, pick)| {
            let forms = |name: &str| NAME_FORMS.iter().map(|form| form(name)).collect::<Vec<_>>();
            let right = pick.index(names.len());
            let wrong = names.iter().enumerate().filter(|&(i, _)| i != right).map(|(_, name)| forms(name)).collect();
            AnswerFamily { right: forms(names[right]), wrong }
        })
        .boxed()
}

/// One claim: paraphrases of it, and claims that contradict it (negated, the opposite
/// predicate, the arguments reversed, another number, date or name).
struct Claim {
    paraphrases: &'static [&'static str],
    contradictions: &'static [&'static str],
}

const CLAIMS: [Claim; 4] = [
    Claim {
        paraphrases: &[
            "Water boils at a lower temperature at high altitude because the air pressure is lower",
            "At high altitude the air pressure is lower, so water boils at a lower temperature",
            "Because air pressure is lower at high altitude, water boils at a lower temperature there",
        ],
        contradictions: &[
            "Water boils at a higher temperature at high altitude because the air pressure is higher",
            "Water does not boil at a lower temperature at high altitude",
        ],
    },
    Claim {
        paraphrases: &[
            "The Peace of Westphalia was signed in 1648",
            "In 1648 the Peace of Westphalia was signed",
            "The Peace of Westphalia was signed in the year 1648",
        ],
        contradictions: &[
            "The Peace of Westphalia was signed in 1748",
            "The Peace of Westphalia was signed in 1618",
            "The Peace of Westphalia was not signed in 1648",
        ],
    },
    Claim {
        paraphrases: &[
            "Prices rise when demand increases and supply stays the same",
            "When demand increases and supply stays the same, prices rise",
            "If supply stays the same and demand increases, prices rise",
        ],
        contradictions: &[
            "Prices fall when demand increases and supply stays the same",
            "Prices do not rise when demand increases and supply stays the same",
        ],
    },
    Claim {
        paraphrases: &[
            "Mercury orbits closer to the Sun than Venus",
            "Mercury orbits the Sun closer than Venus does",
            "The orbit of Mercury is closer to the Sun than the orbit of Venus",
        ],
        contradictions: &[
            "Venus orbits closer to the Sun than Mercury",
            "Mercury does not orbit closer to the Sun than Venus",
            "Mercury orbits closer to the Sun than Mars",
        ],
    },
];

fn semantic() -> BoxedStrategy<AnswerFamily> {
    select((0..CLAIMS.len()).collect::<Vec<_>>())
        .prop_map(|index| {
            let claim = &CLAIMS[index];
            AnswerFamily {
                right: claim.paraphrases.iter().map(|&text| text.to_owned()).collect(),
                wrong: claim.contradictions.iter().map(|&text| vec![text.to_owned()]).collect(),
            }
        })
        .boxed()
}
