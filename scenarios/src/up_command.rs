//! `quorum up`: a supervisor in this process and its workers as child processes
//! (this same binary, `quorum worker`), on loopback, in the foreground until Ctrl-C
//! or SIGTERM; then the supervisor ends its tasks in flight and the workers stop.
//!
//! Each worker's standard input is a pipe from this process: closing it stops the
//! worker gracefully, and when this process dies however it dies, the pipe closes
//! and its workers stop too. The shared token reaches them through their
//! environment, never their command line.

use core::time::Duration;
use std::net::SocketAddr;
use std::process::Stdio;

use quorum_core::WorkerId;
use quorum_real::GrpcConfig;
use quorum_real::node::{LlmChoice, SupervisorNode, SupervisorNodeConfig, TOKEN_FILE_ENV, TokenSecret, mock_questions};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::live_error::{LiveError, runtime, say, shutdown_signal};
use crate::model_args::ModelArgs;
use crate::supervisor_command::{SUPERVISOR_ADDRESS_DEFAULT, serve_metrics, supervisor_config};

/// Most workers `up` starts: it is for one machine.
pub const UP_WORKERS_MAX: usize = 64;
/// Longest a worker may take to serve and join.
const WORKER_START_MS_MAX: u64 = 30_000;
/// Longest a worker may take to stop once asked; then it is killed.
const WORKER_STOP_MS_MAX: u64 = 10_000;
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
    /// How logs are written.
    #[command(flatten)]
    pub logs: crate::LogArgs,
}

/// A worker process. Killed when dropped (a guard: no worker outlives a failed
/// start).
struct WorkerChild {
    id: WorkerId,
    /// Dropping it closes the worker's standard input: it stops gracefully.
    stdin: Option<ChildStdin>,
    /// Kills it at once.
    kill: Option<oneshot::Sender<()>>,
    /// Waits for it and reports how it ended.
    exited: JoinHandle<()>,
}

/// How a worker process ended.
struct WorkerExit {
    id: WorkerId,
    pid: u32,
    status: String,
}

/// Runs `quorum up` until Ctrl-C or SIGTERM.
///
/// # Errors
/// [`LiveError`] for bad flags or a missing model endpoint (exit 2), workers that
/// do not start (exit 1).
pub fn up(args: &UpArgs) -> Result<(), LiveError> {
    if args.workers == 0 || args.workers > UP_WORKERS_MAX {
        return Err(LiveError::BadInput(format!("--workers {}: must be in 1..={UP_WORKERS_MAX}", args.workers)));
    }
    let choice = args.model.choice();
    choice.check()?;
    let (token, token_note) = match TokenSecret::from_var()? {
        Some(token) => (token, "token: QUORUM_TOKEN from the environment".to_owned()),
        None => {
            let token = TokenSecret::fresh()?;
            let path = TokenSecret::file();
            token.write_file(&path)?;
            (token, format!("token: generated, in {} (readable by you alone) for clients", path.display()))
        }
    };
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
        };
        let mut node = SupervisorNode::start(config, token.token().clone(), listener)?;
        say(&format!("supervisor listening on {bound}"));
        serve_metrics(&mut node, args.metrics).await?;
        let (exits, mut exited) = mpsc::unbounded_channel();
        let supervisor = format!("http://{}", loopback(bound));
        let mut workers = Vec::with_capacity(args.workers);
        for index in 1..=args.workers {
            let id = WorkerId::new(format!("w{index}"));
            workers.push(
                start_worker(&exe, &id, &supervisor, &args.model, args.logs.log_format, &token, exits.clone()).await?,
            );
        }
        wait_until_joined(&node, &workers, &mut exited).await?;
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

/// `bound` as clients on this machine reach it (0.0.0.0 is reached on 127.0.0.1).
fn loopback(bound: SocketAddr) -> SocketAddr {
    match bound {
        SocketAddr::V4(v4) if v4.ip().is_unspecified() => SocketAddr::from(([127, 0, 0, 1], v4.port())),
        SocketAddr::V6(v6) if v6.ip().is_unspecified() => SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, v6.port())),
        other => other,
    }
}

/// Starts `quorum worker` as `id`; returns once it serves (its first line).
async fn start_worker(
    exe: &std::path::Path,
    id: &WorkerId,
    supervisor: &str,
    model: &ModelArgs,
    logs: crate::LogFormat,
    token: &TokenSecret,
    exits: mpsc::UnboundedSender<WorkerExit>,
) -> Result<WorkerChild, LiveError> {
    let (variable, secret) = token.environment();
    let mut child = Command::new(exe)
        .args(["worker", "--listen", "127.0.0.1:0", "--supervisor", supervisor, "--id", id.as_str()])
        .arg("--stop-with-parent")
        .args(["--log-format", logs.as_flag()])
        .args(model.to_args())
        .env(variable, secret)
        .env_remove(TOKEN_FILE_ENV)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .map_err(|error| LiveError::Failed(format!("cannot start worker {id}: {error}")))?;
    let pid = child.id().unwrap_or_default();
    let stdin = child.stdin.take();
    let mut lines = BufReader::new(child.stdout.take().expect("stdout is piped")).lines();
    let first = tokio::time::timeout(Duration::from_millis(WORKER_START_MS_MAX), lines.next_line()).await;
    let address = match first {
        Ok(Ok(Some(line))) => line.rsplit(' ').next().unwrap_or_default().to_owned(),
        Ok(Ok(None) | Err(_)) => {
            let status = child.wait().await.map_or_else(|error| error.to_string(), |status| status.to_string());
            return Err(LiveError::Failed(format!("worker {id} (pid {pid}) stopped before serving: {status}")));
        }
        Err(_) => return Err(LiveError::Failed(format!("worker {id} (pid {pid}) did not serve in time"))),
    };
    say(&format!("worker {id} pid {pid} at {address}"));
    // Its later lines (joined, left) go to ours.
    tokio::spawn(async move {
        while let Ok(Some(line)) = lines.next_line().await {
            say(&line);
        }
    });
    let (kill, killed) = oneshot::channel::<()>();
    let exited = tokio::spawn(watch(child, id.clone(), pid, killed, exits));
    Ok(WorkerChild { id: id.clone(), stdin, kill: Some(kill), exited })
}

/// Waits for the worker to end (or kills it when told) and reports how it ended.
async fn watch(
    mut child: Child,
    id: WorkerId,
    pid: u32,
    killed: oneshot::Receiver<()>,
    exits: mpsc::UnboundedSender<WorkerExit>,
) {
    let status = tokio::select! {
        status = child.wait() => status,
        _ = killed => {
            let _ = child.start_kill();
            child.wait().await
        }
    };
    let status = status.map_or_else(|error| error.to_string(), |status| status.to_string());
    let _ = exits.send(WorkerExit { id, pid, status });
}

/// Waits until every worker joined the supervisor; fails when one exits first or
/// the wait runs out.
async fn wait_until_joined(
    node: &SupervisorNode,
    workers: &[WorkerChild],
    exited: &mut mpsc::UnboundedReceiver<WorkerExit>,
) -> Result<(), LiveError> {
    let deadline = tokio::time::Instant::now() + Duration::from_millis(WORKER_START_MS_MAX);
    while !workers.iter().all(|worker| node.registry().contains(&worker.id)) {
        tokio::select! {
            Some(exit) = exited.recv() => {
                return Err(LiveError::Failed(format!(
                    "worker {} (pid {}) exited before joining: {}",
                    exit.id, exit.pid, exit.status
                )));
            }
            () = tokio::time::sleep(Duration::from_millis(20)) => {}
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(LiveError::Failed("the workers did not all join in time".to_owned()));
        }
    }
    Ok(())
}

/// Closes every worker's standard input (each leaves and stops gracefully); kills
/// those still running after [`WORKER_STOP_MS_MAX`].
async fn stop_workers(mut workers: Vec<WorkerChild>) {
    for worker in &mut workers {
        worker.stdin = None;
    }
    let deadline = tokio::time::Instant::now() + Duration::from_millis(WORKER_STOP_MS_MAX);
    for worker in &mut workers {
        if tokio::time::timeout_at(deadline, &mut worker.exited).await.is_err() {
            tracing::warn!(worker = %worker.id, "worker did not stop in time; killing it");
            if let Some(kill) = worker.kill.take() {
                let _ = kill.send(());
            }
            let _ = (&mut worker.exited).await;
        }
    }
}

fn show_questions() {
    let workload = mock_questions();
    say(&format!("the mock knows {} questions (text exactly as shown), such as:", workload.tasks.len()));
    for planned in workload.tasks.iter().take(QUESTIONS_SHOWN) {
        say(&format!("question: {}", planned.task.text));
    }
}
