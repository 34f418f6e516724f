//! quorum-sim: the deterministic simulation world.
//!
//! One `u64` seed decides one exact run of a whole cluster: turmoil's network and
//! every host's tokio runtime, the mock LLMs, the workload and the fault schedule.
//!
//! The public surface is small, like turmoil's: a [`ClusterConfig`] (or a
//! [`ClusterBuilder`]), [`run`], and what a run returns ([`RunOutcome`], its
//! [`Trace`], [`RunReport`] and [`Violation`]s). Every module is private.
//!
//! # Layout
//! - `cluster`: the config and its validation, the builder, the run (builds the
//!   turmoil world, steps it, accounts for it), its outcome, and the fault injector
//!   that applies and heals faults on the world.
//! - `hosts`: the supervisor (quorum-core's driver over the `SimLink` of `link`),
//!   workers (quorum-core's worker over [`quorum_core::mock::MockLlm`], which records
//!   its calls in the [`Trace`]) and `SimScaler`, which switches spare workers; the
//!   client is in `client`, the hostile workers' wire behaviour in `hostile`.
//! - `wire`: the vocabulary of calls between hosts, and the length-delimited frames
//!   that carry it on the simulated network by default;
//! - `transport`: frames or quorum-grpc (the gRPC stack real mode ships) over
//!   turmoil TCP, chosen per run ([`Transport`]).
//! - `journal_disk`: [`TurmoilDisk`], the journal's redb backend over turmoil's
//!   simulated file system, and the [`DiskPower`] a crash cuts;
//! - `p2p`: P2P mode ([`Mode::P2p`]): agent hosts running quorum-core's P2P agent
//!   (HotStuff, delegation) with byzantine behaviours and twins, their client, and the
//!   safety and validity checks over their commits;
//! - `faults`, `invariants`, `trace`, `report`, `sim_time`; the workload is
//!   `quorum_core::mock::workload`.

// Internals stay `pub(crate)`: what users need is re-exported below.
#![warn(unreachable_pub)]

mod client;
mod cluster;
mod faults;
mod hostile;
mod hosts;
mod invariants;
mod journal_disk;
mod link;
mod p2p;
mod report;
mod sim_time;
mod trace;
mod transport;
mod wire;

pub use client::ClientRecord;
pub use cluster::{
    CLIENT_HOST, ClientConfig, ClusterBuilder, ClusterConfig, ClusterError, Mode, RunBudget, RunOutcome, RunWindow,
    SUPERVISOR_HOST, WorkerPlan, check_determinism, honest_workers, named_workers, panic_message, run, run_with_budget,
};
pub use faults::{Fault, FaultKind, FaultPlan, Swarm};
pub use invariants::{Invariant, Violation};
pub use journal_disk::{DiskPower, TurmoilDisk};
pub use p2p::{AgentBehaviour, AgentPlan, P2pConfig, P2pReport, honest_agents};
// The mock's profile is part of `ClusterConfig`: scenario files and the CLI name it here.
pub use quorum_core::mock::{
    AnswerStyle, Byzantine, ConfidenceBehaviour, FailureRates, LatencyProfile, LlmProfile, MistakeStyle,
};
pub use report::{RunReport, is_correct};
pub use sim_time::{SimTime, init_tracing};
pub use trace::{Divergence, Happening, LlmReply, Reply, Request, Trace, TraceEvent, first_divergence};
pub use transport::Transport;
