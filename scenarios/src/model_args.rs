//! `--llm mock|openai` and the mock's flags, shared by `quorum worker` and `quorum up`.

use quorum_real::node::{LlmChoice, MockSettings, MockWorkload};

/// Which model the workers ask.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LlmFlag {
    /// The seeded mock: offline; it knows the questions `quorum up --llm mock` prints.
    Mock,
    /// An OpenAI-compatible endpoint: OPENAI_API_KEY and/or OPENAI_BASE_URL, OPENAI_MODEL.
    Openai,
}

/// The model flags.
#[derive(Clone, Debug, clap::Args)]
pub struct ModelArgs {
    /// Which model the workers ask.
    #[arg(long, value_enum, default_value_t = LlmFlag::Mock)]
    pub llm: LlmFlag,
    /// With --llm mock: every answer takes exactly this long (default 300..=1000 ms).
    #[arg(long)]
    pub mock_latency_ms: Option<u64>,
    /// With --llm mock: the seed of the mock's draws.
    #[arg(long, default_value_t = 0)]
    pub mock_seed: u64,
    /// With --llm mock: the workload whose questions it knows, as JSON `{"seed": N,
    /// "config": {...}}` (`quorum run --live` hands its scenario's to its workers).
    #[arg(long, hide = true, value_parser = parse_mock_workload)]
    pub mock_workload: Option<MockWorkload>,
}

fn parse_mock_workload(text: &str) -> Result<MockWorkload, String> {
    serde_json::from_str(text)
        .map_err(|error| format!("not a mock workload ({{\"seed\": N, \"config\": {{...}}}}): {error}"))
}

impl ModelArgs {
    /// The model these flags choose.
    pub fn choice(&self) -> LlmChoice {
        match self.llm {
            LlmFlag::Mock => LlmChoice::Mock(MockSettings {
                latency_ms: self.mock_latency_ms,
                seed: self.mock_seed,
                workload: self.mock_workload.clone().unwrap_or_default(),
            }),
            LlmFlag::Openai => LlmChoice::OpenAi,
        }
    }

    /// The same flags for a child `quorum worker`.
    pub fn to_args(&self) -> Vec<String> {
        let llm = match self.llm {
            LlmFlag::Mock => "mock",
            LlmFlag::Openai => "openai",
        };
        let mut args = vec!["--llm".to_owned(), llm.to_owned(), "--mock-seed".to_owned(), self.mock_seed.to_string()];
        if let Some(latency_ms) = self.mock_latency_ms {
            args.extend(["--mock-latency-ms".to_owned(), latency_ms.to_string()]);
        }
        if let Some(workload) = &self.mock_workload {
            let json = serde_json::to_string(workload).expect("a workload config serialises");
            args.extend(["--mock-workload".to_owned(), json]);
        }
        args
    }
}
