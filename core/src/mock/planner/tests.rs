use std::sync::Arc;

use super::*;
use crate::mock::profile::{FailureRates, LlmProfile, PLANNER_SUBTASKS_MAX};
use crate::mock::workload::{Truth, TruthBook};
use crate::mock::{LlmControl, MockLlm};
use crate::p2p::{
    DelegationLimits, NextStep, NextStepError, compose_text, parse_next_step, planner_prompt, subtask_text,
};
use crate::{Llm, LlmError, parse_reply};

const TASK: &str = "What is the capital of France?";

fn book() -> Arc<TruthBook> {
    let mut book = TruthBook::new();
    book.insert(TASK.into(), Truth::Exact { answer: "Paris".into(), wrong: vec!["Lyon".into()] });
    book.insert("What is 6 * 7?".into(), Truth::Numeric { value: 42.0 });
    Arc::new(book)
}

fn planner(delegate_probability: f64, malformed_probability: f64, subtasks: usize) -> LlmProfile {
    LlmProfile {
        planner: PlannerProfile { delegate_probability, malformed_probability, subtasks },
        ..LlmProfile::default()
    }
}

fn run<T>(future: impl core::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread().enable_time().start_paused(true).build().unwrap().block_on(future)
}

/// The texts of `calls` planner calls for `task` at depth 0.
fn plans(profile: LlmProfile, seed: u64, task: &str, calls: usize) -> Vec<String> {
    run(async move {
        let llm = MockLlm::new("w1", profile, book(), LlmControl::default(), seed);
        let mut texts = Vec::with_capacity(calls);
        for _ in 0..calls {
            let request = planner_prompt(task, 0, &DelegationLimits::default());
            texts.push(llm.complete(request).await.unwrap().text);
        }
        texts
    })
}

#[test]
fn same_seed_same_plans() {
    let profile = planner(0.4, 0.3, 3);
    assert_eq!(plans(profile.clone(), 5, TASK, 30), plans(profile.clone(), 5, TASK, 30));
    assert_ne!(plans(profile.clone(), 5, TASK, 30), plans(profile, 6, TASK, 30));
}

#[test]
fn delegations_come_at_the_profile_rate_and_parse() {
    let texts = plans(planner(0.3, 0.2, 3), 11, TASK, 200);
    let limits = DelegationLimits::default();
    let (mut delegated, mut executed, mut malformed) = (0_usize, 0_usize, 0_usize);
    for text in &texts {
        match parse_next_step(text, &limits) {
            Ok(NextStep::Delegate { subtasks }) => {
                delegated += 1;
                assert_eq!(subtasks.len(), 3);
                for subtask in subtasks {
                    assert!(subtask.contains("What is the capital of France?"), "{subtask}");
                }
            }
            Ok(NextStep::Execute) => executed += 1,
            Err(_) => malformed += 1,
        }
    }
    let share = |count: usize| count as f64 / texts.len() as f64;
    assert!((share(delegated) - 0.3).abs() <= 0.15, "delegate share {}", share(delegated));
    assert!((share(malformed) - 0.2).abs() <= 0.15, "malformed share {}", share(malformed));
    assert!((share(executed) - 0.5).abs() <= 0.15, "execute share {}", share(executed));
}

#[test]
fn malformed_replies_never_parse_and_vary() {
    let texts = plans(planner(0.0, 1.0, 2), 3, TASK, 60);
    for subtasks_max in 2..=crate::p2p::SUBTASKS_MAX {
        let limits = DelegationLimits { subtasks_max, ..DelegationLimits::default() };
        for text in &texts {
            assert!(parse_next_step(text, &limits).is_err(), "{text} parsed under {limits:?}");
        }
    }
    // Every kind shows up, each failing in its own way.
    let mut errors: Vec<NextStepError> =
        texts.iter().map(|text| parse_next_step(text, &DelegationLimits::default()).unwrap_err()).collect();
    errors.sort_by_key(ToString::to_string);
    errors.dedup();
    assert_eq!(errors.len(), 5, "{errors:?}");
    for kind in 0..6 {
        assert!(parse_next_step(&malformed(kind, "x"), &DelegationLimits::default()).is_err(), "kind {kind}");
    }
}

#[test]
fn more_subtasks_than_the_limits_allow_is_a_typed_error() {
    let texts = plans(planner(1.0, 0.0, 5), 1, TASK, 3);
    for text in texts {
        assert_eq!(
            parse_next_step(&text, &DelegationLimits::default()),
            Err(NextStepError::TooManySubtasks { count: 5, subtasks_max: 4 })
        );
    }
}

#[test]
fn planner_calls_need_no_truth_but_fail_like_any_call() {
    let unknown = "Plan a picnic for twelve people.";
    let texts = plans(planner(1.0, 0.0, 2), 2, unknown, 2);
    let Ok(NextStep::Delegate { subtasks }) = parse_next_step(&texts[0], &DelegationLimits::default()) else {
        panic!("a planner call without ground truth still plans: {}", texts[0]);
    };
    assert!(subtasks[0].contains("Plan a picnic for twelve people."));

    run(async {
        let failing = |failures| LlmProfile { failures, ..planner(1.0, 0.0, 2) };
        let server = failing(FailureRates { server_error: 1.0, ..FailureRates::default() });
        let llm = MockLlm::new("w1", server, book(), LlmControl::default(), 1);
        let request = planner_prompt(TASK, 0, &DelegationLimits::default());
        assert_eq!(llm.complete(request.clone()).await, Err(LlmError::Server { status: 500 }));
        let garbage = failing(FailureRates { garbage: 1.0, ..FailureRates::default() });
        let llm = MockLlm::new("w1", garbage, book(), LlmControl::default(), 1);
        let reply = llm.complete(request).await.unwrap();
        assert_eq!(parse_next_step(&reply.text, &DelegationLimits::default()), Err(NextStepError::NoJsonObject));
    });
}

#[test]
fn other_calls_draw_and_answer_as_without_a_planner() {
    let answers = |profile: LlmProfile| {
        run(async move {
            let llm = MockLlm::new("w1", LlmProfile { accuracy: 0.5, ..profile }, book(), LlmControl::default(), 8);
            let mut texts = Vec::new();
            for _ in 0..20 {
                texts.push(llm.complete(crate::prompt(&execute(TASK), &Default::default())).await.unwrap().text);
            }
            texts
        })
    };
    assert_eq!(answers(planner(0.5, 0.5, 4)), answers(LlmProfile::default()));
}

fn execute(text: &str) -> crate::ExecuteRequest {
    crate::ExecuteRequest {
        task: crate::TaskId::new("t1"),
        attempt: 1,
        text: text.to_owned(),
        strategy: crate::consensus::Strategy::Exact,
        timeout_ms: 1_000,
    }
}

#[test]
fn subtasks_and_compose_steps_are_answered_with_their_task_truth() {
    run(async {
        let llm =
            MockLlm::new("w1", LlmProfile { accuracy: 1.0, ..LlmProfile::default() }, book(), LlmControl::default(), 4);
        let ask = |text: String| {
            let llm = &llm;
            async move {
                let reply = llm.complete(crate::prompt(&execute(&text), &Default::default())).await.unwrap();
                parse_reply(&reply.text, reply.truncated).unwrap().answer
            }
        };
        let first = subtask_text(TASK, "Name the country's largest city", 1, 2);
        assert_eq!(ask(first.clone()).await, "Paris");
        // Depth 2: a subtask of a subtask still quotes the task.
        assert_eq!(ask(subtask_text(&first, "Spell it", 2, 2)).await, "Paris");
        let parts = vec![("Name the largest city".to_owned(), Some("Paris".to_owned())), ("Check".to_owned(), None)];
        assert_eq!(ask(compose_text(TASK, &parts)).await, "Paris");
        let unknown = llm.complete(crate::prompt(&execute("What is the capital of Peru?"), &Default::default())).await;
        assert!(matches!(unknown, Err(LlmError::BadResponse { .. })));
    });
}

#[test]
fn the_planner_profile_is_validated_and_optional_in_files() {
    assert!(LlmProfile::default().validate("llm").is_ok());
    let field = |profile: LlmProfile| profile.validate("llm").unwrap_err().0;
    assert_eq!(field(planner(1.5, 0.0, 2)), "llm.planner.delegate_probability");
    assert_eq!(field(planner(0.0, f64::NAN, 2)), "llm.planner.malformed_probability");
    assert_eq!(field(planner(0.6, 0.6, 2)), "llm.planner");
    assert_eq!(field(planner(0.1, 0.1, 1)), "llm.planner.subtasks");
    assert_eq!(field(planner(0.1, 0.1, PLANNER_SUBTASKS_MAX + 1)), "llm.planner.subtasks");
    assert!(planner(0.5, 0.5, PLANNER_SUBTASKS_MAX).validate("llm").is_ok());

    let old: LlmProfile = serde_json::from_str(r#"{"accuracy": 0.9}"#).unwrap();
    assert_eq!(old.planner, PlannerProfile::default());
    let set: LlmProfile = serde_json::from_str(r#"{"planner": {"delegate_probability": 0.25}}"#).unwrap();
    assert_eq!(set.planner, PlannerProfile { delegate_probability: 0.25, ..PlannerProfile::default() });
    assert!(serde_json::from_str::<LlmProfile>(r#"{"planner": {"split": 0.25}}"#).is_err());
}
