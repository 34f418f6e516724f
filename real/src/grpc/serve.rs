//! What both servers share: their error, and the standard health and reflection
//! services beside quorum's own.

use quorum_core::ConfigError;
use tonic_health::ServingStatus;
use tonic_health::pb::health_server::HealthServer;
use tonic_health::server::{HealthReporter, HealthService};
use tonic_reflection::server::v1::{ServerReflection, ServerReflectionServer};

use super::proto::DESCRIPTOR_SET;

/// Why a server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The config is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The transport failed (binding, accepting, serving).
    #[error("grpc transport: {0}")]
    Transport(#[from] tonic::transport::Error),
    /// The reflection service could not read the descriptor set.
    #[error("grpc reflection: {0}")]
    Reflection(#[from] tonic_reflection::server::Error),
}

/// The health service (reporting `service` and the server as a whole as serving),
/// the reflection service (quorum's and health's descriptors, so `grpcurl` can list
/// and call everything), and the reporter to mark `service` not serving at shutdown.
pub(crate) async fn health_and_reflection(
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
