//! How long `decide` takes for 3, 15 and 100 answers under each strategy.
//!
//! Answers are realistic: most workers give the right answer in some surface form,
//! the rest scatter over wrong answers, so grouping has real work to do.

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use quorum_core::SeededRng;
use quorum_core::consensus::{Ballot, ConsensusConfig, Profile, Strategy, decide, extract};

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

/// The largest accepted input under exact and numeric matching too (every answer full of
/// numbers and names, so extraction reads all of it), against 100 answers of 16 KiB in
/// the same run.
fn bench_extraction_worst_case(c: &mut Criterion) {
    let mut group = c.benchmark_group("extraction_worst_case");
    group.sample_size(10);
    for strategy in [Strategy::Exact, Strategy::Numeric] {
        let config = ConsensusConfig::default().with_strategy(strategy);
        for (count, kib) in [(100usize, 16usize), (1_000, 64)] {
            let input = long_answers(count, kib * 1024, 11);
            let id = BenchmarkId::new(strategy.as_str(), format!("{count}x{kib}KiB"));
            group.bench_with_input(id, &input, |b, input| {
                b.iter(|| decide(std::hint::black_box(input), &config).unwrap());
            });
        }
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

/// A short answer as models write them.
const SHORT_ANSWER: &str = "The total is 6.1 × 10^4 (as of 2019), confidence 0.8. **Final answer: 61000**";

/// An 8 KB answer: worked reasoning full of numbers, then the final answer.
fn long_answer() -> String {
    let step = "Step 3: the shop had 1,250 apples, sold 3/8 of them (about 468.75) and received 2.5k more; \
                that leaves roughly 3,281 apples, give or take 12 (rounded from 11.6). ";
    let mut text = String::new();
    while text.len() + step.len() < 8 * 1024 - 40 {
        text.push_str(step);
    }
    text.push_str("Final answer: 3281");
    text
}

/// Extraction of a short and an 8 KB answer, against the reader it replaced (the last
/// run of digits, kept below as the baseline) so one run gives the ratio.
fn bench_extract(c: &mut Criterion) {
    let long = long_answer();
    let mut group = c.benchmark_group("extract");
    for (size, text) in [("short", SHORT_ANSWER), ("long_8k", long.as_str())] {
        group.bench_with_input(BenchmarkId::new("numeric", size), text, |b, text| {
            b.iter(|| extract(std::hint::black_box(text), Strategy::Numeric));
        });
        group.bench_with_input(BenchmarkId::new("exact", size), text, |b, text| {
            b.iter(|| extract(std::hint::black_box(text), Strategy::Exact));
        });
        group.bench_with_input(BenchmarkId::new("baseline_last_digits", size), text, |b, text| {
            b.iter(|| baseline::final_number(std::hint::black_box(text)));
        });
    }
    group.finish();
}

/// The numeric reader before answer extraction (the last run of digits), verbatim,
/// as the baseline of the `extract` group.
mod baseline {
    pub fn final_number(text: &str) -> Option<f64> {
        let chars: Vec<char> = text.chars().collect();
        let mut last = None;
        let mut index = 0;
        while index < chars.len() {
            match read_number_at(&chars, index) {
                Some((value, end)) => {
                    if value.is_finite() {
                        last = Some(value);
                    }
                    index = end;
                }
                None => index += 1,
            }
        }
        last
    }

    fn read_number_at(chars: &[char], start: usize) -> Option<(f64, usize)> {
        let digit = |i: usize| chars.get(i).is_some_and(char::is_ascii_digit);
        let at = |i: usize| chars.get(i).copied();
        let starts_fraction = at(start) == Some('.') && digit(start + 1);
        if !(digit(start) || starts_fraction) {
            return None;
        }
        let before = start.checked_sub(1).and_then(at);
        if before.is_some_and(|c| c.is_alphabetic() || (starts_fraction && c.is_ascii_digit())) {
            return None;
        }
        let mut literal = String::new();
        if matches!(before, Some('-' | '\u{2212}')) {
            let sign_context = start.checked_sub(2).and_then(at);
            if !sign_context.is_some_and(char::is_alphanumeric) {
                literal.push('-');
            }
        }
        let mut index = start;
        let mut integer_digits = 0;
        while digit(index) {
            literal.push(chars[index]);
            integer_digits += 1;
            index += 1;
        }
        if (1..=3).contains(&integer_digits) {
            while at(index) == Some(',') && (1..=3).all(|k| digit(index + k)) && !digit(index + 4) {
                literal.extend(&chars[index + 1..index + 4]);
                index += 4;
            }
        }
        if at(index) == Some('.') && digit(index + 1) {
            literal.push('.');
            index += 1;
            while digit(index) {
                literal.push(chars[index]);
                index += 1;
            }
        }
        if matches!(at(index), Some('e' | 'E')) {
            let sign = matches!(at(index + 1), Some('+' | '-'));
            let first_exponent_digit = index + 1 + usize::from(sign);
            let next_is_letter = at(first_exponent_digit + 1).is_some_and(char::is_alphabetic);
            if digit(first_exponent_digit) && !next_is_letter {
                literal.push('e');
                literal.extend(&chars[index + 1..first_exponent_digit]);
                index = first_exponent_digit;
                while digit(index) {
                    literal.push(chars[index]);
                    index += 1;
                }
            }
        }
        let value: f64 = literal.parse().ok()?;
        Some((value, index))
    }
}

criterion_group!(
    benches,
    bench_decide,
    bench_similarity,
    bench_extract,
    bench_semantic_worst_case,
    bench_extraction_worst_case
);
criterion_main!(benches);
