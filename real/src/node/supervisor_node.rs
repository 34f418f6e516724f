//! [`SupervisorNode`]: a supervisor, its driver and its gRPC server on a listener,
//! with the workers it knows from the start and those that join later, and its
//! journal on a file when it has one.

use core::future::Future;
use std::path::PathBuf;
use std::sync::Arc;

use quorum_core::{
    Emission, FixedWorkers, JournalError, Outcome, ResultHook, Supervisor, SupervisorConfig, SupervisorService,
    WorkerId, WorkerRegistry,
};
use quorum_journal::{JournalOptions, RedbJournal};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::address::http_address;
use super::node_error::NodeError;
use crate::grpc::{AuthToken, Connect, GrpcConfig, GrpcLink, ServeError, TcpConnect, serve_supervisor, tcp_incoming};
use crate::metrics::{MetricsSource, TaskMetrics, serve_metrics};

/// What a supervisor node runs with.
#[derive(Clone, Debug, Default)]
pub struct SupervisorNodeConfig {
    /// The supervisor's settings; its deadlines are also the gRPC calls' deadlines.
    pub supervisor: SupervisorConfig,
    /// The gRPC settings (their `deadlines` are replaced by the supervisor's).
    pub grpc: GrpcConfig,
    /// Workers registered at start, by id and address (`host:port` or
    /// `http://host:port`); others join over gRPC.
    pub workers: Vec<(WorkerId, String)>,
    /// The journal's file (created when missing): the node resumes from what it
    /// holds and makes every acceptance and result durable before anyone hears of
    /// it. `None`: the supervisor keeps everything in memory, and a crash loses it.
    pub journal: Option<PathBuf>,
}

/// A running supervisor node. Stop it with [`SupervisorNode::stop`] (or run it with
/// [`SupervisorNode::run_until`]); dropped, its server and driver end with the
/// runtime.
#[derive(Debug)]
pub struct SupervisorNode {
    registry: WorkerRegistry<String>,
    service: SupervisorService,
    tasks: TaskMetrics,
    stop: Option<oneshot::Sender<()>>,
    server: JoinHandle<Result<(), ServeError>>,
    driver: JoinHandle<()>,
    /// The metrics server, when one was started, and its stop.
    metrics: Option<(oneshot::Sender<()>, JoinHandle<()>)>,
}

impl SupervisorNode {
    /// Starts the supervisor and serves it on `listener`, checking `token` on every
    /// call. Must run inside a tokio runtime.
    ///
    /// # Errors
    /// [`NodeError::Config`] for an invalid config; [`NodeError::Worker`] for a
    /// start-up worker with a bad address or one too many; [`NodeError::Journal`]
    /// for a journal that cannot be opened (a bad path, not a journal, held open by
    /// another supervisor).
    pub fn start(config: SupervisorNodeConfig, token: AuthToken, listener: TcpListener) -> Result<Self, NodeError> {
        Self::start_with_connect(config, token, listener, TcpConnect)
    }

    /// As [`SupervisorNode::start`], with the supervisor's channels to its workers
    /// made by `connect` instead of plain TCP: a fault layer (`quorum run --live`
    /// cuts links with one) or another transport.
    ///
    /// # Errors
    /// As [`SupervisorNode::start`].
    pub fn start_with_connect(
        config: SupervisorNodeConfig,
        token: AuthToken,
        listener: TcpListener,
        connect: impl Connect,
    ) -> Result<Self, NodeError> {
        let SupervisorNodeConfig { supervisor, grpc, workers, journal } = config;
        let grpc = GrpcConfig { deadlines: supervisor.deadlines.clone(), ..grpc };
        let registry = WorkerRegistry::<String>::new();
        for (worker, address) in workers {
            let address = http_address(&address)
                .map_err(|error| NodeError::Worker { worker: worker.to_string(), detail: error.to_string() })?;
            registry
                .join(worker.clone(), address)
                .map_err(|error| NodeError::Worker { worker: worker.to_string(), detail: error.to_string() })?;
        }
        let link = GrpcLink::new(registry.clone(), token.clone(), grpc.clone(), connect)?;
        let tasks = TaskMetrics::new();
        // The journal keeps as many finished tasks as the supervisor remembers, so a
        // resubmission after a restart hears the result it would have heard before.
        let options = JournalOptions { finished_kept_max: supervisor.completed_results_max };
        let mut supervisor = Supervisor::new(supervisor, link, FixedWorkers)?;
        if let Some(path) = journal {
            // Opened before anything serves: a journal that cannot be used stops
            // the node at start, not at its first task.
            let opened = create_private(&path)
                .and_then(|()| RedbJournal::open(&path, options))
                .and_then(|journal| supervisor.with_journal(Arc::new(journal)));
            supervisor = opened.map_err(|error| NodeError::Journal { path, error })?;
        }
        let (service, driver) = supervisor.with_registry(&registry).on_result(result_hook(&tasks)).start();
        let driver = tokio::spawn(driver.run());
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(serve_supervisor(
            service.clone(),
            registry.clone(),
            token,
            grpc,
            tcp_incoming(listener),
            async {
                // A dropped sender stops the server as a sent stop does.
                let _ = stopped.await;
            },
        ));
        Ok(Self { registry, service, tasks, stop: Some(stop), server, driver, metrics: None })
    }

    /// Serves `GET /metrics` (the Prometheus text format) on `listener` until the
    /// node stops. A second call replaces the first server.
    pub fn serve_metrics(&mut self, listener: TcpListener) {
        self.stop_metrics();
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(serve_metrics(self.metrics_source(), listener, async {
            let _ = stopped.await;
        }));
        self.metrics = Some((stop, server));
    }

    /// What a metrics scrape reads, for serving it elsewhere.
    pub fn metrics_source(&self) -> MetricsSource {
        MetricsSource { tasks: self.tasks.clone(), service: self.service.clone() }
    }

    /// Stops the metrics server without waiting: it holds nothing to finish.
    fn stop_metrics(&mut self) {
        if let Some((stop, _server)) = self.metrics.take() {
            let _ = stop.send(());
        }
    }

    /// The workers registered now (at start and joined since).
    pub fn registry(&self) -> &WorkerRegistry<String> {
        &self.registry
    }

    /// The supervisor's client-facing service, in process.
    pub fn service(&self) -> &SupervisorService {
        &self.service
    }

    /// Serves until `shutdown` resolves or the server fails, then stops as
    /// [`SupervisorNode::stop`] does.
    ///
    /// # Errors
    /// As [`SupervisorNode::stop`].
    pub async fn run_until(mut self, shutdown: impl Future<Output = ()>) -> Result<(), NodeError> {
        tokio::select! {
            biased;
            () = shutdown => self.stop().await,
            served = &mut self.server => {
                // The server ended on its own: that is a failure, or a panic.
                self.stop = None;
                self.stop_metrics();
                self.service.shutdown().await;
                let _ = self.driver.await;
                served.map_err(|error| crashed("supervisor server", &error))??;
                Err(NodeError::Crashed { part: "supervisor server", detail: "it stopped serving".to_owned() })
            }
            driven = &mut self.driver => {
                // The driver returns by itself only when its journal failed (it logged
                // why): fail-stop, so that whoever restarts the process restarts it
                // on the journal rather than leave a supervisor that takes no task.
                // The server is told to stop but not awaited: streams waiting for
                // results the driver will never give would hold it.
                self.stop_metrics();
                if let Some(stop) = self.stop.take() {
                    let _ = stop.send(());
                }
                driven.map_err(|error| crashed("supervisor driver", &error))?;
                Err(NodeError::Crashed {
                    part: "supervisor driver",
                    detail: "its journal failed (the log says why)".to_owned(),
                })
            }
        }
    }

    /// Stops accepting connections, lets every task in flight end with its
    /// result, and waits until the server and the driver have returned.
    ///
    /// # Errors
    /// [`NodeError::Serve`] when the server failed; [`NodeError::Crashed`] when it
    /// or the driver panicked.
    pub async fn stop(mut self) -> Result<(), NodeError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.stop_metrics();
        let served = (&mut self.server).await.map_err(|error| crashed("supervisor server", &error))?;
        // The server shuts the service down once its streams are done; the driver
        // then returns.
        self.service.shutdown().await;
        (&mut self.driver).await.map_err(|error| crashed("supervisor driver", &error))?;
        served.map_err(NodeError::from)
    }
}

/// Creates the journal's file, empty and readable by its owner alone (it holds the
/// tasks' texts and answers), unless it exists; redb makes an empty file a journal.
fn create_private(path: &std::path::Path) -> Result<(), JournalError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(error) => Err(JournalError::Storage { detail: format!("journal {}: create: {error}", path.display()) }),
    }
}

/// Counts every result into `tasks` and logs it in its task's span.
fn result_hook(tasks: &TaskMetrics) -> ResultHook {
    let tasks = tasks.clone();
    ResultHook::new(move |result, emission| {
        tasks.record(result, emission);
        let _task = tracing::info_span!("task", task = %result.task).entered();
        let outcome = match &result.outcome {
            Outcome::Agreed { .. } => "agreed",
            Outcome::NoConsensus { .. } => "no_consensus",
            Outcome::Failed { .. } => "failed",
        };
        let metadata = &result.metadata;
        match emission {
            Emission::First => tracing::info!(
                outcome,
                latency_ms = result.latency_ms(),
                rounds = metadata.rounds,
                llm_calls = metadata.llm_calls,
                "task finished"
            ),
            Emission::Duplicate => tracing::error!(outcome, "a second result for one task"),
        }
    })
}

fn crashed(part: &'static str, error: &tokio::task::JoinError) -> NodeError {
    NodeError::Crashed { part, detail: error.to_string() }
}
