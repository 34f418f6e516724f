//! P2P mode, first layer: agents without a fixed supervisor agree on each task's
//! result by HotStuff. Sans-IO like the supervisor machine: no sockets, no clock, no
//! randomness but what is seeded.
//!
//! # Layout
//! - Identities: [`AgentId`], [`AgentKey`] (ed25519, from a secret or a seed),
//!   [`Signature`], and the [`AgentRegistry`] (keys and addresses; leaders rotate over
//!   its sorted ids; an unknown key can neither answer, propose, vote nor time out).
//! - What is committed: [`Block`] (view, height, parent, the [`QuorumCert`] it
//!   extends, and an optional [`Payload`]: a task, whom the leader asked, their
//!   [`SignedAnswer`]s and `decide()` over them), hashed with sha256 ([`BlockHash`]).
//! - Messages: [`Proposal`], [`Vote`], [`Timeout`] (NEW-VIEW), block transfer
//!   ([`Message`], [`Transmit`], [`Destination`]).
//! - The replica: [`Replica`] (three-chain HotStuff as in LibraBFT, with its
//!   pacemaker), its [`SafetyRules`] and persisted [`SafetyState`], and every refused
//!   input as a [`Refusal`].
//! - (feature `harness`) `harness`: replicas, byzantine agents, crashes and a
//!   seeded lossy network in memory, for property tests.
//!
//! Everything signed or hashed is a hand-written canonical encoding with a domain tag
//! per kind (`encoding.rs`), never a serializer's field order.

mod agent;
mod answer;
mod block;
mod certificate;
mod committed;
mod driver;
mod encoding;
#[cfg(any(test, feature = "harness"))]
pub mod harness;
mod hex_bytes;
mod identity;
mod message;
mod next_step;
mod refusal;
mod registry;
mod replica;
mod safety;
mod validation;
mod view;

pub use agent::{
    Agent, AgentConfig, AgentStats, Ask, PeerMessage, PeerTransmit, Purpose, Reply, STEP_SEPARATOR, SubmitError,
    Submitted, TaskNotice, TaskStatus,
};
pub use answer::{Answer, SignedAnswer};
pub use block::{Block, BlockHash, Payload, Proposal};
pub use certificate::{QuorumCert, Vote};
pub use committed::CommittedTask;
pub use driver::{AgentInput, AgentIo, DriverError, drive_agent};
pub use identity::{AGENT_ID_BYTES_MAX, AgentId, AgentKey, Signature};
pub use message::{Destination, Message, Timeout, Transmit};
pub use next_step::{
    DELEGATION_DEPTH_MAX, DelegationLimits, NEXT_STEP_REPLY_BYTES_MAX, NextStep, NextStepError,
    PLANNER_COMPLETION_TOKENS_MAX, PLANNER_SYSTEM_PREFIX, PLANNER_TEMPERATURE, SUBTASKS_MAX, compose_text,
    parse_next_step, planner_prompt, subtask_text,
};
pub use refusal::Refusal;
pub use registry::{ADDRESS_BYTES_MAX, AGENTS_MAX, AgentEntry, AgentRegistry, AgentRegistryError};
pub use replica::{Commit, Replica, ReplicaConfig, ReplicaStats};
pub use safety::{SafetyRules, SafetyState};
pub use validation::TaskCandidate;
pub use view::View;
