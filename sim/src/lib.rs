//! quorum-sim: the deterministic simulation world.
//!
//! One `u64` seed decides one exact run of a whole cluster: turmoil's network and
//! every host's tokio runtime, the mock LLMs, the workload and the fault schedule.
//!
//! # Layout
//! - [`cluster`]: [`ClusterConfig`] and [`run`]: builds the turmoil world, injects the
//!   faults, checks the invariants, reports.
//! - Hosts: the supervisor (the core driver over [`SimLink`]), workers (the core
//!   worker over [`MockLlm`], quorum-core's seeded mock, which records its calls in
//!   the [`Trace`]), the client; [`SimScaler`] switches spare workers.
//! - [`wire`]: the length-delimited frames on the simulated network.
//! - [`faults`], [`invariants`], [`trace`], [`report`]; the workload is
//!   `quorum_core::mock::workload`.

pub mod client;
pub mod cluster;
pub mod faults;
mod hostile;
pub mod hosts;
pub mod invariants;
mod link;
pub mod report;
mod sim_time;
pub mod trace;
pub mod wire;

pub use cluster::{
    CLIENT_HOST, ClusterBuilder, ClusterConfig, ClusterError, RunBudget, RunOutcome, RunWindow, SUPERVISOR_HOST,
    WorkerPlan, check_determinism, honest_workers, named_workers, panic_message, run, run_with_budget,
};
pub use faults::{Fault, FaultKind, FaultPlan, Swarm};
pub use hosts::SimScaler;
pub use invariants::{Invariant, Violation};
pub use link::SimLink;
// The mock's profile is part of `ClusterConfig`: scenario files and the CLI name it here.
pub use quorum_core::mock::{
    AnswerStyle, Byzantine, ConfidenceBehaviour, FailureRates, LatencyProfile, LlmProfile, MistakeStyle, MockLlm,
};
pub use report::RunReport;
pub use sim_time::{SimTime, init_tracing};
pub use trace::{Divergence, Happening, LlmReply, Reply, Request, Trace, TraceEvent, outcome_label};
