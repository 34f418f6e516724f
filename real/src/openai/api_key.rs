//! The API key: a secret that never prints itself.

use core::fmt;

/// An API key. `Debug` prints `ApiKey(<redacted>)`; there is no `Display` and no
/// `Serialize`, so a key cannot reach a log, an error, a trace or a report by being
/// formatted. The crate reads it only to build the `Authorization` header, which is
/// marked sensitive.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ApiKey(String);

/// Why a text cannot be an API key. Names the problem, never the text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiKeyError {
    /// Empty or only white space.
    #[error("the API key is empty")]
    Empty,
    /// Longer than [`API_KEY_BYTES_MAX`].
    #[error("the API key is longer than {API_KEY_BYTES_MAX} bytes")]
    TooLong,
    /// A character that cannot go into an HTTP header (only visible ASCII can).
    #[error("the API key has a character that is not visible ASCII")]
    NotVisibleAscii,
}

/// Longest key accepted: real keys are under 200 bytes; anything far longer is a
/// file pasted by mistake.
pub const API_KEY_BYTES_MAX: usize = 4096;

impl ApiKey {
    /// A key from text, trimmed of surrounding white space (a trailing newline from a
    /// secrets file is common).
    ///
    /// # Errors
    /// [`ApiKeyError`] when the text cannot be sent as a bearer token.
    pub fn new(text: &str) -> Result<Self, ApiKeyError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(ApiKeyError::Empty);
        }
        if text.len() > API_KEY_BYTES_MAX {
            return Err(ApiKeyError::TooLong);
        }
        if !text.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(ApiKeyError::NotVisibleAscii);
        }
        Ok(Self(text.to_owned()))
    }

    /// The secret itself: only for the `Authorization` header and for scrubbing
    /// server messages that might echo it.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

/// Replaces every occurrence of `key` in `text` (a server's message may quote the key
/// it refused, in part or whole) and caps the text at `bytes_max` on a char boundary.
pub(crate) fn scrub(text: &str, key: Option<&ApiKey>, bytes_max: usize) -> String {
    let mut clean = match key {
        Some(key) => text.replace(key.expose(), "<redacted>"),
        None => text.to_owned(),
    };
    if clean.len() > bytes_max {
        let mut end = bytes_max;
        while !clean.is_char_boundary(end) {
            end -= 1;
        }
        clean.truncate(end);
        clean.push_str("...");
    }
    clean
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_key() {
        let key = ApiKey::new("sk-planted-0123456789\n").unwrap();
        assert_eq!(key.expose(), "sk-planted-0123456789", "trimmed");
        let shown = format!("{key:?} {:?}", Some(&key));
        assert!(!shown.contains("planted"), "{shown}");
    }

    #[test]
    fn bad_keys_are_named_not_shown() {
        assert_eq!(ApiKey::new("  \n"), Err(ApiKeyError::Empty));
        assert_eq!(ApiKey::new("sk-a b"), Err(ApiKeyError::NotVisibleAscii));
        assert_eq!(ApiKey::new(&"k".repeat(API_KEY_BYTES_MAX + 1)), Err(ApiKeyError::TooLong));
        let error = ApiKey::new("sk-secret\u{7f}").unwrap_err().to_string();
        assert!(!error.contains("secret"), "{error}");
    }

    #[test]
    fn scrub_removes_the_key_and_caps_the_length() {
        let key = ApiKey::new("sk-planted").unwrap();
        let clean = scrub("Incorrect API key provided: sk-planted.", Some(&key), 1000);
        assert_eq!(clean, "Incorrect API key provided: <redacted>.");
        assert_eq!(scrub("ééé", None, 3), "é...", "cut on a char boundary");
    }
}
