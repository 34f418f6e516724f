//! The messy style and contradiction mistakes, read back by a small reader of our own
//! (independent of the engine's, which is what these answers are meant to test).

use std::collections::BTreeSet;

use std::sync::Arc;

use super::wording::Wording;
use super::*;
use crate::mock::workload::{QuestionBank, Truth, TruthBook, WorkloadConfig, generate};
use crate::{CompletionRequest, Llm};

fn messy() -> Wording {
    Wording { style: AnswerStyle::Messy, mistakes: MistakeStyle::Contradictions, task_hash: 4 }
}

/// Reads a number the mock wrote in any of its forms: markers and remarks dropped,
/// full-width digits and the Unicode minus folded, then words, fractions, mixed
/// numbers, `±`, scale words, scientific notation and digit groups.
fn read_number(text: &str) -> f64 {
    let mut body = text.trim().to_owned();
    for prefix in ["Final answer: ", "Answer: ", "The answer is ", "x = ", "≈ "] {
        if let Some(rest) = body.strip_prefix(prefix) {
            body = rest.trim_end_matches('.').to_owned();
        }
    }
    if let Some(inner) = body.strip_prefix("\\boxed{").and_then(|rest| rest.strip_suffix('}')) {
        body = inner.to_owned();
    }
    if let Some(inner) = body.strip_prefix("**").and_then(|rest| rest.strip_suffix("**")) {
        body = inner.to_owned();
    }
    for remark in [" (as of", ", confidence", " (confidence", ", rounded from", " ±", " +/-"] {
        if let Some(index) = body.find(remark) {
            body.truncate(index);
        }
    }
    let body: String = body
        .chars()
        .map(|c| match c {
            '\u{FF10}'..='\u{FF19}' => char::from_u32(c as u32 - 0xFF10 + '0' as u32).unwrap(),
            '\u{FF0E}' => '.',
            '\u{FF0D}' | '\u{2212}' => '-',
            other => other,
        })
        .collect();
    let (sign, body) = match body.strip_prefix("minus ").or_else(|| body.strip_prefix("negative ")) {
        Some(rest) => (-1.0, rest.to_owned()),
        None => (1.0, body),
    };
    sign * read_unsigned(&body).unwrap_or_else(|| panic!("cannot read {text:?}"))
}

fn read_unsigned(body: &str) -> Option<f64> {
    if let Some(value) = read_words(body) {
        return Some(value);
    }
    if body.contains('/') {
        let parts: Vec<&str> = body.split_whitespace().collect();
        let (whole, fraction): (f64, &str) = match parts.as_slice() {
            [fraction] => (0.0, *fraction),
            [whole, fraction] => (whole.parse().ok()?, *fraction),
            _ => return None,
        };
        let (numerator, denominator) = fraction.split_once('/')?;
        let numerator: f64 = numerator.parse().ok()?;
        let sign = if whole < 0.0 || numerator < 0.0 { -1.0 } else { 1.0 };
        return Some(sign * (whole.abs() + numerator.abs() / denominator.parse::<f64>().ok()?));
    }
    for (suffix, scale) in
        [(" thousand", 1e3), (" million", 1e6), (" billion", 1e9), ("bn", 1e9), ("k", 1e3), ("K", 1e3), ("M", 1e6)]
    {
        if let Some(mantissa) = body.strip_suffix(suffix) {
            return Some(mantissa.parse::<f64>().ok()? * scale);
        }
    }
    for times_ten in [" × 10^", "x10^"] {
        if let Some((mantissa, exponent)) = body.split_once(times_ten) {
            return Some(mantissa.parse::<f64>().ok()? * 10f64.powi(exponent.parse().ok()?));
        }
    }
    if let Some((mantissa, exponent)) = body.split_once("·10") {
        let exponent: String = exponent
            .chars()
            .map(|c| match c {
                '⁻' => '-',
                other => {
                    char::from_digit("⁰¹²³⁴⁵⁶⁷⁸⁹".chars().position(|d| d == other).unwrap_or(0) as u32, 10).unwrap()
                }
            })
            .collect();
        return Some(mantissa.parse::<f64>().ok()? * 10f64.powi(exponent.parse().ok()?));
    }
    let grouped: String = body.chars().filter(|c| !matches!(c, ' ' | '\u{2009}' | '\u{A0}' | '\u{202F}')).collect();
    grouped.parse().ok()
}

fn read_words(body: &str) -> Option<f64> {
    // The mock's vocabulary; the reading below is the test's own.
    use super::number_words::{ONES, TENS};
    let (mut total, mut current) = (0_i64, 0_i64);
    let mut any = false;
    for word in body.split([' ', '-']).filter(|w| !w.is_empty() && *w != "and") {
        if let Some(value) = ONES.iter().position(|w| *w == word) {
            current += value as i64;
        } else if let Some(tens) = TENS.iter().position(|w| !w.is_empty() && *w == word) {
            current += 10 * tens as i64;
        } else if word == "hundred" {
            current *= 100;
        } else if word == "thousand" {
            total += current * 1_000;
            current = 0;
        } else {
            return None;
        }
        any = true;
    }
    any.then_some((total + current) as f64)
}

fn same(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

const VALUES: [f64; 12] =
    [42.0, -33.0, 0.625, 4.0 / 3.0, 1.75, 3_400.0, 61_000.0, 2_500_000.0, 105.0, 19.0, 7.0 / 16.0, 0.0];

#[test]
fn messy_right_numbers_state_the_truth_in_every_form() {
    let mut seen = BTreeSet::new();
    for value in VALUES {
        for variant in 0..400 {
            let text = messy().right(&Truth::Numeric { value }, variant);
            let read = read_number(&text);
            assert!(same(read, value), "{text:?} reads {read}, not {value}");
            seen.insert(text);
        }
    }
    for expected in [
        "5/8",
        "1 3/4",
        "3.4 thousand",
        "3.4k",
        "6.1 × 10^4",
        "2.5M",
        "one hundred and five",
        "nineteen",
        "minus thirty-three",
        "\u{2212}33",
        "42 (as of 2019)",
        "42, confidence 0.8",
        "Final answer: 42",
        "\\boxed{42}",
        "**42**",
        "61\u{2009}000",
        "４２",
    ] {
        assert!(seen.contains(expected), "no {expected:?} among {} answers", seen.len());
    }
    assert!(seen.iter().any(|s| s.starts_with("≈ 42, rounded from 4")), "no rounding remark");
}

#[test]
fn wrong_numbers_are_wrong_and_often_share_the_right_answers_frame() {
    let mut lookalikes = 0;
    for value in VALUES {
        let right: BTreeSet<String> = (0..200).map(|v| messy().right(&Truth::Numeric { value }, v)).collect();
        for variant in 0..200 {
            let text = messy().wrong(&Truth::Numeric { value }, variant);
            let read = read_number(&text);
            assert!(!same(read, value), "{text:?} is right for {value}");
            // "7/3" for "4/3", "3.4 million" for "3.4 thousand": the same digits last.
            let last_digits = |t: &str| t.chars().rev().skip_while(|c| !c.is_ascii_digit()).take(1).collect::<String>();
            lookalikes += usize::from(right.iter().any(|r| last_digits(r) == last_digits(&text)));
        }
    }
    assert!(lookalikes > 500, "only {lookalikes} wrong answers end like a right one");
    let thirds: BTreeSet<String> = (0..300).map(|v| messy().wrong(&Truth::Numeric { value: 4.0 / 3.0 }, v)).collect();
    assert!(thirds.contains("7/3") && thirds.contains("10/3"), "{thirds:?}");
    let thousands: BTreeSet<String> = (0..300).map(|v| messy().wrong(&Truth::Numeric { value: 3_400.0 }, v)).collect();
    assert!(thousands.contains("3.4 million"), "{thousands:?}");
}

/// A hard workload's truths of one kind.
fn hard_truths(kind: fn(&Truth) -> bool) -> Vec<Truth> {
    let config = WorkloadConfig { tasks: 200, questions: QuestionBank::Hard, ..WorkloadConfig::default() };
    generate(2, &config).truths.into_values().filter(kind).collect()
}

/// A short answer out of the mock's wrappers (a reader of our own, for the test).
fn unwrapped(text: &str) -> String {
    let mut body = text.to_owned();
    if let Ok(serde_json::Value::Object(object)) = serde_json::from_str::<serde_json::Value>(&body)
        && let Some(serde_json::Value::String(answer)) = object.get("answer")
    {
        body = answer.clone();
    }
    for prefix in ["Final answer: ", "Answer: ", "The answer is "] {
        body = body.strip_prefix(prefix).unwrap_or(&body).to_owned();
    }
    for (open, close) in [("**", "**"), ("`", "`"), ("\\boxed{", "}")] {
        if let Some(inner) = body.strip_prefix(open).and_then(|rest| rest.strip_suffix(close)) {
            body = inner.to_owned();
        }
    }
    let body = body.strip_suffix('.').unwrap_or(&body);
    let composed = body
        .replace("a\u{301}", "á")
        .replace("e\u{301}", "é")
        .replace("i\u{301}", "í")
        .replace("o\u{301}", "ó")
        .replace("a\u{303}", "ã")
        .replace("c\u{327}", "ç");
    composed
        .chars()
        .map(|c| match c {
            '\u{3000}' => ' ',
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFF01 + 0x21).unwrap(),
            other => other,
        })
        .collect::<String>()
        .to_lowercase()
}

#[test]
fn messy_short_answers_are_the_right_one_wrapped_and_mistakes_are_near_misses() {
    let truths = hard_truths(|t| matches!(t, Truth::Exact { .. }));
    assert!(truths.len() > 20);
    let mut dressed = 0;
    for truth in &truths {
        let Truth::Exact { answer, wrong } = truth else { unreachable!() };
        for variant in 0..50 {
            let right = messy().right(truth, variant);
            assert_eq!(unwrapped(&right), answer.to_lowercase(), "{right:?}");
            dressed += usize::from(right != *answer);
            let mistake = unwrapped(&messy().wrong(truth, variant));
            assert_ne!(mistake, answer.to_lowercase());
            assert!(wrong.iter().any(|w| w.to_lowercase() == mistake), "{mistake:?} not among {wrong:?}");
        }
    }
    assert!(dressed > truths.len() * 30, "most right answers come wrapped: {dressed}");
}

#[test]
fn claim_mistakes_contradict_the_claim_in_its_own_frame() {
    let truths = hard_truths(|t| matches!(t, Truth::Semantic { .. }));
    assert!(truths.len() > 20);
    for truth in &truths {
        let Truth::Semantic { phrasings, contradictions, .. } = truth else { unreachable!() };
        let mut said = BTreeSet::new();
        for variant in 0..100 {
            let right = messy().right(truth, variant);
            assert_eq!(truth.known_verdict(&right), Some(true), "{right:?}");
            let wrong = messy().wrong(truth, variant);
            assert_eq!(truth.known_verdict(&wrong), Some(false), "{wrong:?}");
            assert!(phrasings.iter().all(|p| !wrong.contains(p.trim_end_matches('.'))), "{wrong:?}");
            said.insert(wrong.trim_start_matches("Answer: ").trim_matches('*').trim_end_matches('.').to_owned());
        }
        // The contradictions, not the unrelated wrong answers.
        assert!(said.iter().all(|s| contradictions.iter().any(|c| c.trim_end_matches('.') == s)), "{said:?}");
        assert!(said.len() >= contradictions.len() / 2, "{said:?}");
    }
}

#[test]
fn plain_profiles_keep_their_plain_mistakes() {
    let plain = Wording { style: AnswerStyle::Exact, mistakes: MistakeStyle::Plain, task_hash: 4 };
    assert_eq!(plain.wrong(&Truth::Numeric { value: 42.0 }, 3), "35");
    assert_eq!(plain.right(&Truth::Numeric { value: 42.0 }, 3), "42");
    let claims = hard_truths(|t| matches!(t, Truth::Semantic { .. }));
    let Truth::Semantic { wrong, .. } = &claims[0] else { unreachable!() };
    assert!(wrong.contains(&plain.wrong(&claims[0], 1)), "the unrelated wrong answers, not contradictions");
    // Contradictions without the messy style: plainly written, in the same frame.
    let frank = Wording { style: AnswerStyle::Exact, mistakes: MistakeStyle::Contradictions, task_hash: 4 };
    assert_eq!(frank.wrong(&Truth::Numeric { value: 3_400.0 }, 0), "3400000");
    assert_eq!(frank.wrong(&claims[0], 0), {
        let Truth::Semantic { contradictions, .. } = &claims[0] else { unreachable!() };
        contradictions[0].clone()
    });
}

#[test]
fn scattered_liars_never_agree_and_colluders_always_do_in_every_style() {
    let truths: Vec<Truth> = hard_truths(|_| true);
    for truth in &truths {
        let answers: Vec<String> = (0..2).map(|slot| messy().wrong(truth, slot)).collect();
        match truth {
            Truth::Numeric { .. } => assert!(!same(read_number(&answers[0]), read_number(&answers[1])), "{answers:?}"),
            Truth::Exact { .. } => assert_ne!(unwrapped(&answers[0]), unwrapped(&answers[1])),
            Truth::Semantic { .. } => {
                let plain =
                    |t: &str| t.trim_start_matches("Answer: ").trim_matches('*').trim_end_matches('.').to_owned();
                assert_ne!(plain(&answers[0]), plain(&answers[1]));
            }
        }
        assert_eq!(messy().wrong(truth, 77), messy().wrong(truth, 77));
    }
}

#[test]
fn a_fixed_seed_gives_these_exact_answers() {
    let mut book = TruthBook::new();
    book.insert("q-third".into(), Truth::Numeric { value: 4.0 / 3.0 });
    book.insert("q-thousands".into(), Truth::Numeric { value: 3_400.0 });
    book.insert("q-lang".into(), Truth::Exact { answer: "C++".into(), wrong: vec!["C".into(), "C#".into()] });
    let book = Arc::new(book);
    let answers = |accuracy: f64| {
        tokio::runtime::Builder::new_current_thread().enable_time().start_paused(true).build().unwrap().block_on(
            async {
                let profile = LlmProfile {
                    accuracy,
                    style: AnswerStyle::Messy,
                    mistakes: MistakeStyle::Contradictions,
                    ..LlmProfile::default()
                };
                let llm = MockLlm::new("w1", profile, Arc::clone(&book), LlmControl::default(), 11);
                let mut out = Vec::new();
                for prompt in ["q-third", "q-thousands", "q-lang", "q-third", "q-thousands", "q-lang"] {
                    let reply = llm.complete(CompletionRequest {
                        system: "sys".into(),
                        prompt: prompt.into(),
                        completion_tokens_max: 100,
                        temperature: 0.7,
                    });
                    out.push(crate::parse_reply(&reply.await.unwrap().text, false).unwrap().answer);
                }
                out
            },
        )
    };
    // Right: 4/3 and 3400 in messy forms, C++ as is and in lower case.
    assert_eq!(
        answers(1.0),
        ["\\boxed{1 1/3}", "\\boxed{3.4E3}", "C++", "1 1/3", "≈ 3400, rounded from 3400.3", "c++"]
    );
    // Wrong: 4/3 - 7, the mantissa one higher, a near miss, the sign, the scale slip.
    assert_eq!(
        answers(0.0),
        [
            "x = -5.666666667 +/- 0.3",
            "\\boxed{3.5E3}",
            "C#",
            "Answer: \u{2212}1.333333333",
            "3.4 (confidence: 0.95)",
            "c"
        ]
    );
}
