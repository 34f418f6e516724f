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
//! - Real mode, thin over quorum-real: `supervisor_command` (`quorum supervisor`),
//!   `worker_command` (`quorum worker`), `up_command` (`quorum up`: a supervisor and
//!   its worker processes), `submit_command` (`quorum submit`), `status_command`
//!   (`quorum status`); `model_args` (`--llm mock|openai`), `live_error`
//!   ([`LiveError`], exit codes, signals); `data_dir` (where `up` keeps its
//!   journal).

mod agent_command;
pub mod catalogue;
mod consensus_command;
mod data_dir;
pub mod html_report;
mod link_cuts;
mod live_error;
mod live_fault_plan;
mod live_run;
mod log_format;
pub mod minimize;
mod model_args;
mod p2p_catalogue;
mod progress_bar;
mod prop_command;
pub mod runner;
pub mod scenario;
pub mod scenario_file;
mod status_command;
mod submit_command;
mod supervisor_command;
pub mod sweep;
mod up_command;
mod worker_command;
mod worker_process;

pub use agent_command::{AgentArgs, agent};
pub use catalogue::{catalogue, find};
pub use consensus_command::{
    AnswerInput, ConsensusCommandError, ConsensusInput, ConsensusOutput, INPUT_BYTES_MAX, StrategyChoice,
    consensus_output, run_consensus,
};
pub use data_dir::{DATA_DIR_ENV, JOURNAL_FILE, data_dir_default};
pub use html_report::render_report;
pub use live_error::{EXIT_BAD_INPUT, EXIT_FAILED, EXIT_UNREACHABLE, LiveError};
pub use live_fault_plan::NotApplicable;
pub use live_run::{
    AppliedAction, AppliedFault, LIVE_TASKS_MAX, LiveFlags, LiveReport, LiveRun, LiveRunArgs, LiveTaskResult,
    render_live, run_live,
};
pub use log_format::{LogArgs, LogFormat, init_logs};
pub use minimize::{MINIMIZE_RUNS_MAX, MinimizeError, Minimized, minimize};
pub use model_args::{LlmFlag, ModelArgs};
pub use progress_bar::{ProgressLabels, progress_printer};
pub use prop_command::{
    ConfigOutcome, PROP_CONFIG_BYTES_MAX, PropCommandError, PropReport, PropertyResult, consensus_input,
    parse_consensus_config, run_prop,
};
pub use runner::{Invocation, Overrides, SUMMARY_VIOLATIONS_MAX, ScenarioRun, Source, render_summary, run_scenario};
pub use scenario::{ExpectationFailure, Expectations, FailureKind, Scenario};
pub use scenario_file::{ScenarioFile, ScenarioFileError, parse_scenario, to_toml};
pub use status_command::{StatusArgs, StatusOutput, status};
pub use submit_command::{SubmitArgs, SubmitOutput, submit};
pub use supervisor_command::{SUPERVISOR_ADDRESS_DEFAULT, SupervisorArgs, supervisor, supervisor_config};
pub use sweep::{MergeError, SweepPlan, SweepSummary, merge, missing_shards, sweep};
pub use up_command::{UP_WORKERS_MAX, UpArgs, up};
pub use worker_command::{WorkerArgs, worker};
