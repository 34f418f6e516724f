//! Who an agent is: its id, its ed25519 signing key, and its signatures.

use core::fmt;

use ed25519_dalek::{Signer, SigningKey, VerifyingKey};

use crate::ids::natural_cmp;
use crate::rng::SeededRng;

/// Longest agent id accepted, in bytes: ids travel in every vote and answer.
pub const AGENT_ID_BYTES_MAX: usize = 128;

/// An agent's name in the registry. Ordered naturally (`a2 < a10`), the order in
/// which leaders rotate.
#[derive(Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct AgentId(String);

impl AgentId {
    /// Wraps an identifier.
    pub fn new(id: impl Into<String>) -> Self {
        Self(id.into())
    }

    /// The identifier as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Ord for AgentId {
    fn cmp(&self, other: &Self) -> core::cmp::Ordering {
        natural_cmp(&self.0, &other.0)
    }
}

impl PartialOrd for AgentId {
    fn partial_cmp(&self, other: &Self) -> Option<core::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for AgentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for AgentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AgentId({:?})", self.0)
    }
}

impl From<&str> for AgentId {
    fn from(id: &str) -> Self {
        Self(id.to_owned())
    }
}

/// An ed25519 signature, as its 64 bytes.
#[derive(Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Signature(#[serde(with = "super::hex_bytes")] pub [u8; 64]);

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Eight bytes tell signatures apart in a report; all 64 only add noise.
        write!(f, "Signature(")?;
        for byte in &self.0[..8] {
            write!(f, "{byte:02x}")?;
        }
        write!(f, "..)")
    }
}

/// An agent's id with its signing key: what it needs to sign answers, proposals,
/// votes and timeouts. The key never appears in `Debug` output.
#[derive(Clone)]
pub struct AgentKey {
    id: AgentId,
    signing: SigningKey,
}

impl AgentKey {
    /// The key whose secret is `secret` (32 bytes from wherever keys are kept).
    pub fn from_secret(id: AgentId, secret: [u8; 32]) -> Self {
        Self { id, signing: SigningKey::from_bytes(&secret) }
    }

    /// A key drawn from `seed` for `id`: the same seed and id give the same key on
    /// every machine, so a simulation stays one function of its seed. Not for keys
    /// that guard anything real.
    pub fn from_seed(id: AgentId, seed: u64) -> Self {
        let mut rng = SeededRng::derive(seed, &format!("p2p/key/{id}"));
        let mut secret = [0u8; 32];
        for chunk in secret.chunks_exact_mut(8) {
            chunk.copy_from_slice(&rng.next_u64().to_le_bytes());
        }
        Self::from_secret(id, secret)
    }

    /// Whose key.
    pub fn id(&self) -> &AgentId {
        &self.id
    }

    /// The public half, for the registry.
    pub fn verifying_key(&self) -> VerifyingKey {
        self.signing.verifying_key()
    }

    /// The public half's 32 bytes, as peers are told it.
    pub fn public_key_bytes(&self) -> [u8; 32] {
        self.signing.verifying_key().to_bytes()
    }

    /// Signs canonical bytes (see `encoding.rs`).
    pub(crate) fn sign(&self, message: &[u8]) -> Signature {
        Signature(self.signing.sign(message).to_bytes())
    }
}

impl fmt::Debug for AgentKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AgentKey").field("id", &self.id).field("secret", &"<redacted>").finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_and_an_id_decide_the_key() {
        let a = AgentKey::from_seed(AgentId::from("a1"), 7);
        let again = AgentKey::from_seed(AgentId::from("a1"), 7);
        let other_id = AgentKey::from_seed(AgentId::from("a2"), 7);
        let other_seed = AgentKey::from_seed(AgentId::from("a1"), 8);
        assert_eq!(a.verifying_key(), again.verifying_key());
        assert_ne!(a.verifying_key(), other_id.verifying_key());
        assert_ne!(a.verifying_key(), other_seed.verifying_key());
    }

    #[test]
    fn debug_output_never_shows_the_secret() {
        let secret = [0x5a; 32];
        let key = AgentKey::from_secret(AgentId::from("a1"), secret);
        let shown = format!("{key:?}");
        assert!(shown.contains("redacted"), "{shown}");
        assert!(!shown.contains("5a5a") && !shown.contains("90, 90"), "{shown}");
    }

    #[test]
    fn agents_order_naturally() {
        let mut ids = vec![AgentId::from("a10"), AgentId::from("a2"), AgentId::from("a1")];
        ids.sort();
        assert_eq!(ids, vec![AgentId::from("a1"), AgentId::from("a2"), AgentId::from("a10")]);
    }
}
