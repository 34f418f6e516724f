//! The shared token's secret as the commands find it: `QUORUM_TOKEN`, else the token
//! file that `quorum up` writes when it makes one, else a fresh one for `up`.

use core::fmt;
use std::path::{Path, PathBuf};

use crate::grpc::{AUTH_TOKEN_BYTES_MAX, AuthToken, TokenError};

/// The environment variable that holds the shared token.
pub const TOKEN_ENV: &str = "QUORUM_TOKEN";
/// The environment variable that names the token file (default
/// [`token_file_default`]).
pub const TOKEN_FILE_ENV: &str = "QUORUM_TOKEN_FILE";
/// Random bytes in a fresh token (written as 64 hex digits).
const FRESH_TOKEN_BYTES: usize = 32;

/// Why no usable token was found. Never holds the secret.
#[derive(Debug, thiserror::Error)]
pub enum TokenSecretError {
    /// Neither `QUORUM_TOKEN` nor a token file.
    #[error(
        "no token: set QUORUM_TOKEN to the token the supervisor and workers share (or start them with \
         `quorum up`, which writes one to {})",
        file.display()
    )]
    Missing {
        /// Where a token file was looked for.
        file: PathBuf,
    },
    /// The token found cannot be used.
    #[error("{source_name}: {error}")]
    Invalid {
        /// `QUORUM_TOKEN` or the token file's path.
        source_name: String,
        /// What is wrong with it.
        error: TokenError,
    },
    /// The token file could not be read or written.
    #[error("token file {}: {detail}", path.display())]
    File {
        /// Its path.
        path: PathBuf,
        /// The I/O error.
        detail: String,
    },
    /// The system's random source failed.
    #[error("no random bytes for a fresh token: {detail}")]
    Random {
        /// Its error.
        detail: String,
    },
}

/// The shared secret. `Debug` and `Display` redact it; the only way to read it is
/// [`TokenSecret::environment`], to hand to a child process.
#[derive(Clone)]
pub struct TokenSecret {
    secret: String,
    token: AuthToken,
}

impl fmt::Debug for TokenSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenSecret(<redacted>)")
    }
}

/// `$HOME/.quorum/token` (or `.quorum/token` under the working directory when
/// `HOME` is unset).
pub fn token_file_default() -> PathBuf {
    std::env::var_os("HOME").map_or_else(PathBuf::new, PathBuf::from).join(".quorum").join("token")
}

impl TokenSecret {
    /// A token from its text.
    ///
    /// # Errors
    /// [`TokenSecretError::Invalid`] naming `source_name` when it is not a usable token.
    pub fn new(secret: &str, source_name: &str) -> Result<Self, TokenSecretError> {
        let token = AuthToken::new(secret)
            .map_err(|error| TokenSecretError::Invalid { source_name: source_name.to_owned(), error })?;
        Ok(Self { secret: secret.to_owned(), token })
    }

    /// A fresh random token.
    ///
    /// # Errors
    /// [`TokenSecretError::Random`] when the system has no random bytes to give.
    pub fn fresh() -> Result<Self, TokenSecretError> {
        let mut bytes = [0u8; FRESH_TOKEN_BYTES];
        getrandom::getrandom(&mut bytes).map_err(|error| TokenSecretError::Random { detail: error.to_string() })?;
        let secret: String = bytes.iter().map(|byte| format!("{byte:02x}")).collect();
        Self::new(&secret, "a fresh token")
    }

    /// `QUORUM_TOKEN` if set (and not empty).
    ///
    /// # Errors
    /// [`TokenSecretError::Invalid`] when it is not a usable token.
    pub fn from_var() -> Result<Option<Self>, TokenSecretError> {
        match std::env::var(TOKEN_ENV).ok().filter(|secret| !secret.trim().is_empty()) {
            Some(secret) => Self::new(secret.trim(), TOKEN_ENV).map(Some),
            None => Ok(None),
        }
    }

    /// `QUORUM_TOKEN` if set, else the token file (`QUORUM_TOKEN_FILE`, default
    /// [`token_file_default`]) if it exists; `None` when neither.
    ///
    /// # Errors
    /// [`TokenSecretError`] when the one found is unusable or unreadable.
    pub fn from_env() -> Result<Option<Self>, TokenSecretError> {
        if let Some(secret) = Self::from_var()? {
            return Ok(Some(secret));
        }
        let path = Self::file();
        match read_limited(&path) {
            Ok(secret) => Self::new(secret.trim(), &path.display().to_string()).map(Some),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(TokenSecretError::File { path, detail: error.to_string() }),
        }
    }

    /// As [`TokenSecret::from_env`], but a missing token is an error that says what
    /// to set.
    ///
    /// # Errors
    /// [`TokenSecretError::Missing`] when there is none; others as
    /// [`TokenSecret::from_env`].
    pub fn required() -> Result<Self, TokenSecretError> {
        Self::from_env()?.ok_or_else(|| TokenSecretError::Missing { file: Self::file() })
    }

    /// The token file: `QUORUM_TOKEN_FILE`, default [`token_file_default`].
    pub fn file() -> PathBuf {
        std::env::var_os(TOKEN_FILE_ENV).filter(|path| !path.is_empty()).map_or_else(token_file_default, PathBuf::from)
    }

    /// Writes the secret to `path`, readable by its owner alone, for clients on
    /// this machine.
    ///
    /// # Errors
    /// [`TokenSecretError::File`] when it cannot be written.
    pub fn write_file(&self, path: &Path) -> Result<(), TokenSecretError> {
        let failed =
            |error: std::io::Error| TokenSecretError::File { path: path.to_owned(), detail: error.to_string() };
        if let Some(parent) = path.parent().filter(|parent| !parent.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(failed)?;
        }
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(path).map_err(failed)?;
        // An older file keeps its mode through `open`: tighten it too.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            file.set_permissions(std::fs::Permissions::from_mode(0o600)).map_err(failed)?;
        }
        std::io::Write::write_all(&mut file, self.secret.as_bytes()).map_err(failed)
    }

    /// The token to send and check.
    pub fn token(&self) -> &AuthToken {
        &self.token
    }

    /// The variable and value that hand this secret to a child process through its
    /// environment (never its command line, which other users can read).
    pub fn environment(&self) -> (&'static str, &str) {
        (TOKEN_ENV, &self.secret)
    }
}

/// The file's text, at most a token's length (and some whitespace) read.
fn read_limited(path: &Path) -> std::io::Result<String> {
    use std::io::Read;
    let mut text = String::new();
    std::fs::File::open(path)?.take(AUTH_TOKEN_BYTES_MAX as u64 + 64).read_to_string(&mut text)?;
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "planted-secret-token-0123456789";

    #[test]
    fn the_secret_never_shows_and_fresh_ones_differ() {
        let secret = TokenSecret::new(SECRET, TOKEN_ENV).unwrap();
        assert!(!format!("{secret:?}").contains(SECRET));
        assert_eq!(secret.environment(), (TOKEN_ENV, SECRET));
        let (first, second) = (TokenSecret::fresh().unwrap(), TokenSecret::fresh().unwrap());
        assert_eq!(first.environment().1.len(), 64);
        assert_ne!(first.environment().1, second.environment().1);
    }

    #[test]
    fn a_bad_token_is_refused_naming_its_source_not_its_text() {
        let error = TokenSecret::new("short-secret", TOKEN_ENV).unwrap_err();
        let shown = error.to_string();
        assert!(shown.starts_with("QUORUM_TOKEN: auth token is 12 bytes"), "{shown}");
        assert!(!shown.contains("short-secret"), "{shown}");
    }

    #[test]
    fn the_token_file_is_private_and_read_back() {
        let dir = std::env::temp_dir().join(format!("quorum-token-{}", std::process::id()));
        let path = dir.join("nested").join("token");
        let secret = TokenSecret::new(SECRET, TOKEN_ENV).unwrap();
        secret.write_file(&path).unwrap();
        assert_eq!(read_limited(&path).unwrap(), SECRET);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        std::fs::remove_dir_all(dir).unwrap();
    }
}
