//! A real model: llama.cpp's server with SmolLM2-135M-Instruct on 127.0.0.1, installed
//! by `bash scripts/llama.sh install` (which `scripts/test.sh` runs and whose paths it
//! exports as `LLAMA_SERVER` and `LLAMA_MODEL`). Three workers ask it through
//! `OpenAiLlm`, and the supervisor decides.
//!
//! The model is tiny and often wrong, and it rarely follows a JSON instruction: that
//! tests the reading of real replies. So the test asserts that every task ends with a
//! well-formed result, that tokens are counted and consensus ran — not that the
//! answers are right.

use core::time::Duration;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

use quorum_core::mock::workload::{WorkloadConfig, generate};
use quorum_core::{
    FixedWorkers, LocalLink, Outcome, Supervisor, SupervisorConfig, TaskResult, Worker, WorkerConfig, WorkerId,
};
use quorum_real::openai::{ApiKey, OpenAiConfig, OpenAiLlm};

/// The key the server is started with; it must never show up in what we print.
const KEY: &str = "sk-live-test-7f3a";
/// Longest the server may take to load the model and answer its health check.
const STARTUP_MS_MAX: u64 = 120_000;

/// llama-server, killed when the test ends however it ends.
struct LlamaServer {
    child: Child,
    base_url: String,
}

impl LlamaServer {
    fn start() -> Self {
        let need = |name: &str| {
            std::env::var(name).unwrap_or_else(|_| {
                panic!("{name} is not set: run `bash scripts/llama.sh install` and `eval \"$(bash scripts/llama.sh paths)\"` (scripts/test.sh does both)")
            })
        };
        let (server, model) = (need("LLAMA_SERVER"), need("LLAMA_MODEL"));
        // A free port: bind to 0, read it, release it for the server.
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new(server)
            .args(["--model", &model, "--host", "127.0.0.1", "--port", &port.to_string(), "--api-key", KEY])
            .args(["--ctx-size", "2048", "--threads", "2", "--parallel", "3", "--n-predict", "96"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("llama-server starts");
        Self { child, base_url: format!("http://127.0.0.1:{port}/v1") }
    }

    /// Waits until the model is loaded (`/health` answers 200).
    async fn ready(&mut self) {
        let health = self.base_url.replace("/v1", "/health");
        let client = reqwest::Client::new();
        let started = tokio::time::Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("llama-server exited early: {status}");
            }
            if client.get(&health).send().await.is_ok_and(|reply| reply.status().is_success()) {
                return;
            }
            assert!(started.elapsed() < Duration::from_millis(STARTUP_MS_MAX), "llama-server not ready in time");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

impl Drop for LlamaServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn three_workers_on_a_real_model_give_every_task_a_well_formed_result() {
    let mut server = LlamaServer::start();
    let config = OpenAiConfig {
        base_url: server.base_url.clone(),
        api_key: Some(ApiKey::new(KEY).unwrap()),
        model: "smollm2".to_owned(),
        ..OpenAiConfig::default()
    };
    let link = Arc::new(LocalLink::new());
    for (index, name) in ["w1", "w2", "w3"].into_iter().enumerate() {
        let llm = OpenAiLlm::new(config.clone()).unwrap();
        link.add(Worker::new(WorkerId::new(name), WorkerConfig::default(), llm, index as u64).unwrap()).unwrap();
    }
    // After the clients: building one installs the TLS crypto provider that the
    // health check's HTTP client needs too.
    server.ready().await;
    let supervisor = Supervisor::new(SupervisorConfig::default().fit_to_workers(3), Arc::clone(&link), FixedWorkers)
        .unwrap()
        .with_registry(link.registry());
    let (service, driver) = supervisor.start();
    let running = tokio::spawn(driver.run());

    let workload = generate(1, &WorkloadConfig { tasks: 3, ..WorkloadConfig::default() });
    let mut results: Vec<TaskResult> = Vec::new();
    for planned in &workload.tasks {
        service.submit(planned.task.clone()).await.unwrap();
    }
    for planned in &workload.tasks {
        let events = service.subscribe(&planned.task.id).unwrap();
        let result = tokio::time::timeout(Duration::from_secs(300), events.result())
            .await
            .expect("a result within 5 minutes")
            .expect("the supervisor gave a result");
        results.push(result);
    }
    service.shutdown().await;
    running.await.unwrap();

    for result in &results {
        let shown = serde_json::to_string(result).unwrap();
        assert!(!shown.contains(KEY), "the key leaked into a result");
        let metadata = &result.metadata;
        assert!(metadata.llm_calls > 0, "{}: no model call: {shown}", result.task);
        assert!(metadata.prompt_tokens > 0 && metadata.completion_tokens > 0, "{}: tokens not counted", result.task);
        // Consensus ran: on the votes it had, or the task failed for want of them.
        match &result.outcome {
            Outcome::Agreed { answer, support, .. } => {
                assert!(!answer.is_empty() && (0.0..=1.0).contains(support), "{shown}");
                assert!(metadata.votes.iter().any(|v| v.text == *answer), "an agreed answer is a vote: {shown}");
            }
            Outcome::NoConsensus { support, .. } => assert!((0.0..=1.0).contains(support), "{shown}"),
            Outcome::Failed { .. } => assert!(!metadata.failures.is_empty(), "a failure says why: {shown}"),
        }
    }
}
