//! `quorum up`: a supervisor in this process and its workers as child processes
//! (this same binary, `quorum worker`, started as `worker_process` does), on
//! loopback, in the foreground until Ctrl-C or SIGTERM; then the supervisor ends its
//! tasks in flight and the workers stop.

use std::net::SocketAddr;
use std::path::PathBuf;

use quorum_core::WorkerId;
use quorum_real::GrpcConfig;
use quorum_real::node::{LlmChoice, SupervisorNode, SupervisorNodeConfig, TokenSecret, mock_questions};
use tokio::sync::mpsc;

use crate::data_dir::{data_dir_default, journal_in};
use crate::live_error::{LiveError, runtime, say, shutdown_signal};
use crate::model_args::ModelArgs;
use crate::supervisor_command::{SUPERVISOR_ADDRESS_DEFAULT, journal_line, serve_metrics, supervisor_config};
use crate::worker_process::{WorkerSpawn, stop_workers, wait_until_joined};

/// Most workers `up` starts: it is for one machine.
pub const UP_WORKERS_MAX: usize = 64;
/// Questions of the mock printed at start.
const QUESTIONS_SHOWN: usize = 5;

/// `quorum up`'s flags.
#[derive(Clone, Debug, clap::Args)]
pub struct UpArgs {
    /// Worker processes to start.
    #[arg(long, default_value_t = 3)]
    pub workers: usize,
    /// Where clients reach the supervisor (`host:port`; port 0 picks a free one).
    #[arg(long, default_value = SUPERVISOR_ADDRESS_DEFAULT)]
    pub listen: SocketAddr,
    /// The workers' model.
    #[command(flatten)]
    pub model: ModelArgs,
    /// Wait for every asked worker's answer (no early stop).
    #[arg(long)]
    pub all_votes: bool,
    /// Serve Prometheus metrics as `GET /metrics` on this `host:port` (port 0
    /// picks a free one, printed at start).
    #[arg(long, value_name = "ADDR")]
    pub metrics: Option<SocketAddr>,
    /// Where the supervisor keeps its journal (`DIR/journal.redb`, created when
    /// missing); a restart on the same directory resumes its tasks. Default:
    /// $QUORUM_DATA_DIR, else ~/.quorum/data.
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Keep everything in memory, no journal: a crash loses every task in flight
    /// (for throwaway runs, or a second `up` beside one that holds the journal).
    #[arg(long, conflicts_with = "data_dir")]
    pub no_journal: bool,
    /// Start P2P agents instead: no supervisor, `--agents` processes that commit
    /// every result by HotStuff; submit to any of them (`quorum submit --agent`).
    #[arg(long)]
    pub p2p: bool,
    /// With --p2p: agent processes to start (a network of n tolerates (n - 1) / 3
    /// faulty ones).
    #[arg(long, default_value_t = 4)]
    pub agents: usize,
    /// How logs are written.
    #[command(flatten)]
    pub logs: crate::LogArgs,
}

/// Runs `quorum up` until Ctrl-C or SIGTERM.
///
/// # Errors
/// [`LiveError`] for bad flags, a missing model endpoint or a journal that cannot
/// be opened (exit 2), workers that do not start (exit 1).
pub fn up(args: &UpArgs) -> Result<(), LiveError> {
    if args.p2p {
        return up_p2p(args);
    }
    if args.workers == 0 || args.workers > UP_WORKERS_MAX {
        return Err(LiveError::BadInput(format!("--workers {}: must be in 1..={UP_WORKERS_MAX}", args.workers)));
    }
    let choice = args.model.choice();
    choice.check()?;
    let (token, token_note) = token_for_up()?;
    let journal =
        if args.no_journal { None } else { Some(journal_in(&args.data_dir.clone().unwrap_or_else(data_dir_default))?) };
    let exe = std::env::current_exe()
        .map_err(|error| LiveError::Failed(format!("cannot find this program to start workers: {error}")))?;
    runtime()?.block_on(async {
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .map_err(|error| LiveError::BadInput(format!("cannot listen on {}: {error}", args.listen)))?;
        let bound = listener.local_addr().map_err(|error| LiveError::Failed(error.to_string()))?;
        let config = SupervisorNodeConfig {
            supervisor: supervisor_config(Some(args.workers), args.all_votes),
            grpc: GrpcConfig::default(),
            workers: Vec::new(),
            journal: journal.clone(),
        };
        let mut node = SupervisorNode::start(config, token.token().clone(), listener)?;
        say(&format!("supervisor listening on {bound}"));
        say(&journal_line(journal.as_deref()));
        serve_metrics(&mut node, args.metrics).await?;
        let (exits, mut exited) = mpsc::unbounded_channel();
        let spawn = WorkerSpawn {
            exe,
            supervisor: format!("http://{}", loopback(bound)),
            model: args.model.clone(),
            logs: args.logs.log_format,
            token: token.clone(),
            echo: true,
            exits,
        };
        let mut workers = Vec::with_capacity(args.workers);
        for index in 1..=args.workers {
            let worker = spawn.start(&WorkerId::new(format!("w{index}"))).await?;
            say(&format!("worker {} pid {} at {}", worker.id, worker.pid, worker.address));
            workers.push(worker);
        }
        wait_until_joined(node.registry(), &workers.iter().collect::<Vec<_>>(), &mut exited).await?;
        say(&token_note);
        if let LlmChoice::Mock(_) = choice {
            show_questions();
        }
        say("ready: Ctrl-C or SIGTERM stops the supervisor and its workers");
        let stopping = node.run_until(async {
            loop {
                tokio::select! {
                    why = shutdown_signal() => {
                        say(&format!("stopping ({why}): tasks in flight end with their results"));
                        return;
                    }
                    Some(exit) = exited.recv() => {
                        say(&format!("worker {} (pid {}) exited: {}", exit.id, exit.pid, exit.status));
                    }
                }
            }
        });
        let stopped = stopping.await;
        stop_workers(workers).await;
        say("stopped");
        stopped.map_err(LiveError::from)
    })
}

/// The shared token: `QUORUM_TOKEN`, else a fresh one written to the token file for
/// clients; and a line saying which.
fn token_for_up() -> Result<(TokenSecret, String), LiveError> {
    Ok(match TokenSecret::from_var()? {
        Some(token) => (token, "token: QUORUM_TOKEN from the environment".to_owned()),
        None => {
            let token = TokenSecret::fresh()?;
            let path = TokenSecret::file();
            token.write_file(&path)?;
            (token, format!("token: generated, in {} (readable by you alone) for clients", path.display()))
        }
    })
}

/// `quorum up --p2p`: `--agents` agent processes on loopback, each with the others
/// as peers and its key and safety state in `DATA_DIR/agents/aI`, until Ctrl-C or
/// SIGTERM.
fn up_p2p(args: &UpArgs) -> Result<(), LiveError> {
    if !(1..=quorum_core::p2p::AGENTS_MAX.min(UP_WORKERS_MAX)).contains(&args.agents) {
        return Err(LiveError::BadInput(format!("--agents {}: must be in 1..={UP_WORKERS_MAX}", args.agents)));
    }
    let choice = args.model.choice();
    choice.check()?;
    let (token, token_note) = token_for_up()?;
    let data_dir = args.data_dir.clone().unwrap_or_else(data_dir_default).join("agents");
    let exe = std::env::current_exe()
        .map_err(|error| LiveError::Failed(format!("cannot find this program to start agents: {error}")))?;
    runtime()?.block_on(async {
        // Every agent needs every other's address before it starts: ports free a
        // moment ago on loopback.
        let mut addresses = Vec::with_capacity(args.agents);
        for _ in 0..args.agents {
            let probe =
                std::net::TcpListener::bind("127.0.0.1:0").map_err(|error| LiveError::Failed(error.to_string()))?;
            addresses.push(probe.local_addr().map_err(|error| LiveError::Failed(error.to_string()))?.to_string());
        }
        let (exits, mut exited) = mpsc::unbounded_channel();
        let spawn = WorkerSpawn {
            exe,
            supervisor: String::new(),
            model: args.model.clone(),
            logs: args.logs.log_format,
            token: token.clone(),
            echo: true,
            exits,
        };
        let mut agents = Vec::with_capacity(args.agents);
        for (index, address) in addresses.iter().enumerate() {
            let id = WorkerId::new(format!("a{index}"));
            let peers: Vec<String> = addresses.iter().filter(|peer| *peer != address).cloned().collect();
            let agent = spawn.start_agent(&id, address, &peers, &data_dir.join(id.as_str())).await?;
            say(&format!("agent {} pid {} at {}", agent.id, agent.pid, agent.address));
            agents.push(agent);
        }
        say(&token_note);
        if let LlmChoice::Mock(_) = choice {
            show_questions();
        }
        say("started: each agent says when it is ready; Ctrl-C or SIGTERM stops them");
        loop {
            tokio::select! {
                why = shutdown_signal() => {
                    say(&format!("stopping ({why})"));
                    break;
                }
                Some(exit) = exited.recv() => {
                    say(&format!("agent {} (pid {}) exited: {}", exit.id, exit.pid, exit.status));
                }
            }
        }
        stop_workers(agents).await;
        say("stopped");
        Ok(())
    })
}

/// `bound` as clients on this machine reach it (0.0.0.0 is reached on 127.0.0.1).
pub(crate) fn loopback(bound: SocketAddr) -> SocketAddr {
    match bound {
        SocketAddr::V4(v4) if v4.ip().is_unspecified() => SocketAddr::from(([127, 0, 0, 1], v4.port())),
        SocketAddr::V6(v6) if v6.ip().is_unspecified() => SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, v6.port())),
        other => other,
    }
}

fn show_questions() {
    let workload = mock_questions();
    say(&format!("the mock knows {} questions (text exactly as shown), such as:", workload.tasks.len()));
    for planned in workload.tasks.iter().take(QUESTIONS_SHOWN) {
        say(&format!("question: {}", planned.task.text));
    }
}
