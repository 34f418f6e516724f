//! Properties of semantic grouping with the claim guard, over generated sentences: a
//! contradiction pair never shares a group, whatever else is in the panel, whatever the
//! weights, the similarity setting or the embeddings.

use proptest::prelude::*;
use quorum_core::consensus::{Ballot, Claim, ConsensusConfig, Decision, Strategy as Matching, decide, text_similarity};

/// Words no list of the claim guard knows, so a generated frame states exactly the
/// claim it is built for.
const SUBJECTS: [&str; 6] = ["The committee", "The river", "Inflation", "The company", "Maria", "The new tax"];
const ADJECTIVES: [&str; 6] = ["popular", "green", "expected", "stable", "famous", "common"];
const TAILS: [&str; 10] = ["in", "the", "region", "during", "most", "years", "according", "to", "records", "locally"];
const ENTITIES: [&str; 6] = ["Rome", "Carthage", "Athens", "Sparta", "Mercury", "Venus"];
/// (side 0, side 1) of opposite predicates the lexicon lists.
const OPPOSITES: [(&str, &str); 8] = [
    ("rises", "falls"),
    ("increased", "decreased"),
    ("accepted", "rejected"),
    ("won", "lost"),
    ("is legal", "is illegal"),
    ("is true", "is false"),
    ("grew", "shrank"),
    ("floats", "sinks"),
];
/// Relations whose arguments have an order.
const RELATIONS: [&str; 6] = ["precedes", "causes", "orbits", "is larger than", "beat", "comes before"];

fn tail() -> impl Strategy<Value = String> {
    proptest::collection::vec(proptest::sample::select(&TAILS[..]), 0..6).prop_map(|words| words.join(" "))
}

/// A sentence and a sentence that contradicts it, in the same frame.
fn contradiction() -> impl Strategy<Value = (String, String)> {
    let negation = (proptest::sample::select(&SUBJECTS[..]), proptest::sample::select(&ADJECTIVES[..]), tail())
        .prop_map(|(subject, adjective, tail)| {
            (format!("{subject} is {adjective} {tail}"), format!("{subject} is not {adjective} {tail}"))
        });
    let opposite = (proptest::sample::select(&SUBJECTS[..]), proptest::sample::select(&OPPOSITES[..]), tail())
        .prop_map(|(subject, (up, down), tail)| (format!("{subject} {up} {tail}"), format!("{subject} {down} {tail}")));
    let reversed = (0..ENTITIES.len(), 1..ENTITIES.len(), proptest::sample::select(&RELATIONS[..]), tail()).prop_map(
        |(a, offset, relation, tail)| {
            let (a, b) = (ENTITIES[a], ENTITIES[(a + offset) % ENTITIES.len()]);
            (format!("{a} {relation} {b} {tail}"), format!("{b} {relation} {a} {tail}"))
        },
    );
    prop_oneof![negation, opposite, reversed]
}

/// Surface variants that keep the claim: punctuation, case of the first letter.
fn variant(text: &str, pick: u8) -> String {
    match pick % 4 {
        0 => text.to_owned(),
        1 => format!("{text}."),
        2 => format!("{text}!"),
        _ => format!("{} ", text.trim_end()),
    }
}

/// A panel: copies (in surface variants) of both sides of a contradiction, optionally
/// an unrelated answer, with random powers and confidences; and a similarity setting.
fn panel() -> impl Strategy<Value = (String, String, Vec<Ballot>, f64)> {
    (
        contradiction(),
        proptest::collection::vec((any::<bool>(), any::<u8>(), 0.25f64..4.0, 0.0f64..=1.0), 2..9),
        0.05f64..0.95,
    )
        .prop_map(|((left, right), raw, similarity)| {
            let mut ballots: Vec<Ballot> = raw
                .iter()
                .enumerate()
                .map(|(i, &(side, pick, power, confidence))| {
                    let text = variant(if side { &left } else { &right }, pick);
                    Ballot::new(format!("w{i:02}"), text).power(power).confidence(confidence)
                })
                .collect();
            // Both sides always present.
            ballots.push(Ballot::new("x0", left.clone()));
            ballots.push(Ballot::new("x1", right.clone()));
            (left, right, ballots, similarity)
        })
}

fn config(similarity: f64) -> ConsensusConfig {
    ConsensusConfig { similarity_join_min: similarity, ..ConsensusConfig::default() }.with_strategy(Matching::Semantic)
}

/// The texts of each group.
fn group_texts<'a>(decision: &Decision, ballots: &'a [Ballot]) -> Vec<Vec<&'a str>> {
    decision
        .groups
        .iter()
        .map(|g| g.members.iter().map(|m| ballots.iter().find(|b| &b.worker == m).unwrap().text.as_str()).collect())
        .collect()
}

/// Whether a group holds a text of each side (surface variants included).
fn mixes(texts: &[&str], left: &str, right: &str) -> bool {
    let side = |text: &str, of: &str| text.trim_end_matches(['.', '!', ' ']) == of.trim_end();
    texts.iter().any(|t| side(t, left)) && texts.iter().any(|t| side(t, right))
}

/// Text from characters that exercise every path of the reader: letters of several
/// scripts and cases, digits, separators, apostrophes, signs, punctuation.
fn odd_text() -> impl Strategy<Value = String> {
    let pieces = proptest::sample::select(
        &[
            "a", "Z", "é", "É", "ß", "İ", "ǅ", "中", "١", "٣", "１", "0", "9", ",", ".", "'", "\u{2019}", "-",
            "\u{2212}", " ", "\n", ":", ";", "(", ")", "n't", "not", "than", "by", "May", "one", "hundred", "rises",
            "falls", "precedes", "\u{301}", "\u{200b}", "\u{0}", "😀",
        ][..],
    );
    prop_oneof![any::<String>(), proptest::collection::vec(pieces, 0..40).prop_map(|p| p.concat())]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn reading_any_text_never_panics_and_is_consistent(left in odd_text(), right in odd_text()) {
        let (a, b) = (Claim::new(&left), Claim::new(&right));
        prop_assert!(a.is_compatible(&Claim::new(&left)), "a text conflicts with itself: {left:?}");
        prop_assert_eq!(a.conflict_with(&b).is_some(), b.conflict_with(&a).is_some());
        let similarity = text_similarity(&left, &right);
        prop_assert!((0.0..=1.0).contains(&similarity));
        prop_assert_eq!(similarity.to_bits(), text_similarity(&right, &left).to_bits());
        let ballots = [Ballot::new("w0", left.clone()), Ballot::new("w1", right.clone())];
        let decision = decide(&ballots, &config(0.5)).unwrap();
        prop_assert!(decision.groups.len() <= 2);
    }

    #[test]
    fn a_contradiction_pair_never_shares_a_group((left, right, ballots, similarity) in panel()) {
        prop_assert!(!Claim::new(&left).is_compatible(&Claim::new(&right)), "{left:?} / {right:?}");
        for merge in [None, Some(0.0)] {
            let config = ConsensusConfig { similarity_merge_min: merge, ..config(similarity) };
            let decision = decide(&ballots, &config).unwrap();
            for texts in group_texts(&decision, &ballots) {
                prop_assert!(!mixes(&texts, &left, &right), "{left:?} / {right:?} grouped: {texts:?}");
            }
        }
    }

    #[test]
    fn adding_a_negation_separates_identical_sentences(
        subject in proptest::sample::select(&SUBJECTS[..]),
        adjective in proptest::sample::select(&ADJECTIVES[..]),
        tail in tail(),
        similarity in 0.0f64..=1.0,
    ) {
        let sentence = format!("{subject} is {adjective} {tail}");
        let negated = format!("{subject} is not {adjective} {tail}");
        let same = [Ballot::new("w0", sentence.clone()), Ballot::new("w1", sentence.clone())];
        prop_assert_eq!(decide(&same, &config(similarity)).unwrap().groups.len(), 1);
        let apart = [Ballot::new("w0", sentence), Ballot::new("w1", negated)];
        prop_assert_eq!(decide(&apart, &config(similarity)).unwrap().groups.len(), 2);
    }

    #[test]
    fn embeddings_obey_the_guard_too(
        (left, right, mut ballots, similarity) in panel(),
        vector in proptest::collection::vec(-1.0f32..1.0, 1..8),
    ) {
        // Every answer the same embedding: cosine 1 between every pair.
        prop_assume!(vector.iter().any(|&v| v != 0.0));
        for ballot in &mut ballots {
            ballot.embedding = Some(vector.clone());
        }
        let decision = decide(&ballots, &config(similarity)).unwrap();
        for texts in group_texts(&decision, &ballots) {
            prop_assert!(!mixes(&texts, &left, &right), "{left:?} / {right:?} grouped: {texts:?}");
        }
    }

    #[test]
    fn every_group_is_pairwise_compatible(
        (left, right, mut ballots, similarity) in panel(),
        (other_left, other_right) in contradiction(),
        meanings in any::<bool>(),
    ) {
        ballots.push(Ballot::new("y0", other_left));
        ballots.push(Ballot::new("y1", other_right));
        if meanings {
            // A judge that put every answer in one class.
            for ballot in &mut ballots {
                ballot.meaning = Some(0);
            }
        }
        let config = ConsensusConfig { similarity_merge_min: Some(similarity / 2.0), ..config(similarity) };
        let decision = decide(&ballots, &config).unwrap();
        for texts in group_texts(&decision, &ballots) {
            for a in &texts {
                for b in &texts {
                    prop_assert!(Claim::new(a).is_compatible(&Claim::new(b)), "{a:?} / {b:?} in one group ({left:?} / {right:?})");
                }
            }
        }
    }

    #[test]
    fn semantic_decisions_do_not_depend_on_order((_left, _right, ballots, similarity) in panel(), seed in any::<u64>()) {
        let mut shuffled = ballots.clone();
        let mut state = seed;
        for i in (1..shuffled.len()).rev() {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            shuffled.swap(i, (state >> 33) as usize % (i + 1));
        }
        let config = config(similarity);
        prop_assert_eq!(decide(&ballots, &config).unwrap(), decide(&shuffled, &config).unwrap());
    }
}
