//! A supervisor and worker servers on 127.0.0.1 with ephemeral ports, in one
//! process. Each worker runs on its own tokio runtime, so that killing it (dropping
//! the runtime at once, connections and all) is as abrupt as a killed process.

#![allow(dead_code, clippy::missing_panics_doc)]

use std::sync::Arc;

use quorum_core::mock::workload::{TruthBook, WorkloadConfig, generate};
use quorum_core::mock::{LatencyProfile, LlmControl, LlmProfile, MockLlm};
use quorum_core::{SupervisorConfig, SupervisorService, Task, Worker, WorkerConfig, WorkerId, WorkerRegistry};
use quorum_real::node::{NodeError, SupervisorNode, SupervisorNodeConfig};
use quorum_real::{AuthToken, GrpcConfig, ServeError, SupervisorClient, serve_worker};
use tokio::sync::oneshot;
use tokio_stream::wrappers::TcpListenerStream;

/// The token every honest party shares in these tests: planted, so a test can
/// look for it where it must never be.
pub const SECRET: &str = "planted-secret-token-0123456789";

pub fn token() -> AuthToken {
    AuthToken::new(SECRET).unwrap()
}

pub fn wrong_token() -> AuthToken {
    AuthToken::new("not-the-shared-token-9876543210").unwrap()
}

/// A workload of `tasks` tasks and its truths.
pub fn workload(tasks: usize) -> (Vec<Task>, Arc<TruthBook>) {
    let workload = generate(7, &WorkloadConfig { tasks, ..WorkloadConfig::default() });
    (workload.tasks.into_iter().map(|planned| planned.task).collect(), Arc::new(workload.truths))
}

/// A worker server on its own runtime.
pub struct WorkerProcess {
    pub id: WorkerId,
    pub address: String,
    worker: Arc<Worker<MockLlm>>,
    runtime: Option<tokio::runtime::Runtime>,
    stop: Option<oneshot::Sender<()>>,
    finished: Option<oneshot::Receiver<Result<(), ServeError>>>,
}

impl WorkerProcess {
    /// A worker named `name` answering right after `latency_ms`, checking `token`.
    pub fn start(name: &str, token: AuthToken, truths: &Arc<TruthBook>, latency_ms: u64) -> Self {
        let profile = LlmProfile {
            accuracy: 1.0,
            latency: LatencyProfile { base_ms: latency_ms, jitter_ms: 0, ..LatencyProfile::default() },
            ..LlmProfile::default()
        };
        let llm = MockLlm::new(name, profile, Arc::clone(truths), LlmControl::default(), 7);
        let worker = Arc::new(Worker::new(WorkerId::new(name), WorkerConfig::default(), llm, 7).unwrap());
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let address = format!("http://{}", listener.local_addr().unwrap());
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let (done, finished) = oneshot::channel();
        let served = Arc::clone(&worker);
        runtime.spawn(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            let incoming = TcpListenerStream::new(listener);
            let outcome = serve_worker(served, token, GrpcConfig::default(), incoming, async {
                let _ = stopped.await;
            })
            .await;
            let _ = done.send(outcome);
        });
        Self {
            id: WorkerId::new(name),
            address,
            worker,
            runtime: Some(runtime),
            stop: Some(stop),
            finished: Some(finished),
        }
    }

    /// Waits (at most 10 s) until the worker works on a task.
    pub async fn wait_until_busy(&self) {
        for _ in 0..1_000 {
            if self.worker.heartbeat().load > 0 {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        panic!("{} never received its task", self.id);
    }

    /// Stops at once: every connection and call dies, as with kill -9.
    pub fn kill(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }

    /// Stops gracefully and waits until the server returned.
    pub async fn stop(&mut self) -> Result<(), ServeError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.finished.take().expect("stopped once").await.expect("the server task reports")
    }
}

impl Drop for WorkerProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Test settings: every task asks exactly three workers and waits for all of them.
pub fn supervisor_config() -> SupervisorConfig {
    let mut config = SupervisorConfig::default();
    config.analysis.workers_min = 3;
    config.analysis.workers_max = 3;
    config.early_stop = false;
    config.scaling = false;
    config.check_invariants = true;
    config
}

/// A supervisor with its gRPC server: the product's own `SupervisorNode`.
pub struct SupervisorProcess {
    pub address: String,
    pub registry: WorkerRegistry<String>,
    pub service: SupervisorService,
    node: Option<SupervisorNode>,
}

impl SupervisorProcess {
    pub async fn start(token: AuthToken) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = format!("http://{}", listener.local_addr().unwrap());
        let config = SupervisorNodeConfig { supervisor: supervisor_config(), ..SupervisorNodeConfig::default() };
        let node = SupervisorNode::start(config, token, listener).unwrap();
        let (registry, service) = (node.registry().clone(), node.service().clone());
        Self { address, registry, service, node: Some(node) }
    }

    pub fn client(&self, token: &AuthToken) -> SupervisorClient {
        SupervisorClient::connect_lazy(&self.address, token, GrpcConfig::default()).unwrap()
    }

    /// Starts `names` workers with `token` and joins them over gRPC.
    pub async fn workers(&self, names: &[&str], truths: &Arc<TruthBook>, latency_ms: u64) -> Vec<WorkerProcess> {
        let mut workers = Vec::new();
        for name in names {
            let worker = WorkerProcess::start(name, token(), truths, latency_ms);
            assert!(self.client(&token()).join(&worker.id, &worker.address).await.unwrap(), "{name} is new");
            workers.push(worker);
        }
        workers
    }

    /// Serves the node's metrics on an ephemeral port; its `host:port`.
    pub async fn serve_metrics(&mut self) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap().to_string();
        self.node.as_mut().expect("running").serve_metrics(listener);
        address
    }

    /// Stops the server gracefully; waits until it and the driver returned.
    pub async fn stop(&mut self) -> Result<(), NodeError> {
        self.node.take().expect("stopped once").stop().await
    }
}
