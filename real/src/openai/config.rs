//! How to reach an OpenAI-compatible endpoint, and how hard to use it.

use quorum_core::ConfigError;
use reqwest::Url;

use super::api_key::{ApiKey, ApiKeyError};

/// OpenAI's own API, used when `OPENAI_BASE_URL` is not set.
pub const OPENAI_BASE_URL_DEFAULT: &str = "https://api.openai.com/v1";

/// Longest model name accepted.
pub const MODEL_NAME_BYTES_MAX: usize = 256;

/// Largest reply body read, whatever a config asks: past this a reply is a runaway.
pub const RESPONSE_BYTES_MAX_LIMIT: usize = 64 * 1024 * 1024;

/// The endpoint, the model and our own limits. `Default` documents every default;
/// [`OpenAiConfig::from_env`] fills the endpoint, key and models from the environment.
#[derive(Clone, Debug, PartialEq)]
pub struct OpenAiConfig {
    /// Base URL of the API, ending before `/chat/completions`. Default
    /// [`OPENAI_BASE_URL_DEFAULT`]; a local llama-server is `http://127.0.0.1:8080/v1`.
    pub base_url: String,
    /// Sent as a bearer token when set. Default none (a local server without
    /// `--api-key` needs none).
    pub api_key: Option<ApiKey>,
    /// Chat model. Default `gpt-4o-mini` (llama-server answers with its one model
    /// whatever the name).
    pub model: String,
    /// Embedding model. Default `text-embedding-3-small`.
    pub embedding_model: String,
    /// Whole-call timeout: connect, send, and read the full reply. Default 60 s: a
    /// 256-token answer takes seconds; a call still open after a minute is stalled.
    pub request_timeout_ms: u64,
    /// Connect timeout. Default 10 s.
    pub connect_timeout_ms: u64,
    /// Largest reply body read; a larger one is a bad response. Default 8 MiB
    /// (embeddings of a full batch are the largest honest replies).
    pub response_bytes_max: usize,
    /// Requests per minute that all clients of one key in this process may make
    /// together. Default 500 (OpenAI's first paid tier for small models).
    pub requests_per_minute: u32,
    /// Tokens per minute (prompt estimate plus the completion cap, as OpenAI counts
    /// them) for all clients of one key in this process. Default 200 000.
    pub tokens_per_minute: u32,
    /// Longest a call waits for the shared limiter before it gives up with
    /// `RateLimited` (and the worker's backoff takes over). Default 30 s.
    pub limiter_wait_ms_max: u64,
    /// Texts per embeddings request; more are sent in several requests. Default 256.
    pub embedding_texts_max: usize,
}

impl Default for OpenAiConfig {
    fn default() -> Self {
        Self {
            base_url: OPENAI_BASE_URL_DEFAULT.to_owned(),
            api_key: None,
            model: "gpt-4o-mini".to_owned(),
            embedding_model: "text-embedding-3-small".to_owned(),
            request_timeout_ms: 60_000,
            connect_timeout_ms: 10_000,
            response_bytes_max: 8 * 1024 * 1024,
            requests_per_minute: 500,
            tokens_per_minute: 200_000,
            limiter_wait_ms_max: 30_000,
            embedding_texts_max: 256,
        }
    }
}

/// Why an [`OpenAiConfig`] cannot be used. Never shows the key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpenAiConfigError {
    /// Neither a key nor a base URL: nothing to talk to.
    #[error(
        "no model endpoint: set OPENAI_API_KEY to use OpenAI, or OPENAI_BASE_URL (e.g. \
         http://127.0.0.1:8080/v1 for llama-server) to use an OpenAI-compatible server"
    )]
    NoEndpoint,
    /// `OPENAI_API_KEY` (or the configured key) is unusable.
    #[error("OPENAI_API_KEY: {0}")]
    ApiKey(#[from] ApiKeyError),
    /// The base URL is unusable; the URL is not repeated, as it may hold credentials.
    #[error("base URL (OPENAI_BASE_URL): {expected}")]
    BaseUrl {
        /// What would have been accepted.
        expected: &'static str,
    },
    /// Another field is out of range.
    #[error(transparent)]
    Invalid(#[from] ConfigError),
    /// The HTTP client could not be built (TLS set-up).
    #[error("HTTP client: {detail}")]
    Client {
        /// For humans.
        detail: String,
    },
}

impl OpenAiConfig {
    /// The defaults with the endpoint, key and models from the environment:
    /// `OPENAI_BASE_URL`, `OPENAI_API_KEY`, `OPENAI_MODEL`, `OPENAI_EMBEDDING_MODEL`
    /// (empty counts as unset).
    ///
    /// # Errors
    /// [`OpenAiConfigError::NoEndpoint`] when neither a key nor a base URL is set,
    /// else whatever [`OpenAiConfig::validate`] finds.
    pub fn from_env() -> Result<Self, OpenAiConfigError> {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// [`OpenAiConfig::from_env`] over any source of variables (tests pass a map:
    /// changing the process environment is unsafe in edition 2024).
    ///
    /// # Errors
    /// As [`OpenAiConfig::from_env`].
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self, OpenAiConfigError> {
        let var = |name: &str| var(name).filter(|value| !value.trim().is_empty());
        let base_url = var("OPENAI_BASE_URL");
        let api_key = var("OPENAI_API_KEY");
        if base_url.is_none() && api_key.is_none() {
            return Err(OpenAiConfigError::NoEndpoint);
        }
        let defaults = Self::default();
        let config = Self {
            base_url: base_url.map_or(defaults.base_url, |url| url.trim().to_owned()),
            api_key: api_key.map(|key| ApiKey::new(&key)).transpose()?,
            model: var("OPENAI_MODEL").map_or(defaults.model, |model| model.trim().to_owned()),
            embedding_model: var("OPENAI_EMBEDDING_MODEL").map_or(defaults.embedding_model, |m| m.trim().to_owned()),
            ..defaults
        };
        config.validate()?;
        Ok(config)
    }

    /// Checks every field.
    ///
    /// # Errors
    /// [`OpenAiConfigError`] naming the field.
    pub fn validate(&self) -> Result<(), OpenAiConfigError> {
        self.base_url()?;
        for (field, name) in [("openai.model", &self.model), ("openai.embedding_model", &self.embedding_model)] {
            if name.is_empty() || name.len() > MODEL_NAME_BYTES_MAX || name.chars().any(char::is_control) {
                return Err(ConfigError::invalid(field, name, "1..=256 bytes of text").into());
            }
        }
        let ranges: [(&'static str, u64, u64, u64, &'static str); 4] = [
            ("openai.request_timeout_ms", self.request_timeout_ms, 1, 3_600_000, "1..=3600000"),
            ("openai.connect_timeout_ms", self.connect_timeout_ms, 1, 600_000, "1..=600000"),
            ("openai.limiter_wait_ms_max", self.limiter_wait_ms_max, 0, 3_600_000, "0..=3600000"),
            ("openai.embedding_texts_max", self.embedding_texts_max as u64, 1, 2048, "1..=2048 (OpenAI's cap)"),
        ];
        for (field, value, low, high, expected) in ranges {
            if !(low..=high).contains(&value) {
                return Err(ConfigError::invalid(field, value, expected).into());
            }
        }
        if !(1024..=RESPONSE_BYTES_MAX_LIMIT).contains(&self.response_bytes_max) {
            return Err(
                ConfigError::invalid("openai.response_bytes_max", self.response_bytes_max, "1 KiB..=64 MiB").into()
            );
        }
        if self.requests_per_minute == 0 || self.tokens_per_minute == 0 {
            let (field, value) = if self.requests_per_minute == 0 {
                ("openai.requests_per_minute", self.requests_per_minute)
            } else {
                ("openai.tokens_per_minute", self.tokens_per_minute)
            };
            return Err(ConfigError::invalid(field, value, "at least 1").into());
        }
        Ok(())
    }

    /// The base URL, parsed and checked: http or https, a host, no credentials, no
    /// query or fragment; without a trailing `/`.
    pub(crate) fn base_url(&self) -> Result<String, OpenAiConfigError> {
        let bad = |expected| OpenAiConfigError::BaseUrl { expected };
        let url = Url::parse(self.base_url.trim()).map_err(|_| bad("an absolute http:// or https:// URL"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(bad("an http:// or https:// URL"));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(bad("a URL with a host"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(bad("no credentials in the URL: put the key in OPENAI_API_KEY"));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(bad("no query or fragment"));
        }
        Ok(url.as_str().trim_end_matches('/').to_owned())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn from(pairs: &[(&str, &str)]) -> Result<OpenAiConfig, OpenAiConfigError> {
        let vars: BTreeMap<String, String> = pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        OpenAiConfig::from_vars(|name| vars.get(name).cloned())
    }

    #[test]
    fn says_what_is_missing() {
        let error = from(&[("OPENAI_API_KEY", " ")]).unwrap_err();
        assert_eq!(error, OpenAiConfigError::NoEndpoint);
        let message = error.to_string();
        assert!(message.contains("OPENAI_API_KEY") && message.contains("OPENAI_BASE_URL"), "{message}");
    }

    #[test]
    fn a_key_alone_means_openai_a_url_alone_a_local_server() {
        let openai = from(&[("OPENAI_API_KEY", "sk-test")]).unwrap();
        assert_eq!(openai.base_url().unwrap(), OPENAI_BASE_URL_DEFAULT);
        assert!(openai.api_key.is_some());
        let local = from(&[("OPENAI_BASE_URL", "http://127.0.0.1:8080/v1/"), ("OPENAI_MODEL", "smollm2")]).unwrap();
        assert_eq!(local.base_url().unwrap(), "http://127.0.0.1:8080/v1");
        assert_eq!((local.api_key, local.model.as_str()), (None, "smollm2"));
    }

    #[test]
    fn bad_urls_are_refused_without_echoing_credentials() {
        for url in ["127.0.0.1:8080", "ftp://host/v1", "http://user:sk-secret@host/v1", "http://host/v1?x=1"] {
            let error = from(&[("OPENAI_BASE_URL", url)]).unwrap_err();
            assert!(matches!(error, OpenAiConfigError::BaseUrl { .. }), "{url}: {error}");
            assert!(!error.to_string().contains("sk-secret"));
        }
    }

    #[test]
    fn fields_out_of_range_are_named() {
        let config = OpenAiConfig { requests_per_minute: 0, ..OpenAiConfig::default() };
        let error = config.validate().unwrap_err().to_string();
        assert!(error.contains("openai.requests_per_minute"), "{error}");
        let config = OpenAiConfig { response_bytes_max: 10, ..OpenAiConfig::default() };
        assert!(config.validate().unwrap_err().to_string().contains("response_bytes_max"));
        let config = OpenAiConfig { model: String::new(), ..OpenAiConfig::default() };
        assert!(config.validate().unwrap_err().to_string().contains("openai.model"));
    }
}
