//! [`Dial`]: channels over any async dialer, such as a simulated network's
//! `TcpStream::connect`, where tonic's own connector only knows real TCP.

use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tonic::transport::{Channel, Endpoint, Uri};

use crate::link::Connect;

/// Makes lazily connecting channels whose connections come from `dial`, called with
/// the endpoint's URI each time the channel (re)connects.
#[derive(Clone)]
pub struct Dial<D> {
    dial: D,
}

impl<D> core::fmt::Debug for Dial<D> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Dial").finish_non_exhaustive()
    }
}

impl<D> Dial<D> {
    /// Channels over `dial`.
    pub fn new(dial: D) -> Self {
        Self { dial }
    }
}

impl<D, F, IO> tower_service::Service<Uri> for Dial<D>
where
    D: Fn(Uri) -> F,
    F: Future<Output = std::io::Result<IO>> + Send + 'static,
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Response = TokioIo<IO>;
    type Error = std::io::Error;
    type Future = Pin<Box<dyn Future<Output = std::io::Result<TokioIo<IO>>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let connecting = (self.dial)(uri);
        Box::pin(async move { connecting.await.map(TokioIo::new) })
    }
}

impl<D, F, IO> Connect for Dial<D>
where
    D: Fn(Uri) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = std::io::Result<IO>> + Send + 'static,
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    fn channel(&self, endpoint: &Endpoint) -> Channel {
        endpoint.connect_with_connector_lazy(self.clone())
    }
}
