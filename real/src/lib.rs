//! quorum-real: the real runtime.
//!
//! # Layout
//! - [`openai`]: the live LLM, [`OpenAiLlm`], for any OpenAI-compatible endpoint
//!   (OpenAI, or a local llama-server), with our own rate limiting and fault mapping.
//! - gRPC, re-exported from quorum-grpc (the transport simulation runs too): the worker and supervisor gRPC servers ([`serve_worker`],
//!   [`serve_supervisor`]), the supervisor's link to workers ([`GrpcLink`]), a
//!   client of the supervisor ([`SupervisorClient`]), the shared token
//!   ([`AuthToken`]) and the settings they share ([`GrpcConfig`]).
//! - [`node`]: quorum as processes: [`node::SupervisorNode`] and [`node::run_worker`]
//!   over a listener and a shutdown future from the caller, the shared token from
//!   the environment ([`node::TokenSecret`]), the model a worker asks
//!   ([`node::LlmChoice`]).
//! - [`metrics`]: a supervisor's Prometheus metrics ([`metrics::TaskMetrics`] from
//!   its results) served as `GET /metrics` ([`metrics::serve_metrics`]).
//!
//! Still to come here: the process `Scaler`.

use quorum_grpc as grpc;
pub mod metrics;
pub mod node;
pub mod openai;

pub use grpc::{
    AGENT_SERVICE, AUTH_TOKEN_BYTES_MAX, AUTH_TOKEN_BYTES_MIN, AgentClient, AuthToken, ClientError, Connect, Dial,
    ERROR_JSON_BYTES_MAX, FieldError, GrpcConfig, GrpcLink, PROGRESS_EVENTS_MAX, REPLY_BYTES_MAX_DEFAULT,
    REQUEST_BYTES_MAX_DEFAULT, RequireToken, SUPERVISOR_SERVICE, SendToken, ServeError, ServedAgent, ServedWorker,
    Spawner, SubmittedTask, SupervisorClient, TcpConnect, TokenError, WORKER_ADDRESS_BYTES_MAX, WORKER_ID_BYTES_MAX,
    WORKER_SERVICE, serve_agent, serve_supervisor, serve_worker, tcp_incoming,
};
pub use openai::{OpenAiConfig, OpenAiConfigError, OpenAiLlm};
