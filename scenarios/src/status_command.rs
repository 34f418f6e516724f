//! `quorum status`: whether a supervisor serves, and its workers and tasks.

use quorum_core::WorkerSummary;
use serde::Serialize;

use crate::live_error::{LiveError, runtime, say};
use crate::submit_command::Target;
use crate::supervisor_command::SUPERVISOR_ADDRESS_DEFAULT;

/// `quorum status`'s flags.
#[derive(Clone, Debug, clap::Args)]
pub struct StatusArgs {
    /// The supervisor (`host:port`).
    #[arg(long, default_value = SUPERVISOR_ADDRESS_DEFAULT)]
    pub supervisor: String,
    /// One JSON object.
    #[arg(long)]
    pub json: bool,
    /// How logs are written.
    #[command(flatten)]
    pub logs: crate::LogArgs,
}

/// What `quorum status --json` prints.
#[derive(Debug, Serialize)]
pub struct StatusOutput {
    /// The supervisor's address.
    pub supervisor: String,
    /// Always true: a supervisor that does not serve is an error (exit 3).
    pub serving: bool,
    /// Every worker, its health and load.
    pub workers: Vec<WorkerSummary>,
    /// Tasks waiting.
    pub queued: usize,
    /// Tasks running.
    pub running: usize,
}

/// Runs `quorum status`.
///
/// # Errors
/// [`LiveError`] for a missing token or a bad address (exit 2), a supervisor that
/// cannot be reached or refuses the token (exit 3).
pub fn status(args: &StatusArgs) -> Result<(), LiveError> {
    let target = Target::new(&args.supervisor)?;
    let status =
        runtime()?.block_on(async { target.connect()?.status().await.map_err(|error| target.failed(error)) })?;
    let output = StatusOutput {
        supervisor: target.address.clone(),
        serving: true,
        workers: status.workers,
        queued: status.queued,
        running: status.running,
    };
    if args.json {
        say(&serde_json::to_string(&output).map_err(|error| LiveError::Failed(error.to_string()))?);
        return Ok(());
    }
    let mut text = format!(
        "supervisor at {} is serving: {} worker(s), {} task(s) running, {} queued",
        output.supervisor,
        output.workers.len(),
        output.running,
        output.queued
    );
    for worker in &output.workers {
        text.push_str(&format!(
            "\n  {:<24} {:<10} load {}/{}",
            worker.worker.as_str(),
            format!("{:?}", worker.status).to_lowercase(),
            worker.load,
            worker.capacity
        ));
    }
    say(&text);
    Ok(())
}
