//! What replicas send each other.

use super::block::{Block, BlockHash, Proposal};
use super::certificate::{QuorumCert, Vote};
use super::encoding::Encoder;
use super::identity::{AgentId, AgentKey, Signature};
use super::refusal::Refusal;
use super::registry::AgentRegistry;
use super::view::View;

/// A replica's NEW-VIEW: it timed out of `view`, and here is its highest certificate,
/// so that the next leader extends the highest one any quorum knows.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Timeout {
    /// The view timed out of.
    pub view: View,
    /// The sender's highest certificate.
    pub high_qc: QuorumCert,
    /// Who timed out.
    pub sender: AgentId,
    /// The sender's signature over view, certificate view and block, and sender.
    pub signature: Signature,
}

impl Timeout {
    /// `key`'s agent times out of `view`.
    pub fn new(key: &AgentKey, view: View, high_qc: QuorumCert) -> Self {
        let signature = key.sign(&signed_bytes(view, &high_qc, key.id()));
        Self { view, high_qc, sender: key.id().clone(), signature }
    }

    /// Checks the sender and the signature (the certificate is checked apart).
    pub(crate) fn verify(&self, registry: &AgentRegistry) -> Result<(), Refusal> {
        registry.verify(&self.sender, &signed_bytes(self.view, &self.high_qc, &self.sender), &self.signature, "timeout")
    }
}

fn signed_bytes(view: View, high_qc: &QuorumCert, sender: &AgentId) -> Vec<u8> {
    let mut encoder = Encoder::new("quorum/p2p/timeout/v1");
    encoder.u64(view.0).u64(high_qc.view.0).bytes(&high_qc.block.0).str(sender.as_str());
    encoder.finish().to_vec()
}

/// One message between replicas.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Message {
    /// The leader's block for its view, to every agent.
    Proposal(Proposal),
    /// A vote, to every agent.
    Vote(Vote),
    /// NEW-VIEW, to every agent.
    Timeout(Timeout),
    /// A replica's highest certificate, in answer to a timeout from a replica that
    /// knows only a lower one: an idle replica sends no timeouts of its own, so a
    /// replica left behind would otherwise wait for ever.
    Certificate(QuorumCert),
    /// "Send me this block": a replica missing an ancestor, to every agent.
    BlockRequest(BlockHash),
    /// A requested block (authenticated by its hash, which a certificate named).
    BlockResponse(Block),
}

impl Message {
    /// A short stable name, for traces.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Proposal(_) => "proposal",
            Self::Vote(_) => "vote",
            Self::Timeout(_) => "timeout",
            Self::Certificate(_) => "certificate",
            Self::BlockRequest(_) => "block_request",
            Self::BlockResponse(_) => "block_response",
        }
    }
}

/// Where a message goes.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Destination {
    /// One agent.
    Agent(AgentId),
    /// Every other agent of the registry.
    All,
}

/// A message to send.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Transmit {
    /// To whom.
    pub to: Destination,
    /// What.
    pub message: Message,
}
