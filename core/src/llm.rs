//! The `Llm` and `Embedder` seams: what quorum needs from a language model.

use core::future::Future;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// One prompt for a model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CompletionRequest {
    /// Instructions (the system message).
    pub system: String,
    /// The user message.
    pub prompt: String,
    /// Cap on the completion's length, in tokens.
    pub completion_tokens_max: u32,
    /// Sampling temperature.
    pub temperature: f32,
}

/// A model's reply.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Completion {
    /// The text.
    pub text: String,
    /// Tokens in the prompt, as the model counted them.
    pub prompt_tokens: u32,
    /// Tokens in the completion.
    pub completion_tokens: u32,
    /// The model stopped at the token cap: the text may be cut off.
    pub truncated: bool,
}

/// Why a completion failed. Never carries a credential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(rename_all = "snake_case")]
pub enum LlmError {
    /// Too many requests (HTTP 429 or a local limiter); retry after the given time.
    #[error("rate limited (retry after {retry_after_ms:?} ms)")]
    RateLimited {
        /// The server's Retry-After, when it sent one.
        retry_after_ms: Option<u64>,
    },
    /// The account's quota is used up; retrying cannot help.
    #[error("quota exhausted")]
    QuotaExhausted,
    /// The model did not answer in time.
    #[error("timed out")]
    Timeout,
    /// The server failed (HTTP 5xx or a broken connection).
    #[error("server error (status {status})")]
    Server {
        /// HTTP status, 0 when there was none.
        status: u16,
    },
    /// The server answered with something that is not a completion.
    #[error("bad response: {detail}")]
    BadResponse {
        /// For humans; not to be matched.
        detail: String,
    },
    /// The credentials were refused; retrying cannot help.
    #[error("authentication refused")]
    Auth,
}

impl LlmError {
    /// Whether the same request may succeed later.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::RateLimited { .. } | Self::Timeout | Self::Server { .. })
    }
}

/// A language model. Implementations: the seeded mock ([`crate::mock::MockLlm`]), the
/// OpenAI-compatible client in quorum-real.
pub trait Llm: Send + Sync {
    /// Completes one prompt.
    fn complete(&self, request: CompletionRequest) -> impl Future<Output = Result<Completion, LlmError>> + Send;
}

impl<T: Llm + ?Sized> Llm for Arc<T> {
    fn complete(&self, request: CompletionRequest) -> impl Future<Output = Result<Completion, LlmError>> + Send {
        (**self).complete(request)
    }
}

/// Turns texts into vectors for semantic matching (optional: lexical similarity is the
/// deterministic default).
pub trait Embedder: Send + Sync {
    /// One vector per text, in order.
    fn embed(&self, texts: &[String]) -> impl Future<Output = Result<Vec<Vec<f32>>, LlmError>> + Send;
}
