//! The agent registry: who may answer, propose, vote and time out, with which key,
//! and where it listens. An agent not in it can do none of these.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use ed25519_dalek::VerifyingKey;
use sha2::{Digest, Sha256};

use super::encoding::Encoder;
use super::identity::{AGENT_ID_BYTES_MAX, AgentId, Signature};
use super::refusal::Refusal;

/// Most agents in one registry: every vote is checked against a quorum of them, and a
/// certificate carries up to one signature per agent.
pub const AGENTS_MAX: usize = 256;

/// Verified signatures remembered (32 bytes each); the memory is emptied when full.
const VERIFIED_MAX: usize = 65_536;

/// Longest address accepted, in bytes.
pub const ADDRESS_BYTES_MAX: usize = 256;

/// One registered agent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgentEntry {
    /// Its public key.
    pub key: VerifyingKey,
    /// Where it listens, when it has an address (`host:port`); empty in memory.
    pub address: Option<String>,
}

/// Why a registry could not be built.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AgentRegistryError {
    /// No agent at all.
    #[error("the agent registry is empty")]
    Empty,
    /// More agents than [`AGENTS_MAX`].
    #[error("{count} agents; at most {max} are accepted")]
    TooManyAgents {
        /// Agents given.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// An id twice.
    #[error("agent {agent} is registered twice")]
    DuplicateAgent {
        /// Which.
        agent: AgentId,
    },
    /// An empty id or one longer than [`AGENT_ID_BYTES_MAX`].
    #[error("agent id {agent:?} is {bytes} bytes; expected 1..={max}")]
    BadAgentId {
        /// The id given.
        agent: AgentId,
        /// Its length.
        bytes: usize,
        /// The limit.
        max: usize,
    },
    /// Bytes that are not an ed25519 public key.
    #[error("agent {agent}: the public key is not a valid ed25519 key")]
    BadKey {
        /// Whose.
        agent: AgentId,
    },
    /// An address longer than [`ADDRESS_BYTES_MAX`].
    #[error("address of agent {agent} is {bytes} bytes; at most {max} are accepted")]
    AddressTooLong {
        /// Whose.
        agent: AgentId,
        /// Its length.
        bytes: usize,
        /// The limit.
        max: usize,
    },
}

impl AgentEntry {
    /// An entry from a public key's 32 bytes (as a peer tells it), reached at
    /// `address`.
    ///
    /// # Errors
    /// [`AgentRegistryError::BadKey`] for bytes that are not an ed25519 key.
    pub fn from_public_key(
        agent: &AgentId,
        key: [u8; 32],
        address: Option<String>,
    ) -> Result<Self, AgentRegistryError> {
        let key = VerifyingKey::from_bytes(&key).map_err(|_| AgentRegistryError::BadKey { agent: agent.clone() })?;
        Ok(Self { key, address })
    }
}

/// The agents of one network, sorted by id (the order leaders rotate in).
#[derive(Clone, Debug)]
pub struct AgentRegistry {
    agents: BTreeMap<AgentId, AgentEntry>,
    /// The ids in order, for leader rotation by index.
    order: Vec<AgentId>,
    /// Digests of `(agent, message, signature)` already verified, shared by the
    /// registry's clones: a vote or an answer reaches every replica of an in-memory
    /// cluster, and checking it once is enough (keys never change in a registry).
    verified: Arc<Mutex<BTreeSet<[u8; 32]>>>,
}

impl PartialEq for AgentRegistry {
    fn eq(&self, other: &Self) -> bool {
        self.agents == other.agents
    }
}

impl Eq for AgentRegistry {}

impl AgentRegistry {
    /// A registry of `agents`.
    ///
    /// # Errors
    /// [`AgentRegistryError`] for no agents, too many, an id twice, a bad id or a
    /// long address.
    pub fn new(agents: impl IntoIterator<Item = (AgentId, AgentEntry)>) -> Result<Self, AgentRegistryError> {
        let mut map = BTreeMap::new();
        for (agent, entry) in agents {
            let bytes = agent.as_str().len();
            if bytes == 0 || bytes > AGENT_ID_BYTES_MAX {
                return Err(AgentRegistryError::BadAgentId { agent, bytes, max: AGENT_ID_BYTES_MAX });
            }
            if let Some(address) = &entry.address
                && address.len() > ADDRESS_BYTES_MAX
            {
                let bytes = address.len();
                return Err(AgentRegistryError::AddressTooLong { agent, bytes, max: ADDRESS_BYTES_MAX });
            }
            if map.contains_key(&agent) {
                return Err(AgentRegistryError::DuplicateAgent { agent });
            }
            map.insert(agent, entry);
        }
        if map.is_empty() {
            return Err(AgentRegistryError::Empty);
        }
        if map.len() > AGENTS_MAX {
            return Err(AgentRegistryError::TooManyAgents { count: map.len(), max: AGENTS_MAX });
        }
        let order = map.keys().cloned().collect();
        Ok(Self { agents: map, order, verified: Arc::default() })
    }

    /// A registry of agents known only by key (no addresses).
    ///
    /// # Errors
    /// As [`Self::new`].
    pub fn from_keys(keys: impl IntoIterator<Item = (AgentId, VerifyingKey)>) -> Result<Self, AgentRegistryError> {
        Self::new(keys.into_iter().map(|(agent, key)| (agent, AgentEntry { key, address: None })))
    }

    /// How many agents (n).
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// Always false: a registry holds at least one agent.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// How many faulty agents the network tolerates: f = (n - 1) / 3.
    pub fn faults_max(&self) -> usize {
        (self.len() - 1) / 3
    }

    /// Votes in a quorum certificate: n - f (2f + 1 when n = 3f + 1), so that any two
    /// quorums share at least f + 1 agents, one of them honest.
    pub fn quorum(&self) -> usize {
        self.len() - self.faults_max()
    }

    /// The ids in rotation order.
    pub fn agents(&self) -> &[AgentId] {
        &self.order
    }

    /// Whether `agent` is registered.
    pub fn contains(&self, agent: &AgentId) -> bool {
        self.agents.contains_key(agent)
    }

    /// What the registry holds of `agent`.
    pub fn entry(&self, agent: &AgentId) -> Option<&AgentEntry> {
        self.agents.get(agent)
    }

    /// The leader of `view`: round robin over the sorted ids.
    pub fn leader(&self, view: u64) -> &AgentId {
        let index = (view % self.len() as u64) as usize;
        &self.order[index]
    }

    /// Checks that `signature` is `agent`'s over `message` (strict ed25519: no
    /// malleable encodings).
    ///
    /// # Errors
    /// [`Refusal::UnknownAgent`] or [`Refusal::BadSignature`], naming `what`.
    pub(crate) fn verify(
        &self,
        agent: &AgentId,
        message: &[u8],
        signature: &Signature,
        what: &'static str,
    ) -> Result<(), Refusal> {
        let entry = self.agents.get(agent).ok_or_else(|| Refusal::UnknownAgent { agent: agent.clone(), what })?;
        let mut encoder = Encoder::new("quorum/p2p/verified/v1");
        encoder.str(agent.as_str()).bytes(message).bytes(&signature.0);
        let digest: [u8; 32] = Sha256::digest(encoder.finish()).into();
        // A poisoned lock only means another thread panicked mid-insert; the set of
        // digests is still a set of verified signatures.
        let mut verified = self.verified.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if verified.contains(&digest) {
            return Ok(());
        }
        let parsed = ed25519_dalek::Signature::from_bytes(&signature.0);
        entry.key.verify_strict(message, &parsed).map_err(|_| Refusal::BadSignature { agent: agent.clone(), what })?;
        if verified.len() >= VERIFIED_MAX {
            verified.clear();
        }
        verified.insert(digest);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::p2p::identity::AgentKey;

    fn keys(count: usize) -> Vec<AgentKey> {
        (0..count).map(|i| AgentKey::from_seed(AgentId::new(format!("a{i}")), 1)).collect()
    }

    fn registry(keys: &[AgentKey]) -> AgentRegistry {
        AgentRegistry::from_keys(keys.iter().map(|k| (k.id().clone(), k.verifying_key()))).unwrap()
    }

    #[test]
    fn quorum_is_two_f_plus_one_for_three_f_plus_one_agents() {
        for (n, f, quorum) in [(1, 0, 1), (4, 1, 3), (5, 1, 4), (7, 2, 5), (10, 3, 7)] {
            let registry = registry(&keys(n));
            assert_eq!((registry.faults_max(), registry.quorum()), (f, quorum), "n = {n}");
        }
    }

    #[test]
    fn leaders_rotate_over_sorted_ids() {
        let registry = registry(&keys(11));
        let leaders: Vec<&str> = (0..12).map(|v| registry.leader(v).as_str()).collect();
        assert_eq!(leaders[..3], ["a0", "a1", "a2"]);
        assert_eq!(leaders[10], "a10");
        assert_eq!(leaders[11], "a0");
    }

    #[test]
    fn a_signature_verifies_only_for_its_signer_and_message() {
        let keys = keys(2);
        let registry = registry(&keys);
        let signature = keys[0].sign(b"hello");
        assert_eq!(registry.verify(keys[0].id(), b"hello", &signature, "test"), Ok(()));
        let wrong_agent = registry.verify(keys[1].id(), b"hello", &signature, "test");
        assert!(matches!(wrong_agent, Err(Refusal::BadSignature { .. })), "{wrong_agent:?}");
        // Verified once, remembered: the same triple passes again, a changed one never.
        assert_eq!(registry.clone().verify(keys[0].id(), b"hello", &signature, "test"), Ok(()));
        let wrong_message = registry.verify(keys[0].id(), b"hellO", &signature, "test");
        assert!(matches!(wrong_message, Err(Refusal::BadSignature { .. })), "{wrong_message:?}");
        let stranger = AgentKey::from_seed(AgentId::from("x"), 1);
        let unknown = registry.verify(stranger.id(), b"hello", &stranger.sign(b"hello"), "test");
        assert!(matches!(unknown, Err(Refusal::UnknownAgent { .. })), "{unknown:?}");
    }

    #[test]
    fn bad_registries_are_refused_by_name() {
        let keys = keys(1);
        let key = keys[0].verifying_key();
        let twice = AgentRegistry::from_keys([(AgentId::from("a"), key), (AgentId::from("a"), key)]);
        assert_eq!(twice, Err(AgentRegistryError::DuplicateAgent { agent: AgentId::from("a") }));
        assert_eq!(AgentRegistry::from_keys([]), Err(AgentRegistryError::Empty));
        let empty_id = AgentRegistry::from_keys([(AgentId::from(""), key)]);
        assert!(matches!(empty_id, Err(AgentRegistryError::BadAgentId { bytes: 0, .. })), "{empty_id:?}");
        let long = AgentEntry { key, address: Some("x".repeat(ADDRESS_BYTES_MAX + 1)) };
        let long = AgentRegistry::new([(AgentId::from("a"), long)]);
        assert!(matches!(long, Err(AgentRegistryError::AddressTooLong { .. })), "{long:?}");
    }
}
