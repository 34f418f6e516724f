//! Test doubles shared by the unit tests.

use core::time::Duration;
use std::sync::Mutex;

use crate::llm::{Completion, CompletionRequest, Llm, LlmError};

type Script = dyn Fn(&CompletionRequest, u32) -> Result<String, LlmError> + Send + Sync;

/// An LLM whose reply to call number `n` (from 1) is decided by a closure, after a
/// fixed latency.
pub(crate) struct ScriptedLlm {
    script: Box<Script>,
    latency: Duration,
    calls: Mutex<u32>,
}

impl ScriptedLlm {
    pub(crate) fn new(
        latency_ms: u64,
        script: impl Fn(&CompletionRequest, u32) -> Result<String, LlmError> + Send + Sync + 'static,
    ) -> Self {
        Self { script: Box::new(script), latency: Duration::from_millis(latency_ms), calls: Mutex::new(0) }
    }

    /// Always answers `answer` with confidence 0.9.
    pub(crate) fn answering(latency_ms: u64, answer: &'static str) -> Self {
        Self::new(latency_ms, move |_, _| Ok(format!(r#"{{"answer": "{answer}", "confidence": 0.9}}"#)))
    }

    pub(crate) fn calls(&self) -> u32 {
        *self.calls.lock().unwrap()
    }
}

impl core::fmt::Debug for ScriptedLlm {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("ScriptedLlm")
    }
}

impl Llm for ScriptedLlm {
    async fn complete(&self, request: CompletionRequest) -> Result<Completion, LlmError> {
        let call = {
            let mut calls = self.calls.lock().unwrap();
            *calls += 1;
            *calls
        };
        tokio::time::sleep(self.latency).await;
        (self.script)(&request, call).map(|text| Completion {
            text,
            prompt_tokens: 10,
            completion_tokens: 5,
            truncated: false,
        })
    }
}

/// A proptest config of at least `cases` cases (more when `PROPTEST_CASES` asks).
pub(crate) fn proptest_cases(cases: u32) -> proptest::test_runner::Config {
    let default = proptest::test_runner::Config::default();
    proptest::test_runner::Config { cases: cases.max(default.cases), ..default }
}
