//! [`WorkerProcess`]: a `quorum worker` child process on loopback, as `quorum up`
//! and `quorum run --live` start, watch, kill and stop them.
//!
//! Each worker's standard input is a pipe from this process: closing it stops the
//! worker gracefully, and when this process dies however it dies, the pipe closes
//! and its workers stop too. The shared token reaches them through their
//! environment, never their command line.

use core::time::Duration;
use std::path::PathBuf;
use std::process::Stdio;

use quorum_core::{WorkerId, WorkerRegistry};
use quorum_real::node::{TOKEN_FILE_ENV, TokenSecret};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::live_error::{LiveError, say};
use crate::model_args::ModelArgs;

/// Longest a worker may take to serve and join.
pub(crate) const WORKER_START_MS_MAX: u64 = 30_000;
/// Longest a worker may take to stop once asked; then it is killed.
const WORKER_STOP_MS_MAX: u64 = 10_000;

/// How to start workers: the same for each of them.
#[derive(Debug)]
pub(crate) struct WorkerSpawn {
    /// This program, run as `quorum worker`.
    pub exe: PathBuf,
    /// The supervisor they join (`http://host:port`).
    pub supervisor: String,
    /// Their model.
    pub model: ModelArgs,
    /// Their log format.
    pub logs: crate::LogFormat,
    /// The shared token.
    pub token: TokenSecret,
    /// Whether their later lines (joined, left) go to our standard output;
    /// otherwise they are dropped (`--json` output holds nothing else).
    pub echo: bool,
    /// Where each process's end is reported.
    pub exits: mpsc::UnboundedSender<WorkerExit>,
}

/// A worker process. Killed when the runtime that watches it ends (a guard: no
/// worker outlives a failed start).
#[derive(Debug)]
pub(crate) struct WorkerProcess {
    /// Its id.
    pub id: WorkerId,
    /// Its process id.
    pub pid: u32,
    /// Where it serves (`http://127.0.0.1:port`).
    pub address: String,
    /// Dropping it closes the worker's standard input: it stops gracefully.
    stdin: Option<ChildStdin>,
    /// Kills it at once.
    kill: Option<oneshot::Sender<()>>,
    /// Waits for it; gives how it ended.
    exited: JoinHandle<String>,
}

/// How a worker process ended.
#[derive(Clone, Debug)]
pub(crate) struct WorkerExit {
    /// Its id.
    pub id: WorkerId,
    /// Its process id.
    pub pid: u32,
    /// Its exit status, as the system tells it.
    pub status: String,
}

impl WorkerSpawn {
    /// Starts `quorum worker` as `id`; returns once it serves (its first line).
    ///
    /// # Errors
    /// [`LiveError::Failed`] when it cannot start, stops first or does not serve
    /// within [`WORKER_START_MS_MAX`].
    pub(crate) async fn start(&self, id: &WorkerId) -> Result<WorkerProcess, LiveError> {
        let args = ["worker", "--listen", "127.0.0.1:0", "--supervisor", &self.supervisor, "--id", id.as_str()];
        self.spawn(id, &args.map(str::to_owned)).await
    }

    /// Starts `quorum agent` as `id` on `listen` among `peers`, keeping its key and
    /// safety state in `data_dir` (`supervisor` is not used); returns once it
    /// serves. It runs once every peer has said who it is.
    ///
    /// # Errors
    /// As [`Self::start`].
    pub(crate) async fn start_agent(
        &self,
        id: &WorkerId,
        listen: &str,
        peers: &[String],
        data_dir: &std::path::Path,
    ) -> Result<WorkerProcess, LiveError> {
        let mut args: Vec<String> = ["agent", "--listen", listen, "--id", id.as_str()].map(str::to_owned).to_vec();
        args.extend(["--data-dir".to_owned(), data_dir.display().to_string()]);
        for peer in peers {
            args.extend(["--peer".to_owned(), peer.clone()]);
        }
        self.spawn(id, &args).await
    }

    /// Starts this program with `args` (then `--stop-with-parent`, the log format
    /// and the model); returns once it prints its first line, the address it serves.
    async fn spawn(&self, id: &WorkerId, args: &[String]) -> Result<WorkerProcess, LiveError> {
        let (variable, secret) = self.token.environment();
        let mut child = Command::new(&self.exe)
            .args(args)
            .arg("--stop-with-parent")
            .args(["--log-format", self.logs.as_flag()])
            .args(self.model.to_args())
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
        // Its later lines (joined, left) go to ours, or nowhere; read either way, so
        // that it never blocks on a full pipe.
        let echo = self.echo;
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                if echo {
                    say(&line);
                }
            }
        });
        let (kill, killed) = oneshot::channel::<()>();
        let exited = tokio::spawn(watch(child, id.clone(), pid, killed, self.exits.clone()));
        Ok(WorkerProcess { id: id.clone(), pid, address, stdin: Some(stdin).flatten(), kill: Some(kill), exited })
    }
}

impl WorkerProcess {
    /// Kills it at once (SIGKILL: `kill -9`, no goodbye) and waits until it is
    /// gone; gives its exit status.
    pub(crate) async fn kill(mut self) -> String {
        if let Some(kill) = self.kill.take() {
            let _ = kill.send(());
        }
        (&mut self.exited).await.unwrap_or_else(|error| error.to_string())
    }
}

/// Waits for the worker to end (or kills it when told) and reports how it ended.
async fn watch(
    mut child: Child,
    id: WorkerId,
    pid: u32,
    killed: oneshot::Receiver<()>,
    exits: mpsc::UnboundedSender<WorkerExit>,
) -> String {
    let status = tokio::select! {
        status = child.wait() => status,
        _ = killed => {
            let _ = child.start_kill();
            child.wait().await
        }
    };
    let status = status.map_or_else(|error| error.to_string(), |status| status.to_string());
    let _ = exits.send(WorkerExit { id, pid, status: status.clone() });
    status
}

/// Waits until every one of `workers` joined the supervisor at the address it
/// serves on; fails when one exits first or the wait runs out.
pub(crate) async fn wait_until_joined(
    registry: &WorkerRegistry<String>,
    workers: &[&WorkerProcess],
    exited: &mut mpsc::UnboundedReceiver<WorkerExit>,
) -> Result<(), LiveError> {
    let deadline = tokio::time::Instant::now() + Duration::from_millis(WORKER_START_MS_MAX);
    let joined = |worker: &&WorkerProcess| registry.address(&worker.id).as_deref() == Some(&worker.address);
    while !workers.iter().all(joined) {
        tokio::select! {
            Some(exit) = exited.recv() => {
                if workers.iter().any(|worker| worker.pid == exit.pid) {
                    return Err(LiveError::Failed(format!(
                        "worker {} (pid {}) exited before joining: {}",
                        exit.id, exit.pid, exit.status
                    )));
                }
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
pub(crate) async fn stop_workers(mut workers: Vec<WorkerProcess>) {
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
