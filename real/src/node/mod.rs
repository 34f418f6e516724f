//! quorum as processes: a supervisor node and a worker node, each serving on a TCP
//! listener its caller binds until a shutdown future its caller gives, and what the
//! commands that start them share (the shared token from the environment, the
//! model a worker asks, addresses).
//!
//! # Layout
//! - `address`: `host:port` or `http://host:port` to the `http://host:port` the wire
//!   carries ([`http_address`]);
//! - `token_secret`: the shared token from `QUORUM_TOKEN` or a token file, or a
//!   fresh one ([`TokenSecret`]);
//! - `llm_choice`: the model a worker asks, the seeded mock or an OpenAI-compatible
//!   endpoint ([`LlmChoice`]), and the questions the mock knows ([`mock_questions`]);
//! - `supervisor_node`: [`SupervisorNode`], a supervisor and its gRPC server, and
//!   its journal on a file when given one;
//! - `worker_node`: [`run_worker`], a worker's gRPC server that joins a supervisor
//!   at start and leaves it at shutdown;
//! - `agent_node`: [`run_agent`], a P2P agent: its gRPC server, its peers'
//!   identities, and quorum-core's agent driver over a real disk, network and model;
//! - `node_error`: [`NodeError`], what can stop any of them.

mod address;
mod agent_node;
mod llm_choice;
mod node_error;
mod supervisor_node;
mod token_secret;
mod worker_node;

pub use address::{AddressError, http_address};
pub use agent_node::{AgentNodeConfig, AgentNodeEvent, agent_key_in, run_agent};
pub use llm_choice::{
    LlmChoice, LlmChoiceError, MOCK_QUESTIONS, MOCK_WORKLOAD_SEED, MockSettings, MockWorkload, mock_questions,
};
pub use node_error::NodeError;
pub use supervisor_node::{SupervisorNode, SupervisorNodeConfig};
pub use token_secret::{TOKEN_ENV, TOKEN_FILE_ENV, TokenSecret, TokenSecretError, token_file_default};
pub use worker_node::{WorkerNodeConfig, WorkerNodeEvent, run_worker};
