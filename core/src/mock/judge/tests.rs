use std::sync::Arc;

use super::*;
use crate::consensus::{Ballot, ConsensusConfig, Strategy, decide};
use crate::mock::workload::{QuestionBank, TruthBook, WorkloadConfig, generate};
use crate::mock::{AnswerStyle, LlmControl, LlmProfile, MistakeStyle};
use crate::{CompletionRequest, Llm, judge_meanings, parse_reply};

/// The hard bank's claims (semantic tasks only) and the first of them: its task text
/// and truth.
fn claims() -> (TruthBook, String, Truth) {
    let config = WorkloadConfig {
        tasks: 40,
        numeric: 0,
        exact: 0,
        semantic: 1,
        questions: QuestionBank::Hard,
        ..WorkloadConfig::default()
    };
    let book = generate(1, &config).truths;
    let (text, truth) = book.iter().next().map(|(text, truth)| (text.clone(), truth.clone())).unwrap();
    (book, text, truth)
}

fn judge(book: TruthBook, profile: LlmProfile, seed: u64) -> MockLlm {
    MockLlm::new(&format!("w{seed}"), profile, Arc::new(book), LlmControl::default(), seed)
}

fn sentences(truth: &Truth) -> (Vec<String>, Vec<String>, Vec<String>) {
    let Truth::Semantic { phrasings, wrong, contradictions } = truth else { panic!("a claim is semantic") };
    (phrasings.clone(), wrong.clone(), contradictions.clone())
}

fn classes(ballots: &[Ballot]) -> Vec<u64> {
    ballots.iter().map(|b| b.meaning.unwrap()).collect()
}

#[tokio::test]
async fn paraphrases_of_one_claim_share_a_class_and_contradictions_do_not() {
    let (book, _, truth) = claims();
    let (phrasings, wrong, contradictions) = sentences(&truth);
    let mock = judge(book, LlmProfile::default(), 1);
    // The judge itself tells them apart, before any claim guard.
    assert!(mock.entails(&phrasings[0], &phrasings[1]).await.unwrap());
    assert!(mock.entails(&format!("**{}**", phrasings[2]), &phrasings[0]).await.unwrap());
    assert!(!mock.entails(&phrasings[0], &contradictions[0]).await.unwrap());
    assert!(!mock.entails(&contradictions[0], &contradictions[1]).await.unwrap());

    let texts = [
        format!("Answer: {}", phrasings[0]),
        phrasings[1].clone(),
        format!("**{}**", phrasings[2]),
        contradictions[0].clone(),
        contradictions[1].clone(),
        wrong[0].clone(),
    ];
    let mut ballots: Vec<Ballot> =
        texts.iter().enumerate().map(|(index, text)| Ballot::new(format!("w{index}"), text.clone())).collect();
    judge_meanings(&mock, &mut ballots).await.unwrap();
    let classes = classes(&ballots);
    assert_eq!(classes[0], classes[1], "{texts:?}");
    assert_eq!(classes[0], classes[2], "{texts:?}");
    for wrong in 3..6 {
        assert_ne!(classes[wrong], classes[0], "{}", texts[wrong]);
    }
    assert_ne!(classes[3], classes[4], "two different contradictions");
    let decision = decide(&ballots, &ConsensusConfig::default().with_strategy(Strategy::Semantic)).unwrap();
    assert_eq!(decision.groups[0].members.len(), 3, "{decision:#?}");
}

#[tokio::test]
async fn the_phrasings_of_an_open_question_share_a_class_and_its_wrong_answers_do_not() {
    let workload = generate(2, &WorkloadConfig { tasks: 30, numeric: 0, exact: 0, ..WorkloadConfig::default() });
    let truth = workload.truths.values().next().unwrap().clone();
    let (phrasings, wrong, _) = sentences(&truth);
    let mock = judge(workload.truths, LlmProfile::default(), 1);
    let mut ballots: Vec<Ballot> = phrasings
        .iter()
        .chain(&wrong)
        .enumerate()
        .map(|(index, text)| Ballot::new(format!("w{index}"), text.clone()))
        .collect();
    let config = ConsensusConfig::default().with_strategy(Strategy::Semantic);
    judge_meanings(&mock, &mut ballots).await.unwrap();
    let classes = classes(&ballots);
    assert!(classes[..3].iter().all(|class| *class == classes[0]), "{classes:?}");
    assert_ne!(classes[3], classes[0]);
    assert_ne!(classes[4], classes[0]);
    assert_ne!(classes[3], classes[4]);
    let decision = decide(&ballots, &config).unwrap();
    assert_eq!(decision.groups[0].members.len(), 3, "{decision:#?}");
}

#[tokio::test(start_paused = true)]
async fn the_judge_sorts_the_mocks_own_messy_answers_and_contradictions_by_their_truth() {
    let (book, text, truth) = claims();
    let profile = LlmProfile {
        accuracy: 0.6,
        style: AnswerStyle::Messy,
        mistakes: MistakeStyle::Contradictions,
        ..LlmProfile::default()
    };
    let mut ballots = Vec::new();
    for seed in 0..12 {
        let model = judge(book.clone(), profile.clone(), seed);
        let request = CompletionRequest {
            system: "sys".into(),
            prompt: text.clone(),
            completion_tokens_max: 100,
            temperature: 0.7,
        };
        let reply = model.complete(request).await.unwrap();
        let answer = parse_reply(&reply.text, reply.truncated).unwrap().answer;
        ballots.push(Ballot::new(format!("w{seed}"), answer));
    }
    judge_meanings(&judge(book, LlmProfile::default(), 99), &mut ballots).await.unwrap();
    let verdicts: Vec<Option<bool>> = ballots.iter().map(|b| truth.known_verdict(&b.text)).collect();
    assert!(verdicts.iter().all(Option::is_some), "the mock states only answers it knows: {ballots:#?}");
    let right: Vec<u64> =
        ballots.iter().filter(|b| truth.known_verdict(&b.text) == Some(true)).map(|b| b.meaning.unwrap()).collect();
    let wrong: Vec<u64> =
        ballots.iter().filter(|b| truth.known_verdict(&b.text) == Some(false)).map(|b| b.meaning.unwrap()).collect();
    assert!(right.len() >= 2 && !wrong.is_empty(), "{ballots:#?}");
    assert!(right.iter().all(|class| *class == right[0]), "{ballots:#?}");
    assert!(!wrong.contains(&right[0]), "{ballots:#?}");
}

#[tokio::test]
async fn an_answer_the_workload_does_not_know_entails_only_itself() {
    let (book, _, truth) = claims();
    let (phrasings, _, _) = sentences(&truth);
    let mock = judge(book, LlmProfile::default(), 1);
    assert!(mock.entails("The Moon is made of rock.", "the moon is made of rock").await.unwrap());
    assert!(!mock.entails("The Moon is made of rock.", "The Moon is made of cheese.").await.unwrap());
    assert!(!mock.entails("The Moon is made of rock.", &phrasings[0]).await.unwrap());
    assert!(!mock.entails(&phrasings[0], "The Moon is made of rock.").await.unwrap());
}

#[tokio::test(start_paused = true)]
async fn judging_does_not_change_what_the_model_answers_next() {
    let (book, text, truth) = claims();
    let (phrasings, _, contradictions) = sentences(&truth);
    let profile = LlmProfile { accuracy: 0.5, style: AnswerStyle::Messy, ..LlmProfile::default() };
    let answers = |judged_first: bool| {
        let model = judge(book.clone(), profile.clone(), 7);
        let (text, phrasings, contradictions) = (text.clone(), phrasings.clone(), contradictions.clone());
        async move {
            if judged_first {
                for contradiction in &contradictions {
                    model.entails(&phrasings[0], contradiction).await.unwrap();
                }
            }
            let mut out = Vec::new();
            for _ in 0..8 {
                let request = CompletionRequest {
                    system: "sys".into(),
                    prompt: text.clone(),
                    completion_tokens_max: 100,
                    temperature: 0.7,
                };
                out.push(model.complete(request).await.unwrap().text);
            }
            out
        }
    };
    assert_eq!(answers(false).await, answers(true).await);
}

#[tokio::test]
async fn a_boxed_mock_judges_as_the_mock_itself() {
    let (book, _, truth) = claims();
    let (phrasings, wrong, contradictions) = sentences(&truth);
    let texts: Vec<String> = phrasings.into_iter().chain(wrong).chain(contradictions.into_iter().take(4)).collect();
    let ballots: Vec<Ballot> =
        texts.iter().enumerate().map(|(index, text)| Ballot::new(format!("w{index}"), text.clone())).collect();
    let (mut direct, mut boxed) = (ballots.clone(), ballots);
    judge_meanings(&judge(book.clone(), LlmProfile::default(), 1), &mut direct).await.unwrap();
    judge_meanings(&crate::BoxEntailment::new(judge(book, LlmProfile::default(), 1)), &mut boxed).await.unwrap();
    assert_eq!(direct, boxed);
    assert_eq!(classes(&direct)[..3], [classes(&direct)[0]; 3]);
}
