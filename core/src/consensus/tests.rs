use super::*;

fn config(strategy: Strategy) -> ConsensusConfig {
    ConsensusConfig::default().with_strategy(strategy)
}

fn ballots(texts: &[&str]) -> Vec<Ballot> {
    texts.iter().enumerate().map(|(i, text)| Ballot::new(format!("w{i}"), *text)).collect()
}

#[test]
fn exact_majority_agrees_with_the_numbers_behind_it() {
    let decision = decide(&ballots(&["Paris", "paris.", "Lyon"]), &config(Strategy::Exact)).unwrap();
    assert_eq!(decision.verdict, Verdict::Agreed);
    assert_eq!(decision.answer.as_deref(), Some("Paris"));
    assert!((decision.support - 2.0 / 3.0).abs() < 1e-12);
    assert!((decision.margin - 1.0 / 3.0).abs() < 1e-12);
    assert_eq!(decision.groups.len(), 2);
    assert_eq!(decision.groups[0].members, vec![WorkerId::from("w0"), WorkerId::from("w1")]);
    assert_eq!(decision.groups[1].representative, "Lyon");
}

#[test]
fn even_split_is_no_consensus_by_margin() {
    let decision = decide(&ballots(&["a", "a", "b", "b"]), &config(Strategy::Exact)).unwrap();
    assert_eq!(decision.verdict, Verdict::NoConsensus(NoConsensusReason::MarginTooSmall));
    assert_eq!(decision.answer, None);
}

#[test]
fn ties_break_by_smallest_member_id_not_input_order() {
    for weighting in WEIGHTINGS {
        let config = ConsensusConfig { weighting, ..config(Strategy::Exact) };
        let forward = decide(&ballots(&["a", "b"]), &config).unwrap();
        let mut reversed = ballots(&["a", "b"]);
        reversed.reverse();
        let backward = decide(&reversed, &config).unwrap();
        assert_eq!(forward, backward);
        assert_eq!(forward.groups[0].representative, "a");
    }
}

#[test]
fn confidence_and_power_weigh_the_vote() {
    let strong = vec![
        Ballot::new("w0", "yes").power(4.0),
        Ballot::new("w1", "no").confidence(0.5),
        Ballot::new("w2", "no").confidence(0.5),
    ];
    let decision = decide(&strong, &config(Strategy::Exact)).unwrap();
    assert_eq!(decision.answer.as_deref(), Some("yes"));
    assert!((decision.support - 0.8).abs() < 1e-9, "4 / (4 + 0.5 + 0.5)");
}

#[test]
fn numeric_groups_within_tolerance_and_answers_with_a_real_input() {
    let mut config = config(Strategy::Numeric);
    config.tolerance_absolute = 0.01;
    let decision = decide(&ballots(&["The answer is 42.", "42.004", "$42", "17"]), &config).unwrap();
    assert!(decision.is_agreed());
    assert_eq!(decision.groups[0].members.len(), 3);
    assert!(["The answer is 42.", "42.004", "$42"].contains(&decision.answer.as_deref().unwrap()));
}

#[test]
fn numeric_excludes_answers_without_a_number() {
    let decision = decide(&ballots(&["12", "12", "I cannot say"]), &config(Strategy::Numeric)).unwrap();
    assert_eq!(decision.counted, 2);
    assert_eq!(decision.excluded, vec![Exclusion::new("w2".into(), ExclusionReason::NoNumber)]);
    assert_eq!(decision.threshold, 1.0, "two counted answers need unanimity");
    assert!(decision.is_agreed());
}

#[test]
fn semantic_groups_paraphrases() {
    let answers = [
        "Water boils at a lower temperature at high altitude because air pressure is lower",
        "At high altitude the air pressure is lower, so water boils at a lower temperature",
        "Lower air pressure at altitude makes water boil at a lower temperature",
        "Because the mountains are cold",
    ];
    let decision = decide(&ballots(&answers), &config(Strategy::Semantic)).unwrap();
    assert!(decision.is_agreed(), "{decision:#?}");
    assert_eq!(decision.groups[0].members.len(), 3, "{decision:#?}");
}

#[test]
fn semantic_prefers_embeddings_when_every_answer_has_one() {
    // (The second text once read "nothing shared here": a negation, which the claim
    // guard now keeps apart from a text without one, whatever the embeddings say.)
    let mut input = ballots(&["completely different words", "unrelated vocabulary here", "zzz"]);
    input[0].embedding = Some(vec![1.0, 0.0]);
    input[1].embedding = Some(vec![0.99, 0.05]);
    input[2].embedding = Some(vec![0.0, 1.0]);
    let decision = decide(&input, &config(Strategy::Semantic)).unwrap();
    assert_eq!(decision.groups[0].members.len(), 2);
}

#[test]
fn twin_with_conflicting_answers_counts_nowhere() {
    for weighting in WEIGHTINGS {
        let mut input = ballots(&["a", "a", "b"]);
        input.push(Ballot::new("w2", "a"));
        let decision = decide(&input, &ConsensusConfig { weighting, ..config(Strategy::Exact) }).unwrap();
        assert_eq!(decision.excluded, vec![Exclusion::new("w2".into(), ExclusionReason::Equivocated)]);
        assert_eq!(decision.counted, 2);
    }
}

#[test]
fn identical_repeats_count_once() {
    let mut input = ballots(&["a", "b", "b"]);
    input.push(Ballot::new("w0", "A."));
    input.push(Ballot::new("w0", "a"));
    let decision = decide(&input, &config(Strategy::Exact)).unwrap();
    assert!(decision.excluded.is_empty());
    assert_eq!(decision.counted, 3);
    assert_eq!(decision.groups[0].representative, "b");
}

#[test]
fn no_answers_is_no_consensus_not_an_error() {
    let decision = decide(&[], &config(Strategy::Exact)).unwrap();
    assert_eq!(decision.verdict, Verdict::NoConsensus(NoConsensusReason::NoAnswers));
    assert_eq!(decision.support, 0.0);
}

#[test]
fn fragmented_vote_raises_the_bar() {
    // 4 of 10 for the leader, the rest scattered over 6 distinct answers: 7 groups
    // raise the threshold from 0.4 to 0.5, and 0.4 support no longer wins.
    let texts = ["x", "x", "x", "x", "a", "b", "c", "d", "e", "f"];
    let config = ConsensusConfig { threshold: 0.4, ..config(Strategy::Exact) };
    let decision = decide(&ballots(&texts), &config).unwrap();
    assert!((decision.threshold - 0.5).abs() < 1e-12, "{}", decision.threshold);
    assert_eq!(decision.verdict, Verdict::NoConsensus(NoConsensusReason::BelowThreshold));
}

#[test]
fn bad_ballots_are_named() {
    let input = vec![Ballot::new("w0", "a"), Ballot::new("w1", "b").confidence(1.5)];
    let error = decide(&input, &config(Strategy::Exact)).unwrap_err();
    assert!(error.to_string().contains("answers[1].confidence"), "{error}");
    let input = vec![Ballot::new("w0", "a").power(0.0)];
    let error = decide(&input, &config(Strategy::Exact)).unwrap_err();
    assert!(error.to_string().contains("answers[0].power"), "{error}");
    let input = vec![Ballot::new("w0", "a".repeat(ANSWER_BYTES_MAX + 1))];
    assert!(matches!(decide(&input, &config(Strategy::Exact)), Err(ConsensusError::AnswerTooLong { .. })));
}

#[test]
fn early_stop_when_the_leader_cannot_be_overtaken() {
    let config = config(Strategy::Exact);
    let so_far = ballots(&["a", "a", "a", "a"]);
    assert_eq!(early_stop(&so_far, &config, &[1.0]).unwrap(), EarlyStop::Agreed);
    let so_far = ballots(&["a", "a", "b"]);
    assert_eq!(early_stop(&so_far, &config, &[1.0, 1.0]).unwrap(), EarlyStop::Wait);
    let so_far = ballots(&["a", "b", "c", "d", "e"]);
    assert_eq!(early_stop(&so_far, &config, &[1.0]).unwrap(), EarlyStop::NoConsensus);
}

#[test]
fn early_stop_agrees_with_every_completion() {
    for weighting in WEIGHTINGS {
        early_stop_agrees_with_every_completion_under(weighting);
    }
}

const WEIGHTINGS: [Weighting; 2] = [Weighting::Linear, Weighting::LogOdds];

fn early_stop_agrees_with_every_completion_under(weighting: Weighting) {
    // Exhaustive check for exact matching: whenever early_stop says the outcome is
    // settled, every way the outstanding workers could answer gives that outcome.
    let config = ConsensusConfig { weighting, ..config(Strategy::Exact) };
    let alphabet = ["a", "b", "c", ""];
    for answered in 0..=4usize {
        for outstanding in 0..=3usize {
            let combos = alphabet.len().pow((answered + outstanding) as u32);
            for code in 0..combos {
                let mut digits = code;
                let texts: Vec<&str> = (0..answered + outstanding)
                    .map(|_| {
                        let text = alphabet[digits % alphabet.len()];
                        digits /= alphabet.len();
                        text
                    })
                    .collect();
                let all = ballots(&texts);
                let so_far = &all[..answered];
                let verdict = early_stop(so_far, &config, &vec![1.0; outstanding]).unwrap();
                let final_decision = decide(&all, &config).unwrap();
                match verdict {
                    EarlyStop::Agreed => {
                        assert!(final_decision.is_agreed(), "{texts:?}");
                        let early = decide(so_far, &config).unwrap();
                        assert_eq!(early.answer, final_decision.answer, "{texts:?}");
                    }
                    EarlyStop::NoConsensus => assert!(!final_decision.is_agreed(), "{texts:?}"),
                    EarlyStop::Wait => {}
                }
            }
        }
    }
}

#[test]
fn scaling_tiny_powers_keeps_the_support() {
    // Regression: weights were fixed-point in absolute units (2^32 per unit weight), so
    // a power of 0.0025 at floored confidence kept only ~6 significant digits and
    // scaling every power by 0.01 moved the support by 1e-7. Units are now relative to
    // the heaviest ballot.
    let ballots = vec![
        Ballot::new("w00", "Lyon").confidence(0.24695193329504128).power(0.3734915423651241),
        Ballot::new("w01", "Paris").confidence(0.0).power(0.25),
    ];
    let scaled: Vec<Ballot> = ballots
        .iter()
        .cloned()
        .map(|b| {
            let power = b.power * 0.01;
            b.power(power)
        })
        .collect();
    for weighting in WEIGHTINGS {
        let config = ConsensusConfig { weighting, ..config(Strategy::Exact) };
        let before = decide(&ballots, &config).unwrap();
        let after = decide(&scaled, &config).unwrap();
        assert!(
            (before.support - after.support).abs() < 1e-12,
            "{weighting:?}: {} vs {}",
            before.support,
            after.support
        );
    }
}

#[test]
fn early_stop_counts_the_power_of_every_outstanding_worker() {
    // Three light votes for a, one for b: one outstanding worker of power 1 cannot
    // overturn a, one of power 3 can, wherever it sits among the outstanding.
    let config = config(Strategy::Exact);
    let so_far = ballots(&["a", "a", "a", "b"]);
    assert_eq!(early_stop(&so_far, &config, &[1.0]).unwrap(), EarlyStop::Agreed);
    assert_eq!(early_stop(&so_far, &config, &[3.0]).unwrap(), EarlyStop::Wait);
    assert_eq!(early_stop(&so_far, &config, &[3.0, 0.5]).unwrap(), EarlyStop::Wait);
    assert_eq!(early_stop(&so_far, &config, &[0.5, 3.0]).unwrap(), EarlyStop::Wait);
    let overturned = [so_far.clone(), vec![Ballot::new("x0", "b").power(3.0)]].concat();
    assert_eq!(decide(&overturned, &config).unwrap().answer.as_deref(), Some("b"));
    // And a no-consensus is only settled while the outstanding weight cannot lift
    // the leader over the threshold.
    let scattered = ballots(&["a", "b", "c", "d"]);
    assert_eq!(early_stop(&scattered, &config, &[0.5]).unwrap(), EarlyStop::NoConsensus);
    assert_eq!(early_stop(&scattered, &config, &[3.0]).unwrap(), EarlyStop::Wait);
}

#[test]
fn early_stop_does_not_agree_on_a_numeric_leader_a_newcomer_can_split() {
    // Regression: 10 (power 3) and 10.5 formed the leader against 11.2 and early
    // stopping agreed on 10 with one worker of power 1 out; that worker answering
    // 11.2 pulls 10.5 into the 11.2 window, and the full panel agrees on 11.2.
    let config = ConsensusConfig { tolerance_absolute: 0.75, tolerance_relative: 0.0, ..config(Strategy::Numeric) };
    let so_far = vec![
        Ballot::new("w0", "11.2").power(3.0).confidence(0.7),
        Ballot::new("w1", "10.5").power(0.5),
        Ballot::new("w2", "10").power(3.0),
    ];
    assert_eq!(decide(&so_far, &config).unwrap().answer.as_deref(), Some("10"));
    assert_eq!(early_stop(&so_far, &config, &[1.0]).unwrap(), EarlyStop::Wait);
    let full = [so_far.clone(), vec![Ballot::new("x0", "11.2")]].concat();
    assert_eq!(decide(&full, &config).unwrap().answer.as_deref(), Some("11.2"));
    // A leader of one value with every other answer out of its reach still stops.
    let apart = ballots(&["10", "10", "$10", "20"]);
    assert_eq!(early_stop(&apart, &config, &[1.0]).unwrap(), EarlyStop::Agreed);
}

#[test]
fn early_stop_needs_more_than_rounding_to_settle() {
    // Regression: four unanimous ballots weighing 1.5 with one worker of power 1 out
    // met threshold 0.6 exactly (1.5 / 2.5); with that worker dissenting the full
    // panel's support, counted in other units, came out 0.59999999999985.
    let config = ConsensusConfig { threshold: 0.6, ..config(Strategy::Exact) };
    let so_far = vec![
        Ballot::new("w0", "a").power(0.5).confidence(0.3),
        Ballot::new("w1", "a").power(3.0).confidence(0.3),
        Ballot::new("w2", "a").power(0.5).confidence(0.3),
        Ballot::new("w3", "a").power(1.0).confidence(0.3),
    ];
    assert_eq!(early_stop(&so_far, &config, &[1.0]).unwrap(), EarlyStop::Wait);
    let full = [so_far.clone(), vec![Ballot::new("x0", "b")]].concat();
    assert!(!decide(&full, &config).unwrap().is_agreed());
}

#[test]
fn weighted_early_stop_agrees_with_every_completion() {
    for weighting in WEIGHTINGS {
        weighted_early_stop_agrees_with_every_completion_under(weighting);
    }
}

fn weighted_early_stop_agrees_with_every_completion_under(weighting: Weighting) {
    // The exhaustive check above with unequal powers and confidences, over a
    // reproducible sample of panels: a bound that ignores or underweighs an
    // outstanding worker shows here (and, under log-odds weighting, one that forgets
    // that a newcomer's new answer reweighs every ballot already in).
    const POWERS: [f64; 3] = [0.5, 1.0, 3.0];
    const CONFIDENCES: [f64; 3] = [0.3, 0.7, 1.0];
    const TEXTS: [&str; 4] = ["a", "b", "c", ""];
    let mut state = 0x5eed_u64;
    let mut next = |below: usize| {
        state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) as usize % below
    };
    let mut settled = 0;
    for _ in 0..3_000 {
        let config = ConsensusConfig { threshold: [0.5, 0.6][next(2)], weighting, ..config(Strategy::Exact) };
        let so_far: Vec<Ballot> = (0..next(6))
            .map(|i| {
                Ballot::new(format!("w{i}"), TEXTS[next(4)]).power(POWERS[next(3)]).confidence(CONFIDENCES[next(3)])
            })
            .collect();
        let outstanding: Vec<f64> = (0..next(3)).map(|_| POWERS[next(3)]).collect();
        let verdict = early_stop(&so_far, &config, &outstanding).unwrap();
        if verdict == EarlyStop::Wait {
            continue;
        }
        settled += 1;
        let early = decide(&so_far, &config).unwrap();
        let options = TEXTS.len() * CONFIDENCES.len();
        for code in 0..options.pow(outstanding.len() as u32) {
            let mut digits = code;
            let mut all = so_far.clone();
            for (index, &power) in outstanding.iter().enumerate() {
                let option = digits % options;
                digits /= options;
                let text = TEXTS[option / CONFIDENCES.len()];
                all.push(Ballot::new(format!("x{index}"), text).power(power).confidence(CONFIDENCES[option % 3]));
            }
            let full = decide(&all, &config).unwrap();
            match verdict {
                EarlyStop::Agreed => {
                    assert!(full.is_agreed(), "{so_far:?} + {outstanding:?}: {all:?}");
                    assert_eq!(full.answer, early.answer, "{all:?}");
                }
                EarlyStop::NoConsensus => assert!(!full.is_agreed(), "{so_far:?} + {outstanding:?}: {all:?}"),
                EarlyStop::Wait => unreachable!(),
            }
        }
    }
    assert!(settled > 300, "{weighting:?}: the sample settles often enough to test something: {settled}");
}

fn log_odds(strategy: Strategy) -> ConsensusConfig {
    ConsensusConfig { weighting: Weighting::LogOdds, ..config(strategy) }
}

#[test]
fn log_odds_lets_calibrated_confidence_outweigh_a_head_count() {
    // Two ballots at 0.95 against three at 0.4, two candidates: linear weighting
    // counts 1.9 against 1.2 already, but log-odds says far more clearly which answer
    // is likely (ln(2 x 19) = 3.64 each against ln(2 x 0.667) = 0.29 each).
    let input = vec![
        Ballot::new("w0", "a").confidence(0.95),
        Ballot::new("w1", "a").confidence(0.95),
        Ballot::new("w2", "b").confidence(0.4),
        Ballot::new("w3", "b").confidence(0.4),
        Ballot::new("w4", "b").confidence(0.4),
    ];
    let linear = decide(&input, &config(Strategy::Exact)).unwrap();
    let bayes = decide(&input, &log_odds(Strategy::Exact)).unwrap();
    assert_eq!(bayes.weighting, Weighting::LogOdds);
    assert!((linear.support - 1.9 / 3.1).abs() < 1e-9, "{}", linear.support);
    let expected = 2.0 * 38.0_f64.ln() / (2.0 * 38.0_f64.ln() + 3.0 * (2.0_f64 * 0.4 / 0.6).ln());
    assert!((bayes.support - expected).abs() < 1e-9, "{} vs {expected}", bayes.support);
    assert!(bayes.support > linear.support);
    assert!((bayes.groups[0].weight - 2.0 * 38.0_f64.ln()).abs() < 1e-9, "reported in the rule's own terms");
}

#[test]
fn log_odds_counts_the_candidates_the_groups_show() {
    // The same two votes for a weigh ln(K x 4) each: more candidates make agreement on
    // one of them stronger evidence, so the leader's support rises with K.
    let support_of_a = |others: &[&str]| {
        let mut input = vec![Ballot::new("a0", "a").confidence(0.8), Ballot::new("a1", "a").confidence(0.8)];
        input.extend(others.iter().enumerate().map(|(i, t)| Ballot::new(format!("z{i}"), *t).confidence(0.8)));
        let decision = decide(&input, &log_odds(Strategy::Exact)).unwrap();
        decision.groups.iter().find(|g| g.representative == "a").unwrap().support
    };
    // Three dissenters: one shared answer (K = 2), or three different ones (K = 4):
    // with equal confidences every ballot weighs the same either way, so a's support
    // is 2 / 5 both times.
    assert!((support_of_a(&["b", "b", "b"]) - 0.4).abs() < 1e-9);
    assert!((support_of_a(&["b", "c", "d"]) - 0.4).abs() < 1e-9);
    // With unequal confidences K matters: a ballot at 0.35 is at chance with two
    // candidates (ln(2 x 0.54) = 0.07, below the floor 0.05 x ln 198 = 0.26), but
    // counts among three (ln(3 x 0.54) = 0.48).
    let weight_of_low = |texts: [&str; 3]| {
        let input = vec![
            Ballot::new("w0", texts[0]).confidence(0.35),
            Ballot::new("w1", texts[1]).confidence(0.9),
            Ballot::new("w2", texts[2]).confidence(0.9),
        ];
        let decision = decide(&input, &log_odds(Strategy::Exact)).unwrap();
        decision.groups.iter().find(|g| g.members == vec![WorkerId::from("w0")]).unwrap().weight
    };
    let floor = 0.05 * (2.0_f64 * 99.0).ln();
    assert!((weight_of_low(["x", "y", "y"]) - floor).abs() < 1e-9);
    assert!((weight_of_low(["x", "y", "z"]) - (3.0_f64 * 0.35 / 0.65).ln()).abs() < 1e-9);
}

#[test]
fn log_odds_groups_numbers_on_linear_weights() {
    // Grouping happens before K is known; both rules form the same groups and pick the
    // same representative, and only the vote differs.
    let config = ConsensusConfig { tolerance_absolute: 0.75, tolerance_relative: 0.0, ..config(Strategy::Numeric) };
    let input = vec![
        Ballot::new("w0", "10").power(3.0).confidence(0.9),
        Ballot::new("w1", "10.5").confidence(0.3),
        Ballot::new("w2", "11.2").confidence(0.6),
        Ballot::new("w3", "20").confidence(0.99),
    ];
    let linear = decide(&input, &config).unwrap();
    let bayes = decide(&input, &ConsensusConfig { weighting: Weighting::LogOdds, ..config }).unwrap();
    let shape = |d: &Decision| {
        let mut groups: Vec<(Vec<WorkerId>, String)> =
            d.groups.iter().map(|g| (g.members.clone(), g.representative.clone())).collect();
        groups.sort();
        groups
    };
    assert_eq!(shape(&linear), shape(&bayes));
}

#[test]
fn log_odds_early_stop_accounts_for_newcomers_raising_k() {
    // Four votes for a at 0.6 against one for b at 0.99, two candidates: b leads
    // (ln 198 = 5.29 against 4 x ln 3 = 4.39). Two newcomers with new answers raise K
    // to 4 and reweigh every ballot: 4 x ln 6 = 7.17 against ln 396 = 5.98, and a
    // leads, however light the newcomers. Early stopping must not settle on the K = 2
    // picture while two workers are out.
    let config = log_odds(Strategy::Exact);
    let mut so_far: Vec<Ballot> = (0..4).map(|i| Ballot::new(format!("w{i}"), "a").confidence(0.6)).collect();
    so_far.push(Ballot::new("w9", "b").confidence(0.99));
    let now = decide(&so_far, &config).unwrap();
    assert_eq!(now.groups[0].representative, "b");
    assert_eq!(early_stop(&so_far, &config, &[0.01, 0.01]).unwrap(), EarlyStop::Wait);
    let with_two_new_answers =
        [so_far.clone(), vec![Ballot::new("x0", "c").power(0.01), Ballot::new("x1", "d").power(0.01)]].concat();
    assert_eq!(decide(&with_two_new_answers, &config).unwrap().groups[0].representative, "a");
}

#[test]
fn early_stop_does_not_call_a_no_consensus_a_newcomer_can_regroup() {
    // Regression: 10, 10, 10.5 led 11.2 and 20 (tolerance 0.75) under log-odds
    // weighting, and early stopping called a no-consensus with one light worker out;
    // that worker answering 11.2 pulled 10.5 into the 11.2 window, which then agreed.
    let config = ConsensusConfig {
        tolerance_absolute: 0.75,
        tolerance_relative: 0.0,
        weighting: Weighting::LogOdds,
        ..config(Strategy::Numeric)
    };
    let so_far = vec![
        Ballot::new("w0", "11.2"),
        Ballot::new("w1", "10").confidence(0.7).power(0.5),
        Ballot::new("w2", "10").confidence(0.7),
        Ballot::new("w3", "20"),
        Ballot::new("w4", "10.5").confidence(0.7).power(0.5),
    ];
    assert!(!decide(&so_far, &config).unwrap().is_agreed());
    assert_eq!(early_stop(&so_far, &config, &[0.5]).unwrap(), EarlyStop::Wait);
    let full = [so_far.clone(), vec![Ballot::new("x0", "11.2").power(0.5)]].concat();
    let decision = decide(&full, &config).unwrap();
    assert_eq!(decision.answer.as_deref(), Some("11.2"), "{decision:#?}");
}
