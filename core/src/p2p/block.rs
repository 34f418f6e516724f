//! What is committed: a block per view, chained by hash, carrying at most one task
//! with its signed answers and the leader's decision.

use core::fmt;
use std::sync::OnceLock;

use sha2::{Digest, Sha256};

use super::answer::SignedAnswer;
use super::certificate::QuorumCert;
use super::encoding::Encoder;
use super::identity::{AgentId, AgentKey, Signature};
use super::refusal::Refusal;
use super::registry::AgentRegistry;
use super::view::View;
use crate::TaskId;
use crate::consensus::ConsensusConfig;
use crate::consensus::Decision;

/// A block's sha256 over its canonical encoding.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct BlockHash(#[serde(with = "super::hex_bytes")] pub [u8; 32]);

impl BlockHash {
    /// The hash of the genesis block.
    pub fn genesis() -> Self {
        static GENESIS: OnceLock<BlockHash> = OnceLock::new();
        *GENESIS.get_or_init(|| Block::genesis().hash())
    }
}

impl fmt::Debug for BlockHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

impl fmt::Display for BlockHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Eight hex digits tell blocks apart in a report.
        for byte in &self.0[..4] {
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

/// A task with what its leader collected and decided.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Payload {
    /// The task.
    pub task: TaskId,
    /// Its text.
    pub text: String,
    /// The agents the leader asked, sorted, one each: only they may answer.
    pub asked: Vec<AgentId>,
    /// The answers collected, sorted by agent, one each.
    pub answers: Vec<SignedAnswer>,
    /// `decide()` over the answers, under the network's consensus config.
    pub decision: Decision,
}

impl Payload {
    /// Checks it as a voter does: limits, asked agents registered, every answer
    /// signed by an asked agent (one each) and `decide()` over the answers giving
    /// exactly its decision under `consensus`.
    ///
    /// # Errors
    /// The first [`Refusal`] found.
    pub fn verify(&self, registry: &AgentRegistry, consensus: &ConsensusConfig) -> Result<(), Refusal> {
        super::validation::validate_payload(self, registry, consensus)
    }
}

/// One block of the chain.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Block {
    /// The view it was proposed in.
    pub view: View,
    /// Its parent's height plus one (genesis is 0).
    pub height: u64,
    /// The parent's hash: the block `justify` certifies.
    pub parent: BlockHash,
    /// The certificate of the parent, which this block extends.
    pub justify: QuorumCert,
    /// The leader of `view`.
    pub proposer: AgentId,
    /// The task decided, or none: an empty block only carries the chain forward so
    /// that earlier blocks commit.
    pub payload: Option<Payload>,
}

impl Block {
    /// The genesis block, the same for every network.
    pub fn genesis() -> Self {
        let justify = QuorumCert { view: View(0), block: BlockHash([0; 32]), votes: Vec::new() };
        Self {
            view: View(0),
            height: 0,
            parent: BlockHash([0; 32]),
            justify,
            proposer: AgentId::from(""),
            payload: None,
        }
    }

    /// sha256 over the block's canonical encoding (see `encoding.rs`).
    pub fn hash(&self) -> BlockHash {
        let mut encoder = Encoder::new("quorum/p2p/block/v1");
        encoder.u64(self.view.0).u64(self.height).bytes(&self.parent.0);
        self.justify.encode(&mut encoder);
        encoder.str(self.proposer.as_str());
        match &self.payload {
            None => {
                encoder.u8(0);
            }
            Some(payload) => {
                encoder.u8(1).str(payload.task.as_str()).str(&payload.text).len(payload.asked.len());
                for agent in &payload.asked {
                    encoder.str(agent.as_str());
                }
                encoder.len(payload.answers.len());
                for answer in &payload.answers {
                    answer.encode(&mut encoder);
                }
                encoder.decision(&payload.decision);
            }
        }
        BlockHash(Sha256::digest(encoder.finish()).into())
    }

    /// The task it carries, if any.
    pub fn task(&self) -> Option<&TaskId> {
        self.payload.as_ref().map(|payload| &payload.task)
    }
}

/// A block with its proposer's signature.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Proposal {
    /// The block.
    pub block: Block,
    /// The proposer's signature over the block's hash.
    pub signature: Signature,
}

impl Proposal {
    /// `key`'s agent proposes `block` (whose `proposer` must name it for the
    /// proposal to be accepted).
    pub fn new(key: &AgentKey, block: Block) -> Self {
        let signature = key.sign(&signed_bytes(&block.hash()));
        Self { block, signature }
    }
}

/// The bytes a proposer signs.
pub(crate) fn signed_bytes(hash: &BlockHash) -> Vec<u8> {
    let mut encoder = Encoder::new("quorum/p2p/proposal/v1");
    encoder.bytes(&hash.0);
    encoder.finish().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_changes_the_hash() {
        let genesis = Block::genesis();
        let base = Block {
            view: View(1),
            height: 1,
            parent: genesis.hash(),
            justify: QuorumCert::genesis(),
            proposer: AgentId::from("a1"),
            payload: None,
        };
        let hash = base.hash();
        let variants = [
            Block { view: View(2), ..base.clone() },
            Block { height: 2, ..base.clone() },
            Block { parent: BlockHash([1; 32]), ..base.clone() },
            Block { proposer: AgentId::from("a2"), ..base.clone() },
            Block { justify: QuorumCert { view: View(1), ..QuorumCert::genesis() }, ..base.clone() },
        ];
        for variant in variants {
            assert_ne!(variant.hash(), hash, "{variant:?}");
        }
        assert_eq!(base.clone().hash(), hash);
    }

    #[test]
    fn the_genesis_hash_is_pinned() {
        // Regression pin: every network starts from this block; a change in the
        // encoding would split old and new replicas at genesis.
        let hex: String = BlockHash::genesis().0.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, "6855dcead53881aa26e4f3fd90b777972a7890fa505f3377dee6cbe35864a851");
    }
}
