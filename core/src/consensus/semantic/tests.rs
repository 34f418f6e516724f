use super::*;
use crate::consensus::{Strategy, decide};

fn config() -> ConsensusConfig {
    ConsensusConfig::default().with_strategy(Strategy::Semantic)
}

fn ballots(texts: &[&str]) -> Vec<Ballot> {
    texts.iter().enumerate().map(|(i, text)| Ballot::new(format!("w{i}"), *text)).collect()
}

/// Groups as sets of input positions (worker `w{i}` is position `i`), in rank order.
fn groups_of(ballots: &[Ballot], config: &ConsensusConfig) -> Vec<Vec<usize>> {
    let decision = decide(ballots, config).unwrap();
    decision
        .groups
        .iter()
        .map(|g| g.members.iter().map(|m| ballots.iter().position(|b| &b.worker == m).unwrap()).collect())
        .collect()
}

fn together(groups: &[Vec<usize>], a: usize, b: usize) -> bool {
    groups.iter().any(|g| g.contains(&a) && g.contains(&b))
}

#[test]
fn a_negation_is_never_joined_however_similar() {
    let input = ballots(&[
        "Paris is the capital of France",
        "Paris is the capital of France.",
        "Paris is not the capital of France",
    ]);
    let similarity = text_similarity_of(&input[0].text, &input[2].text);
    assert!(similarity >= config().similarity_join_min, "the score alone would join them: {similarity}");
    let groups = groups_of(&input, &config());
    assert!(together(&groups, 0, 1));
    assert!(!together(&groups, 0, 2) && !together(&groups, 1, 2), "{groups:?}");
}

fn text_similarity_of(left: &str, right: &str) -> f64 {
    Profile::new(left).similarity(&Profile::new(right))
}

#[test]
fn members_are_pairwise_compatible_not_just_compatible_with_the_centre() {
    // "It is Paris" is compatible with both longer answers (a paraphrase may drop a
    // name), but France and Texas conflict: the two never share a group, even around
    // a centre both are compatible with.
    let input = ballots(&[
        "The capital is Paris",
        "The capital is Paris, in France",
        "The capital is Paris, in Texas",
        "The capital is Paris!",
    ]);
    let loose = ConsensusConfig { similarity_join_min: 0.3, ..config() };
    for config in [config(), loose] {
        let groups = groups_of(&input, &config);
        assert!(!together(&groups, 1, 2), "{groups:?}");
        assert!(together(&groups, 0, 3), "{groups:?}");
    }
}

#[test]
fn similarity_governs_merging_and_merges_never_cross_a_conflict() {
    // Two paraphrase pairs about the same fact, a little apart lexically.
    let input = ballots(&[
        "Water boils at a lower temperature at high altitude because air pressure is lower",
        "Water boils at a lower temperature at high altitude since air pressure is lower",
        "At altitude the lower air pressure lets water boil at a lower temperature",
        "At altitude the lower air pressure lets water boil at a lower temperature.",
        "Water does not boil at a lower temperature at high altitude",
    ]);
    let strict = ConsensusConfig { similarity_join_min: 0.95, ..config() };
    let strict_groups = groups_of(&input, &strict);
    assert!(!together(&strict_groups, 0, 2), "a high similarity setting stops merging: {strict_groups:?}");
    let merging = ConsensusConfig { similarity_join_min: 0.95, similarity_merge_min: Some(0.3), ..config() };
    let merged = groups_of(&input, &merging);
    assert!(together(&merged, 0, 2) && together(&merged, 1, 3), "{merged:?}");
    assert!(merged.iter().all(|g| !g.contains(&4) || g.len() == 1), "the negation merged: {merged:?}");
}

#[test]
fn the_representative_comes_from_the_heaviest_part() {
    // A light part whose text is the most central of the merged group (it shares words
    // with both others), and a heavier part of two: the representative is the heavier
    // part's medoid, never the light part's text.
    let mut input = ballots(&[
        "Lower air pressure at altitude lowers the boiling point of water",
        "Lower air pressure at altitude lowers the boiling point of water.",
        "At altitude water boils sooner because the air pressure there is lower and the boiling point of water drops",
    ]);
    input[2].power = 1.5;
    let config = ConsensusConfig { similarity_join_min: 0.9, similarity_merge_min: Some(0.2), ..config() };
    let decision = decide(&input, &config).unwrap();
    assert_eq!(decision.groups.len(), 1, "{decision:#?}");
    assert!(decision.groups[0].representative.starts_with("Lower air"), "{decision:#?}");
    // With the light part made heavy enough to outweigh the pair, it speaks.
    input[2].power = 3.0;
    let decision = decide(&input, &config).unwrap();
    assert!(decision.groups[0].representative.starts_with("At altitude"), "{decision:#?}");
}

#[test]
fn the_weighted_medoid_represents_a_group() {
    // Three answers in one join group: the middle one is most similar to both others.
    let input = ballots(&[
        "The Moon orbits the Earth once a month",
        "The Moon orbits the Earth once every month roughly",
        "The Moon orbits the Earth roughly every month",
    ]);
    let config = ConsensusConfig { similarity_join_min: 0.4, ..config() };
    let decision = decide(&input, &config).unwrap();
    assert_eq!(decision.groups.len(), 1, "{decision:#?}");
    let texts: Vec<&str> = input.iter().map(|b| b.text.as_str()).collect();
    let centrality =
        |i: usize| (0..3).map(|j| if i == j { 1.0 } else { text_similarity_of(texts[i], texts[j]) }).sum::<f64>();
    let medoid = (0..3).max_by(|&a, &b| centrality(a).total_cmp(&centrality(b))).unwrap();
    assert_eq!(decision.groups[0].representative, texts[medoid]);
}

#[test]
fn meaning_classes_group_when_every_answer_has_one_and_the_guard_still_applies() {
    let mut input = ballots(&[
        "Paris is the capital of France",
        "Its government sits in Paris",
        "Paris is not the capital of France",
        "Lyon is the capital",
    ]);
    assert!(text_similarity_of(&input[0].text, &input[1].text) < config().similarity_join_min);
    // A judge that (wrongly) puts the negation in the same class as the claim.
    for (ballot, class) in input.iter_mut().zip([7, 7, 7, 9]) {
        ballot.meaning = Some(class);
    }
    let groups = groups_of(&input, &config());
    assert!(together(&groups, 0, 1), "the judge's class joins words the score would not: {groups:?}");
    assert!(!together(&groups, 0, 2) && !together(&groups, 1, 2), "{groups:?}");
    // One answer without a class: lexical similarity for all, which keeps the
    // paraphrase apart.
    input[3].meaning = None;
    let groups = groups_of(&input, &config());
    assert!(!together(&groups, 0, 1), "{groups:?}");
}

#[test]
fn embeddings_do_not_override_the_guard() {
    // Cosines as a small embedding model gives them: the negation at 0.90, the true
    // paraphrase at 0.71 (issue 8, SmolLM2-135M with mean pooling).
    let claim = [1.0f32, 0.0, 0.0];
    let negation = [0.90f32, (1.0f32 - 0.81).sqrt(), 0.0];
    let paraphrase_y = (0.71 - 0.90 * 0.71) / (1.0f32 - 0.81).sqrt();
    let paraphrase = [0.71f32, paraphrase_y, (1.0 - 0.71f32 * 0.71 - paraphrase_y * paraphrase_y).sqrt()];
    let mut input = ballots(&[
        "Paris is the capital of France",
        "Paris is not the capital of France",
        "France's capital city is Paris",
    ]);
    for (ballot, vector) in input.iter_mut().zip([claim, negation, paraphrase]) {
        ballot.embedding = Some(vector.to_vec());
    }
    let cosine = |a: &[f32], b: &[f32]| crate::consensus::embedding_similarity(a, b);
    assert!((cosine(&claim, &negation) - 0.90).abs() < 1e-3 && (cosine(&claim, &paraphrase) - 0.71).abs() < 1e-3);
    let config = ConsensusConfig { similarity_join_min: 0.7, ..config() };
    let groups = groups_of(&input, &config);
    assert!(together(&groups, 0, 2), "{groups:?}");
    assert!(!together(&groups, 0, 1) && !together(&groups, 1, 2), "{groups:?}");
}

#[test]
fn long_embeddings_are_folded_and_keep_their_cosines() {
    // Two long vectors with a known cosine of 0.6, from a seeded generator.
    let mut state = 7u64;
    let mut next = || {
        state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        ((state >> 40) as f32 / (1u64 << 24) as f32) - 0.5
    };
    let dimensions = 3 * EMBEDDING_COMPARED_DIMENSIONS_MAX;
    let (a, noise): (Vec<f32>, Vec<f32>) = (0..dimensions).map(|_| (next(), next())).unzip();
    let b: Vec<f32> = a.iter().zip(&noise).map(|(x, n)| 0.6 * x + 0.8 * n).collect();
    let exact = crate::consensus::embedding_similarity(&a, &b);
    let folded = f64::from(dot(&unit_padded(&a), &unit_padded(&b)));
    assert!((exact - 0.6).abs() < 0.02, "{exact}");
    assert!((folded - exact).abs() < 0.03, "folded {folded}, exact {exact}");
    assert_eq!(unit_padded(&a).len(), EMBEDDING_COMPARED_DIMENSIONS_MAX);
    let short = unit_padded(&[3.0, 4.0]);
    assert_eq!(short.len(), LANES);
    assert_eq!((short[0], short[1]), (0.6, 0.8));
}

#[test]
fn identical_texts_always_group() {
    let text = "A precedes B and B precedes A";
    let groups = groups_of(&ballots(&[text, text, text]), &config());
    assert_eq!(groups, vec![vec![0, 1, 2]]);
}

#[test]
fn texts_match_applies_the_guard() {
    let config = config();
    assert!(texts_match("Prices rise in winter", "prices rise in winter.", &config));
    assert!(!texts_match("Prices rise in winter", "Prices fall in winter", &config));
    assert!(!texts_match("Prices rise in winter", "Tomatoes are red", &config));
}

#[test]
fn the_lexical_fill_is_every_pair_compared_alone() {
    let texts: Vec<String> = (0..23).map(|i| format!("answer number {} says {}", i % 5, i * 7)).collect();
    let profiles: Vec<Profile> = texts.iter().map(|t| Profile::new(t)).collect();
    let values = SimilarityMatrix::fill_lexical(&profiles);
    let matrix = SimilarityMatrix { row_of: (0..texts.len()).collect(), rows: texts.len(), values };
    for i in 0..texts.len() {
        for j in 0..texts.len() {
            let expected = if i == j { 1.0 } else { profiles[i].similarity(&profiles[j]) };
            assert_eq!(matrix.get(i, j).to_bits(), expected.to_bits(), "{i}, {j}");
        }
    }
}

#[test]
fn tiles_fill_every_pair() {
    for rows in [0, 1, 15, 16, 17, 40] {
        let values = SimilarityMatrix::fill(rows, |i, j| (i * 1000 + j) as f64);
        let matrix = SimilarityMatrix { row_of: (0..rows).collect(), rows, values };
        for i in 0..rows {
            for j in 0..rows {
                let expected = if i == j { 1.0 } else { (i.min(j) * 1000 + i.max(j)) as f64 };
                assert_eq!(matrix.get(i, j), expected, "{rows}: {i}, {j}");
            }
        }
    }
}
