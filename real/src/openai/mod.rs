//! The live LLM: core's [`Llm`](quorum_core::Llm) and
//! [`Embedder`](quorum_core::Embedder) over any OpenAI-compatible HTTP API.
//!
//! # Pointing it at a model
//! - OpenAI: `OPENAI_API_KEY=sk-...` (the base URL defaults to
//!   `https://api.openai.com/v1`); `OPENAI_MODEL` and `OPENAI_EMBEDDING_MODEL` choose
//!   the models (defaults `gpt-4o-mini`, `text-embedding-3-small`).
//! - A local server, e.g. llama.cpp's `llama-server -m model.gguf --host 127.0.0.1
//!   --port 8080 --api-key KEY` (add `--embeddings --pooling mean` for
//!   `/v1/embeddings`): `OPENAI_BASE_URL=http://127.0.0.1:8080/v1` and
//!   `OPENAI_API_KEY=KEY` (no key when the server takes none). The model name is
//!   then free: llama-server answers with the one model it loaded.
//!
//! [`OpenAiConfig::from_env`] reads those variables and says what is missing.
//!
//! # Who governs faults
//! We do, not the HTTP client. async-openai's own client retries 429 and 5xx by
//! itself (3 times, no jitter, Retry-After only in whole seconds) and cannot decode
//! error bodies with a numeric `code` (llama.cpp's), so a 429 from llama.cpp would
//! surface as a decode error. So only async-openai's request and response *types*
//! are used; each call is one reqwest POST whose status, headers and body are read
//! here and mapped to [`LlmError`](quorum_core::LlmError): 429 to `RateLimited` with
//! the wait from `retry-after-ms`, `Retry-After` (seconds or an HTTP date) or
//! `x-ratelimit-reset-requests`/`-tokens`; `insufficient_quota` to the final
//! `QuotaExhausted`; 401/403 to `Auth`; 5xx to `Server`; a timeout to `Timeout`;
//! anything unreadable to `BadResponse`. core's `Worker` retries what is retryable
//! with exponential backoff and full jitter, never less than the server's wait;
//! nothing here retries, so nothing is retried twice.
//!
//! One [`KeyLimiter`] per key and endpoint in a process paces requests and tokens
//! per minute for every client of the key, and a 429's wait pauses all of them.
//! (So a `Worker` over an `OpenAiLlm` needs no `with_limiter` of its own: it would
//! only count the same requests twice.) A call that would wait longer than
//! `limiter_wait_ms_max` returns `RateLimited` with that wait instead.
//!
//! Replies are not streamed: an answer is a short JSON object the worker parses
//! whole, the request timeout bounds a stalled reply, and a non-streamed reply always
//! carries its token usage. Its `finish_reason` decides truncation: anything but
//! `stop` (`length` above all) is a truncated answer, which the worker does not count.
//!
//! TLS is rustls with the ring provider: it needs a C compiler but not cmake (which
//! aws-lc-rs, reqwest's default, does), and no system OpenSSL.
//!
//! The key is an [`ApiKey`]: it never prints itself, is sent in a header marked
//! sensitive, and is scrubbed from any server message kept in an error.

mod api_key;
mod client;
mod config;
mod error_reply;
mod limiter;
mod retry_after;

pub use api_key::{API_KEY_BYTES_MAX, ApiKey, ApiKeyError};
pub use client::OpenAiLlm;
pub use config::{
    MODEL_NAME_BYTES_MAX, OPENAI_BASE_URL_DEFAULT, OpenAiConfig, OpenAiConfigError, RESPONSE_BYTES_MAX_LIMIT,
};
pub use error_reply::ERROR_DETAIL_BYTES_MAX;
pub use limiter::KeyLimiter;
pub use retry_after::RETRY_AFTER_MS_MAX;
