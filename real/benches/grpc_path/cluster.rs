//! [`Cluster`]: a supervisor and its workers on 127.0.0.1 with ephemeral ports, in
//! this process, over real TCP and the product's gRPC servers. The workers are the
//! product's worker nodes ([`run_worker`]) over an instant mock model, joined over
//! gRPC as real workers join; the supervisor is wired as `SupervisorNode` wires it,
//! but with a [`TimedLink`] to its workers.

use core::time::Duration;
use std::sync::Arc;

use quorum_core::mock::workload::TruthBook;
use quorum_core::mock::{LatencyProfile, LlmControl, LlmProfile, MockLlm};
use quorum_core::{BoxLlm, FixedWorkers, Supervisor, SupervisorConfig, SupervisorService, WorkerId, WorkerRegistry};
use quorum_real::node::{NodeError, WorkerNodeConfig, run_worker};
use quorum_real::{AuthToken, GrpcConfig, GrpcLink, ServeError, TcpConnect, serve_supervisor, tcp_incoming};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::bench_error::BenchError;
use crate::timed_link::{SpanBook, TimedLink};

/// Workers in the cluster, and in every task's panel.
pub const WORKERS: usize = 3;
/// Tasks each worker takes at once: above the most concurrent clients, so that the
/// throughput runs measure the gRPC path rather than the default capacity of 4
/// (which would hold a three-worker cluster to 4 tasks at once).
pub const WORKER_CAPACITY: u32 = 64;
/// Longest the workers may take to join.
const JOIN_WAIT_MS_MAX: u64 = 10_000;

/// Every task asks all three workers and waits for all three answers (no early
/// stop), so that the worker calls a task needs are exactly one round of three.
fn supervisor_config() -> SupervisorConfig {
    let mut config = SupervisorConfig::default().fit_to_workers(WORKERS);
    config.analysis.workers_min = WORKERS;
    config.analysis.workers_max = WORKERS;
    config.early_stop = false;
    config.scaling = false;
    config
}

/// The mock at zero latency, always right, never failing: the model costs nothing
/// but a zero-length timer wait, so every figure is the path's.
fn instant_mock(name: &str, truths: &Arc<TruthBook>) -> BoxLlm {
    let profile = LlmProfile {
        accuracy: 1.0,
        latency: LatencyProfile { base_ms: 0, jitter_ms: 0, straggler_rate: 0.0, straggler_ms: 0 },
        ..LlmProfile::default()
    };
    BoxLlm::new(MockLlm::new(name, profile, Arc::clone(truths), LlmControl::default(), 1))
}

struct WorkerHandle {
    stop: oneshot::Sender<()>,
    node: JoinHandle<Result<(), NodeError>>,
}

/// A running cluster. Stop it with [`Cluster::stop`].
pub struct Cluster {
    /// Where clients reach the supervisor (`http://127.0.0.1:port`).
    pub supervisor_address: String,
    /// Where the supervisor reaches each worker.
    pub worker_addresses: Vec<String>,
    /// The spans of the supervisor's execute calls, by task.
    pub spans: SpanBook,
    service: SupervisorService,
    stop_server: oneshot::Sender<()>,
    server: JoinHandle<Result<(), ServeError>>,
    driver: JoinHandle<()>,
    workers: Vec<WorkerHandle>,
}

impl Cluster {
    /// Starts the supervisor and its workers (the mock knows `truths`) and waits
    /// until every worker has joined.
    ///
    /// # Errors
    /// [`BenchError`] when a port cannot be bound, a setting is refused, or the
    /// workers do not join in time.
    pub async fn start(token: &AuthToken, truths: &Arc<TruthBook>) -> Result<Self, BenchError> {
        let supervisor = supervisor_config();
        let grpc = GrpcConfig { deadlines: supervisor.deadlines.clone(), ..GrpcConfig::default() };
        let registry = WorkerRegistry::<String>::new();
        let spans = SpanBook::default();
        let link = GrpcLink::new(registry.clone(), token.clone(), grpc.clone(), TcpConnect)?;
        let (service, driver) = Supervisor::new(supervisor, TimedLink::new(link, spans.clone()), FixedWorkers)?
            .with_registry(&registry)
            .start();
        let driver = tokio::spawn(driver.run());
        let (listener, supervisor_address) = bind().await?;
        let (stop_server, stopped) = oneshot::channel::<()>();
        // With TCP_NODELAY, as the nodes serve.
        let incoming = tcp_incoming(listener);
        let server =
            tokio::spawn(serve_supervisor(service.clone(), registry.clone(), token.clone(), grpc.clone(), incoming, {
                async {
                    let _ = stopped.await;
                }
            }));
        let mut cluster = Self {
            supervisor_address,
            worker_addresses: Vec::with_capacity(WORKERS),
            spans,
            service,
            stop_server,
            server,
            driver,
            workers: Vec::with_capacity(WORKERS),
        };
        for index in 1..=WORKERS {
            cluster.start_worker(&WorkerId::new(format!("w{index}")), token, &grpc, truths).await?;
        }
        wait_until_joined(&registry).await?;
        Ok(cluster)
    }

    async fn start_worker(
        &mut self,
        id: &WorkerId,
        token: &AuthToken,
        grpc: &GrpcConfig,
        truths: &Arc<TruthBook>,
    ) -> Result<(), BenchError> {
        let (listener, address) = bind().await?;
        let mut config = WorkerNodeConfig::new(id.clone(), address.clone());
        config.supervisor = Some(self.supervisor_address.clone());
        config.worker.capacity = WORKER_CAPACITY;
        config.grpc = grpc.clone();
        let (stop, stopped) = oneshot::channel::<()>();
        let shutdown = async {
            let _ = stopped.await;
        };
        let llm = instant_mock(id.as_str(), truths);
        let node = tokio::spawn(run_worker(config, llm, token.clone(), listener, shutdown, |_| {}));
        self.worker_addresses.push(address);
        self.workers.push(WorkerHandle { stop, node });
        Ok(())
    }

    /// Stops the workers, then the supervisor's server and driver.
    ///
    /// # Errors
    /// [`BenchError`] when a server failed or a task of the cluster panicked.
    pub async fn stop(self) -> Result<(), BenchError> {
        for worker in self.workers {
            let _ = worker.stop.send(());
            worker.node.await.map_err(|error| BenchError::crashed("a worker node", &error))??;
        }
        let _ = self.stop_server.send(());
        let served = self.server.await.map_err(|error| BenchError::crashed("the supervisor server", &error))?;
        self.service.shutdown().await;
        self.driver.await.map_err(|error| BenchError::crashed("the supervisor driver", &error))?;
        served.map_err(BenchError::from)
    }
}

/// A listener on an ephemeral loopback port and its `http://` address.
async fn bind() -> Result<(TcpListener, String), BenchError> {
    let listener =
        TcpListener::bind("127.0.0.1:0").await.map_err(|error| BenchError::Bind { detail: error.to_string() })?;
    let bound = listener.local_addr().map_err(|error| BenchError::Bind { detail: error.to_string() })?;
    Ok((listener, format!("http://{bound}")))
}

async fn wait_until_joined(registry: &WorkerRegistry<String>) -> Result<(), BenchError> {
    let started = tokio::time::Instant::now();
    while (1..=WORKERS).any(|index| !registry.contains(&WorkerId::new(format!("w{index}")))) {
        if started.elapsed() >= Duration::from_millis(JOIN_WAIT_MS_MAX) {
            return Err(BenchError::NotJoined { waited_ms: JOIN_WAIT_MS_MAX });
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    Ok(())
}
