//! The live LLM under core's `Worker`: the worker retries what is retryable, once per
//! failure, honouring the server's wait; the client adds no retries of its own; every
//! task ends with an answer or a typed failure.

mod fault_server;

use core::time::Duration;

use fault_server::{FaultServer, Reply};
use quorum_core::consensus::Strategy;
use quorum_core::{
    ExecuteRequest, LlmError, RetryPolicy, TaskId, Worker, WorkerAnswer, WorkerConfig, WorkerError, WorkerId,
};
use quorum_real::openai::{ApiKey, OpenAiConfig, OpenAiLlm};

const ANSWER: &str = r#"{"answer": "4", "confidence": 0.9}"#;

fn ok() -> Reply {
    Reply::completion(ANSWER, "stop", 20, 8)
}

async fn execute(server: &FaultServer, request_timeout_ms: u64) -> Result<WorkerAnswer, WorkerError> {
    let llm = OpenAiLlm::new(OpenAiConfig {
        base_url: server.base_url.clone(),
        api_key: Some(ApiKey::new("sk-worker-test").unwrap()),
        request_timeout_ms,
        ..OpenAiConfig::default()
    })
    .unwrap();
    let config = WorkerConfig {
        retry: RetryPolicy { attempts_max: 4, backoff_base_ms: 1, backoff_max_ms: 5 },
        ..WorkerConfig::default()
    };
    let worker = Worker::new(WorkerId::new("w1"), config, llm, 7).unwrap();
    let request = ExecuteRequest {
        task: TaskId::new("t1"),
        attempt: 1,
        text: "What is 2 + 2?".into(),
        strategy: Strategy::Numeric,
        timeout_ms: 30_000,
    };
    worker.execute(request).await
}

#[tokio::test]
async fn a_rate_limit_is_waited_out_once_then_answered() {
    let limited = Reply::error(429, "requests", "rate_limit_exceeded", "slow down")
        .with_header("x-ratelimit-remaining-requests", "0")
        .with_header("x-ratelimit-reset-requests", "150ms");
    let server = FaultServer::start(vec![limited, ok()]).await;
    let answer = execute(&server, 5_000).await.unwrap();
    assert_eq!((answer.text.as_str(), answer.llm_calls), ("4", 2));
    assert_eq!((answer.prompt_tokens, answer.completion_tokens), (20, 8), "tokens of the answered call");
    let sent = server.requests();
    assert_eq!(sent.len(), 2, "one retry, by the worker only");
    let gap = sent[1].arrived.duration_since(sent[0].arrived);
    assert!(gap >= Duration::from_millis(150), "the server's wait was honoured: {gap:?}");
}

#[tokio::test]
async fn server_errors_are_retried_by_the_worker_alone_then_fail_typed() {
    let server = FaultServer::start(vec![Reply::error(503, "server_error", "x", "overloaded")]).await;
    let error = execute(&server, 5_000).await.unwrap_err();
    assert_eq!(error, WorkerError::Llm(LlmError::Server { status: 503 }));
    assert_eq!(server.count(), 4, "attempts_max calls, none added by the client");
}

#[tokio::test]
async fn a_spent_quota_ends_the_task_at_once() {
    let reply = Reply::error(429, "insufficient_quota", "insufficient_quota", "quota");
    let server = FaultServer::start(vec![reply, ok()]).await;
    assert_eq!(execute(&server, 5_000).await.unwrap_err(), WorkerError::Llm(LlmError::QuotaExhausted));
    assert_eq!(server.count(), 1);
}

#[tokio::test]
async fn a_numeric_code_429_is_retried() {
    let busy = Reply::json(429, r#"{"error":{"code":429,"message":"busy","type":"unavailable_error"}}"#);
    let server = FaultServer::start(vec![busy, ok()]).await;
    let answer = execute(&server, 5_000).await.unwrap();
    assert_eq!((answer.text.as_str(), answer.llm_calls, server.count()), ("4", 2, 2));
}

#[tokio::test]
async fn a_truncated_reply_is_not_an_answer_but_its_tokens_count() {
    let cut = Reply::completion(r#"{"answer": "4", "conf"#, "length", 20, 64);
    let server = FaultServer::start(vec![cut, ok()]).await;
    let answer = execute(&server, 5_000).await.unwrap();
    assert_eq!((answer.text.as_str(), answer.llm_calls), ("4", 2));
    assert_eq!((answer.prompt_tokens, answer.completion_tokens), (40, 72), "both calls' tokens");
}

#[tokio::test]
async fn a_stalled_call_times_out_and_is_retried() {
    let server = FaultServer::start(vec![Reply::Stall, ok()]).await;
    let answer = execute(&server, 300).await.unwrap();
    assert_eq!((answer.llm_calls, server.count()), (2, 2));
}

#[tokio::test]
async fn garbage_fails_typed_without_a_retry() {
    let server = FaultServer::start(vec![Reply::json(200, "{garbage"), ok()]).await;
    let error = execute(&server, 5_000).await.unwrap_err();
    assert!(matches!(error, WorkerError::Llm(LlmError::BadResponse { .. })), "{error}");
    assert_eq!(server.count(), 1);
}
