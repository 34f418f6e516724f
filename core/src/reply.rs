//! Reading a worker's answer and confidence out of an LLM reply.
//!
//! Workers ask for `{"answer": ..., "confidence": ...}`; models also answer with
//! `Answer: ... / Confidence: ...` lines, code fences, or plain text, all accepted.
//! Anything that cannot be an answer (empty, cut off, binary, punctuation soup,
//! half a JSON object) is a [`ReplyError`], never a vote.

use serde::{Deserialize, Serialize};

use crate::consensus::ANSWER_BYTES_MAX;

/// Confidence assumed when the model gives none: neither trusted nor dismissed.
pub const CONFIDENCE_UNREPORTED: f64 = 0.5;

/// An answer and confidence read from a reply.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ParsedReply {
    /// The answer text.
    pub answer: String,
    /// Confidence in `0..=1`.
    pub confidence: f64,
    /// Whether the model stated the confidence (else [`CONFIDENCE_UNREPORTED`]).
    pub confidence_reported: bool,
}

/// Why a reply is not an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(rename_all = "snake_case")]
pub enum ReplyError {
    /// Nothing but white space.
    #[error("empty reply")]
    Empty,
    /// The model stopped at its token cap.
    #[error("reply cut off at the token limit")]
    Truncated,
    /// Control characters or replacement characters: not text.
    #[error("reply is not text")]
    NotText,
    /// A JSON object that does not parse or lacks `answer`, or an answer without a
    /// single letter or digit.
    #[error("reply is malformed")]
    Malformed,
    /// Longer than [`ANSWER_BYTES_MAX`].
    #[error("answer too long")]
    TooLong,
}

/// Reads one reply; `truncated` is the model's own "stopped at the cap" flag.
///
/// # Errors
/// [`ReplyError`] when the reply holds no usable answer.
pub fn parse_reply(text: &str, truncated: bool) -> Result<ParsedReply, ReplyError> {
    if truncated {
        return Err(ReplyError::Truncated);
    }
    let body = strip_code_fence(text.trim());
    if body.is_empty() {
        return Err(ReplyError::Empty);
    }
    if body.chars().any(|c| (c.is_control() && !matches!(c, '\n' | '\r' | '\t')) || c == '\u{FFFD}') {
        return Err(ReplyError::NotText);
    }
    let (answer, confidence) = if body.starts_with('{') { from_json(body)? } else { from_lines(body) };
    let answer = answer.trim().to_owned();
    if answer.is_empty() {
        return Err(ReplyError::Empty);
    }
    if answer.len() > ANSWER_BYTES_MAX {
        return Err(ReplyError::TooLong);
    }
    if !answer.chars().any(char::is_alphanumeric) {
        return Err(ReplyError::Malformed);
    }
    Ok(ParsedReply {
        answer,
        confidence: confidence.unwrap_or(CONFIDENCE_UNREPORTED),
        confidence_reported: confidence.is_some(),
    })
}

fn strip_code_fence(text: &str) -> &str {
    let Some(inner) = text.strip_prefix("```") else {
        return text;
    };
    // Drop a language tag line such as "json".
    let inner = inner
        .split_once('\n')
        .map_or(inner, |(tag, rest)| if tag.trim().chars().all(char::is_alphanumeric) { rest } else { inner });
    inner.trim_end().strip_suffix("```").unwrap_or(inner).trim()
}

fn from_json(body: &str) -> Result<(String, Option<f64>), ReplyError> {
    let value: serde_json::Value = serde_json::from_str(body).map_err(|_| ReplyError::Malformed)?;
    let object = value.as_object().ok_or(ReplyError::Malformed)?;
    let answer = match object.get("answer") {
        Some(serde_json::Value::String(text)) => text.clone(),
        Some(serde_json::Value::Number(number)) => number.to_string(),
        Some(serde_json::Value::Bool(flag)) => flag.to_string(),
        _ => return Err(ReplyError::Malformed),
    };
    let confidence = object.get("confidence").and_then(serde_json::Value::as_f64).and_then(normalise_confidence);
    Ok((answer, confidence))
}

fn from_lines(body: &str) -> (String, Option<f64>) {
    let mut answer = None;
    let mut confidence = None;
    for line in body.lines() {
        let line = line.trim();
        if let Some(rest) = strip_label(line, "answer") {
            answer = Some(rest.to_owned());
        } else if let Some(rest) = strip_label(line, "confidence") {
            let number = rest.trim_end_matches('%').trim();
            confidence = number.parse::<f64>().ok().and_then(normalise_confidence);
        }
    }
    (answer.unwrap_or_else(|| body.to_owned()), confidence)
}

fn strip_label<'a>(line: &'a str, label: &str) -> Option<&'a str> {
    let head = line.get(..label.len())?;
    let rest = line.get(label.len()..)?;
    (head.eq_ignore_ascii_case(label)).then_some(())?;
    rest.trim_start().strip_prefix(':').map(str::trim)
}

/// `0..=1` as is; `1..=100` read as a percentage; anything else is no confidence.
fn normalise_confidence(value: f64) -> Option<f64> {
    if !value.is_finite() || value < 0.0 {
        None
    } else if value <= 1.0 {
        Some(value)
    } else if value <= 100.0 {
        Some(value / 100.0)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_json_lines_fences_and_plain_text() {
        let json = parse_reply(r#"{"answer": "Paris", "confidence": 0.9}"#, false).unwrap();
        assert_eq!((json.answer.as_str(), json.confidence), ("Paris", 0.9));
        let fenced = parse_reply("```json\n{\"answer\": 42, \"confidence\": 80}\n```", false).unwrap();
        assert_eq!((fenced.answer.as_str(), fenced.confidence), ("42", 0.8));
        let lines = parse_reply("Answer: 7\nConfidence: 65%", false).unwrap();
        assert_eq!((lines.answer.as_str(), lines.confidence), ("7", 0.65));
        let plain = parse_reply("  Blue whale ", false).unwrap();
        assert_eq!(plain.answer, "Blue whale");
        assert!(!plain.confidence_reported);
        assert_eq!(plain.confidence, CONFIDENCE_UNREPORTED);
    }

    #[test]
    fn refuses_garbage() {
        assert_eq!(parse_reply("   ", false), Err(ReplyError::Empty));
        assert_eq!(parse_reply("{\"answer\": \"Par", false), Err(ReplyError::Malformed));
        assert_eq!(parse_reply("Paris", true), Err(ReplyError::Truncated));
        assert_eq!(parse_reply("\u{0}\u{7}xx", false), Err(ReplyError::NotText));
        assert_eq!(parse_reply("#$%&*!", false), Err(ReplyError::Malformed));
        assert_eq!(parse_reply("{\"confidence\": 1}", false), Err(ReplyError::Malformed));
        assert_eq!(parse_reply(&"x".repeat(ANSWER_BYTES_MAX + 1), false), Err(ReplyError::TooLong));
    }

    #[test]
    fn out_of_range_confidence_is_unreported_not_an_error() {
        let reply = parse_reply(r#"{"answer": "x", "confidence": 250}"#, false).unwrap();
        assert!(!reply.confidence_reported);
        let reply = parse_reply(r#"{"answer": "x", "confidence": -1}"#, false).unwrap();
        assert_eq!(reply.confidence, CONFIDENCE_UNREPORTED);
    }
}
