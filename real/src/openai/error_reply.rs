//! What a failed HTTP reply means, as a typed [`LlmError`].
//!
//! The body is read leniently (any JSON, or none): OpenAI sends
//! `{"error": {"message", "type", "code": "insufficient_quota"}}`, llama.cpp's server
//! and some proxies send a numeric `code` (`{"error": {"code": 429, ...}}`), others a
//! bare string. The status decides the kind; the body only tells a spent quota from
//! a rate limit and gives a human its message.

use std::time::SystemTime;

use quorum_core::LlmError;
use reqwest::header::HeaderMap;
use serde_json::Value;

use super::api_key::{ApiKey, scrub};
use super::retry_after::retry_after_ms;

/// Longest server message carried into a [`LlmError::BadResponse`] detail.
pub const ERROR_DETAIL_BYTES_MAX: usize = 300;

/// The error a reply with a non-success `status` stands for. `key` is scrubbed
/// from any text taken from the body.
pub(crate) fn error_from_reply(
    status: u16,
    headers: &HeaderMap,
    body: &[u8],
    now: SystemTime,
    key: Option<&ApiKey>,
) -> LlmError {
    let error = ErrorBody::read(body);
    if error.is_quota_exhausted() {
        return LlmError::QuotaExhausted;
    }
    match status {
        // The message of a refused key may quote the key: none of it is kept.
        401 | 403 => LlmError::Auth,
        429 => LlmError::RateLimited { retry_after_ms: retry_after_ms(headers, now) },
        408 => LlmError::Timeout,
        500..=599 => LlmError::Server { status },
        _ => bad_response(&format!("HTTP {status}: {}", error.describe()), key),
    }
}

/// A [`LlmError::BadResponse`] whose detail is scrubbed of the key and capped.
pub(crate) fn bad_response(detail: &str, key: Option<&ApiKey>) -> LlmError {
    LlmError::BadResponse { detail: scrub(detail, key, ERROR_DETAIL_BYTES_MAX) }
}

/// The fields of an error body that matter, whatever their JSON types.
#[derive(Debug, Default)]
struct ErrorBody {
    message: Option<String>,
    kind: Option<String>,
    code: Option<String>,
}

impl ErrorBody {
    fn read(body: &[u8]) -> Self {
        let Ok(value) = serde_json::from_slice::<Value>(body) else {
            return Self::default();
        };
        let error = value.get("error").unwrap_or(&value);
        if let Value::String(message) = error {
            return Self { message: Some(message.clone()), ..Self::default() };
        }
        Self {
            message: text_of(error.get("message")),
            kind: text_of(error.get("type")),
            code: text_of(error.get("code")),
        }
    }

    fn is_quota_exhausted(&self) -> bool {
        [&self.code, &self.kind].into_iter().flatten().any(|field| field == "insufficient_quota")
    }

    fn describe(&self) -> String {
        let parts: Vec<&str> =
            [&self.kind, &self.code, &self.message].into_iter().flatten().map(String::as_str).collect();
        if parts.is_empty() { "no error message".to_owned() } else { parts.join(": ") }
    }
}

/// A string as it is, a number as its digits; anything else is absent.
fn text_of(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use reqwest::header::HeaderValue;

    use super::*;

    fn map(status: u16, body: &str) -> LlmError {
        error_from_reply(status, &HeaderMap::new(), body.as_bytes(), SystemTime::UNIX_EPOCH, None)
    }

    #[test]
    fn statuses_map_to_kinds() {
        assert_eq!(map(401, r#"{"error":{"message":"bad key"}}"#), LlmError::Auth);
        assert_eq!(map(403, ""), LlmError::Auth);
        assert_eq!(map(429, "{}"), LlmError::RateLimited { retry_after_ms: None });
        assert_eq!(map(500, "oops"), LlmError::Server { status: 500 });
        assert_eq!(map(503, ""), LlmError::Server { status: 503 });
        assert_eq!(map(408, ""), LlmError::Timeout);
        let LlmError::BadResponse { detail } = map(404, r#"{"error":{"message":"no such model","type":"x"}}"#) else {
            panic!("404 is a bad response");
        };
        assert_eq!(detail, "HTTP 404: x: no such model");
    }

    #[test]
    fn quota_is_final_whatever_the_status() {
        let body = r#"{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","code":"insufficient_quota"}}"#;
        assert_eq!(map(429, body), LlmError::QuotaExhausted);
        assert_eq!(map(402, r#"{"error":{"code":"insufficient_quota"}}"#), LlmError::QuotaExhausted);
    }

    // Regression: async-openai fails to decode an error whose `code` is a number
    // (llama.cpp's server sends them), so a 429 surfaced as a decode error, not retried.
    #[test]
    fn numeric_codes_are_read() {
        let body = r#"{"error":{"code":429,"message":"too many","type":"rate_limit_error"}}"#;
        let mut headers = HeaderMap::new();
        headers.insert("retry-after", HeaderValue::from_static("2"));
        let error = error_from_reply(429, &headers, body.as_bytes(), SystemTime::UNIX_EPOCH, None);
        assert_eq!(error, LlmError::RateLimited { retry_after_ms: Some(2_000) });
        let LlmError::BadResponse { detail } = map(400, r#"{"error":{"code":400,"message":"ctx"}}"#) else {
            panic!("400 is a bad response");
        };
        assert_eq!(detail, "HTTP 400: 400: ctx");
    }

    #[test]
    fn odd_bodies_never_panic_and_never_leak_the_key() {
        let key = ApiKey::new("sk-planted-key").unwrap();
        for body in ["", "\u{0}\u{1}", "[1,2]", r#"{"error":"sk-planted-key is wrong"}"#, r#"{"error":{"message":7}}"#]
        {
            let error = error_from_reply(418, &HeaderMap::new(), body.as_bytes(), SystemTime::UNIX_EPOCH, Some(&key));
            let shown = format!("{error} {error:?}");
            assert!(matches!(error, LlmError::BadResponse { .. }), "{shown}");
            assert!(!shown.contains("sk-planted-key"), "{shown}");
        }
        let long = format!(r#"{{"error":"{}"}}"#, "x".repeat(10_000));
        let LlmError::BadResponse { detail } = map(400, &long) else { panic!("bad response") };
        assert!(detail.len() <= ERROR_DETAIL_BYTES_MAX + 3, "{}", detail.len());
    }
}
