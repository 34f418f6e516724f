//! Votes and the quorum certificates they form.

use super::block::BlockHash;
use super::encoding::Encoder;
use super::identity::{AgentId, AgentKey, Signature};
use super::refusal::Refusal;
use super::registry::AgentRegistry;
use super::view::View;

/// One agent's vote for a block.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Vote {
    /// The block's view.
    pub view: View,
    /// The block voted for.
    pub block: BlockHash,
    /// Who votes.
    pub voter: AgentId,
    /// The voter's signature over the vote's canonical bytes.
    pub signature: Signature,
}

impl Vote {
    /// `key`'s agent votes for `block` in `view`.
    pub fn new(key: &AgentKey, view: View, block: BlockHash) -> Self {
        let signature = key.sign(&signed_bytes(view, &block, key.id()));
        Self { view, block, voter: key.id().clone(), signature }
    }

    /// Checks the voter and the signature.
    ///
    /// # Errors
    /// [`Refusal::UnknownAgent`] or [`Refusal::BadSignature`].
    pub(crate) fn verify(&self, registry: &AgentRegistry) -> Result<(), Refusal> {
        registry.verify(&self.voter, &signed_bytes(self.view, &self.block, &self.voter), &self.signature, "vote")
    }
}

/// The bytes a voter signs.
fn signed_bytes(view: View, block: &BlockHash, voter: &AgentId) -> Vec<u8> {
    let mut encoder = Encoder::new("quorum/p2p/vote/v1");
    encoder.u64(view.0).bytes(&block.0).str(voter.as_str());
    encoder.finish().to_vec()
}

/// A quorum certificate: votes of a quorum of agents for one block in one view.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct QuorumCert {
    /// The certified block's view.
    pub view: View,
    /// The certified block.
    pub block: BlockHash,
    /// `(voter, signature)`, sorted by voter, one each.
    pub votes: Vec<(AgentId, Signature)>,
}

impl QuorumCert {
    /// The certificate of the genesis block, which every replica starts from and
    /// which needs no votes.
    pub fn genesis() -> Self {
        Self { view: View(0), block: BlockHash::genesis(), votes: Vec::new() }
    }

    /// Whether this is the genesis certificate.
    pub fn is_genesis(&self) -> bool {
        self.view == View(0) && self.block == BlockHash::genesis() && self.votes.is_empty()
    }

    /// A certificate from `votes` (all for `view` and `block`, checked by the caller),
    /// put into canonical order.
    pub(crate) fn from_votes(
        view: View,
        block: BlockHash,
        votes: impl IntoIterator<Item = (AgentId, Signature)>,
    ) -> Self {
        let mut votes: Vec<(AgentId, Signature)> = votes.into_iter().collect();
        votes.sort_by(|a, b| a.0.cmp(&b.0));
        Self { view, block, votes }
    }

    /// Checks a quorum of distinct registered voters, each signature valid.
    ///
    /// # Errors
    /// [`Refusal::BadCertificate`] for too few or unordered votes, or a voter's
    /// refusal.
    pub(crate) fn verify(&self, registry: &AgentRegistry) -> Result<(), Refusal> {
        if self.is_genesis() {
            return Ok(());
        }
        let ordered = self.votes.windows(2).all(|pair| pair[0].0 < pair[1].0);
        if !ordered || self.votes.len() < registry.quorum() || self.view == View(0) {
            return Err(Refusal::BadCertificate {
                view: self.view,
                votes: self.votes.len(),
                quorum: registry.quorum(),
            });
        }
        for (voter, signature) in &self.votes {
            registry.verify(voter, &signed_bytes(self.view, &self.block, voter), signature, "certificate vote")?;
        }
        Ok(())
    }

    pub(crate) fn encode(&self, encoder: &mut Encoder) {
        encoder.u64(self.view.0).bytes(&self.block.0).len(self.votes.len());
        for (voter, signature) in &self.votes {
            encoder.str(voter.as_str()).bytes(&signature.0);
        }
    }
}
