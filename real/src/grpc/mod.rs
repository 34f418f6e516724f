//! quorum over gRPC: the worker and supervisor servers, the supervisor's
//! [`quorum_core::WorkerLink`] to workers, and a client of the supervisor.
//!
//! # Layout
//! - `proto`: the code generated from `proto/quorum.proto` and its descriptor set;
//! - `convert`: core types to the wire and back, every incoming field checked;
//! - `status`: errors to `tonic::Status` and back, in one place;
//! - `auth`: the shared bearer token and the interceptors that send and check it;
//! - `config`: deadlines, message limits, keepalive;
//! - `serve`: health and reflection beside each server;
//! - `worker_server`, `supervisor_server`: the two servers;
//! - `link`: [`GrpcLink`], the supervisor's calls to workers;
//! - `client`: [`SupervisorClient`], for clients and for workers joining.
//!
//! Servers take any stream of connections and clients any connector, so a
//! simulated network can run this same code.

mod auth;
mod client;
mod config;
mod convert;
mod link;
mod proto;
mod serve;
mod status;
mod supervisor_server;
mod worker_server;

pub use auth::{AUTH_TOKEN_BYTES_MAX, AUTH_TOKEN_BYTES_MIN, AuthToken, RequireToken, SendToken, TokenError};
pub use client::{SubmittedTask, SupervisorClient};
pub use config::{GrpcConfig, PROGRESS_EVENTS_MAX, REPLY_BYTES_MAX_DEFAULT, REQUEST_BYTES_MAX_DEFAULT};
pub use convert::{ERROR_JSON_BYTES_MAX, FieldError, WORKER_ADDRESS_BYTES_MAX, WORKER_ID_BYTES_MAX};
pub use link::{Connect, GrpcLink, TcpConnect};
pub use serve::ServeError;
pub use status::ClientError;
pub use supervisor_server::{SUPERVISOR_SERVICE, serve_supervisor};
pub use worker_server::{WORKER_SERVICE, serve_worker};
