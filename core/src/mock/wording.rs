//! How a mock model words right and wrong answers to one task, in its profile's style.

use crate::SeededRng;
use crate::mock::profile::{AnswerStyle, MistakeStyle};
use crate::mock::workload::{Truth, format_number};
use crate::mock::{mistake, number_form, wrapper};

/// How one model words its answers to one task.
///
/// Every choice comes from `variant`: one draw of the model's seeded RNG (or, for
/// liars that must agree or must differ, a hash or a slot). The plain styles use it
/// directly, as they always have; the messy forms and contradictions seed a generator
/// with it and make their choices from that, in a fixed order.
pub(super) struct Wording {
    pub(super) style: AnswerStyle,
    pub(super) mistakes: MistakeStyle,
    /// What every model answering the task shares (a remark's year).
    pub(super) task_hash: u64,
}

impl Wording {
    pub(super) fn right(&self, truth: &Truth, variant: u64) -> String {
        if self.style == AnswerStyle::Messy {
            return self.messy(truth, variant);
        }
        right_answer(truth, self.style, variant)
    }

    pub(super) fn messy(&self, truth: &Truth, variant: u64) -> String {
        let rng = &mut SeededRng::new(variant);
        match truth {
            Truth::Numeric { value } => {
                number_form::messy_number(*value, &number_form::NumberForm::ALL, self.task_hash, rng)
            }
            Truth::Exact { answer, .. } => wrapper::dressed_short_answer(answer, rng),
            Truth::Semantic { phrasings, .. } => {
                let phrasing = &phrasings[rng.index(phrasings.len())];
                wrapper::dressed_sentence(phrasing, rng)
            }
        }
    }

    pub(super) fn wrong(&self, truth: &Truth, variant: u64) -> String {
        match self.mistakes {
            MistakeStyle::Plain => wrong_answer(truth, variant),
            MistakeStyle::Contradictions => self.contradiction(truth, variant),
        }
    }

    /// Wrong answer number `variant` (modulo how many there are, so different slots
    /// below that count never agree), worded in the profile's style.
    pub(super) fn contradiction(&self, truth: &Truth, variant: u64) -> String {
        let messy = self.style == AnswerStyle::Messy;
        let rng = &mut SeededRng::new(variant);
        match truth {
            Truth::Numeric { value } => {
                let candidates = mistake::wrong_numbers(*value);
                let wrong = &candidates[(variant % candidates.len() as u64) as usize];
                if messy {
                    number_form::messy_number(wrong.value, wrong.forms, self.task_hash, rng)
                } else {
                    format_number(wrong.value)
                }
            }
            Truth::Exact { wrong, .. } => {
                let chosen = &wrong[(variant % wrong.len() as u64) as usize];
                if messy { wrapper::dressed_short_answer(chosen, rng) } else { chosen.clone() }
            }
            Truth::Semantic { wrong, contradictions, .. } => {
                let pool = if contradictions.is_empty() { wrong } else { contradictions };
                let chosen = &pool[(variant % pool.len() as u64) as usize];
                if messy { wrapper::dressed_sentence(chosen, rng) } else { chosen.clone() }
            }
        }
    }
}

pub(super) fn right_answer(truth: &Truth, style: AnswerStyle, variant: u64) -> String {
    match truth {
        Truth::Numeric { value } => match style {
            AnswerStyle::Exact | AnswerStyle::Messy => format_number(*value),
            AnswerStyle::Paraphrase => {
                [format_number(*value), format!("{} ", format_number(*value)), format!("= {}", format_number(*value))]
                    [(variant % 3) as usize]
                    .clone()
            }
            AnswerStyle::Wordy => format!("Working it out step by step, the total comes to {}.", format_number(*value)),
            AnswerStyle::Noisy => {
                // Mostly inside a 1e-6 relative tolerance, sometimes a rounding error.
                let noise = if variant.is_multiple_of(5) { 0.5 } else { value.abs().max(1.0) * 1e-9 };
                format!("{}", value + noise)
            }
        },
        Truth::Exact { answer, .. } => match style {
            AnswerStyle::Exact | AnswerStyle::Noisy | AnswerStyle::Messy => answer.clone(),
            AnswerStyle::Paraphrase => {
                [answer.clone(), answer.to_lowercase(), format!("{answer}."), answer.to_uppercase()]
                    [(variant % 4) as usize]
                    .clone()
            }
            AnswerStyle::Wordy => format!("The answer is {answer}"),
        },
        Truth::Semantic { phrasings, .. } => match style {
            AnswerStyle::Exact => phrasings[0].clone(),
            _ => phrasings[(variant % phrasings.len() as u64) as usize].clone(),
        },
    }
}

pub(super) fn wrong_answer(truth: &Truth, variant: u64) -> String {
    match truth {
        Truth::Numeric { value } => format_number(value + mistake::SLIPS[(variant % 5) as usize]),
        Truth::Exact { wrong, .. } => wrong[(variant % wrong.len() as u64) as usize].clone(),
        Truth::Semantic { wrong, .. } => wrong[(variant % wrong.len() as u64) as usize].clone(),
    }
}
