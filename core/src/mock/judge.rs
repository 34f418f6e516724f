//! The mock as an entailment judge: it knows which sentences state the same answer,
//! so simulations and `--llm mock` can exercise [`crate::judge_meanings`].

use crate::entailment::Entailment;
use crate::llm::LlmError;
use crate::mock::llm::MockLlm;
use crate::mock::workload::{Truth, folded_words};

/// Judges by the ground truth of the tasks the model knows, like an ideal reader:
/// two answers entail each other when they state the same one of a task's known
/// answers ([`Truth::known_answer`]): any two phrasings of the right answer, or one
/// and the same wrong answer or contradiction. An answer that states none of them
/// entails only itself (the same words, in any case and punctuation). Entailment is
/// symmetric here: the workload's answers are whole claims, none weaker than another.
///
/// The judge is exact and instant: it makes no draws (so judging never changes the
/// model's later answers), has no latency and never fails. It judges honestly even
/// when the model answers as a byzantine one.
impl Entailment for MockLlm {
    async fn entails(&self, premise: &str, hypothesis: &str) -> Result<bool, LlmError> {
        Ok(same_known_answer(self.truths().values(), premise, hypothesis)
            .unwrap_or_else(|| folded_words(premise) == folded_words(hypothesis)))
    }
}

/// Whether `first` and `second` state the same answer of the first truth (in the
/// book's order) that knows both; `None` when no truth knows both.
fn same_known_answer<'a>(truths: impl IntoIterator<Item = &'a Truth>, first: &str, second: &str) -> Option<bool> {
    truths.into_iter().find_map(|truth| {
        let first = truth.known_answer(first)?;
        let second = truth.known_answer(second)?;
        Some(first == second)
    })
}

#[cfg(test)]
mod tests;
