//! [`SupervisorNode`]: a supervisor, its driver and its gRPC server on a listener,
//! with the workers it knows from the start and those that join later.

use core::future::Future;

use quorum_core::{FixedWorkers, Supervisor, SupervisorConfig, SupervisorService, WorkerId, WorkerRegistry};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_stream::wrappers::TcpListenerStream;

use super::address::http_address;
use super::node_error::NodeError;
use crate::grpc::{AuthToken, GrpcConfig, GrpcLink, ServeError, TcpConnect, serve_supervisor};

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
}

/// A running supervisor node. Stop it with [`SupervisorNode::stop`] (or run it with
/// [`SupervisorNode::run_until`]); dropped, its server and driver end with the
/// runtime.
#[derive(Debug)]
pub struct SupervisorNode {
    registry: WorkerRegistry<String>,
    service: SupervisorService,
    stop: Option<oneshot::Sender<()>>,
    server: JoinHandle<Result<(), ServeError>>,
    driver: JoinHandle<()>,
}

impl SupervisorNode {
    /// Starts the supervisor and serves it on `listener`, checking `token` on every
    /// call. Must run inside a tokio runtime.
    ///
    /// # Errors
    /// [`NodeError::Config`] for an invalid config; [`NodeError::Worker`] for a
    /// start-up worker with a bad address or one too many.
    pub fn start(config: SupervisorNodeConfig, token: AuthToken, listener: TcpListener) -> Result<Self, NodeError> {
        let SupervisorNodeConfig { supervisor, grpc, workers } = config;
        let grpc = GrpcConfig { deadlines: supervisor.deadlines.clone(), ..grpc };
        let registry = WorkerRegistry::<String>::new();
        for (worker, address) in workers {
            let address = http_address(&address)
                .map_err(|error| NodeError::Worker { worker: worker.to_string(), detail: error.to_string() })?;
            registry
                .join(worker.clone(), address)
                .map_err(|error| NodeError::Worker { worker: worker.to_string(), detail: error.to_string() })?;
        }
        let link = GrpcLink::new(registry.clone(), token.clone(), grpc.clone(), TcpConnect)?;
        let (service, driver) = Supervisor::new(supervisor, link, FixedWorkers)?.with_registry(&registry).start();
        let driver = tokio::spawn(driver.run());
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(serve_supervisor(
            service.clone(),
            registry.clone(),
            token,
            grpc,
            TcpListenerStream::new(listener),
            async {
                // A dropped sender stops the server as a sent stop does.
                let _ = stopped.await;
            },
        ));
        Ok(Self { registry, service, stop: Some(stop), server, driver })
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
                self.service.shutdown().await;
                let _ = self.driver.await;
                served.map_err(|error| crashed("supervisor server", &error))??;
                Err(NodeError::Crashed { part: "supervisor server", detail: "it stopped serving".to_owned() })
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
        let served = (&mut self.server).await.map_err(|error| crashed("supervisor server", &error))?;
        // The server shuts the service down once its streams are done; the driver
        // then returns.
        self.service.shutdown().await;
        (&mut self.driver).await.map_err(|error| crashed("supervisor driver", &error))?;
        served.map_err(NodeError::from)
    }
}

fn crashed(part: &'static str, error: &tokio::task::JoinError) -> NodeError {
    NodeError::Crashed { part, detail: error.to_string() }
}
