//! quorum-scenarios: the scenario catalogue and the `quorum` command-line tool.
//!
//! # Layout
//! - `consensus_command`: `quorum consensus FILE` ([`run_consensus`]).

mod consensus_command;

pub use consensus_command::{
    AnswerInput, ConsensusCommandError, ConsensusInput, ConsensusOutput, INPUT_BYTES_MAX, StrategyChoice,
    consensus_output, run_consensus,
};
