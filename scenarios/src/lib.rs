//! quorum-scenarios: the scenario catalogue and the `quorum` command-line tool.
//!
//! # Layout
//! - [`scenario`]: [`Scenario`] and its [`Expectations`].
//! - [`catalogue`]: the built-in scenarios.
//! - [`scenario_file`]: scenarios from TOML files.
//! - [`runner`]: one scenario at one seed ([`run_scenario`]) and its summary.
//! - [`sweep`]: many seeds, in parallel, sharded, with determinism checks.
//! - [`minimize`]: the smallest reproduction of a failing seed.
//! - [`html_report`]: the self-contained HTML report.
//! - `consensus_command`: `quorum consensus FILE` ([`run_consensus`]).
//! - `prop_command`: `quorum prop` ([`run_prop`]).

pub mod catalogue;
mod consensus_command;
pub mod html_report;
pub mod minimize;
mod prop_command;
pub mod runner;
pub mod scenario;
pub mod scenario_file;
pub mod sweep;

pub use catalogue::{catalogue, find};
pub use consensus_command::{
    AnswerInput, ConsensusCommandError, ConsensusInput, ConsensusOutput, INPUT_BYTES_MAX, StrategyChoice,
    consensus_output, run_consensus,
};
pub use html_report::render_report;
pub use minimize::{MINIMIZE_RUNS_MAX, MinimizeError, Minimized, minimize};
pub use prop_command::{
    ConfigOutcome, PROP_CONFIG_BYTES_MAX, PropCommandError, PropReport, PropertyResult, consensus_input,
    parse_consensus_config, run_prop,
};
pub use runner::{Invocation, Overrides, SUMMARY_VIOLATIONS_MAX, ScenarioRun, Source, render_summary, run_scenario};
pub use scenario::{ExpectationFailure, Expectations, FailureKind, Scenario};
pub use scenario_file::{ScenarioFile, ScenarioFileError, parse_scenario, to_toml};
pub use sweep::{MergeError, SweepPlan, SweepSummary, merge, missing_shards, sweep};
