//! What the servers share: their error, the standard health and reflection services
//! beside quorum's own, and the connection loop that serves them.
//!
//! The loop is ours rather than `tonic::transport::Server`'s because tonic's spawns
//! every connection with `tokio::spawn`; ours spawns through the config's
//! [`Spawner`](crate::Spawner), so a simulated host tears its connections down in a
//! deterministic order. Real mode and simulation run this same loop.

use core::future::Future;
use core::pin::pin;
use core::time::Duration;

use futures_util::{Stream, StreamExt};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use quorum_core::ConfigError;
use tokio::io::{AsyncRead, AsyncWrite};
use tonic::service::Routes;
use tonic_health::ServingStatus;
use tonic_health::pb::health_server::HealthServer;
use tonic_health::server::{HealthReporter, HealthService};
use tonic_reflection::server::v1::{ServerReflection, ServerReflectionServer};

use crate::config::GrpcConfig;
use crate::proto::DESCRIPTOR_SET;

/// How long the loop pauses after a failed accept (out of file descriptors, say)
/// before it accepts again, instead of spinning.
const ACCEPT_RETRY_MS: u64 = 50;

/// Why a server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The config is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The reflection service could not read the descriptor set.
    #[error("grpc reflection: {0}")]
    Reflection(#[from] tonic_reflection::server::Error),
}

/// The health service (reporting `service` and the server as a whole as serving),
/// the reflection service (quorum's and health's descriptors, so `grpcurl` can list
/// and call everything), and the reporter to mark `service` not serving at shutdown.
async fn health_and_reflection(
    service: &str,
) -> Result<(HealthServer<HealthService>, ServerReflectionServer<impl ServerReflection>, HealthReporter), ServeError> {
    let reporter = HealthReporter::new();
    let health = HealthServer::new(HealthService::from_health_reporter(reporter.clone()));
    reporter.set_service_status(service, ServingStatus::Serving).await;
    reporter.set_service_status("", ServingStatus::Serving).await;
    let reflection = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()?;
    Ok((health, reflection, reporter))
}

/// Serves `routes` over HTTP/2 on every connection from `incoming` until `shutdown`
/// resolves (or `incoming` ends). Then it accepts no new connection (the listener
/// is dropped at once), asks every connection to finish (HTTP/2 GOAWAY: calls in
/// flight run to their end, new ones are refused) and returns when all are closed.
/// Keepalive closes a connection whose peer stopped answering, so a vanished peer
/// cannot hold shutdown forever.
pub(crate) async fn serve_routes<I, IO, IE>(
    routes: Routes,
    config: &GrpcConfig,
    incoming: I,
    shutdown: impl Future<Output = ()>,
) where
    I: Stream<Item = Result<IO, IE>>,
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    IE: core::fmt::Display,
{
    let spawner = config.spawner;
    let mut http2 = hyper::server::conn::http2::Builder::new(spawner);
    http2
        .timer(TokioTimer::new())
        .keep_alive_interval(Duration::from_millis(config.keepalive_interval_ms))
        .keep_alive_timeout(Duration::from_millis(config.keepalive_timeout_ms));
    let service = TowerToHyperService::new(routes.prepare());
    // Every connection holds a receiver: the sender's `closed()` is "all are gone".
    let (stop, stopping) = tokio::sync::watch::channel(());
    {
        let mut incoming = pin!(incoming);
        let mut shutdown = pin!(shutdown);
        loop {
            let io = tokio::select! {
                biased;
                () = &mut shutdown => break,
                next = incoming.next() => match next {
                    None => break,
                    Some(Ok(io)) => io,
                    Some(Err(error)) => {
                        tracing::warn!(%error, "accepting a connection failed");
                        tokio::time::sleep(Duration::from_millis(ACCEPT_RETRY_MS)).await;
                        continue;
                    }
                },
            };
            let connection = http2.serve_connection(TokioIo::new(io), service.clone());
            let mut stopping = stopping.clone();
            spawner.spawn(async move {
                let mut connection = pin!(connection);
                tokio::select! {
                    biased;
                    served = connection.as_mut() => {
                        if let Err(error) = served {
                            tracing::debug!(%error, "connection ended with an error");
                        }
                    }
                    _ = stopping.changed() => {
                        connection.as_mut().graceful_shutdown();
                        if let Err(error) = connection.await {
                            tracing::debug!(%error, "connection ended with an error while closing");
                        }
                    }
                }
                drop(stopping);
            });
        }
    }
    drop(stopping);
    let _ = stop.send(());
    stop.closed().await;
}

/// Serves one of quorum's services (`routes`, its token already checked) with health
/// and reflection beside it, on `incoming` until `shutdown` resolves; the health
/// service then reports `service` not serving while the connections finish (see
/// [`serve_routes`]). What every server of this crate shares.
pub(crate) async fn serve_service<I, IO, IE>(
    service: &'static str,
    routes: Routes,
    config: &GrpcConfig,
    incoming: I,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ServeError>
where
    I: Stream<Item = Result<IO, IE>>,
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    IE: core::fmt::Display,
{
    let (health, reflection, reporter) = health_and_reflection(service).await?;
    let shutdown = async {
        shutdown.await;
        reporter.set_service_status(service, ServingStatus::NotServing).await;
    };
    serve_routes(routes.add_service(health).add_service(reflection), config, incoming, shutdown).await;
    Ok(())
}

/// Runs a handler's `work` under `deadline_ms`, or answers `deadline_exceeded`
/// naming `call`: a server whose driver is stuck answers instead of holding the
/// call open.
pub(crate) async fn within<T>(call: &str, deadline_ms: u64, work: impl Future<Output = T>) -> Result<T, tonic::Status> {
    tokio::time::timeout(Duration::from_millis(deadline_ms), work)
        .await
        .map_err(|_| crate::status::status_of_deadline(call, deadline_ms))
}

/// The connections of a TCP `listener`, as real mode serves them, each with
/// `TCP_NODELAY`: without it a reply written in several small pieces (a streamed
/// answer's event, then its end) waits for the peer's delayed ACK, some 40 ms on
/// Linux, on every call (the grpc_path bench found it).
pub fn tcp_incoming(
    listener: tokio::net::TcpListener,
) -> impl Stream<Item = std::io::Result<tokio::net::TcpStream>> + Send {
    futures_util::stream::unfold(listener, |listener| async move {
        let accepted = listener.accept().await.and_then(|(stream, _)| stream.set_nodelay(true).map(|()| stream));
        Some((accepted, listener))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn accepted_tcp_connections_have_nodelay() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let mut connections = core::pin::pin!(tcp_incoming(listener));
        let _client = tokio::net::TcpStream::connect(address).await.unwrap();
        let accepted = connections.next().await.unwrap().unwrap();
        assert!(accepted.nodelay().unwrap());
    }
}
