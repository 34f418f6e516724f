//! Meaning classes by bidirectional entailment, so that semantic matching can group
//! answers a model judges equivalent.
//!
//! As in semantic-entropy clustering, two answers mean the same thing when each entails
//! the other. A model (the live one in real mode, the seeded mock
//! ([`crate::mock::MockLlm`]) in simulation and offline, which knows which claims are
//! equivalent) answers the [`Entailment`] questions;
//! [`judge_meanings`] turns the answers into a class per ballot
//! ([`Ballot::meaning`]), which the consensus engine, pure and synchronous, then uses
//! in place of similarity when every ballot has one. The claim guard still applies:
//! answers whose claims conflict are never grouped, whatever the judge said.

use core::future::Future;

use crate::consensus::{Ballot, Claim};
use crate::llm::LlmError;

/// Most entailment questions one [`judge_meanings`] call asks: each is a model call. A
/// panel of 15 distinct answers needs at most 210 (two per pair); past this the
/// ballots keep no class and matching stays lexical or by embeddings.
pub const ENTAILMENT_QUESTIONS_MAX: usize = 1_000;

/// Judges entailment between two answers (optional: lexical similarity is the
/// deterministic default, embeddings a refinement).
pub trait Entailment: Send + Sync {
    /// Whether `premise` entails `hypothesis`: whenever the premise is true, so is the
    /// hypothesis.
    fn entails(&self, premise: &str, hypothesis: &str) -> impl Future<Output = Result<bool, LlmError>> + Send;
}

/// Why meaning classes could not be assigned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JudgeError {
    /// The judge failed.
    #[error("entailment judge: {0}")]
    Llm(#[from] LlmError),
    /// The answers need more questions than [`ENTAILMENT_QUESTIONS_MAX`].
    #[error("judging these answers takes more than {max} entailment questions")]
    TooManyQuestions {
        /// The limit.
        max: usize,
    },
}

/// Assigns every ballot a meaning class with `judge`.
///
/// The distinct texts are taken in sorted order (so the classes do not depend on the
/// order ballots arrived in); each joins the first class whose first text it entails
/// and is entailed by, or opens a new class. Identical texts share a class without a
/// question, and a text is not compared with a class whose first text its claim
/// conflicts with (consensus would keep them apart anyway). Classes are numbered from 0
/// in order of their first text.
///
/// # Errors
/// [`JudgeError`]; the ballots are then left unchanged (all or nothing, like
/// [`crate::embed_ballots`]).
pub async fn judge_meanings<E: Entailment>(judge: &E, ballots: &mut [Ballot]) -> Result<(), JudgeError> {
    let mut texts: Vec<&str> = ballots.iter().map(|b| b.text.as_str()).collect();
    texts.sort_unstable();
    texts.dedup();
    let mut classes: Vec<MeaningClass> = Vec::new();
    let mut class_of: Vec<u64> = Vec::with_capacity(texts.len());
    let mut questions = 0usize;
    for text in &texts {
        let claim = Claim::new(text);
        let class = match classify(judge, text, &claim, &classes, &mut questions, ENTAILMENT_QUESTIONS_MAX).await? {
            Some(class) => class,
            None => {
                classes.push(MeaningClass::new(text, claim));
                classes.len() - 1
            }
        };
        class_of.push(class as u64);
    }
    let classes: Vec<u64> = ballots
        .iter()
        .map(|b| class_of[texts.binary_search(&b.text.as_str()).expect("every text is listed")])
        .collect();
    for (ballot, class) in ballots.iter_mut().zip(classes) {
        ballot.meaning = Some(class);
    }
    Ok(())
}

/// One meaning class: the text that opened it, and that text's claim signature.
#[derive(Clone, Debug)]
pub(crate) struct MeaningClass {
    /// The class's first text, which every later text is compared with.
    pub(crate) text: String,
    claim: Claim,
}

impl MeaningClass {
    /// The class `text` opens.
    pub(crate) fn new(text: &str, claim: Claim) -> Self {
        Self { text: text.to_owned(), claim }
    }
}

/// Which of `classes` (by index) `text` belongs to, asking `judge` in both
/// directions about each class's first text in turn; `None` when it belongs to none
/// and opens a new one. A text equal to a class's first text joins it without a
/// question; a class whose first text's claim conflicts with `claim` is skipped.
/// `questions` counts the questions asked (across calls, so a caller can bound a
/// whole task's).
///
/// # Errors
/// [`JudgeError::Llm`] when the judge fails, [`JudgeError::TooManyQuestions`] when the
/// next question would take `questions` past `questions_max`.
pub(crate) async fn classify<E: Entailment>(
    judge: &E,
    text: &str,
    claim: &Claim,
    classes: &[MeaningClass],
    questions: &mut usize,
    questions_max: usize,
) -> Result<Option<usize>, JudgeError> {
    for (index, class) in classes.iter().enumerate() {
        if class.text == text {
            return Ok(Some(index));
        }
        if !claim.is_compatible(&class.claim) {
            continue;
        }
        if questions.saturating_add(2) > questions_max {
            return Err(JudgeError::TooManyQuestions { max: questions_max });
        }
        *questions += 2;
        if judge.entails(text, &class.text).await? && judge.entails(&class.text, text).await? {
            return Ok(Some(index));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::consensus::{ConsensusConfig, Strategy, decide};

    /// Knows which texts state which facts: a text entails another when it states every
    /// fact the other states; a text it does not know entails only itself. Counts the
    /// questions.
    struct FactJudge {
        facts: Vec<(&'static str, &'static [&'static str])>,
        questions: AtomicUsize,
        failing: bool,
    }

    impl FactJudge {
        fn new(facts: Vec<(&'static str, &'static [&'static str])>) -> Self {
            Self { facts, questions: AtomicUsize::new(0), failing: false }
        }

        fn facts_of(&self, text: &str) -> Option<&[&'static str]> {
            self.facts.iter().find(|(t, _)| *t == text).map(|(_, facts)| *facts)
        }
    }

    impl Entailment for FactJudge {
        async fn entails(&self, premise: &str, hypothesis: &str) -> Result<bool, LlmError> {
            self.questions.fetch_add(1, Ordering::Relaxed);
            if self.failing {
                return Err(LlmError::Timeout);
            }
            Ok(match (self.facts_of(premise), self.facts_of(hypothesis)) {
                (Some(premise), Some(hypothesis)) => hypothesis.iter().all(|fact| premise.contains(fact)),
                _ => premise == hypothesis,
            })
        }
    }

    const CAPITAL: &str = "Paris is the capital of France";
    const SEAT: &str = "Its government sits in Paris";
    const EUROPE: &str = "Paris is in Europe";
    const NEGATION: &str = "Paris is not the capital of France";

    fn judge() -> FactJudge {
        FactJudge::new(vec![
            (CAPITAL, &["capital"]),
            (SEAT, &["capital"]),
            (EUROPE, &["europe"]),
            // A judge that misses the negation: the guard still keeps it apart.
            (NEGATION, &["capital"]),
        ])
    }

    #[tokio::test]
    async fn equivalent_answers_share_a_class_and_consensus_groups_them() {
        let mut ballots = vec![
            Ballot::new("w1", CAPITAL),
            Ballot::new("w2", SEAT),
            Ballot::new("w3", CAPITAL),
            Ballot::new("w4", EUROPE),
            Ballot::new("w5", NEGATION),
        ];
        let judge = judge();
        judge_meanings(&judge, &mut ballots).await.unwrap();
        let classes: Vec<u64> = ballots.iter().map(|b| b.meaning.unwrap()).collect();
        assert_eq!(classes[0], classes[1]);
        assert_eq!(classes[0], classes[2]);
        assert_ne!(classes[0], classes[3], "entailment one way only is not equivalence");
        assert_ne!(classes[0], classes[4], "the guard keeps the negation out of the class");
        let config = ConsensusConfig::default().with_strategy(Strategy::Semantic);
        let decision = decide(&ballots, &config).unwrap();
        assert_eq!(decision.groups[0].members.len(), 3, "{decision:#?}");
        assert!(decision.is_agreed());
    }

    #[tokio::test]
    async fn classes_do_not_depend_on_arrival_order_and_repeats_cost_nothing() {
        let texts = [CAPITAL, SEAT, EUROPE, CAPITAL, CAPITAL];
        let mut forward: Vec<Ballot> =
            texts.iter().enumerate().map(|(i, t)| Ballot::new(format!("w{i}"), *t)).collect();
        let mut backward: Vec<Ballot> = forward.iter().rev().cloned().collect();
        let judge = judge();
        judge_meanings(&judge, &mut forward).await.unwrap();
        // Three distinct texts in sorted order: "Its ..." opens class 0; "Paris is in
        // Europe" is asked about it once (the first direction fails) and opens class 1;
        // "Paris is the capital ..." is asked both ways about class 0 and joins it.
        assert_eq!(judge.questions.load(Ordering::Relaxed), 3);
        judge_meanings(&judge, &mut backward).await.unwrap();
        for ballot in &forward {
            let twin = backward.iter().find(|b| b.worker == ballot.worker).unwrap();
            assert_eq!(ballot.meaning, twin.meaning);
        }
    }

    #[tokio::test]
    async fn a_failing_judge_leaves_the_ballots_alone() {
        let mut ballots = vec![Ballot::new("w1", CAPITAL), Ballot::new("w2", SEAT)];
        let mut judge = judge();
        judge.failing = true;
        let error = judge_meanings(&judge, &mut ballots).await.unwrap_err();
        assert_eq!(error, JudgeError::Llm(LlmError::Timeout));
        assert!(ballots.iter().all(|b| b.meaning.is_none()));
    }

    #[tokio::test]
    async fn too_many_questions_is_an_error_not_a_stall() {
        // Every answer a different fact: each is asked about every class before it.
        let texts: Vec<String> = (0..60).map(|i| format!("The answer is item{i}")).collect();
        let mut ballots: Vec<Ballot> =
            texts.iter().enumerate().map(|(i, t)| Ballot::new(format!("w{i}"), t.clone())).collect();
        let error = judge_meanings(&judge(), &mut ballots).await.unwrap_err();
        assert_eq!(error, JudgeError::TooManyQuestions { max: ENTAILMENT_QUESTIONS_MAX });
        assert!(ballots.iter().all(|b| b.meaning.is_none()));
    }
}
