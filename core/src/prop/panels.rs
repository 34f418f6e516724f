//! Panels of ballots with known ground truth.
//!
//! Every panel's workers are `w00`, `w01`, … (distinct), and the generator records which
//! of them said the right answer, so a property can ask whether the decision followed
//! them.

use core::ops::RangeInclusive;

use proptest::prelude::*;
use proptest::sample::Index;

use super::answers::{AnswerFamily, family};
use crate::WorkerId;
use crate::consensus::{Ballot, ConsensusConfig, answers_match};

/// Which kind of panel a generator made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PanelKind {
    /// Enough honest workers to clear the config's highest threshold and margin at
    /// equal weights; the rest scattered over distinct wrong answers.
    HonestMajority,
    /// Two camps of equal size and weight.
    Split,
    /// A colluding group, below the config's threshold at equal weights, on one wrong
    /// answer; the rest right.
    ByzantineMinority,
    /// Every worker says the right answer, each in its own words.
    Paraphrases,
    /// Right and contradicting answers mixed at random weights.
    Contradictions,
}

/// A generated panel.
#[derive(Clone, Debug, PartialEq)]
pub struct Panel {
    /// What made it.
    pub kind: PanelKind,
    /// The ballots.
    pub ballots: Vec<Ballot>,
    /// The answers the panel was drawn from.
    pub family: AnswerFamily,
    /// Workers whose ballot is a form of the right answer.
    pub right: Vec<WorkerId>,
}

impl Panel {
    /// Whether `answer` says the right answer under `config` (`false` for none).
    pub fn is_right(&self, answer: &str, config: &ConsensusConfig) -> bool {
        !answer.is_empty() && self.family.right.iter().any(|form| form == answer || answers_match(form, answer, config))
    }

    /// Whether `answer` is one of the wrong answers' forms (its text, exactly).
    pub fn is_wrong_form(&self, answer: &str) -> bool {
        self.family.wrong.iter().flatten().any(|form| form == answer)
    }
}

fn worker(index: usize) -> WorkerId {
    WorkerId::new(format!("w{index:02}"))
}

/// The highest share of the weight agreement may need under `config` (the adaptive
/// threshold never exceeds it; a panel under three answers needs unanimity).
fn share_needed(config: &ConsensusConfig) -> f64 {
    config.threshold.max(config.threshold_max)
}

/// Honest workers needed out of `count` at equal weights, with every dissent in its
/// own group: share above the highest threshold, and margin over a lone dissenter.
fn honest_needed(config: &ConsensusConfig, count: usize) -> usize {
    let count_f = count as f64;
    (1..=count)
        .find(|&honest| {
            let share = honest as f64 / count_f;
            let runner_up = usize::from(honest < count) as f64 / count_f;
            share > share_needed(config) + 1e-9 && share - runner_up >= config.margin_min + 1e-9
        })
        .unwrap_or(count)
}

/// Honest majorities of `workers` ballots: every honest worker gives some form of the
/// right answer; the others each a different wrong answer (in some form). All at one
/// confidence and unit power, so the honest share is the head count.
pub fn honest_majority(config: &ConsensusConfig, workers: RangeInclusive<usize>) -> BoxedStrategy<Panel> {
    let config = config.clone();
    let (low, high) = (*workers.start().max(&3), *workers.end().max(&3));
    (family(&config), prop::collection::vec(any::<Index>(), low..=high), 0.05f64..=1.0)
        .prop_map(move |(family, forms, confidence)| {
            let count = forms.len();
            let honest = honest_needed(&config, count).max(count.saturating_sub(family.wrong.len()));
            let ballots: Vec<Ballot> = forms
                .iter()
                .enumerate()
                .map(|(index, form)| {
                    let answer = if index < honest { &family.right } else { &family.wrong[index - honest] };
                    Ballot::new(worker(index), form.get(answer).clone()).confidence(confidence)
                })
                .collect();
            let right = (0..honest).map(worker).collect();
            Panel { kind: PanelKind::HonestMajority, ballots, family, right }
        })
        .boxed()
}

/// Two camps of `half` workers each, right and one wrong answer, at equal weights.
pub fn split(config: &ConsensusConfig, half: RangeInclusive<usize>) -> BoxedStrategy<Panel> {
    let (low, high) = (2 * *half.start(), 2 * *half.end());
    (family(config), prop::collection::vec(any::<Index>(), low..=high), 0.05f64..=1.0)
        .prop_map(|(family, mut forms, confidence)| {
            forms.truncate(forms.len() / 2 * 2);
            let half = forms.len() / 2;
            let ballots = forms
                .iter()
                .enumerate()
                .map(|(index, form)| {
                    let answer = if index < half { &family.right } else { &family.wrong[0] };
                    Ballot::new(worker(index), form.get(answer).clone()).confidence(confidence)
                })
                .collect();
            let right = (0..half).map(worker).collect();
            Panel { kind: PanelKind::Split, ballots, family, right }
        })
        .boxed()
}

/// A colluding minority on one wrong answer, its head-count share below `config`'s
/// threshold, among `workers` ballots at equal weights; the rest right.
pub fn byzantine_minority(config: &ConsensusConfig, workers: RangeInclusive<usize>) -> BoxedStrategy<Panel> {
    let threshold = config.threshold;
    (family(config), prop::collection::vec(any::<Index>(), workers), 0.05f64..=1.0)
        .prop_filter_map("no minority fits below the threshold", move |(family, forms, confidence)| {
            let count = forms.len();
            // The largest coalition strictly below the threshold.
            let colluders = (1..count).rev().find(|&c| (c as f64) < threshold * count as f64 - 1e-9)?;
            let ballots = forms
                .iter()
                .enumerate()
                .map(|(index, form)| {
                    let answer = if index < colluders { &family.wrong[0] } else { &family.right };
                    Ballot::new(worker(index), form.get(answer).clone()).confidence(confidence)
                })
                .collect();
            let right = (colluders..count).map(worker).collect();
            Some(Panel { kind: PanelKind::ByzantineMinority, ballots, family, right })
        })
        .boxed()
}

/// Every worker gives the right answer in some form, at random confidence and power.
pub fn paraphrases(config: &ConsensusConfig, workers: RangeInclusive<usize>) -> BoxedStrategy<Panel> {
    (family(config), prop::collection::vec((any::<Index>(), 0.05f64..=1.0, 0.25f64..4.0), workers))
        .prop_map(|(family, raw)| {
            let ballots: Vec<Ballot> = raw
                .iter()
                .enumerate()
                .map(|(index, (form, confidence, power))| {
                    Ballot::new(worker(index), form.get(&family.right).clone()).confidence(*confidence).power(*power)
                })
                .collect();
            let right = (0..ballots.len()).map(worker).collect();
            Panel { kind: PanelKind::Paraphrases, ballots, family, right }
        })
        .boxed()
}

/// Right and contradicting answers mixed, at random confidence and power.
pub fn contradictions(config: &ConsensusConfig, workers: RangeInclusive<usize>) -> BoxedStrategy<Panel> {
    let choice = (any::<Index>(), any::<Index>(), 0.0f64..=1.0, 0.25f64..4.0);
    (family(config), prop::collection::vec(choice, workers))
        .prop_map(|(family, raw)| {
            let mut right = Vec::new();
            let ballots = raw
                .iter()
                .enumerate()
                .map(|(index, (answer, form, confidence, power))| {
                    // Answer 0 is the right one, the others the wrong ones.
                    let forms = match answer.index(family.wrong.len() + 1) {
                        0 => {
                            right.push(worker(index));
                            &family.right
                        }
                        wrong => &family.wrong[wrong - 1],
                    };
                    Ballot::new(worker(index), form.get(forms).clone()).confidence(*confidence).power(*power)
                })
                .collect();
            Panel { kind: PanelKind::Contradictions, ballots, family, right }
        })
        .boxed()
}

/// One ballot from worker `w00`: any form of any answer of a family for `config`, at
/// any confidence and a power in 0.25..4.
pub fn ballot(config: &ConsensusConfig) -> BoxedStrategy<Ballot> {
    (family(config), any::<Index>(), any::<Index>(), 0.0f64..=1.0, 0.25f64..4.0)
        .prop_map(|(family, answer, form, confidence, power)| {
            let answers: Vec<&Vec<String>> = core::iter::once(&family.right).chain(&family.wrong).collect();
            let forms = answer.get(&answers);
            Ballot::new(worker(0), form.get(forms).clone()).confidence(confidence).power(power)
        })
        .boxed()
}

/// Any of the panels above, 3 to 9 workers.
pub fn any_panel(config: &ConsensusConfig) -> BoxedStrategy<Panel> {
    prop_oneof![
        honest_majority(config, 3..=9),
        split(config, 1..=4),
        byzantine_minority(config, 3..=9),
        paraphrases(config, 1..=9),
        contradictions(config, 2..=9),
    ]
    .boxed()
}

#[cfg(test)]
mod tests {
    use proptest::test_runner::TestRunner;

    use super::*;
    use crate::consensus::{Strategy, decide};

    #[test]
    fn every_generated_ballot_is_valid_and_readable() {
        for strategy in [Strategy::Exact, Strategy::Numeric, Strategy::Semantic] {
            let config = ConsensusConfig::default().with_strategy(strategy);
            TestRunner::deterministic()
                .run(&ballot(&config), |ballot| {
                    let decision = decide(core::slice::from_ref(&ballot), &config).unwrap();
                    prop_assert_eq!(
                        decision.counted,
                        1,
                        "{:?} under {:?}: {:?}",
                        ballot.text,
                        strategy,
                        decision.excluded
                    );
                    Ok(())
                })
                .unwrap();
        }
    }

    #[test]
    fn honest_majorities_are_majorities_and_splits_are_even() {
        let config = ConsensusConfig { threshold: 0.6, ..ConsensusConfig::default() };
        let mut runner = TestRunner::deterministic();
        runner
            .run(&honest_majority(&config, 3..=11), |panel| {
                let share = panel.right.len() as f64 / panel.ballots.len() as f64;
                prop_assert!(
                    share > config.threshold_max.max(config.threshold) || panel.right.len() == panel.ballots.len()
                );
                Ok(())
            })
            .unwrap();
        runner
            .run(&split(&config, 1..=4), |panel| {
                prop_assert_eq!(panel.right.len() * 2, panel.ballots.len());
                Ok(())
            })
            .unwrap();
    }
}
