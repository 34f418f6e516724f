//! How the simulated hosts talk: [`Transport::Frames`], the simulation's own
//! length-delimited JSON frames (`wire`), or [`Transport::Grpc`], the very gRPC code
//! real mode ships (quorum-grpc: tonic, hyper, HTTP/2 with keepalive and deadlines)
//! over turmoil's TCP.
//!
//! Both speak the vocabulary of `wire` ([`WorkerRequest`] and friends) to the rest
//! of the simulation, so the hosts, the link and the client are written once and the
//! trace records the same happenings either way.

use core::time::Duration;

use serde::{Deserialize, Serialize};
use turmoil::net::{TcpListener, TcpStream};

use quorum_core::{Deadlines, LinkError, TaskStatus, WorkerAnswer, WorkerId, WorkerLink};
use quorum_grpc::{AuthToken, ClientError, Dial, GrpcConfig, GrpcLink, Spawner, SupervisorClient};

use crate::hosts::SimRegistry;
use crate::wire::{
    SUPERVISOR_PORT, SupervisorRequest, SupervisorResponse, WORKER_PORT, WireError, WorkerRequest, WorkerResponse,
    read_frame, write_frame,
};

/// The token every simulated host shares (no secret: the simulation has no outsider).
const SIM_TOKEN: &str = "quorum-simulation-shared-token";

/// The wire of a simulated cluster.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Transport {
    /// One length-delimited JSON frame each way per call, one connection per call.
    #[default]
    Frames,
    /// quorum-grpc over turmoil TCP: cached HTTP/2 connections, streams, keepalive.
    Grpc,
}

impl Transport {
    /// Its name, as `--transport` takes it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Frames => "frames",
            Self::Grpc => "grpc",
        }
    }

    /// Whether this is the default, frames (a config leaves the default out).
    pub fn is_frames(&self) -> bool {
        *self == Self::Frames
    }

    /// The address a worker host is registered under: its host name for frames, the
    /// URI its gRPC server answers on for gRPC.
    pub(crate) fn worker_address(self, host: &str) -> String {
        match self {
            Self::Frames => host.to_owned(),
            Self::Grpc => format!("http://{host}:{WORKER_PORT}"),
        }
    }
}

impl core::str::FromStr for Transport {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, String> {
        match name {
            "frames" => Ok(Self::Frames),
            "grpc" => Ok(Self::Grpc),
            other => Err(format!("unknown transport {other:?}: frames or grpc")),
        }
    }
}

/// The shared token of simulated hosts.
pub(crate) fn sim_token() -> AuthToken {
    AuthToken::new(SIM_TOKEN).expect("a valid token")
}

/// The gRPC settings of a simulated host: the supervisor's deadline table, tasks
/// spawned in the host's `LocalSet`, and keepalive as in real mode.
pub(crate) fn sim_grpc_config(deadlines: &Deadlines) -> GrpcConfig {
    GrpcConfig { deadlines: deadlines.clone(), spawner: Spawner::Local, ..GrpcConfig::default() }
}

/// Channels over turmoil TCP.
type SimDial = Dial<fn(tonic::transport::Uri) -> DialFuture>;

/// Connections over turmoil TCP to the host and port of a URI.
fn sim_dial() -> SimDial {
    Dial::new(dial)
}

type DialFuture = core::pin::Pin<Box<dyn Future<Output = std::io::Result<TcpStream>> + Send>>;

fn dial(uri: tonic::transport::Uri) -> DialFuture {
    Box::pin(async move {
        let host = uri.host().unwrap_or_default().to_owned();
        let port = uri.port_u16().unwrap_or(80);
        TcpStream::connect((host.as_str(), port)).await
    })
}

/// The connections a turmoil listener accepts, as a stream for the gRPC servers.
pub(crate) fn sim_incoming(
    listener: TcpListener,
) -> impl futures_util::Stream<Item = std::io::Result<TcpStream>> + Send {
    futures_util::stream::unfold(listener, |listener| async move {
        let accepted = listener.accept().await.map(|(stream, _)| stream);
        Some((accepted, listener))
    })
}

/// The supervisor's calls to workers, on either wire.
#[derive(Debug)]
pub(crate) enum WorkerCalls {
    /// A connection per call to the host registered for the worker.
    Frames { registry: SimRegistry },
    /// quorum-grpc's link, resolving through the same registry.
    Grpc(Box<GrpcLink<SimDial>>),
}

impl WorkerCalls {
    /// Calls on `transport`, resolving workers through `registry`.
    pub(crate) fn new(transport: Transport, registry: SimRegistry, deadlines: &Deadlines) -> Self {
        match transport {
            Transport::Frames => Self::Frames { registry },
            Transport::Grpc => {
                let link = GrpcLink::new(registry, sim_token(), sim_grpc_config(deadlines), sim_dial())
                    .expect("the default gRPC config with a validated deadline table is valid");
                Self::Grpc(Box::new(link))
            }
        }
    }

    /// One call to `worker`, within `timeout_ms`; a worker's own failure to answer is
    /// a reply (`Answer(Err)`), everything else that goes wrong is the error.
    pub(crate) async fn call(
        &self,
        worker: &WorkerId,
        request: WorkerRequest,
        timeout_ms: u64,
    ) -> Result<WorkerResponse, LinkError> {
        match self {
            Self::Frames { registry } => match registry.address(worker) {
                None => Err(LinkError::Unavailable),
                Some(address) => exchange(&address, &request, timeout_ms).await,
            },
            // The link takes its deadlines from the same table the caller used.
            Self::Grpc(link) => match request {
                WorkerRequest::Execute(request) => match link.execute(worker, request).await {
                    Ok(answer) => Ok(WorkerResponse::Answer(Ok(answer))),
                    Err(LinkError::Worker(error)) => Ok(WorkerResponse::Answer(Err(error))),
                    Err(error) => Err(error),
                },
                WorkerRequest::Heartbeat => link.heartbeat(worker).await.map(WorkerResponse::Heartbeat),
                WorkerRequest::Cancel(task) => link.cancel(worker, &task).await.map(|()| WorkerResponse::Cancelled),
            },
        }
    }
}

/// One framed call to the worker host at `address`, under `timeout_ms`.
async fn exchange(address: &str, request: &WorkerRequest, timeout_ms: u64) -> Result<WorkerResponse, LinkError> {
    let exchange = async {
        let mut stream = TcpStream::connect((address, WORKER_PORT)).await.map_err(WireError::Io)?;
        write_frame(&mut stream, request).await?;
        read_frame::<_, WorkerResponse>(&mut stream).await
    };
    match tokio::time::timeout(Duration::from_millis(timeout_ms), exchange).await {
        Err(_) => Err(LinkError::Timeout),
        Ok(Err(WireError::Io(_))) => Err(LinkError::Unavailable),
        Ok(Err(error)) => Err(LinkError::Protocol { detail: error.to_string() }),
        Ok(Ok(response)) => Ok(response),
    }
}

/// Calls to the supervisor (the client's, and workers' pushed answers), on either
/// wire. `None` is no reply in time, whatever the reason.
#[derive(Clone, Debug)]
pub(crate) enum SupervisorCalls {
    /// A connection per call.
    Frames,
    /// quorum-grpc's client, over one cached channel.
    Grpc(Box<SupervisorClient>),
}

impl SupervisorCalls {
    /// Calls on `transport`; a gRPC channel is made here, so on the calling host.
    pub(crate) fn new(transport: Transport, deadlines: &Deadlines) -> Self {
        match transport {
            Transport::Frames => Self::Frames,
            Transport::Grpc => {
                let address = format!("http://supervisor:{SUPERVISOR_PORT}");
                let client =
                    SupervisorClient::connect_with(&sim_dial(), &address, &sim_token(), sim_grpc_config(deadlines))
                        .expect("a valid URI");
                Self::Grpc(Box::new(client))
            }
        }
    }

    /// One call within `timeout_ms`.
    pub(crate) async fn call(&self, request: SupervisorRequest, timeout_ms: u64) -> Option<SupervisorResponse> {
        let call = async {
            match self {
                Self::Frames => {
                    let mut stream = TcpStream::connect(("supervisor", SUPERVISOR_PORT)).await.ok()?;
                    write_frame(&mut stream, &request).await.ok()?;
                    read_frame(&mut stream).await.ok()
                }
                Self::Grpc(client) => grpc_call(client, request).await,
            }
        };
        tokio::time::timeout(Duration::from_millis(timeout_ms), call).await.ok().flatten()
    }
}

/// A framed request as gRPC calls: a submit reads the task's first event (taken, or
/// already done) and lets the rest go, as a framed submit returns at once; a poll
/// asks for the result.
async fn grpc_call(client: &SupervisorClient, request: SupervisorRequest) -> Option<SupervisorResponse> {
    match request {
        SupervisorRequest::Submit(task) => match client.submit(task).await {
            Ok(mut events) => match events.next().await.ok()? {
                Some(quorum_core::TaskEvent::Finished { result }) => {
                    Some(SupervisorResponse::Status(TaskStatus::Done(result)))
                }
                Some(_) => Some(SupervisorResponse::Submitted),
                None => None,
            },
            Err(error) => refused(&error),
        },
        SupervisorRequest::Poll(task) => match client.result(&task).await {
            Ok(None) => Some(SupervisorResponse::Status(TaskStatus::Pending)),
            Ok(Some(result)) => Some(SupervisorResponse::Status(TaskStatus::Done(Box::new(result)))),
            Err(ClientError::UnknownTask { .. }) => Some(SupervisorResponse::Status(TaskStatus::Unknown)),
            Err(_) => None,
        },
        SupervisorRequest::Deliver(answer) => deliver(client, answer).await,
    }
}

async fn deliver(client: &SupervisorClient, answer: WorkerAnswer) -> Option<SupervisorResponse> {
    client.deliver(answer).await.ok().map(|()| SupervisorResponse::Delivered)
}

/// A refusal the client hears as one (the framed supervisor's `Refused`); a lost
/// call is no reply.
fn refused(error: &ClientError) -> Option<SupervisorResponse> {
    match error {
        ClientError::Unavailable | ClientError::Timeout => None,
        other => Some(SupervisorResponse::Refused(other.to_string())),
    }
}
