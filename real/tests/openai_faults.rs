//! The live LLM against a scripted OpenAI-compatible server: for each fault, the
//! typed error, the wait it carries, and that the client sent exactly one request
//! (it never retries by itself: core's `Worker` does).

mod fault_server;

use core::time::Duration;
use std::time::SystemTime;

use fault_server::{FaultServer, Reply};
use quorum_core::{CompletionRequest, Embedder, Llm, LlmError};
use quorum_real::openai::{ApiKey, OpenAiConfig, OpenAiLlm};

const KEY: &str = "sk-fault-test-key";

fn config(server: &FaultServer) -> OpenAiConfig {
    OpenAiConfig {
        base_url: server.base_url.clone(),
        api_key: Some(ApiKey::new(KEY).unwrap()),
        model: "fault-model".into(),
        request_timeout_ms: 5_000,
        ..OpenAiConfig::default()
    }
}

fn request() -> CompletionRequest {
    CompletionRequest {
        system: "Reply with JSON.".into(),
        prompt: "What is 2 + 2?".into(),
        completion_tokens_max: 64,
        temperature: 0.7,
    }
}

/// One call against a server that answers every request with `reply`.
async fn one_call(reply: Reply) -> (Result<quorum_core::Completion, LlmError>, FaultServer) {
    let server = FaultServer::start(vec![reply]).await;
    let llm = OpenAiLlm::new(config(&server)).unwrap();
    let outcome = llm.complete(request()).await;
    (outcome, server)
}

#[tokio::test]
async fn a_completion_with_usage_and_what_was_sent() {
    let (outcome, server) = one_call(Reply::completion(r#"{"answer": "4", "confidence": 0.9}"#, "stop", 21, 9)).await;
    let completion = outcome.unwrap();
    assert_eq!(completion.text, r#"{"answer": "4", "confidence": 0.9}"#);
    assert_eq!((completion.prompt_tokens, completion.completion_tokens, completion.truncated), (21, 9, false));
    let sent = &server.requests()[0];
    assert_eq!(sent.path, "/v1/chat/completions");
    assert_eq!(sent.header("authorization"), Some(format!("Bearer {KEY}").as_str()));
    let body: serde_json::Value = serde_json::from_str(&sent.body).unwrap();
    assert_eq!(body["model"], "fault-model");
    assert_eq!(body["max_tokens"], 64, "a compatible server reads max_tokens");
    assert_eq!(body["messages"][1]["content"], "What is 2 + 2?");
    assert!(body.get("stream").is_none(), "not streamed");
}

#[tokio::test]
async fn rate_limited_with_retry_after_in_seconds() {
    let reply = Reply::error(429, "requests", "rate_limit_exceeded", "slow down").with_header("Retry-After", "2");
    let (outcome, server) = one_call(reply).await;
    assert_eq!(outcome.unwrap_err(), LlmError::RateLimited { retry_after_ms: Some(2_000) });
    assert_eq!(server.count(), 1, "the client did not retry on its own");
}

#[tokio::test]
async fn rate_limited_with_retry_after_as_a_date() {
    let date = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(5));
    let reply = Reply::error(429, "requests", "rate_limit_exceeded", "slow down").with_header("Retry-After", &date);
    let (outcome, server) = one_call(reply).await;
    let LlmError::RateLimited { retry_after_ms: Some(wait_ms) } = outcome.unwrap_err() else {
        panic!("a 429 with a date is a rate limit with a wait");
    };
    // The date has whole seconds and the call took some time.
    assert!((3_000..=5_000).contains(&wait_ms), "{wait_ms}");
    assert_eq!(server.count(), 1);
}

#[tokio::test]
async fn rate_limited_with_ratelimit_reset_headers() {
    let reply = Reply::error(429, "tokens", "rate_limit_exceeded", "slow down")
        .with_header("x-ratelimit-remaining-requests", "0")
        .with_header("x-ratelimit-reset-requests", "20ms")
        .with_header("x-ratelimit-remaining-tokens", "1500")
        .with_header("x-ratelimit-reset-tokens", "6m0s");
    let (outcome, server) = one_call(reply).await;
    assert_eq!(outcome.unwrap_err(), LlmError::RateLimited { retry_after_ms: Some(20) }, "the exhausted limit");
    assert_eq!(server.count(), 1);
}

#[tokio::test]
async fn insufficient_quota_is_final() {
    let reply = Reply::error(429, "insufficient_quota", "insufficient_quota", "You exceeded your current quota");
    let (outcome, server) = one_call(reply).await;
    let error = outcome.unwrap_err();
    assert_eq!(error, LlmError::QuotaExhausted);
    assert!(!error.is_retryable());
    assert_eq!(server.count(), 1);
}

#[tokio::test]
async fn server_errors_carry_their_status() {
    for status in [500, 503] {
        let (outcome, server) = one_call(Reply::error(status, "server_error", "x", "boom")).await;
        assert_eq!(outcome.unwrap_err(), LlmError::Server { status });
        assert_eq!(server.count(), 1, "async-openai would have sent 4");
    }
}

// Regression: async-openai could not decode an error with a numeric `code` (as
// llama.cpp's server sends), so a 429 surfaced as a decode error and was not retried.
#[tokio::test]
async fn numeric_error_codes_are_read() {
    let body = r#"{"error":{"code":429,"message":"server busy","type":"unavailable_error"}}"#;
    let (outcome, _server) = one_call(Reply::json(429, body)).await;
    assert_eq!(outcome.unwrap_err(), LlmError::RateLimited { retry_after_ms: None });
    let body = r#"{"error":{"code":401,"message":"Invalid API Key","type":"authentication_error"}}"#;
    let (outcome, _server) = one_call(Reply::json(401, body)).await;
    assert_eq!(outcome.unwrap_err(), LlmError::Auth);
}

#[tokio::test]
async fn a_reply_slower_than_the_timeout_is_a_timeout() {
    let server = FaultServer::start(vec![Reply::Stall]).await;
    let llm = OpenAiLlm::new(OpenAiConfig { request_timeout_ms: 300, ..config(&server) }).unwrap();
    assert_eq!(llm.complete(request()).await.unwrap_err(), LlmError::Timeout);
    assert_eq!(server.count(), 1);
}

#[tokio::test]
async fn garbage_is_a_bad_response() {
    for body in ["{not json", "[]", r#"{"id":"x"}"#, "\u{1}\u{2}"] {
        let (outcome, server) = one_call(Reply::json(200, body)).await;
        let error = outcome.unwrap_err();
        assert!(matches!(error, LlmError::BadResponse { .. }), "{body}: {error}");
        assert_eq!(server.count(), 1);
    }
}

#[tokio::test]
async fn an_oversized_reply_is_a_bad_response() {
    let server = FaultServer::start(vec![Reply::completion(&"x".repeat(10_000), "stop", 1, 1)]).await;
    let llm = OpenAiLlm::new(OpenAiConfig { response_bytes_max: 4_096, ..config(&server) }).unwrap();
    let LlmError::BadResponse { detail } = llm.complete(request()).await.unwrap_err() else {
        panic!("too large is a bad response");
    };
    assert!(detail.contains("4096"), "{detail}");
}

#[tokio::test]
async fn a_length_cut_reply_is_truncated() {
    let (outcome, _server) = one_call(Reply::completion(r#"{"answer": "The ans"#, "length", 30, 64)).await;
    let completion = outcome.unwrap();
    assert!(completion.truncated);
    assert_eq!(completion.completion_tokens, 64, "tokens are counted even so");
}

#[tokio::test]
async fn refused_credentials_are_auth() {
    for status in [401, 403] {
        let (outcome, _server) = one_call(Reply::error(status, "invalid_request_error", "invalid_api_key", "no")).await;
        assert_eq!(outcome.unwrap_err(), LlmError::Auth);
    }
}

#[tokio::test]
async fn no_server_is_a_server_error_without_status() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let config = OpenAiConfig { base_url: format!("http://127.0.0.1:{port}/v1"), ..OpenAiConfig::default() };
    let llm = OpenAiLlm::new(config).unwrap();
    assert_eq!(llm.complete(request()).await.unwrap_err(), LlmError::Server { status: 0 });
}

#[tokio::test]
async fn one_limiter_per_key_across_clients() {
    let server = FaultServer::start(vec![Reply::completion("ok", "stop", 1, 1)]).await;
    // Six a minute comes in bursts of one: the second call, from another client of
    // the same key, would wait ten seconds and is told so instead.
    let limited = OpenAiConfig { requests_per_minute: 6, limiter_wait_ms_max: 0, ..config(&server) };
    let first = OpenAiLlm::new(limited.clone()).unwrap();
    let second = OpenAiLlm::new(limited).unwrap();
    first.complete(request()).await.unwrap();
    let LlmError::RateLimited { retry_after_ms: Some(wait_ms) } = second.complete(request()).await.unwrap_err() else {
        panic!("the shared limiter refuses");
    };
    assert!((9_000..=10_000).contains(&wait_ms), "{wait_ms}");
    assert_eq!(server.count(), 1, "the refused call never reached the server");
}

#[tokio::test]
async fn a_servers_wait_holds_every_client_of_the_key() {
    let reply = Reply::error(429, "requests", "rate_limit_exceeded", "slow down").with_header("Retry-After", "30");
    let server = FaultServer::start(vec![reply, Reply::completion("ok", "stop", 1, 1)]).await;
    let config = OpenAiConfig { limiter_wait_ms_max: 0, ..config(&server) };
    let first = OpenAiLlm::new(config.clone()).unwrap();
    assert!(matches!(first.complete(request()).await, Err(LlmError::RateLimited { .. })));
    let other = OpenAiLlm::new(config).unwrap();
    let LlmError::RateLimited { retry_after_ms: Some(wait_ms) } = other.complete(request()).await.unwrap_err() else {
        panic!("paused by the server's wait");
    };
    assert!((29_000..=30_000).contains(&wait_ms), "{wait_ms}");
    assert_eq!(server.count(), 1);
}

#[tokio::test]
async fn embeddings_in_batches_and_in_order() {
    let reply = |vectors: serde_json::Value| {
        let body = serde_json::json!({"object": "list", "model": "e", "data": vectors,
                                      "usage": {"prompt_tokens": 2, "total_tokens": 2}});
        Reply::json(200, &body.to_string())
    };
    let first = reply(serde_json::json!([
        {"index": 1, "object": "embedding", "embedding": [0.0, 1.0]},
        {"index": 0, "object": "embedding", "embedding": [1.0, 0.0]}]));
    let second = reply(serde_json::json!([{"index": 0, "object": "embedding", "embedding": [0.5, 0.5]}]));
    let server = FaultServer::start(vec![first, second]).await;
    let llm = OpenAiLlm::new(OpenAiConfig { embedding_texts_max: 2, ..config(&server) }).unwrap();
    let texts = vec!["a cat".to_owned(), "a dog".to_owned(), "a fish".to_owned()];
    let vectors = llm.embed(&texts).await.unwrap();
    assert_eq!(vectors, vec![vec![1.0, 0.0], vec![0.0, 1.0], vec![0.5, 0.5]]);
    let sent = server.requests();
    assert_eq!((sent.len(), sent[0].path.as_str()), (2, "/v1/embeddings"));
    let body: serde_json::Value = serde_json::from_str(&sent[1].body).unwrap();
    assert_eq!(body["input"], serde_json::json!(["a fish"]));
    assert_eq!(body["model"], "text-embedding-3-small");
}
