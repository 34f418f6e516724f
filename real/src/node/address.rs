//! Addresses as users write them (`127.0.0.1:7400`) and as the wire carries them
//! (`http://127.0.0.1:7400`).

/// Longest address accepted, in bytes.
pub const ADDRESS_BYTES_MAX: usize = 256;

/// An address that names no gRPC endpoint.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("address {address:?}: {problem}")]
pub struct AddressError {
    /// The address as given (addresses are not secret).
    pub address: String,
    /// What is wrong with it.
    pub problem: &'static str,
}

/// `host:port` or `http://host:port` as `http://host:port`.
///
/// # Errors
/// [`AddressError`] for another scheme, a missing host or port, a path, or an
/// address longer than [`ADDRESS_BYTES_MAX`].
pub fn http_address(text: &str) -> Result<String, AddressError> {
    let error = |problem| AddressError { address: text.chars().take(ADDRESS_BYTES_MAX).collect(), problem };
    let text = text.trim();
    if text.is_empty() || text.len() > ADDRESS_BYTES_MAX {
        return Err(error("expected host:port (at most 256 bytes)"));
    }
    let full = if text.contains("://") { text.to_owned() } else { format!("http://{text}") };
    let uri: tonic::transport::Uri = full.parse().map_err(|_| error("expected host:port or http://host:port"))?;
    if uri.scheme_str() != Some("http") {
        return Err(error("only http:// is served (no TLS)"));
    }
    if uri.host().is_none_or(str::is_empty) || uri.port_u16().is_none() {
        return Err(error("expected host:port, with a port"));
    }
    if uri.path_and_query().is_some_and(|path| path.as_str() != "/") {
        return Err(error("expected host:port with no path"));
    }
    Ok(format!("http://{}", uri.authority().map_or("", |authority| authority.as_str())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_get_their_scheme_and_bad_ones_are_named() {
        assert_eq!(http_address("127.0.0.1:7400").unwrap(), "http://127.0.0.1:7400");
        assert_eq!(http_address("http://example.org:80/").unwrap(), "http://example.org:80");
        assert_eq!(http_address(" [::1]:9 ").unwrap(), "http://[::1]:9");
        assert_eq!(http_address("127.0.0.1").unwrap_err().problem, "expected host:port, with a port");
        assert_eq!(http_address("https://a:1").unwrap_err().problem, "only http:// is served (no TLS)");
        assert_eq!(http_address("a:1/x").unwrap_err().problem, "expected host:port with no path");
        assert!(http_address("").is_err());
        assert!(http_address("not an address").is_err());
        assert!(http_address(&"a".repeat(300)).is_err());
    }
}
