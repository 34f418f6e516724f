use std::sync::Arc;

use super::*;
use crate::consensus::Ballot;
use crate::mock::workload::{WorkloadConfig, generate};
use crate::mock::{FailureRates, LlmControl, LlmProfile, MockLlm};
use crate::{ExecuteRequest, HeuristicAnalyser, Worker, WorkerAnswer, WorkerConfig, WorkerError, embed_ballots};

/// A mock that is wrong half the time, paraphrases, and fails now and then, so that
/// its answers, retries and latencies all depend on its seed.
fn mock(seed: u64) -> (MockLlm, Vec<ExecuteRequest>) {
    let workload = generate(seed, &WorkloadConfig { tasks: 12, ..WorkloadConfig::default() });
    let profile = LlmProfile {
        accuracy: 0.5,
        style: crate::mock::AnswerStyle::Paraphrase,
        failures: FailureRates { rate_limited: 0.2, garbage: 0.1, ..FailureRates::default() },
        ..LlmProfile::default()
    };
    let analyser = HeuristicAnalyser::default();
    let requests = workload
        .tasks
        .iter()
        .map(|planned| ExecuteRequest {
            task: planned.task.id.clone(),
            attempt: 1,
            text: planned.task.text.clone(),
            strategy: analyser.analyse(&planned.task.text).strategy,
            timeout_ms: 120_000,
        })
        .collect();
    (MockLlm::new("w1", profile, Arc::new(workload.truths), LlmControl::default(), seed), requests)
}

async fn answers<L: Llm>(llm: L, seed: u64, requests: &[ExecuteRequest]) -> Vec<Result<WorkerAnswer, WorkerError>> {
    let worker = Worker::new("w1".into(), WorkerConfig::default(), llm, seed).unwrap();
    let mut out = Vec::new();
    for request in requests {
        out.push(worker.execute(request.clone()).await);
    }
    out
}

#[tokio::test(start_paused = true)]
async fn a_worker_over_a_boxed_mock_answers_as_over_the_mock() {
    let (plain, requests) = mock(5);
    let direct = answers(plain, 5, &requests).await;
    let (boxed, _) = mock(5);
    let through_box = answers(BoxLlm::new(boxed), 5, &requests).await;
    assert_eq!(direct, through_box);
    // The comparison has teeth: another seed answers otherwise.
    let (other, _) = mock(6);
    assert_ne!(direct, answers(BoxLlm::new(other), 6, &requests).await);
    assert!(direct.iter().any(Result::is_ok), "{direct:?}");
}

/// Always answers the same text, with confidence 0.9.
struct Constant(&'static str);

impl Llm for Constant {
    async fn complete(&self, _request: CompletionRequest) -> Result<Completion, LlmError> {
        let text = format!(r#"{{"answer": "{}", "confidence": 0.9}}"#, self.0);
        Ok(Completion { text, prompt_tokens: 1, completion_tokens: 1, truncated: false })
    }
}

#[tokio::test(start_paused = true)]
async fn models_of_different_types_are_chosen_by_name_at_run_time() {
    let choose = |name: &str| match name {
        "mock" => BoxLlm::new(mock(1).0),
        _ => BoxLlm::new(Constant("42")),
    };
    let requests = mock(1).1;
    let chosen = answers(choose("mock"), 1, &requests).await;
    assert_eq!(chosen, answers(mock(1).0, 1, &requests).await);
    let constant = answers(choose("constant"), 1, &requests[..1]).await;
    assert_eq!(constant[0].as_ref().unwrap().text, "42");
}

/// "cat" and "feline" point one way, everything else the other.
struct Keywords;

impl Embedder for Keywords {
    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, LlmError> {
        Ok(texts
            .iter()
            .map(|t| if t.contains("cat") || t.contains("feline") { vec![1.0, 0.0] } else { vec![0.0, 1.0] })
            .collect())
    }
}

#[tokio::test]
async fn a_boxed_embedder_attaches_the_vectors_of_the_embedder_it_holds() {
    let ballots = vec![Ballot::new("w1", "a cat"), Ballot::new("w2", "some feline"), Ballot::new("w3", "a dog")];
    let mut direct = ballots.clone();
    embed_ballots(&Keywords, &mut direct).await.unwrap();
    let mut boxed = ballots;
    embed_ballots(&BoxEmbedder::new(Keywords), &mut boxed).await.unwrap();
    assert_eq!(direct, boxed);
    assert_eq!(boxed[2].embedding, Some(vec![0.0, 1.0]));
}

/// Entails only what it equals, or any text when `lenient`.
struct Equality {
    lenient: bool,
}

impl Entailment for Equality {
    async fn entails(&self, premise: &str, hypothesis: &str) -> Result<bool, LlmError> {
        Ok(self.lenient || premise == hypothesis)
    }
}

#[tokio::test]
async fn a_boxed_judge_answers_as_the_judge_it_holds() {
    let strict = BoxEntailment::new(Equality { lenient: false });
    let lenient = BoxEntailment::new(Equality { lenient: true });
    assert!(strict.entails("a", "a").await.unwrap());
    assert!(!strict.entails("a", "b").await.unwrap());
    assert!(lenient.entails("a", "b").await.unwrap());
}
