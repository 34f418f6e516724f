//! Why a replica refused an input. Every refusal is counted in the replica's
//! [`super::ReplicaStats`]; none is a panic.

use super::block::BlockHash;
use super::identity::AgentId;
use super::view::View;
use crate::TaskId;
use crate::consensus::ConsensusError;

/// An input the replica did not act on, and why.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum Refusal {
    /// A signer that is not in the registry.
    #[error("{what} signed by {agent}, who is not in the agent registry")]
    UnknownAgent {
        /// The claimed signer.
        agent: AgentId,
        /// What was signed.
        what: &'static str,
    },
    /// A signature that does not verify.
    #[error("{what} from {agent}: the signature does not verify")]
    BadSignature {
        /// The claimed signer.
        agent: AgentId,
        /// What was signed.
        what: &'static str,
    },
    /// A proposal by an agent that does not lead its view.
    #[error("proposal for {view} by {proposer}; the leader is {leader}")]
    WrongLeader {
        /// The proposal's view.
        view: View,
        /// Who proposed.
        proposer: AgentId,
        /// Who leads the view.
        leader: AgentId,
    },
    /// A proposal, vote or timeout for a view this replica has left.
    #[error("{what} for {view}; this replica is in {current}")]
    StaleView {
        /// What came.
        what: &'static str,
        /// Its view.
        view: View,
        /// The replica's view.
        current: View,
    },
    /// Safety rule: a vote in a view at or below the last voted view.
    #[error("already voted in {last_voted}; no vote for {view}")]
    AlreadyVoted {
        /// The proposal's view.
        view: View,
        /// The last view voted in.
        last_voted: View,
    },
    /// Safety rule: the block extends a certificate older than the lock.
    #[error("the block extends a certificate of {justify}, below the locked {preferred}")]
    BelowLock {
        /// The view the block's certificate certifies.
        justify: View,
        /// The preferred (locked) view.
        preferred: View,
    },
    /// A block that does not extend its certificate's block, or whose view or
    /// height does not follow its parent's.
    #[error("block of {view} does not extend its parent: {reason}")]
    NotExtending {
        /// The block's view.
        view: View,
        /// Which link is broken.
        reason: &'static str,
    },
    /// A certificate with too few or unordered votes.
    #[error("certificate for {view} has {votes} ordered votes; a quorum is {quorum}")]
    BadCertificate {
        /// The certified view.
        view: View,
        /// Votes carried.
        votes: usize,
        /// Votes needed.
        quorum: usize,
    },
    /// A second, different vote by one agent in one view.
    #[error("{voter} voted twice in {view}")]
    EquivocatingVote {
        /// Who.
        voter: AgentId,
        /// In which view.
        view: View,
    },
    /// An answer from an agent the block does not name as asked.
    #[error("answer to {task} from {agent}, who was not asked")]
    NotAsked {
        /// The task.
        task: TaskId,
        /// Who answered.
        agent: AgentId,
    },
    /// An answer to another task than the block's.
    #[error("answer by {agent} is for {answered}, not {task}")]
    OtherTask {
        /// The block's task.
        task: TaskId,
        /// The task the answer names.
        answered: TaskId,
        /// Who answered.
        agent: AgentId,
    },
    /// Asked agents or answers out of canonical order, or repeated.
    #[error("{what} of {task} are not sorted by agent, one each")]
    NotCanonical {
        /// The task.
        task: TaskId,
        /// Which list.
        what: &'static str,
    },
    /// A task id or text beyond its limit, or no agent asked.
    #[error("task {task}: {what}")]
    BadTask {
        /// The task.
        task: TaskId,
        /// What is wrong.
        what: &'static str,
    },
    /// `decide()` refused the answers.
    #[error("answers to {task} cannot be decided: {error}")]
    Undecidable {
        /// The task.
        task: TaskId,
        /// Why.
        error: ConsensusError,
    },
    /// `decide()` over the answers does not give the block's decision.
    #[error("the decision for {task} does not recompute from its answers")]
    DecisionMismatch {
        /// The task.
        task: TaskId,
    },
    /// A task already committed or already in the chain the block extends.
    #[error("task {task} is already in the chain")]
    DuplicateTask {
        /// The task.
        task: TaskId,
    },
    /// A block this replica did not ask for.
    #[error("block {hash} was not requested")]
    Unrequested {
        /// Its hash.
        hash: BlockHash,
    },
    /// The block store is full.
    #[error("{max} blocks stored; no more are accepted")]
    TooManyBlocks {
        /// The limit.
        max: usize,
    },
    /// The queue of tasks to propose is full.
    #[error("{max} tasks wait to be proposed; no more are accepted")]
    TooManyTasks {
        /// The limit.
        max: usize,
    },
}

impl Refusal {
    /// A short stable name for counting.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::UnknownAgent { .. } => "unknown_agent",
            Self::BadSignature { .. } => "bad_signature",
            Self::WrongLeader { .. } => "wrong_leader",
            Self::StaleView { .. } => "stale_view",
            Self::AlreadyVoted { .. } => "already_voted",
            Self::BelowLock { .. } => "below_lock",
            Self::NotExtending { .. } => "not_extending",
            Self::BadCertificate { .. } => "bad_certificate",
            Self::EquivocatingVote { .. } => "equivocating_vote",
            Self::NotAsked { .. } => "not_asked",
            Self::OtherTask { .. } => "other_task",
            Self::NotCanonical { .. } => "not_canonical",
            Self::BadTask { .. } => "bad_task",
            Self::Undecidable { .. } => "undecidable",
            Self::DecisionMismatch { .. } => "decision_mismatch",
            Self::DuplicateTask { .. } => "duplicate_task",
            Self::Unrequested { .. } => "unrequested",
            Self::TooManyBlocks { .. } => "too_many_blocks",
            Self::TooManyTasks { .. } => "too_many_tasks",
        }
    }
}
