//! Properties of the consensus engine, over generated answers of every strategy.
//!
//! Each property runs at least 1,000 cases (`PROPTEST_CASES` raises it).

use proptest::prelude::*;
use quorum_core::consensus::{
    Ballot, ConsensusConfig, Decision, EarlyStop, Strategy as Matching, Weighting, answers_match, decide, early_stop,
    final_number,
};

const CASES: u32 = 1_000;

/// Answer pools per strategy: repeats, case and punctuation variants, paraphrases and
/// garbage, so that groups of every size form.
const EXACT_TEXTS: [&str; 8] = ["Paris", "paris.", "PARIS", "Lyon", "Nice", "the Paris", "", "?!"];
const SEMANTIC_TEXTS: [&str; 7] = [
    "Water boils at a lower temperature at high altitude because air pressure is lower",
    "At high altitude the air pressure is lower, so water boils at a lower temperature",
    "Lower air pressure at altitude makes water boil at a lower temperature",
    "Because mountains are cold",
    "The mountains are cold so water boils slower",
    "Gravity is weaker on mountains",
    "",
];

fn strategy() -> impl Strategy<Value = Matching> {
    prop_oneof![Just(Matching::Exact), Just(Matching::Numeric), Just(Matching::Semantic)]
}

/// Every property holds under both weighting rules.
fn weighting() -> impl Strategy<Value = Weighting> {
    prop_oneof![Just(Weighting::Linear), Just(Weighting::LogOdds)]
}

fn text_for(strategy: Matching, pick: usize, value: f64) -> String {
    match strategy {
        Matching::Exact => EXACT_TEXTS[pick % EXACT_TEXTS.len()].to_owned(),
        Matching::Semantic => SEMANTIC_TEXTS[pick % SEMANTIC_TEXTS.len()].to_owned(),
        Matching::Numeric => match pick % 4 {
            0 => format!("{value}"),
            1 => format!("The answer is {value}."),
            2 => format!("${value}"),
            _ => "no idea".to_owned(),
        },
    }
}

/// A config and 0..12 ballots with distinct workers.
fn case() -> impl Strategy<Value = (ConsensusConfig, Vec<Ballot>)> {
    (
        strategy(),
        weighting(),
        0.3f64..0.8,
        proptest::collection::vec((0usize..8, 0u8..4, 0.0f64..=1.0, 0.25f64..4.0), 0..12),
    )
        .prop_map(|(strategy, weighting, threshold, raw)| {
            let config = ConsensusConfig {
                strategy,
                weighting,
                threshold,
                tolerance_absolute: 0.01,
                ..ConsensusConfig::default()
            };
            let ballots = raw
                .into_iter()
                .enumerate()
                .map(|(index, (pick, value, confidence, power))| {
                    let value = [42.0, 42.005, 17.0, -3.0][usize::from(value)];
                    Ballot::new(format!("w{index:02}"), text_for(strategy, pick, value))
                        .confidence(confidence)
                        .power(power)
                })
                .collect();
            (config, ballots)
        })
}

fn render(decision: &Decision) -> String {
    serde_json::to_string(decision).unwrap()
}

/// Whether a decision sits so close to a boundary (threshold, margin, a tie between
/// the top groups) that a last-bit rounding difference could move it. Scaling is exact
/// in real arithmetic; such cases test floating point, not the engine.
fn on_a_boundary(decision: &Decision, config: &ConsensusConfig) -> bool {
    const EPSILON: f64 = 1e-6;
    let near = |a: f64, b: f64| (a - b).abs() < EPSILON;
    let tie = decision.groups.len() > 1 && near(decision.groups[0].support, decision.groups[1].support);
    near(decision.support, decision.threshold) || near(decision.margin, config.margin_min) || tie
}

/// Conditional properties (only agreed decisions, only off-boundary cases) discard
/// part of their inputs; allow that in proportion to the cases run.
fn config() -> ProptestConfig {
    let cases = ProptestConfig::default().cases.max(CASES);
    ProptestConfig { cases, max_global_rejects: cases * 4, ..ProptestConfig::default() }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn decision_is_independent_of_answer_order((config, ballots) in case(), seed in any::<u64>()) {
        let mut shuffled = ballots.clone();
        // Fisher-Yates with a simple LCG: any permutation, reproducible from the seed.
        let mut state = seed;
        for i in (1..shuffled.len()).rev() {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            shuffled.swap(i, (state >> 33) as usize % (i + 1));
        }
        prop_assert_eq!(render(&decide(&ballots, &config).unwrap()), render(&decide(&shuffled, &config).unwrap()));
    }

    #[test]
    fn unanimity_agrees_with_full_support(strategy in strategy(), weighting in weighting(), pick in 0usize..3, count in 1usize..12, confidence in 0.0f64..=1.0) {
        let config = ConsensusConfig { weighting, ..ConsensusConfig::default().with_strategy(strategy) };
        let text = text_for(strategy, pick, 42.0);
        let ballots: Vec<Ballot> = (0..count).map(|i| Ballot::new(format!("w{i}"), text.clone()).confidence(confidence)).collect();
        let decision = decide(&ballots, &config).unwrap();
        prop_assert!(decision.is_agreed(), "{:?}", decision);
        prop_assert_eq!(decision.support, 1.0);
        prop_assert_eq!(decision.answer.as_deref(), Some(text.as_str()));
    }

    #[test]
    fn the_answer_is_always_one_of_the_inputs((config, ballots) in case()) {
        let decision = decide(&ballots, &config).unwrap();
        if let Some(answer) = &decision.answer {
            prop_assert!(ballots.iter().any(|b| &b.text == answer), "fabricated {answer:?}");
        }
        for group in &decision.groups {
            prop_assert!(ballots.iter().any(|b| b.text == group.representative));
        }
    }

    #[test]
    fn scaling_every_power_changes_nothing((config, ballots) in case(), scale in 0.01f64..100.0) {
        let before = decide(&ballots, &config).unwrap();
        prop_assume!(!on_a_boundary(&before, &config));
        let scaled: Vec<Ballot> = ballots.iter().cloned().map(|b| { let power = b.power * scale; b.power(power) }).collect();
        let after = decide(&scaled, &config).unwrap();
        prop_assert_eq!(before.verdict, after.verdict);
        prop_assert_eq!(&before.answer, &after.answer);
        prop_assert!((before.support - after.support).abs() < 1e-9);
        prop_assert!((before.margin - after.margin).abs() < 1e-9);
        let members = |d: &Decision| d.groups.iter().map(|g| g.members.clone()).collect::<Vec<_>>();
        prop_assert_eq!(members(&before), members(&after));
    }

    #[test]
    fn a_vote_for_the_winner_never_loses_the_win(
        (config, ballots) in case(),
        confidence in 0.0f64..=1.0,
        power in 0.25f64..4.0,
    ) {
        let before = decide(&ballots, &config).unwrap();
        prop_assume!(before.is_agreed());
        let winner = before.answer.clone().unwrap();
        let mut more = ballots.clone();
        more.push(Ballot::new("zz-new", winner.clone()).confidence(confidence).power(power));
        let after = decide(&more, &config).unwrap();
        prop_assert!(after.is_agreed(), "before {:?}\nafter {:?}", before, after);
        prop_assert_eq!(after.answer.as_deref(), Some(winner.as_str()));
        prop_assert!(after.support >= before.support - 1e-12);
    }

    #[test]
    fn numbers_within_tolerance_group_together(
        center in -1.0e6f64..1.0e6,
        offsets in proptest::collection::vec(-0.5f64..=0.5, 1..15),
        tolerance in 0.001f64..10.0,
    ) {
        let config = ConsensusConfig { strategy: Matching::Numeric, tolerance_absolute: tolerance, tolerance_relative: 0.0, ..ConsensusConfig::default() };
        // Every offset within half the tolerance of the centre: pairwise within it.
        let ballots: Vec<Ballot> = offsets.iter().enumerate().map(|(i, offset)| Ballot::new(format!("w{i}"), format!("{}", center + offset * tolerance * 0.999))).collect();
        let decision = decide(&ballots, &config).unwrap();
        prop_assert_eq!(decision.groups.len(), 1, "{:?}", decision);
    }

    #[test]
    fn grouped_numbers_are_always_within_the_tolerance(
        values in proptest::collection::vec(-100.0f64..100.0, 1..20),
        absolute in 0.0f64..10.0,
        relative in prop_oneof![Just(0.0), 0.0f64..0.5],
    ) {
        // The bound itself, not a multiple of it: every pair in a group is within
        // absolute + relative x the larger magnitude.
        let config = ConsensusConfig { strategy: Matching::Numeric, tolerance_absolute: absolute, tolerance_relative: relative, ..ConsensusConfig::default() };
        let ballots: Vec<Ballot> = values.iter().enumerate().map(|(i, v)| Ballot::new(format!("w{i:02}"), format!("{v}"))).collect();
        let decision = decide(&ballots, &config).unwrap();
        for group in &decision.groups {
            let members: Vec<f64> = group.members.iter().map(|m| {
                let ballot = ballots.iter().find(|b| &b.worker == m).unwrap();
                final_number(&ballot.text).unwrap()
            }).collect();
            for a in &members {
                for b in &members {
                    let bound = absolute + relative * a.abs().max(b.abs());
                    prop_assert!((a - b).abs() <= bound * (1.0 + 1e-12), "{a} and {b} grouped at tolerance {absolute} + {relative} x max");
                }
            }
        }
    }

    #[test]
    fn numbers_within_the_relative_tolerance_group(
        magnitude in 1.0f64..1.0e6,
        negative in any::<bool>(),
        relative in 0.001f64..0.5,
        share in -0.999f64..=0.999,
    ) {
        // No absolute tolerance to hide behind: only the relative part groups these.
        let config = ConsensusConfig { strategy: Matching::Numeric, tolerance_absolute: 0.0, tolerance_relative: relative, ..ConsensusConfig::default() };
        let sign = if negative { -1.0 } else { 1.0 };
        let (a, b) = (sign * magnitude, sign * (magnitude + share * relative * magnitude));
        let ballots = vec![Ballot::new("w0", format!("{a}")), Ballot::new("w1", format!("{b}"))];
        let decision = decide(&ballots, &config).unwrap();
        prop_assert_eq!(decision.groups.len(), 1, "{} and {} apart at relative {}", a, b, relative);
    }

    #[test]
    fn the_relative_tolerance_scales_with_the_larger_magnitude(
        smaller in 1.0f64..1.0e6,
        negative in any::<bool>(),
        relative in 0.001f64..0.5,
        between in 0.05f64..0.95,
    ) {
        // A gap larger than relative x the smaller magnitude but within relative x the
        // larger one: grouped by the documented max(|a|, |b|), apart under min.
        let config = ConsensusConfig { strategy: Matching::Numeric, tolerance_absolute: 0.0, tolerance_relative: relative, ..ConsensusConfig::default() };
        let low = relative * smaller;
        let high = relative * smaller / (1.0 - relative);
        let gap = low + between * (high - low);
        let sign = if negative { -1.0 } else { 1.0 };
        let (a, b) = (sign * smaller, sign * (smaller + gap));
        prop_assume!((a - b).abs() > relative * a.abs().min(b.abs()) && (a - b).abs() <= relative * a.abs().max(b.abs()));
        let ballots = vec![Ballot::new("w0", format!("{a}")), Ballot::new("w1", format!("{b}"))];
        let decision = decide(&ballots, &config).unwrap();
        prop_assert_eq!(decision.groups.len(), 1, "{} and {} apart at relative {}", a, b, relative);
    }

    #[test]
    fn numbers_outside_both_tolerances_never_group(
        magnitude in 1.0f64..1.0e6,
        negative in any::<bool>(),
        absolute in 0.0f64..10.0,
        relative in 0.0f64..0.5,
        beyond in 1.001f64..3.0,
    ) {
        let config = ConsensusConfig { strategy: Matching::Numeric, tolerance_absolute: absolute, tolerance_relative: relative, ..ConsensusConfig::default() };
        let sign = if negative { -1.0 } else { 1.0 };
        // b = a + beyond x (absolute + relative x |b|), solved for |b|.
        let gap = beyond * (absolute + relative * magnitude) / (1.0 - beyond * relative).max(1e-3);
        let (a, b) = (sign * magnitude, sign * (magnitude + gap));
        prop_assume!((a - b).abs() > absolute + relative * a.abs().max(b.abs()));
        let ballots = vec![Ballot::new("w0", format!("{a}")), Ballot::new("w1", format!("{b}"))];
        let decision = decide(&ballots, &config).unwrap();
        prop_assert_eq!(decision.groups.len(), 2, "{} and {} grouped at {} + {} x max", a, b, absolute, relative);
    }

    #[test]
    fn the_same_input_gives_byte_identical_output((config, ballots) in case()) {
        prop_assert_eq!(render(&decide(&ballots, &config).unwrap()), render(&decide(&ballots, &config).unwrap()));
        let input = serde_json::json!({
            "strategy": config.strategy.as_str(),
            "threshold": config.threshold,
            "tolerance": config.tolerance_absolute,
            "weighting": config.weighting.as_str(),
            "answers": ballots.iter().map(|b| serde_json::json!({"worker": b.worker, "text": b.text, "confidence": b.confidence, "power": b.power})).collect::<Vec<_>>(),
        }).to_string();
        prop_assert_eq!(quorum_scenarios::run_consensus(&input).unwrap(), quorum_scenarios::run_consensus(&input).unwrap());
    }
}

#[test]
fn relative_tolerance_is_taken_of_the_larger_magnitude() {
    // 100 and 100.502 at relative 0.005: 0.502 is within 0.005 x 100.502 = 0.50251
    // but not within 0.005 x 100 = 0.5, so only the documented max(|a|, |b|) groups
    // them (100 and 100.5 would group under either reading).
    let config = ConsensusConfig {
        strategy: Matching::Numeric,
        tolerance_absolute: 0.0,
        tolerance_relative: 0.005,
        ..ConsensusConfig::default()
    };
    for (a, b) in [("100", "100.502"), ("-100.502", "-100")] {
        let decision = decide(&[Ballot::new("w0", a), Ballot::new("w1", b)], &config).unwrap();
        assert_eq!(decision.groups.len(), 1, "{a} and {b}");
    }
    let decision = decide(&[Ballot::new("w0", "100"), Ballot::new("w1", "100.51")], &config).unwrap();
    assert_eq!(decision.groups.len(), 2, "0.51 is beyond 0.005 x 100.51");
}

/// Voting powers and confidences the early-stop properties draw from: unequal enough
/// that one heavy outstanding worker can overturn several light ballots.
const POWERS: [f64; 3] = [0.5, 1.0, 3.0];
const CONFIDENCES: [f64; 3] = [0.3, 0.7, 1.0];

/// Per strategy: the texts ballots so far are drawn from, a fresh text none of them
/// matches, and garbage the strategy excludes. The numeric values chain (10 and 10.5
/// are within the tolerance, so are 10.5 and 11.2, but not 10 and 11.2).
fn early_stop_texts(strategy: Matching) -> (Vec<&'static str>, &'static str, &'static str) {
    match strategy {
        Matching::Exact => (vec!["a", "b", "c"], "z", ""),
        Matching::Numeric => (vec!["10", "10.5", "11.2", "20"], "1000", "no idea"),
        Matching::Semantic => (
            vec![
                "Water boils at a lower temperature at high altitude because air pressure is lower",
                "At high altitude the air pressure is lower, so water boils at a lower temperature",
                "Because the mountains are cold",
            ],
            "Gravity is weaker on top of mountains",
            "",
        ),
    }
}

fn early_stop_config(strategy: Matching, weighting: Weighting, threshold: f64) -> ConsensusConfig {
    ConsensusConfig {
        strategy,
        weighting,
        threshold,
        tolerance_absolute: 0.75,
        tolerance_relative: 0.0,
        ..ConsensusConfig::default()
    }
}

/// Every way the outstanding workers can answer: any text of the pool, a fresh
/// text, or garbage, each at any confidence. Calls `check` with the full ballots.
fn each_completion(so_far: &[Ballot], outstanding: &[f64], strategy: Matching, check: &mut impl FnMut(&[Ballot])) {
    let (pool, fresh, garbage) = early_stop_texts(strategy);
    let mut texts = pool;
    texts.push(fresh);
    texts.push(garbage);
    let options = texts.len() * CONFIDENCES.len();
    let combos = options.pow(outstanding.len() as u32);
    let mut all = so_far.to_vec();
    for code in 0..combos {
        all.truncate(so_far.len());
        let mut digits = code;
        for (index, &power) in outstanding.iter().enumerate() {
            let option = digits % options;
            digits /= options;
            let text = texts[option / CONFIDENCES.len()];
            let confidence = CONFIDENCES[option % CONFIDENCES.len()];
            all.push(Ballot::new(format!("x{index}"), text).power(power).confidence(confidence));
        }
        check(&all);
    }
}

/// Ballots so far (`w0`.. with pool texts or garbage, powers and confidences from the
/// small sets) and the powers of the workers still out.
fn early_stop_case() -> impl Strategy<Value = (ConsensusConfig, Vec<Ballot>, Vec<f64>)> {
    let ballot = (0usize..5, 0usize..3, 0usize..3);
    (
        (strategy(), weighting()),
        prop_oneof![Just(0.5), Just(0.6)],
        proptest::collection::vec(ballot, 0..6),
        proptest::collection::vec(0usize..3, 0..4),
    )
        .prop_filter(
            "semantic completions are costly: at most two outstanding",
            |((strategy, _), _, _, outstanding)| *strategy != Matching::Semantic || outstanding.len() <= 2,
        )
        .prop_map(|((strategy, weighting), threshold, raw, outstanding)| {
            let (pool, _, garbage) = early_stop_texts(strategy);
            let ballots = raw
                .into_iter()
                .enumerate()
                .map(|(index, (text, power, confidence))| {
                    let text = pool.get(text).copied().unwrap_or(garbage);
                    Ballot::new(format!("w{index}"), text).power(POWERS[power]).confidence(CONFIDENCES[confidence])
                })
                .collect();
            let outstanding = outstanding.into_iter().map(|p| POWERS[p]).collect();
            (early_stop_config(strategy, weighting, threshold), ballots, outstanding)
        })
}

proptest! {
    #![proptest_config(config())]

    /// Whenever early stopping calls the outcome settled, every way the outstanding
    /// workers could still answer gives that outcome (and, when agreed, the same
    /// answer under the strategy; for exact matching, backed by the same winners).
    #[test]
    fn early_stop_agrees_with_every_completion((config, so_far, outstanding) in early_stop_case()) {
        let verdict = early_stop(&so_far, &config, &outstanding).unwrap();
        prop_assume!(verdict != EarlyStop::Wait);
        let early = decide(&so_far, &config).unwrap();
        let mut failure = None;
        each_completion(&so_far, &outstanding, config.strategy, &mut |all| {
            if failure.is_some() {
                return;
            }
            let full = decide(all, &config).unwrap();
            let holds = match verdict {
                EarlyStop::Agreed => {
                    let (early_answer, full_answer) = (early.answer.as_deref().unwrap(), full.answer.as_deref());
                    full.is_agreed()
                        && answers_match(early_answer, full_answer.unwrap(), &config)
                        // Exact groups never regroup: the early winners stay winners.
                        && (config.strategy != Matching::Exact
                            || early.groups[0].members.iter().all(|m| full.groups[0].members.contains(m)))
                }
                EarlyStop::NoConsensus => !full.is_agreed(),
                EarlyStop::Wait => true,
            };
            if !holds {
                failure = Some(format!("early {verdict:?} ({:?}), but with {all:?}\nthe full panel decides {:?} {:?} support {} margin {}", early.answer, full.verdict, full.answer, full.support, full.margin));
            }
        });
        prop_assert!(failure.is_none(), "{}", failure.unwrap_or_default());
    }
}
