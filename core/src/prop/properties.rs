//! The engine's properties, checked under one consensus config.
//!
//! Each property runs on its own seeded runner (the seed and the property's place in
//! [`PROPERTIES`] decide its cases), so one property's outcome never depends on which
//! others ran. A failure is shrunk by proptest and reported as the ballots that
//! reproduce it.

use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestError, TestRng, TestRunner};

use super::answers::family;
use super::panels::{Panel, any_panel, byzantine_minority, contradictions, honest_majority};
use crate::config::ConfigError;
use crate::consensus::{Ballot, ConsensusConfig, Decision, EarlyStop, answers_match, decide, early_stop};

/// A property of the engine.
#[derive(Debug)]
pub struct Property {
    /// Short name, as `quorum prop` prints it.
    pub name: &'static str,
    /// What must hold.
    pub statement: &'static str,
    check: fn(&mut TestRunner, &ConsensusConfig) -> Option<Counterexample>,
}

/// A failing case, shrunk.
#[derive(Clone, Debug, PartialEq)]
pub struct Counterexample {
    /// What went wrong.
    pub message: String,
    /// The ballots that show it: one input per decision the property compares (two for
    /// order independence: the panel and its shuffle; two for early stopping: the
    /// answers so far and the full panel).
    pub inputs: Vec<Vec<Ballot>>,
}

/// One property's result.
#[derive(Clone, Debug, PartialEq)]
pub struct PropertyOutcome {
    /// [`Property::name`].
    pub name: &'static str,
    /// [`Property::statement`].
    pub statement: &'static str,
    /// Cases asked for.
    pub cases: u32,
    /// The shrunk failure, if the property failed.
    pub counterexample: Option<Counterexample>,
}

/// Every property, in the order they run.
pub const PROPERTIES: [Property; 9] = [
    Property {
        name: "order_free",
        statement: "the decision does not depend on the order of the answers",
        check: order_free,
    },
    Property {
        name: "answer_is_an_input",
        statement: "the agreed answer and every group's representative are answers a worker gave",
        check: answer_is_an_input,
    },
    Property {
        name: "unanimity_agrees",
        statement: "workers who all give the same answer agree on it with full support",
        check: unanimity_agrees,
    },
    Property {
        name: "honest_majority_decides",
        statement: "a majority above the highest threshold, saying the right answer in any of its forms, \
                    agrees on it against scattered wrong answers",
        check: honest_majority_decides,
    },
    Property {
        name: "minority_never_decides",
        statement: "a colluding group below the threshold never gets its wrong answer agreed",
        check: minority_never_decides,
    },
    Property {
        name: "contradictions_never_group",
        statement: "answers that contradict each other are never in one group",
        check: contradictions_never_group,
    },
    Property {
        name: "power_scale_free",
        statement: "scaling every voting power by one factor changes nothing",
        check: power_scale_free,
    },
    Property {
        name: "winner_keeps_winning",
        statement: "one more vote for the winner never loses the win",
        check: winner_keeps_winning,
    },
    Property {
        name: "early_stop_sound",
        statement: "when early stopping calls an outcome settled, the full panel decides it",
        check: early_stop_sound,
    },
];

/// Runs every property `cases` times under `config`, from `seed`.
///
/// # Errors
/// The config is invalid.
pub fn check_properties(config: &ConsensusConfig, cases: u32, seed: u64) -> Result<Vec<PropertyOutcome>, ConfigError> {
    config.validate()?;
    Ok(PROPERTIES
        .iter()
        .enumerate()
        .map(|(index, property)| {
            let mut runner = runner(cases, seed, index as u64);
            PropertyOutcome {
                name: property.name,
                statement: property.statement,
                cases,
                counterexample: (property.check)(&mut runner, config),
            }
        })
        .collect())
}

fn runner(cases: u32, seed: u64, stream: u64) -> TestRunner {
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    bytes[8..16].copy_from_slice(&stream.to_le_bytes());
    let config =
        Config { cases, failure_persistence: None, max_global_rejects: cases.saturating_mul(4), ..Config::default() };
    TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &bytes))
}

/// Runs `test` over `strategy`; on failure, the shrunk value's inputs and message.
fn falsify<S: Strategy>(
    runner: &mut TestRunner,
    strategy: S,
    test: impl Fn(&S::Value) -> Result<(), TestCaseError>,
    inputs: impl Fn(&S::Value) -> Vec<Vec<Ballot>>,
) -> Option<Counterexample> {
    match runner.run(&strategy, |value| test(&value)) {
        Ok(()) => None,
        Err(TestError::Fail(reason, value)) => {
            Some(Counterexample { message: reason.message().to_owned(), inputs: inputs(&value) })
        }
        Err(TestError::Abort(reason)) => Some(Counterexample {
            message: format!("no case could be generated for this config: {}", reason.message()),
            inputs: Vec::new(),
        }),
    }
}

/// Fails the case with `message` (without proptest's source location: the message is
/// for the config's owner, not for us).
fn ensure(holds: bool, message: impl FnOnce() -> String) -> Result<(), TestCaseError> {
    if holds { Ok(()) } else { Err(TestCaseError::fail(message())) }
}

fn decided(ballots: &[Ballot], config: &ConsensusConfig) -> Result<Decision, TestCaseError> {
    decide(ballots, config).map_err(|error| TestCaseError::fail(format!("decide refused valid ballots: {error}")))
}

fn rendered(decision: &Decision) -> String {
    serde_json::to_string(decision).unwrap_or_default()
}

fn summary(decision: &Decision) -> String {
    format!(
        "{:?}, answer {:?}, support {:.4} (threshold {:.4}), margin {:.4}, groups {:?}",
        decision.verdict,
        decision.answer,
        decision.support,
        decision.threshold,
        decision.margin,
        decision.groups.iter().map(|g| &g.members).collect::<Vec<_>>()
    )
}

/// Whether a decision sits so close to a boundary that a last-bit rounding difference
/// could move it; scaling is exact in real arithmetic, such cases test floating point.
fn on_a_boundary(decision: &Decision, config: &ConsensusConfig) -> bool {
    const EPSILON: f64 = 1e-6;
    let near = |a: f64, b: f64| (a - b).abs() < EPSILON;
    let tie = decision.groups.len() > 1 && near(decision.groups[0].support, decision.groups[1].support);
    near(decision.support, decision.threshold) || near(decision.margin, config.margin_min) || tie
}

fn shuffled(ballots: &[Ballot], seed: u64) -> Vec<Ballot> {
    let mut shuffled = ballots.to_vec();
    // Fisher-Yates with an LCG: any permutation, reproducible from the seed.
    let mut state = seed;
    for i in (1..shuffled.len()).rev() {
        state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        shuffled.swap(i, (state >> 33) as usize % (i + 1));
    }
    shuffled
}

fn order_free(runner: &mut TestRunner, config: &ConsensusConfig) -> Option<Counterexample> {
    falsify(
        runner,
        (any_panel(config), any::<u64>()),
        |(panel, seed)| {
            let other = shuffled(&panel.ballots, *seed);
            let (a, b) = (decided(&panel.ballots, config)?, decided(&other, config)?);
            ensure(rendered(&a) == rendered(&b), || {
                format!("one order decides {}, another {}", summary(&a), summary(&b))
            })?;
            Ok(())
        },
        |(panel, seed)| vec![panel.ballots.clone(), shuffled(&panel.ballots, *seed)],
    )
}

fn answer_is_an_input(runner: &mut TestRunner, config: &ConsensusConfig) -> Option<Counterexample> {
    falsify(
        runner,
        any_panel(config),
        |panel| {
            let decision = decided(&panel.ballots, config)?;
            let given = |text: &str| panel.ballots.iter().any(|b| b.text == text);
            if let Some(answer) = &decision.answer {
                ensure(given(answer), || format!("agreed on {answer:?}, which no worker gave"))?;
            }
            for group in &decision.groups {
                ensure(given(&group.representative), || {
                    format!("group represented by {:?}, which no worker gave", group.representative)
                })?;
            }
            Ok(())
        },
        |panel| vec![panel.ballots.clone()],
    )
}

fn unanimity_agrees(runner: &mut TestRunner, config: &ConsensusConfig) -> Option<Counterexample> {
    let unanimous =
        (family(config), any::<prop::sample::Index>(), prop::collection::vec((0.0f64..=1.0, 0.25f64..4.0), 1..=9))
            .prop_map(|(family, form, weights)| {
                let text = form.get(&family.right).clone();
                weights
                    .into_iter()
                    .enumerate()
                    .map(|(i, (confidence, power))| {
                        Ballot::new(format!("w{i:02}"), text.clone()).confidence(confidence).power(power)
                    })
                    .collect::<Vec<_>>()
            });
    falsify(
        runner,
        unanimous,
        |ballots| {
            let decision = decided(ballots, config)?;
            ensure(decision.is_agreed() && decision.support >= 1.0 - 1e-12, || {
                format!("unanimous answers decide {}", summary(&decision))
            })?;
            ensure(decision.answer.as_deref() == Some(ballots[0].text.as_str()), || {
                format!("unanimous {:?} decided {}", ballots[0].text, summary(&decision))
            })?;
            Ok(())
        },
        |ballots| vec![ballots.clone()],
    )
}

fn honest_majority_decides(runner: &mut TestRunner, config: &ConsensusConfig) -> Option<Counterexample> {
    falsify(
        runner,
        honest_majority(config, 3..=11),
        |panel| {
            let decision = decided(&panel.ballots, config)?;
            let right = decision.answer.as_deref().is_some_and(|answer| panel.is_right(answer, config));
            ensure(right, || {
                format!(
                    "{} of {} say the right answer, yet: {}",
                    panel.right.len(),
                    panel.ballots.len(),
                    summary(&decision)
                )
            })?;
            Ok(())
        },
        |panel| vec![panel.ballots.clone()],
    )
}

fn minority_never_decides(runner: &mut TestRunner, config: &ConsensusConfig) -> Option<Counterexample> {
    falsify(
        runner,
        byzantine_minority(config, 3..=11),
        |panel| {
            let decision = decided(&panel.ballots, config)?;
            if let Some(answer) = &decision.answer {
                let wrong = panel.is_wrong_form(answer)
                    || panel.family.wrong[0].iter().any(|form| answers_match(form, answer, config));
                ensure(!wrong, || {
                    format!(
                        "{} colluders of {} got {answer:?} agreed: {}",
                        panel.ballots.len() - panel.right.len(),
                        panel.ballots.len(),
                        summary(&decision)
                    )
                })?;
            }
            Ok(())
        },
        |panel| vec![panel.ballots.clone()],
    )
}

/// Which answer of the family a ballot gives: 0 for the right one, `i + 1` for wrong
/// answer `i`.
fn answer_index(panel: &Panel, text: &str) -> usize {
    if panel.family.right.iter().any(|form| form == text) {
        return 0;
    }
    panel.family.wrong.iter().position(|forms| forms.iter().any(|form| form == text)).map_or(usize::MAX, |i| i + 1)
}

fn contradictions_never_group(runner: &mut TestRunner, config: &ConsensusConfig) -> Option<Counterexample> {
    falsify(
        runner,
        contradictions(config, 2..=9),
        |panel| {
            let decision = decided(&panel.ballots, config)?;
            for group in &decision.groups {
                let texts: Vec<&str> = group
                    .members
                    .iter()
                    .filter_map(|member| panel.ballots.iter().find(|b| &b.worker == member).map(|b| b.text.as_str()))
                    .collect();
                let first = answer_index(panel, texts[0]);
                if let Some(other) = texts.iter().find(|text| answer_index(panel, text) != first) {
                    return Err(TestCaseError::fail(format!(
                        "{:?} and {other:?} contradict each other, yet share a group",
                        texts[0]
                    )));
                }
            }
            Ok(())
        },
        |panel| vec![panel.ballots.clone()],
    )
}

fn scaled(ballots: &[Ballot], scale: f64) -> Vec<Ballot> {
    ballots
        .iter()
        .cloned()
        .map(|b| {
            let power = (b.power * scale).clamp(crate::consensus::POWER_MIN, crate::consensus::POWER_MAX);
            b.power(power)
        })
        .collect()
}

fn power_scale_free(runner: &mut TestRunner, config: &ConsensusConfig) -> Option<Counterexample> {
    falsify(
        runner,
        (any_panel(config), 0.01f64..100.0),
        |(panel, scale)| {
            let before = decided(&panel.ballots, config)?;
            if on_a_boundary(&before, config) {
                return Err(TestCaseError::reject("on a rounding boundary"));
            }
            let after = decided(&scaled(&panel.ballots, *scale), config)?;
            let members = |d: &Decision| d.groups.iter().map(|g| g.members.clone()).collect::<Vec<_>>();
            let same = before.verdict == after.verdict
                && before.answer == after.answer
                && (before.support - after.support).abs() < 1e-9
                && members(&before) == members(&after);
            ensure(same, || format!("x{scale}: {} became {}", summary(&before), summary(&after)))?;
            Ok(())
        },
        |(panel, scale)| vec![panel.ballots.clone(), scaled(&panel.ballots, *scale)],
    )
}

fn with_winner_vote(ballots: &[Ballot], winner: &str, confidence: f64, power: f64) -> Vec<Ballot> {
    let mut more = ballots.to_vec();
    more.push(Ballot::new("zz-new", winner).confidence(confidence).power(power));
    more
}

fn winner_keeps_winning(runner: &mut TestRunner, config: &ConsensusConfig) -> Option<Counterexample> {
    let winner = |panel: &Panel| decide(&panel.ballots, config).ok().and_then(|d| d.answer).unwrap_or_default();
    falsify(
        runner,
        (any_panel(config), 0.0f64..=1.0, 0.25f64..4.0),
        |(panel, confidence, power)| {
            let before = decided(&panel.ballots, config)?;
            let Some(answer) = before.answer.clone() else {
                return Err(TestCaseError::reject("no winner"));
            };
            let after = decided(&with_winner_vote(&panel.ballots, &answer, *confidence, *power), config)?;
            let kept = after.is_agreed()
                && after.answer.as_deref().is_some_and(|a| answers_match(a, &answer, config))
                && after.support >= before.support - 1e-12;
            ensure(kept, || {
                format!("before: {}\nafter one more vote for {answer:?}: {}", summary(&before), summary(&after))
            })?;
            Ok(())
        },
        |(panel, confidence, power)| {
            vec![panel.ballots.clone(), with_winner_vote(&panel.ballots, &winner(panel), *confidence, *power)]
        },
    )
}

fn early_stop_sound(runner: &mut TestRunner, config: &ConsensusConfig) -> Option<Counterexample> {
    let split_panel = (any_panel(config), any::<prop::sample::Index>());
    let so_far =
        |panel: &Panel, cut: &prop::sample::Index| panel.ballots[..cut.index(panel.ballots.len() + 1)].to_vec();
    falsify(
        runner,
        split_panel,
        |(panel, cut)| {
            let prefix = so_far(panel, cut);
            let outstanding: Vec<f64> = panel.ballots[prefix.len()..].iter().map(|b| b.power).collect();
            let verdict = early_stop(&prefix, config, &outstanding)
                .map_err(|error| TestCaseError::fail(format!("early_stop refused valid ballots: {error}")))?;
            let (early, full) = (decided(&prefix, config)?, decided(&panel.ballots, config)?);
            let holds = match verdict {
                EarlyStop::Agreed => {
                    full.is_agreed()
                        && matches!((&early.answer, &full.answer), (Some(a), Some(b)) if answers_match(a, b, config))
                }
                EarlyStop::NoConsensus => !full.is_agreed(),
                EarlyStop::Wait => true,
            };
            ensure(holds, || {
                format!(
                    "after {} answers early stop said {verdict:?} ({}), but all {} decide {}",
                    prefix.len(),
                    summary(&early),
                    panel.ballots.len(),
                    summary(&full)
                )
            })?;
            Ok(())
        },
        |(panel, cut)| vec![so_far(panel, cut), panel.ballots.clone()],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consensus::Strategy;

    #[test]
    fn every_property_holds_under_the_default_configs() {
        for strategy in [Strategy::Exact, Strategy::Numeric, Strategy::Semantic] {
            let config = ConsensusConfig::default().with_strategy(strategy);
            for outcome in check_properties(&config, 64, 7).unwrap() {
                assert!(
                    outcome.counterexample.is_none(),
                    "{strategy:?} {}: {:?}",
                    outcome.name,
                    outcome.counterexample
                );
            }
        }
    }

    #[test]
    fn a_config_that_splits_paraphrases_is_caught_with_a_shrunk_counterexample() {
        // Similarity 1: only identical texts group, so an honest majority that words
        // the answer in several ways never agrees. The property must say so, with a
        // panel that reproduces it.
        let config = ConsensusConfig {
            similarity_join_min: 1.0,
            similarity_merge_min: Some(1.0),
            ..ConsensusConfig::default().with_strategy(Strategy::Semantic)
        };
        let outcomes = check_properties(&config, 256, 1).unwrap();
        let failed: Vec<&str> = outcomes.iter().filter(|o| o.counterexample.is_some()).map(|o| o.name).collect();
        assert_eq!(failed, ["honest_majority_decides"], "{outcomes:#?}");
        let counterexample = outcomes[3].counterexample.as_ref().unwrap();
        let ballots = &counterexample.inputs[0];
        assert!((3..=11).contains(&ballots.len()));
        let decision = decide(ballots, &config).unwrap();
        assert!(!decision.is_agreed(), "the counterexample reproduces: {decision:?}");
        let invalid = ConsensusConfig { threshold: 2.0, ..ConsensusConfig::default() };
        assert!(check_properties(&invalid, 1, 1).unwrap_err().to_string().contains("consensus.threshold"));
    }

    #[test]
    fn the_same_seed_gives_the_same_outcomes() {
        let config = ConsensusConfig::default().with_strategy(Strategy::Numeric);
        assert_eq!(check_properties(&config, 32, 3).unwrap(), check_properties(&config, 32, 3).unwrap());
    }
}
