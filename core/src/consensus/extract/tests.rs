use proptest::prelude::{Just, ProptestConfig, any, prop, prop_assert_eq, prop_oneof, proptest};
use proptest::strategy::Strategy as Generator;

use super::*;

fn number(text: &str) -> Result<NumberValue, Unreadable> {
    match extract(text, Strategy::Numeric)? {
        Extracted::Number(number) => Ok(number),
        other => panic!("numeric extraction gave {other:?}"),
    }
}

#[track_caller]
fn value(text: &str) -> f64 {
    match number(text) {
        Ok(number) => number.value,
        Err(error) => panic!("{text:?}: {error}"),
    }
}

fn key(text: &str) -> String {
    match extract(text, Strategy::Exact) {
        Ok(Extracted::Key(key)) => key,
        other => panic!("{text:?}: {other:?}"),
    }
}

#[test]
fn numbers_of_the_issue() {
    assert_eq!(value("x = 5/8"), 0.625);
    assert_ne!(value("1/3"), value("4/3"));
    assert_ne!(value("4/3"), value("7/3"));
    assert_eq!(value("3.4 thousand"), 3400.0);
    assert_eq!(value("3.4 million"), 3_400_000.0);
    assert_eq!(value("17 (as of 2019)"), 17.0);
    assert_eq!(value("17, confidence 0.8"), 17.0);
    assert_eq!(value("9.8 ± 0.3"), 9.8);
    assert_eq!(value("6.1 × 10^4"), 61_000.0);
    assert_eq!(value("45\u{2009}000"), 45_000.0);
    assert_eq!(value("\u{ff14}\u{ff15}"), 45.0);
    assert_eq!(value("minus 8"), -8.0);
    assert_eq!(value("nineteen"), 19.0);
    assert_eq!(value("2.5\u{b7}10\u{b3}"), 2500.0);
    assert_eq!(value("\u{2212}7"), -7.0);
    assert_eq!(value("2,5"), 2.5);
}

#[test]
fn percent_stays_percent() {
    assert_eq!(number("12%"), Ok(NumberValue { value: 12.0, percent: true }));
    assert_eq!(number("0.12"), Ok(NumberValue { value: 0.12, percent: false }));
    assert_eq!(NumberValue { value: 12.0, percent: true }.to_string(), "12%");
}

#[test]
fn ambiguity_carries_both_values() {
    let error = number("It was 17 in one count and 19 in another").unwrap_err();
    assert_eq!(
        error,
        Unreadable::AmbiguousNumber {
            candidates: [NumberValue { value: 17.0, percent: false }, NumberValue { value: 19.0, percent: false }]
        }
    );
    assert_eq!(error.reason(), ExclusionReason::AmbiguousNumber);
    assert_eq!(error.to_string(), "the answer states 17 and 19 with no marker saying which is the answer");
}

#[test]
fn json_answers_are_read_in_every_strategy() {
    let json = r#"{"answer": "Rome", "confidence": 0.9}"#;
    assert_eq!(extract(json, Strategy::Exact), Ok(Extracted::Key("rome".into())));
    assert_eq!(extract(json, Strategy::Semantic), Ok(Extracted::Text("Rome".into())));
    assert_eq!(value(r#"{"final_answer": 42, "confidence": 0.9}"#), 42.0);
}

#[test]
fn semantic_text_is_unwrapped_and_trimmed() {
    assert_eq!(
        extract("  The answer is: water boils sooner at altitude. ", Strategy::Semantic),
        Ok(Extracted::Text("water boils sooner at altitude.".into()))
    );
    assert_eq!(extract(" ** ** ", Strategy::Semantic), Err(Unreadable::Empty));
    assert_eq!(extract("", Strategy::Semantic), Err(Unreadable::Empty));
}

#[test]
fn exact_keys_of_the_issue() {
    assert_eq!(key("Cafe\u{301}"), key("Caf\u{e9}"));
    assert_eq!(key("F#"), "f#");
    assert_ne!(key("B+"), key("B-"));
    assert_eq!(key("Answer: C"), "c");
    assert_eq!(key(r#"{"answer": "Rome"}"#), "rome");
    assert_eq!(key("**Rome**"), "rome");
    assert_eq!(key("Yes, it is."), "yes");
    assert_eq!(key("No, it is not legal"), "no");
    assert_eq!(extract("...", Strategy::Exact), Err(Unreadable::Empty));
    assert_eq!(extract("", Strategy::Numeric), Err(Unreadable::NoNumber));
}

#[test]
fn shorthands_agree_with_extract() {
    assert_eq!(exact_key("The Pacific."), "pacific");
    assert_eq!(exact_key("?!"), "");
    assert_eq!(final_number("The answer is 42."), Some(42.0));
    assert_eq!(final_number("between 3 and 4"), None);
    assert!(is_polar("Yes — it is legal"));
    assert!(!is_polar("Yesterday"));
}

#[test]
fn long_answers_read_in_linear_time() {
    // 64 KB of prose with one marked number: no quadratic pass may hide in here.
    let filler = "The committee considered many factors over several meetings. ".repeat(1_000);
    let text = format!("{filler}Final answer: 42");
    assert_eq!(value(&text), 42.0);
    assert_eq!(key(&format!("{filler}Final answer: Rome")), "rome");
}

/// Text that stresses the reader: digits, separators, signs, markers, wrappers,
/// number words and arbitrary Unicode, mixed.
fn answer_like() -> impl Generator<Value = String> {
    let piece = prop_oneof![
        any::<char>().prop_map(String::from),
        "[0-9]{1,4}",
        Just(" ".to_owned()),
        Just("\u{2009}".to_owned()),
        prop::sample::select(vec![
            ",",
            ".",
            "/",
            "-",
            "\u{2212}",
            "+",
            "%",
            "=",
            "**",
            "(",
            ")",
            "[",
            "]",
            "{",
            "}",
            "^",
            "\u{b3}",
            "\u{bd}",
            "\u{b1}",
            "\u{d7}",
            "x",
            "e",
            "$",
            "\\boxed{",
            "\\frac",
            "answer",
            "Answer:",
            "final answer",
            "the",
            "a",
            "yes",
            "No,",
            "true",
            "minus",
            "twenty",
            "one",
            "hundred",
            "and",
            "thousand",
            "million",
            "k",
            "M",
            "bn",
            "point",
            "five",
            "dozen",
            "confidence",
            "in",
            "as of",
            "not",
            "rounded from",
            "\"",
            "`",
            "_",
            "*",
            "\n",
            "{\"answer\": ",
            "#",
            "\u{ff15}",
            "\u{301}",
            "\u{df}",
            "\u{130}",
            "\u{3a3}",
            "\u{feff}",
            "\u{200b}",
            "\u{ad}",
            "\u{2044}",
            "\u{2212}$",
            "\u{2014}",
            ":",
            "is",
            "\u{a0}",
            "\u{266f}",
            "\u{2070}",
            "\\frac{",
            "\\times",
            "i",
            "-",
            "0",
        ])
        .prop_map(str::to_owned),
    ];
    prop::collection::vec(piece, 0..24).prop_map(|pieces| pieces.concat())
}

const STRATEGIES: [Strategy; 3] = [Strategy::Exact, Strategy::Numeric, Strategy::Semantic];

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

    #[test]
    fn never_panics_on_arbitrary_unicode(text in any::<String>()) {
        for strategy in STRATEGIES {
            let _ = extract(&text, strategy);
        }
    }

    #[test]
    fn extraction_is_idempotent(text in answer_like()) {
        for strategy in STRATEGIES {
            if let Ok(extracted) = extract(&text, strategy) {
                let again = extract(&extracted.to_string(), strategy);
                prop_assert_eq!(again, Ok(extracted), "{:?} under {:?}", text, strategy);
            }
        }
    }

    #[test]
    fn extraction_is_idempotent_on_arbitrary_unicode(text in any::<String>()) {
        for strategy in STRATEGIES {
            if let Ok(extracted) = extract(&text, strategy) {
                let again = extract(&extracted.to_string(), strategy);
                prop_assert_eq!(again, Ok(extracted), "{:?} under {:?}", text, strategy);
            }
        }
    }

    #[test]
    fn numbers_read_back_from_their_display(value in any::<f64>().prop_filter("finite", |v| v.is_finite()), percent in any::<bool>()) {
        let written = NumberValue { value, percent };
        prop_assert_eq!(extract(&written.to_string(), Strategy::Numeric), Ok(Extracted::Number(written)));
    }
}
