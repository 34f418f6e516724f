//! The shared token: workers and the supervisor send it as bearer metadata
//! (`authorization: Bearer <token>`) and check it on every call of their services.

use core::fmt;
use std::sync::Arc;

use subtle::ConstantTimeEq;
use tonic::metadata::{AsciiMetadataValue, MetadataMap};
use tonic::service::Interceptor;
use tonic::{Request, Status};

/// Longest token accepted, in bytes: a header is no place for more.
pub const AUTH_TOKEN_BYTES_MAX: usize = 1024;
/// Shortest token accepted, in bytes: shorter ones can be guessed.
pub const AUTH_TOKEN_BYTES_MIN: usize = 16;

/// Why a token cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Shorter than [`AUTH_TOKEN_BYTES_MIN`] or longer than [`AUTH_TOKEN_BYTES_MAX`].
    #[error("auth token is {bytes} bytes; {AUTH_TOKEN_BYTES_MIN}..={AUTH_TOKEN_BYTES_MAX} are accepted")]
    Length {
        /// Its length.
        bytes: usize,
    },
    /// A byte that cannot go in a header: only visible ASCII is accepted.
    #[error("auth token has a byte that is not visible ASCII at offset {offset}")]
    Character {
        /// Where.
        offset: usize,
    },
}

/// The secret workers and supervisor share. Its `Debug` and `Display` print
/// `AuthToken(<redacted>)`, never the secret; the header it makes is marked
/// sensitive, so HTTP/2 never indexes it and `Debug` of the metadata hides it.
#[derive(Clone)]
pub struct AuthToken {
    /// `Bearer <token>`, the whole header value, compared in constant time.
    header: Arc<AsciiMetadataValue>,
}

impl AuthToken {
    /// A token from its text.
    ///
    /// # Errors
    /// [`TokenError`] when it is too short, too long, or not visible ASCII.
    pub fn new(secret: &str) -> Result<Self, TokenError> {
        let bytes = secret.len();
        if !(AUTH_TOKEN_BYTES_MIN..=AUTH_TOKEN_BYTES_MAX).contains(&bytes) {
            return Err(TokenError::Length { bytes });
        }
        if let Some(offset) = secret.bytes().position(|byte| !byte.is_ascii_graphic()) {
            return Err(TokenError::Character { offset });
        }
        let mut header = AsciiMetadataValue::try_from(format!("Bearer {secret}"))
            .map_err(|_| TokenError::Character { offset: 0 })?;
        header.set_sensitive(true);
        Ok(Self { header: Arc::new(header) })
    }

    /// Adds the bearer header to `metadata`.
    pub(crate) fn insert_into(&self, metadata: &mut MetadataMap) {
        metadata.insert("authorization", (*self.header).clone());
    }

    /// Whether `metadata` carries this token; compared in constant time, so the
    /// time a refusal takes says nothing about how much of a guess was right.
    pub(crate) fn is_carried_by(&self, metadata: &MetadataMap) -> bool {
        metadata
            .get("authorization")
            .is_some_and(|offered| bool::from(offered.as_bytes().ct_eq(self.header.as_bytes())))
    }

    /// The interceptor a server puts before its service: refuses a call without
    /// this token with `unauthenticated`.
    pub fn checker(&self) -> RequireToken {
        RequireToken { token: self.clone() }
    }

    /// The interceptor a client puts before its channel: adds this token to every
    /// call.
    pub fn sender(&self) -> SendToken {
        SendToken { token: self.clone() }
    }
}

impl fmt::Debug for AuthToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AuthToken(<redacted>)")
    }
}

impl fmt::Display for AuthToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// A server's check of the shared token (see [`AuthToken::checker`]).
#[derive(Clone, Debug)]
pub struct RequireToken {
    token: AuthToken,
}

impl Interceptor for RequireToken {
    fn call(&mut self, request: Request<()>) -> Result<Request<()>, Status> {
        if self.token.is_carried_by(request.metadata()) {
            return Ok(request);
        }
        // Names what is wrong without echoing what was offered.
        let problem = if request.metadata().contains_key("authorization") {
            "the bearer token is wrong"
        } else {
            "no bearer token (authorization metadata) was sent"
        };
        tracing::warn!(problem, "refused an unauthenticated call");
        Err(Status::unauthenticated(problem))
    }
}

/// A client's sending of the shared token (see [`AuthToken::sender`]).
#[derive(Clone, Debug)]
pub struct SendToken {
    token: AuthToken,
}

impl Interceptor for SendToken {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        self.token.insert_into(request.metadata_mut());
        Ok(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "planted-secret-0123456789";

    #[test]
    fn a_token_never_shows_its_secret() {
        let token = AuthToken::new(SECRET).unwrap();
        for shown in [format!("{token:?}"), format!("{token}"), format!("{:?}", token.checker())] {
            assert!(!shown.contains(SECRET), "{shown}");
        }
        let mut metadata = MetadataMap::new();
        token.insert_into(&mut metadata);
        assert!(!format!("{metadata:?}").contains(SECRET), "{metadata:?}");
    }

    #[test]
    fn only_the_same_token_passes() {
        let token = AuthToken::new(SECRET).unwrap();
        let mut sent = Request::new(());
        token.insert_into(sent.metadata_mut());
        assert!(token.checker().call(sent).is_ok());
        let other = AuthToken::new("another-secret-9876543210").unwrap();
        let mut wrong = Request::new(());
        other.insert_into(wrong.metadata_mut());
        let refused = token.checker().call(wrong).unwrap_err();
        assert_eq!(refused.code(), tonic::Code::Unauthenticated);
        assert!(refused.message().contains("wrong"), "{}", refused.message());
        let refused = token.checker().call(Request::new(())).unwrap_err();
        assert_eq!(refused.code(), tonic::Code::Unauthenticated);
        assert!(refused.message().contains("no bearer token"), "{}", refused.message());
    }

    #[test]
    fn bad_tokens_are_refused_by_name() {
        assert_eq!(AuthToken::new("short").unwrap_err(), TokenError::Length { bytes: 5 });
        assert_eq!(AuthToken::new("0123456789abcdef\n").unwrap_err(), TokenError::Character { offset: 16 });
        assert!(AuthToken::new(&"x".repeat(AUTH_TOKEN_BYTES_MAX + 1)).is_err());
    }
}
