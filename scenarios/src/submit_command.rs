//! `quorum submit`: one task to a running supervisor; its events as they come, then
//! its result.

use quorum_core::consensus::ConsensusConfig;
use quorum_core::p2p::TaskStatus;
use quorum_core::{Outcome, Task, TaskEvent, TaskResult};
use quorum_real::node::{TokenSecret, http_address};
use quorum_real::{AgentClient, GrpcConfig, SupervisorClient};
use serde::Serialize;

use crate::live_error::{LiveError, runtime, say};
use crate::supervisor_command::SUPERVISOR_ADDRESS_DEFAULT;

/// `quorum submit`'s flags.
#[derive(Clone, Debug, clap::Args)]
pub struct SubmitArgs {
    /// The task's text.
    pub text: String,
    /// The supervisor (`host:port`).
    #[arg(long, default_value = SUPERVISOR_ADDRESS_DEFAULT)]
    pub supervisor: String,
    /// A P2P agent to submit to instead of a supervisor (`host:port`; any agent of
    /// the network takes tasks). Waits until the task is committed.
    #[arg(long, value_name = "ADDR")]
    pub agent: Option<String>,
    /// With --agent: how long to wait for the commit, ms.
    #[arg(long, default_value_t = 120_000)]
    pub wait_ms: u64,
    /// The task's id (default: unique per call). Submitting an id again returns
    /// that task's result, never a second run.
    #[arg(long)]
    pub id: Option<String>,
    /// Print one JSON object with the result instead of the events.
    #[arg(long)]
    pub json: bool,
    /// How logs are written.
    #[command(flatten)]
    pub logs: crate::LogArgs,
}

/// What `quorum submit --json` prints.
#[derive(Debug, Serialize)]
pub struct SubmitOutput {
    /// The task's id.
    pub task: String,
    /// `agreed`, `no_consensus` or `failed`.
    pub outcome: &'static str,
    /// The agreed answer (none without agreement).
    pub answer: Option<String>,
    /// The leader's share of the counted weight (0 when the task failed).
    pub support: f64,
    /// Workers whose answers were counted.
    pub voters: Vec<String>,
    /// Model calls made for the task.
    pub llm_calls: u64,
    /// Tokens used, prompt and completion.
    pub tokens: u64,
    /// The whole result: votes, alternatives, failures, timings.
    pub result: TaskResult,
}

impl SubmitOutput {
    /// The summary of `result`.
    pub fn of(result: TaskResult) -> Self {
        let (outcome, answer, support) = match &result.outcome {
            Outcome::Agreed { answer, support, .. } => ("agreed", Some(answer.clone()), *support),
            Outcome::NoConsensus { support, .. } => ("no_consensus", None, *support),
            Outcome::Failed { .. } => ("failed", None, 0.0),
        };
        let metadata = &result.metadata;
        Self {
            task: result.task.as_str().to_owned(),
            outcome,
            answer,
            support,
            voters: metadata.votes.iter().map(|vote| vote.worker.as_str().to_owned()).collect(),
            llm_calls: metadata.llm_calls,
            tokens: metadata.prompt_tokens.saturating_add(metadata.completion_tokens),
            result,
        }
    }

    /// One line for people.
    pub fn render(&self) -> String {
        let how = format!(
            "support {:.2}, {} vote(s) from {}, {} model call(s), {} token(s)",
            self.support,
            self.voters.len(),
            if self.voters.is_empty() { "nobody".to_owned() } else { self.voters.join(", ") },
            self.llm_calls,
            self.tokens
        );
        match (&self.result.outcome, &self.answer) {
            (Outcome::Agreed { .. }, Some(answer)) => format!("agreed: {answer} ({how})"),
            (Outcome::Failed { reason }, _) => format!("failed: {} ({how})", serde_json::json!(reason)),
            (Outcome::NoConsensus { reason, .. }, _) => format!("no consensus: {} ({how})", serde_json::json!(reason)),
            (Outcome::Agreed { .. }, None) => format!("agreed ({how})"),
        }
    }
}

/// The supervisor a client command talks to, and the token it sends.
#[derive(Debug)]
pub struct Target {
    /// `http://host:port`.
    pub address: String,
    token: TokenSecret,
}

impl Target {
    /// The supervisor at `address` with the token from the environment.
    ///
    /// # Errors
    /// [`LiveError`] for a missing token or a bad address (exit 2).
    pub fn new(address: &str) -> Result<Self, LiveError> {
        let token = TokenSecret::required()?;
        let address = http_address(address).map_err(|error| LiveError::BadInput(format!("--supervisor: {error}")))?;
        Ok(Self { address, token })
    }

    /// A client; must be called inside the runtime that will drive it.
    ///
    /// # Errors
    /// [`LiveError::Supervisor`] for an address the client refuses.
    pub fn connect(&self) -> Result<SupervisorClient, LiveError> {
        SupervisorClient::connect_lazy(&self.address, self.token.token(), GrpcConfig::default())
            .map_err(|error| self.failed(error))
    }

    /// `error` from this supervisor.
    pub fn failed(&self, error: quorum_real::ClientError) -> LiveError {
        LiveError::Supervisor { supervisor: self.address.clone(), error }
    }
}

/// Runs `quorum submit`; returns whether the task was agreed.
///
/// # Errors
/// [`LiveError`] for a missing token or bad input (exit 2), a supervisor that
/// cannot be reached or refuses the token (exit 3).
pub fn submit(args: &SubmitArgs) -> Result<bool, LiveError> {
    let id = args.id.clone().unwrap_or_else(fresh_id);
    let task = Task::new(id.as_str(), args.text.clone());
    task.validate().map_err(|error| LiveError::BadInput(format!("the task: {error}")))?;
    if let Some(agent) = &args.agent {
        return submit_to_agent(args, agent, task);
    }
    let target = Target::new(&args.supervisor)?;
    let result = runtime()?.block_on(async {
        let mut events = target.connect()?.submit(task).await.map_err(|error| target.failed(error))?;
        loop {
            match events.next().await.map_err(|error| target.failed(error))? {
                Some(TaskEvent::Finished { result }) => return Ok(*result),
                Some(event) if !args.json => say(&render_event(&event)),
                Some(_) => {}
                None => return Err(LiveError::Failed(format!("the events of {id} ended before its result"))),
            }
        }
    })?;
    print_result(result, args.json)
}

/// Prints a result (one JSON object, or a line for people); returns whether it was
/// agreed.
fn print_result(result: TaskResult, json: bool) -> Result<bool, LiveError> {
    let output = SubmitOutput::of(result);
    if json {
        say(&serde_json::to_string(&output).map_err(|error| LiveError::Failed(error.to_string()))?);
    } else {
        say(&output.render());
    }
    Ok(output.outcome == "agreed")
}

/// How often `submit --agent` asks whether the task is committed.
const AGENT_POLL_MS: u64 = 200;

/// `quorum submit --agent`: the task to one agent, then its status until committed.
fn submit_to_agent(args: &SubmitArgs, agent: &str, task: Task) -> Result<bool, LiveError> {
    let token = TokenSecret::required()?;
    let address = http_address(agent).map_err(|error| LiveError::BadInput(format!("--agent: {error}")))?;
    let failed = |error: quorum_real::ClientError| LiveError::Supervisor { supervisor: address.clone(), error };
    let id = task.id.clone();
    let committed = runtime()?.block_on(async {
        let client = AgentClient::connect(&address, token.token(), GrpcConfig::default()).map_err(failed)?;
        let submitted = client.submit(task).await.map_err(failed)?;
        if !args.json {
            say(&format!("{}: {submitted:?}", id.as_str()));
        }
        let deadline = tokio::time::Instant::now() + core::time::Duration::from_millis(args.wait_ms);
        loop {
            if let TaskStatus::Committed(done) = client.status(&id).await.map_err(failed)? {
                return Ok(*done);
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(LiveError::Failed(format!("{id} was not committed within {} ms", args.wait_ms)));
            }
            tokio::time::sleep(core::time::Duration::from_millis(AGENT_POLL_MS)).await;
        }
    })?;
    if !args.json {
        let (height, view, proposer) = (committed.height, committed.view.0, &committed.proposer);
        say(&format!("committed at height {height} (view {view}, proposed by {proposer})"));
    }
    print_result(committed.task_result(&ConsensusConfig::default(), 0, 0), args.json)
}

/// A task id no other call makes: the time and this process.
fn fresh_id() -> String {
    let since_epoch = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    format!("cli-{}-{}", since_epoch.as_millis(), std::process::id())
}

fn render_event(event: &TaskEvent) -> String {
    match event {
        TaskEvent::Accepted => "accepted".to_owned(),
        TaskEvent::RoundStarted { attempt, workers } => {
            let workers: Vec<&str> = workers.iter().map(|worker| worker.as_str()).collect();
            format!("round {attempt}: asked {}", workers.join(", "))
        }
        TaskEvent::Answered { worker, attempt, text, confidence, .. } => {
            format!("round {attempt}: {worker} answered {text:?} (confidence {confidence:.2})")
        }
        TaskEvent::Failed { worker, attempt, error } => format!("round {attempt}: {worker} failed: {error}"),
        TaskEvent::Dropped { events } => format!("({events} event(s) dropped: this client fell behind)"),
        TaskEvent::Finished { .. } => "finished".to_owned(),
    }
}
