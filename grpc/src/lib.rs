//! quorum-grpc: quorum over gRPC, the one transport real mode ships and the
//! simulation tests (`--transport grpc`): the worker and supervisor servers, the
//! supervisor's [`quorum_core::WorkerLink`] to workers, and a client of the
//! supervisor; for P2P mode, the agent's server and its client.
//!
//! Servers take any stream of connections, clients any connector ([`Connect`]:
//! [`TcpConnect`] for real, [`Dial`] over a simulated network), and every task they
//! spawn goes through the config's [`Spawner`], so a simulated host can run this
//! same code deterministically.
//!
//! # Layout
//! - `proto`: the code generated from `proto/quorum.proto` and its descriptor set;
//! - `convert`: core types to the wire and back, every incoming field checked;
//! - `status`: errors to `tonic::Status` and back, in one place;
//! - `auth`: the shared bearer token and the interceptors that send and check it;
//! - `config`: deadlines, message limits, keepalive, the spawner;
//! - `spawner`: where tasks are spawned;
//! - `serve`: health and reflection beside each server, the connection loop, and
//!   the deadline a handler runs under;
//! - `worker_server`, `supervisor_server`, `agent_server`: the three servers;
//! - `link`: [`GrpcLink`], the supervisor's calls to workers;
//! - `dial`: [`Dial`], channels over any dialer;
//! - `client`: [`SupervisorClient`], for clients and for workers joining;
//! - `agent_client`: [`AgentClient`], for peers' deliveries and clients of an agent.

mod agent_client;
mod agent_server;
mod auth;
mod client;
mod config;
mod convert;
mod dial;
mod link;
mod proto;
mod serve;
mod spawner;
mod status;
mod supervisor_server;
mod worker_server;

pub use agent_client::AgentClient;
pub use agent_server::{AGENT_SERVICE, ServedAgent, serve_agent};
pub use auth::{AUTH_TOKEN_BYTES_MAX, AUTH_TOKEN_BYTES_MIN, AuthToken, RequireToken, SendToken, TokenError};
pub use client::{SubmittedTask, SupervisorClient};
pub use config::{GrpcConfig, PROGRESS_EVENTS_MAX, REPLY_BYTES_MAX_DEFAULT, REQUEST_BYTES_MAX_DEFAULT};
pub use convert::{ERROR_JSON_BYTES_MAX, FieldError, WORKER_ADDRESS_BYTES_MAX, WORKER_ID_BYTES_MAX};
pub use dial::Dial;
pub use link::{Connect, GrpcLink, TcpConnect};
pub use serve::{ServeError, tcp_incoming};
pub use spawner::Spawner;
pub use status::ClientError;
pub use supervisor_server::{SUPERVISOR_SERVICE, serve_supervisor};
pub use worker_server::{ServedWorker, WORKER_SERVICE, serve_worker};
