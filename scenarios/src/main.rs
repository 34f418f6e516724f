//! The `quorum` command: a thin clap wrapper around quorum-scenarios.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

/// Exit code for input the tool refuses (bad file, bad flag).
const EXIT_BAD_INPUT: u8 = 2;

/// quorum: multi-agent LLM consensus and its deterministic simulation harness.
#[derive(Debug, Parser)]
#[command(name = "quorum", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the consensus engine on one set of answers (JSON) and print the decision.
    Consensus {
        /// The input file, or `-` for standard input.
        file: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Consensus { file } => consensus(&file),
    }
}

fn consensus(file: &PathBuf) -> ExitCode {
    let input = match read_input(file) {
        Ok(input) => input,
        Err(error) => return fail(&format!("{error:#}")),
    };
    match quorum_scenarios::run_consensus(&input) {
        Ok(output) => {
            let mut stdout = std::io::stdout().lock();
            if writeln!(stdout, "{output}").is_err() {
                return ExitCode::FAILURE;
            }
            ExitCode::SUCCESS
        }
        Err(error) => fail(&format!("{}: {error}", file.display())),
    }
}

fn read_input(file: &PathBuf) -> anyhow::Result<String> {
    let mut input = String::new();
    let limit = quorum_scenarios::INPUT_BYTES_MAX as u64 + 1;
    if file.as_os_str() == "-" {
        std::io::stdin().take(limit).read_to_string(&mut input).context("reading standard input")?;
    } else {
        std::fs::File::open(file)
            .and_then(|f| f.take(limit).read_to_string(&mut input))
            .with_context(|| format!("reading {}", file.display()))?;
    }
    Ok(input)
}

fn fail(message: &str) -> ExitCode {
    let _ = writeln!(std::io::stderr().lock(), "error: {message}");
    ExitCode::from(EXIT_BAD_INPUT)
}
