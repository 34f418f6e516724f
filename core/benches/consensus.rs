//! How long `decide` takes for 3, 15 and 100 answers under each strategy.
//!
//! Answers are realistic: most workers give the right answer in some surface form,
//! the rest scatter over wrong answers, so grouping has real work to do.

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use quorum_core::SeededRng;
use quorum_core::consensus::{Ballot, ConsensusConfig, Profile, Strategy, decide};

const EXACT_RIGHT: [&str; 3] = ["Canberra", "canberra.", "CANBERRA"];
const EXACT_WRONG: [&str; 3] = ["Sydney", "Melbourne", "Perth"];
const NUMERIC_RIGHT: [&str; 3] = ["42", "The answer is 42.", "$42.00"];
const NUMERIC_WRONG: [&str; 3] = ["41", "The total is 24", "4200"];
const SEMANTIC_RIGHT: [&str; 3] = [
    "Water boils at a lower temperature at high altitude because the air pressure is lower.",
    "At high altitude air pressure is lower, so water boils at a lower temperature.",
    "Lower atmospheric pressure up high means water reaches its boiling point at a lower temperature.",
];
const SEMANTIC_WRONG: [&str; 3] = [
    "Mountains are colder, so water takes longer to boil.",
    "Gravity is weaker on mountains, which changes boiling.",
    "The water at altitude contains less salt, so it boils sooner.",
];

fn ballots(strategy: Strategy, count: usize, seed: u64) -> Vec<Ballot> {
    let (right, wrong) = match strategy {
        Strategy::Exact => (EXACT_RIGHT, EXACT_WRONG),
        Strategy::Numeric => (NUMERIC_RIGHT, NUMERIC_WRONG),
        Strategy::Semantic => (SEMANTIC_RIGHT, SEMANTIC_WRONG),
    };
    let mut rng = SeededRng::new(seed);
    (0..count)
        .map(|i| {
            let pool = if rng.chance(0.7) { &right } else { &wrong };
            let text = pool[rng.index(pool.len())];
            Ballot::new(format!("w{i:03}"), text)
                .confidence(0.5 + rng.next_f64() / 2.0)
                .power(0.25 + rng.next_f64() * 3.75)
        })
        .collect()
}

fn bench_decide(c: &mut Criterion) {
    for strategy in [Strategy::Exact, Strategy::Numeric, Strategy::Semantic] {
        let mut group = c.benchmark_group(format!("decide/{}", strategy.as_str()));
        for count in [3usize, 15, 100] {
            let input = ballots(strategy, count, 7);
            let config = ConsensusConfig::default().with_strategy(strategy);
            group.bench_with_input(BenchmarkId::from_parameter(count), &input, |b, input| {
                b.iter(|| decide(std::hint::black_box(input), &config).unwrap());
            });
        }
        group.finish();
    }
    // Worst case for semantic matching: no two answers share a text, so nothing is
    // profiled or compared once for several answers.
    let mut group = c.benchmark_group("decide/semantic_all_distinct");
    for count in [3usize, 15, 100] {
        let input: Vec<Ballot> = ballots(Strategy::Semantic, count, 7)
            .into_iter()
            .enumerate()
            .map(|(i, mut ballot)| {
                ballot.text = format!("{} Variant {i}.", ballot.text);
                ballot
            })
            .collect();
        let config = ConsensusConfig::default().with_strategy(Strategy::Semantic);
        group.bench_with_input(BenchmarkId::from_parameter(count), &input, |b, input| {
            b.iter(|| decide(std::hint::black_box(input), &config).unwrap());
        });
    }
    group.finish();
}

/// Distinct long answers: sentences of words drawn from a few thousand made-up words,
/// with names and numbers, `bytes` long each, no two alike.
fn long_answers(count: usize, bytes: usize, seed: u64) -> Vec<Ballot> {
    const SYLLABLES: [&str; 16] =
        ["ka", "lo", "mi", "ne", "ru", "ta", "vi", "so", "pe", "da", "gu", "fi", "be", "zo", "ha", "wy"];
    let mut rng = SeededRng::new(seed);
    (0..count)
        .map(|i| {
            let mut text = String::with_capacity(bytes + 64);
            let mut sentence_words = 0;
            while text.len() < bytes {
                let mut word = String::new();
                for _ in 0..2 + rng.index(3) {
                    word.push_str(SYLLABLES[rng.index(SYLLABLES.len())]);
                }
                if rng.chance(0.05) {
                    word = format!("{}", rng.range_u64(1, 3000));
                } else if rng.chance(0.05) {
                    word[..1].make_ascii_uppercase();
                }
                if sentence_words == 0 {
                    word[..1].make_ascii_uppercase();
                }
                text.push_str(&word);
                sentence_words += 1;
                if sentence_words > 8 && rng.chance(0.15) {
                    text.push_str(". ");
                    sentence_words = 0;
                } else {
                    text.push(' ');
                }
            }
            text.truncate(bytes);
            Ballot::new(format!("w{i:04}"), text)
        })
        .collect()
}

/// The largest accepted semantic input: 1,000 distinct answers of 16 and 64 KiB (every
/// pair compared, no repeated text to share work), with 100 answers of 16 KiB as the
/// baseline of the same run. Before the fixed-size sketch, 1,000 x 16 KiB took 15 s
/// and 1,000 x 64 KiB 52 s on the development machine.
fn bench_semantic_worst_case(c: &mut Criterion) {
    let config = ConsensusConfig::default().with_strategy(Strategy::Semantic);
    let mut group = c.benchmark_group("semantic_worst_case");
    group.sample_size(10);
    for (count, kib) in [(100usize, 16usize), (1_000, 16), (1_000, 64)] {
        let input = long_answers(count, kib * 1024, 11);
        group.bench_with_input(BenchmarkId::from_parameter(format!("{count}x{kib}KiB")), &input, |b, input| {
            b.iter(|| decide(std::hint::black_box(input), &config).unwrap());
        });
    }
    group.finish();
}

/// The pieces of semantic matching: building a profile, comparing two.
fn bench_similarity(c: &mut Criterion) {
    let text = SEMANTIC_RIGHT[0];
    c.bench_function("similarity/profile", |b| b.iter(|| Profile::new(std::hint::black_box(text))));
    let (left, right) = (Profile::new(SEMANTIC_RIGHT[0]), Profile::new(SEMANTIC_RIGHT[1]));
    c.bench_function("similarity/compare", |b| b.iter(|| std::hint::black_box(&left).similarity(&right)));
}

criterion_group!(benches, bench_decide, bench_similarity, bench_semantic_worst_case);
criterion_main!(benches);
