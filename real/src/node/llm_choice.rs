//! The model a worker asks: the seeded mock, which knows the answers of a fixed
//! classic workload (so every command runs offline), or any OpenAI-compatible
//! endpoint from the environment.

use std::sync::Arc;

use quorum_core::mock::workload::{QuestionBank, Workload, WorkloadConfig, generate};
use quorum_core::mock::{LLM_LATENCY_MS_MAX, LatencyProfile, LlmControl, LlmProfile, MockLlm};
use quorum_core::{BoxLlm, WorkerId};

use crate::openai::{OpenAiConfig, OpenAiConfigError, OpenAiLlm};

/// The seed of the workload whose questions the mock knows: the same in every
/// process, so a supervisor's client and every worker agree on them.
pub const MOCK_WORKLOAD_SEED: u64 = 1;
/// How many questions the mock knows.
pub const MOCK_QUESTIONS: usize = 40;

/// The questions the mock knows by default, with their ground truth: the classic
/// workload of [`MOCK_QUESTIONS`] tasks from [`MOCK_WORKLOAD_SEED`]. A task's text must
/// match one of them exactly (its `(t000)` prefix included) for the mock to answer it.
pub fn mock_questions() -> Workload {
    MockWorkload::default().generate()
}

/// The workload whose questions the mock knows: the one a simulation of the same
/// seed and workload config submits (`quorum run NAME --live --llm mock` hands its
/// scenario's to its workers).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MockWorkload {
    /// The workload's seed.
    pub seed: u64,
    /// Its shape.
    pub config: WorkloadConfig,
}

impl Default for MockWorkload {
    /// [`MOCK_QUESTIONS`] classic questions from [`MOCK_WORKLOAD_SEED`].
    fn default() -> Self {
        let config =
            WorkloadConfig { tasks: MOCK_QUESTIONS, questions: QuestionBank::Classic, ..WorkloadConfig::default() };
        Self { seed: MOCK_WORKLOAD_SEED, config }
    }
}

impl MockWorkload {
    /// The tasks and their ground truth.
    pub fn generate(&self) -> Workload {
        generate(self.seed, &self.config)
    }
}

/// How the mock behaves.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MockSettings {
    /// Every answer takes exactly this long; default (none) is the mock's usual
    /// 300..=1000 ms. Tests make it slow to kill a worker mid-task.
    pub latency_ms: Option<u64>,
    /// Seed of the mock's draws (with the worker's id). Default 0.
    pub seed: u64,
    /// The questions it knows. Default [`mock_questions`].
    pub workload: MockWorkload,
}

/// Which model a worker asks.
#[derive(Clone, Debug, PartialEq)]
pub enum LlmChoice {
    /// The seeded mock ([`mock_questions`] are what it knows).
    Mock(MockSettings),
    /// An OpenAI-compatible endpoint from `OPENAI_BASE_URL`, `OPENAI_API_KEY` and
    /// `OPENAI_MODEL`.
    OpenAi,
}

/// Why the model cannot be built. Never holds a key.
#[derive(Debug, thiserror::Error)]
pub enum LlmChoiceError {
    /// The OpenAI-compatible endpoint is not configured or not usable.
    #[error("--llm openai: {0}")]
    OpenAi(#[from] OpenAiConfigError),
    /// The mock's latency is out of range.
    #[error("mock latency {latency_ms} ms: at most {LLM_LATENCY_MS_MAX}")]
    MockLatency {
        /// As asked.
        latency_ms: u64,
    },
    /// The mock's workload cannot be generated.
    #[error("mock workload: {field}: {problem}")]
    MockWorkload {
        /// The field of the workload config.
        field: String,
        /// What is wrong with it.
        problem: String,
    },
}

impl LlmChoice {
    /// Checks what can be checked before any worker starts: the mock's settings, or
    /// that the environment names an endpoint.
    ///
    /// # Errors
    /// As [`LlmChoice::build`].
    pub fn check(&self) -> Result<(), LlmChoiceError> {
        match self {
            Self::Mock(settings) => {
                check_workload(&settings.workload)?;
                mock_profile(settings).map(drop)
            }
            Self::OpenAi => OpenAiConfig::from_env().map(drop).map_err(LlmChoiceError::from),
        }
    }

    /// The model of `worker`.
    ///
    /// # Errors
    /// [`LlmChoiceError::OpenAi`] when the environment names no usable endpoint
    /// (neither `OPENAI_API_KEY` nor `OPENAI_BASE_URL`, or a bad one);
    /// [`LlmChoiceError::MockLatency`] for a mock slower than the mock allows;
    /// [`LlmChoiceError::MockWorkload`] for a workload that cannot be generated.
    pub fn build(&self, worker: &WorkerId) -> Result<BoxLlm, LlmChoiceError> {
        match self {
            Self::Mock(settings) => {
                check_workload(&settings.workload)?;
                let profile = mock_profile(settings)?;
                let truths = Arc::new(settings.workload.generate().truths);
                let llm = MockLlm::new(worker.as_str(), profile, truths, LlmControl::default(), settings.seed);
                Ok(BoxLlm::new(llm))
            }
            Self::OpenAi => Ok(BoxLlm::new(OpenAiLlm::new(OpenAiConfig::from_env()?)?)),
        }
    }
}

fn check_workload(workload: &MockWorkload) -> Result<(), LlmChoiceError> {
    workload.config.validate().map_err(|(field, problem)| LlmChoiceError::MockWorkload { field, problem })
}

fn mock_profile(settings: &MockSettings) -> Result<LlmProfile, LlmChoiceError> {
    let mut profile = LlmProfile::default();
    if let Some(latency_ms) = settings.latency_ms {
        if latency_ms > LLM_LATENCY_MS_MAX {
            return Err(LlmChoiceError::MockLatency { latency_ms });
        }
        profile.latency = LatencyProfile { base_ms: latency_ms, jitter_ms: 0, ..LatencyProfile::default() };
    }
    Ok(profile)
}

#[cfg(test)]
mod tests {
    use quorum_core::{CompletionRequest, Llm, parse_reply};

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn the_mock_answers_the_questions_it_knows_and_no_others() {
        let settings = MockSettings { latency_ms: Some(5), ..MockSettings::default() };
        let llm = LlmChoice::Mock(settings).build(&WorkerId::new("w1")).unwrap();
        let workload = mock_questions();
        assert_eq!(workload.tasks.len(), MOCK_QUESTIONS);
        let known = &workload.tasks[0].task;
        let request = |prompt: &str| CompletionRequest {
            system: String::new(),
            prompt: prompt.to_owned(),
            completion_tokens_max: 100,
            temperature: 0.0,
        };
        let reply = llm.complete(request(&known.text)).await.unwrap();
        assert!(parse_reply(&reply.text, reply.truncated).is_ok(), "{}", reply.text);
        assert!(reply.prompt_tokens > 0 && reply.completion_tokens > 0);
        assert!(llm.complete(request("What is the meaning of life?")).await.is_err());
    }

    #[test]
    fn a_bad_choice_says_what_is_wrong() {
        let slow =
            LlmChoice::Mock(MockSettings { latency_ms: Some(LLM_LATENCY_MS_MAX + 1), ..MockSettings::default() });
        assert!(matches!(slow.check(), Err(LlmChoiceError::MockLatency { .. })));
        assert!(LlmChoice::Mock(MockSettings::default()).check().is_ok());
        let mut empty = MockSettings::default();
        empty.workload.config.tasks = 0;
        let error = LlmChoice::Mock(empty).build(&WorkerId::new("w1")).err().unwrap();
        assert!(error.to_string().starts_with("mock workload: workload.tasks: 0"), "{error}");
    }

    #[tokio::test(start_paused = true)]
    async fn the_mock_knows_the_workload_it_is_given() {
        let workload = MockWorkload {
            seed: 7,
            config: WorkloadConfig { tasks: 3, questions: QuestionBank::Hard, ..WorkloadConfig::default() },
        };
        let settings = MockSettings { latency_ms: Some(5), workload: workload.clone(), ..MockSettings::default() };
        let llm = LlmChoice::Mock(settings).build(&WorkerId::new("w1")).unwrap();
        let request = CompletionRequest {
            system: String::new(),
            prompt: workload.generate().tasks[2].task.text.clone(),
            completion_tokens_max: 100,
            temperature: 0.0,
        };
        assert!(llm.complete(request).await.is_ok());
    }
}
