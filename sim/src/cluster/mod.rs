//! A simulated cluster and its run: one seed, one exact run.
//!
//! [`ClusterConfig`] (built by hand, from a scenario file or with [`ClusterBuilder`])
//! says what runs; [`run`] builds the turmoil world, applies the faults through the
//! injector, checks the invariants and returns a [`RunOutcome`].

mod builder;
mod config;
mod error;
mod injector;
mod outcome;
mod run;

pub use builder::{ClusterBuilder, honest_workers, named_workers};
pub use config::{CLIENT_HOST, ClientConfig, ClusterConfig, Mode, SUPERVISOR_HOST, WorkerPlan};
pub use error::ClusterError;
pub use outcome::RunOutcome;
pub use run::{RunBudget, RunWindow, check_determinism, panic_message, run, run_with_budget};
