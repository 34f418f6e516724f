//! [`OpenAiLlm`]: core's `Llm` and `Embedder` over any OpenAI-compatible endpoint.

use core::fmt;
use core::time::Duration;
use std::sync::Arc;
use std::time::SystemTime;

use async_openai::types::chat::{
    ChatCompletionRequestSystemMessage, ChatCompletionRequestUserMessage, CreateChatCompletionRequest,
    CreateChatCompletionResponse, FinishReason,
};
use async_openai::types::embeddings::{CreateEmbeddingRequest, CreateEmbeddingResponse, EmbeddingInput};
use quorum_core::{Completion, CompletionRequest, Embedder, Llm, LlmError};
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use reqwest::{Client, Response};
use serde::Serialize;
use tokio::time::{Instant, sleep};

use super::api_key::ApiKey;
use super::config::{OpenAiConfig, OpenAiConfigError};
use super::error_reply::{bad_response, error_from_reply};
use super::limiter::{KeyLimiter, shared_limiter};

/// Largest error body read: enough for any provider's message, and the rest of a
/// huge one is not worth the memory.
const ERROR_BODY_BYTES_MAX: usize = 64 * 1024;

/// A chat model (and embedding model) behind an OpenAI-compatible HTTP API.
///
/// Cheap to clone: clones share one HTTP connection pool, and every client of one
/// key and endpoint in the process shares one [`KeyLimiter`]. It makes exactly one
/// HTTP request per call and never retries: core's `Worker` owns retries and their
/// backoff, so a call is never retried twice over.
#[derive(Clone)]
pub struct OpenAiLlm {
    inner: Arc<Inner>,
}

struct Inner {
    config: OpenAiConfig,
    base_url: String,
    http: Client,
    limiter: Arc<KeyLimiter>,
    /// OpenAI's own API wants `max_completion_tokens` (its reasoning models refuse
    /// `max_tokens`); compatible servers (llama.cpp, vLLM, Ollama) read `max_tokens`.
    is_openai: bool,
}

/// What a call is for, in logs.
#[derive(Clone, Copy, Debug)]
enum Operation {
    Chat,
    Embeddings,
}

impl Operation {
    fn path(self) -> &'static str {
        match self {
            Self::Chat => "chat/completions",
            Self::Embeddings => "embeddings",
        }
    }
}

impl OpenAiLlm {
    /// A client for `config`'s endpoint, sharing the process's limiter of its key.
    ///
    /// # Errors
    /// [`OpenAiConfigError`] for an invalid config or an HTTP client that cannot be
    /// built.
    pub fn new(config: OpenAiConfig) -> Result<Self, OpenAiConfigError> {
        config.validate()?;
        let base_url = config.base_url()?;
        install_crypto_provider();
        let http = Client::builder()
            .timeout(Duration::from_millis(config.request_timeout_ms))
            .connect_timeout(Duration::from_millis(config.connect_timeout_ms))
            // A redirect would carry a POST body somewhere not configured.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|error| OpenAiConfigError::Client { detail: error.to_string() })?;
        let limiter =
            shared_limiter(&base_url, config.api_key.as_ref(), config.requests_per_minute, config.tokens_per_minute);
        let is_openai = reqwest::Url::parse(&base_url).is_ok_and(|url| url.host_str() == Some("api.openai.com"));
        Ok(Self { inner: Arc::new(Inner { config, base_url, http, limiter, is_openai }) })
    }

    /// Its config.
    pub fn config(&self) -> &OpenAiConfig {
        &self.inner.config
    }

    fn key(&self) -> Option<&ApiKey> {
        self.inner.config.api_key.as_ref()
    }

    /// Waits for the shared limiter, up to `limiter_wait_ms_max` in all.
    async fn admit(&self, tokens: u32) -> Result<(), LlmError> {
        let mut waited_ms = 0u64;
        loop {
            match self.inner.limiter.try_reserve(tokens) {
                Ok(()) => return Ok(()),
                Err(wait_ms) if waited_ms.saturating_add(wait_ms) > self.inner.config.limiter_wait_ms_max => {
                    tracing::debug!(wait_ms, waited_ms, "shared limiter: longer than allowed to wait");
                    return Err(LlmError::RateLimited { retry_after_ms: Some(wait_ms) });
                }
                Err(wait_ms) => {
                    sleep(Duration::from_millis(wait_ms)).await;
                    waited_ms = waited_ms.saturating_add(wait_ms);
                }
            }
        }
    }

    /// One POST, its reply read and judged: the body of a 2xx, else the error it
    /// stands for. A rate-limited reply also pauses every client of the key.
    async fn call(&self, operation: Operation, body: &impl Serialize, tokens: u32) -> Result<Vec<u8>, LlmError> {
        self.admit(tokens).await?;
        let payload = serde_json::to_vec(body)
            .map_err(|error| bad_response(&format!("request not encodable: {error}"), self.key()))?;
        let mut request = self
            .inner
            .http
            .post(format!("{}/{}", self.inner.base_url, operation.path()))
            .header(CONTENT_TYPE, "application/json")
            .header(ACCEPT, "application/json")
            .body(payload);
        if let Some(key) = self.key() {
            // `ApiKey::new` admits only visible ASCII, which a header always takes.
            let mut value = HeaderValue::from_str(&format!("Bearer {}", key.expose()))
                .map_err(|_| bad_response("API key not sendable as a header", None))?;
            value.set_sensitive(true);
            request = request.header(AUTHORIZATION, value);
        }
        let started = Instant::now();
        let response = request.send().await.map_err(|error| transport_error(operation, &error))?;
        let status = response.status().as_u16();
        let elapsed_ms = started.elapsed().as_millis() as u64;
        if response.status().is_success() {
            tracing::debug!(?operation, status, elapsed_ms, "model call answered");
            return read_body(response, self.inner.config.response_bytes_max, operation, self.key()).await;
        }
        let headers = response.headers().clone();
        let body = read_body(response, ERROR_BODY_BYTES_MAX, operation, self.key()).await.unwrap_or_default();
        let error = error_from_reply(status, &headers, &body, SystemTime::now(), self.key());
        tracing::debug!(?operation, status, elapsed_ms, %error, "model call failed");
        if let LlmError::RateLimited { retry_after_ms: Some(wait_ms) } = error {
            self.inner.limiter.pause(wait_ms);
        }
        Err(error)
    }

    fn chat_request(&self, request: &CompletionRequest) -> CreateChatCompletionRequest {
        let cap = Some(request.completion_tokens_max);
        #[expect(deprecated, reason = "max_tokens is what OpenAI-compatible servers read")]
        CreateChatCompletionRequest {
            model: self.inner.config.model.clone(),
            messages: vec![
                ChatCompletionRequestSystemMessage::from(request.system.as_str()).into(),
                ChatCompletionRequestUserMessage::from(request.prompt.as_str()).into(),
            ],
            temperature: Some(request.temperature),
            max_completion_tokens: cap.filter(|_| self.inner.is_openai),
            max_tokens: cap.filter(|_| !self.inner.is_openai),
            ..CreateChatCompletionRequest::default()
        }
    }
}

/// reqwest needs a process-wide rustls crypto provider: ring, unless the process
/// installed one already.
fn install_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Losing a race to another thread installing one is as good as winning it.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

/// A request that got no HTTP reply: out of time, or no connection.
fn transport_error(operation: Operation, error: &reqwest::Error) -> LlmError {
    // reqwest's message names the URL (checked to hold no credentials), never headers.
    tracing::debug!(?operation, %error, "model call got no reply");
    if error.is_timeout() { LlmError::Timeout } else { LlmError::Server { status: 0 } }
}

/// The whole body, or a bad response once it passes `bytes_max`.
async fn read_body(
    mut response: Response,
    bytes_max: usize,
    operation: Operation,
    key: Option<&ApiKey>,
) -> Result<Vec<u8>, LlmError> {
    let too_large = || bad_response(&format!("reply larger than {bytes_max} bytes"), key);
    if response.content_length().is_some_and(|length| length > bytes_max as u64) {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|error| transport_error(operation, &error))? {
        if body.len() + chunk.len() > bytes_max {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Tokens a call may use, as OpenAI's limiter counts them: about four bytes a token
/// for the prompt, plus the completion cap.
fn estimated_tokens(request: &CompletionRequest) -> u32 {
    let prompt_tokens = (request.system.len() + request.prompt.len()).div_ceil(4);
    u32::try_from(prompt_tokens).unwrap_or(u32::MAX).saturating_add(request.completion_tokens_max)
}

/// A chat completion body as a [`Completion`]. Not streamed, so the reply's
/// `finish_reason` is its whole verdict: anything but `stop` (a cap, a filter, a
/// tool call, or none at all) is a truncated answer.
pub(crate) fn completion_from(body: &[u8], key: Option<&ApiKey>) -> Result<Completion, LlmError> {
    let response: CreateChatCompletionResponse =
        serde_json::from_slice(body).map_err(|error| bad_response(&format!("not a chat completion: {error}"), key))?;
    let usage = response.usage.map_or((0, 0), |usage| (usage.prompt_tokens, usage.completion_tokens));
    let choice = response
        .choices
        .into_iter()
        .min_by_key(|choice| choice.index)
        .ok_or_else(|| bad_response("a chat completion without choices", key))?;
    let Some(text) = choice.message.content else {
        let why = if choice.message.refusal.is_some() { "the model refused" } else { "a choice without text" };
        return Err(bad_response(why, key));
    };
    Ok(Completion {
        text,
        prompt_tokens: usage.0,
        completion_tokens: usage.1,
        truncated: choice.finish_reason != Some(FinishReason::Stop),
    })
}

/// An embeddings body as one vector per text, in the texts' order.
pub(crate) fn embeddings_from(body: &[u8], texts: usize, key: Option<&ApiKey>) -> Result<Vec<Vec<f32>>, LlmError> {
    let response: CreateEmbeddingResponse = serde_json::from_slice(body)
        .map_err(|error| bad_response(&format!("not an embeddings reply: {error}"), key))?;
    let mut slots: Vec<Option<Vec<f32>>> = vec![None; texts];
    for embedding in response.data {
        let slot = slots.get_mut(embedding.index as usize).filter(|slot| slot.is_none()).ok_or_else(|| {
            bad_response(&format!("embedding index {} is out of range or repeated", embedding.index), key)
        })?;
        *slot = Some(embedding.embedding);
    }
    slots.into_iter().collect::<Option<Vec<_>>>().ok_or_else(|| bad_response("an embedding is missing", key))
}

impl Llm for OpenAiLlm {
    async fn complete(&self, request: CompletionRequest) -> Result<Completion, LlmError> {
        let body = self.chat_request(&request);
        let reply = self.call(Operation::Chat, &body, estimated_tokens(&request)).await?;
        completion_from(&reply, self.key())
    }
}

impl Embedder for OpenAiLlm {
    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, LlmError> {
        let mut vectors = Vec::with_capacity(texts.len());
        for batch in texts.chunks(self.inner.config.embedding_texts_max) {
            let request = CreateEmbeddingRequest {
                model: self.inner.config.embedding_model.clone(),
                input: EmbeddingInput::StringArray(batch.to_vec()),
                ..CreateEmbeddingRequest::default()
            };
            let tokens = batch.iter().map(|text| text.len().div_ceil(4)).sum::<usize>();
            let reply = self.call(Operation::Embeddings, &request, u32::try_from(tokens).unwrap_or(u32::MAX)).await?;
            vectors.extend(embeddings_from(&reply, batch.len(), self.key())?);
        }
        Ok(vectors)
    }
}

impl fmt::Debug for OpenAiLlm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let config = &self.inner.config;
        f.debug_struct("OpenAiLlm")
            .field("base_url", &self.inner.base_url)
            .field("model", &config.model)
            .field("embedding_model", &config.embedding_model)
            .field("api_key", &config.api_key)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests;
