//! [`LinkCuts`]: the fault layer `quorum run --live` puts in its supervisor's gRPC
//! client ([`cut_connect`], a [`quorum_real::Connect`]), to cut the links to some
//! workers for a while as a partition would.
//!
//! A cut is by the worker's address (`127.0.0.1:port`). Both ways ([`Cut::Both`]):
//! connections to it are refused and those open fail at their next read or write,
//! as a firewall that rejects does. One way ([`Cut::Requests`] or
//! [`Cut::Replies`]), or held ([`Cut::Hold`]): bytes that way stall until the heal
//! and then flow on, as TCP retransmits after a partition; new connections stall
//! too (a handshake needs both ways). Keepalive and deadlines turn a stall that
//! lasts into a `LinkError`, as they do in simulation. The worker's own calls to the
//! supervisor (join, heartbeat) are not cut: only this client is.

use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use core::time::Duration;
use std::collections::BTreeMap;
use std::io;
use std::sync::{Arc, Mutex, PoisonError};

use quorum_real::{Connect, Dial};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::Sleep;
use tonic::transport::Uri;

/// How often a stalled stream or connection looks whether its cut has healed, and
/// an idle one whether it has been cut: short against any deadline.
const RECHECK_MS: u64 = 20;

/// Which way a link is cut.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Cut {
    /// No traffic either way: connections refused, open ones reset.
    Both,
    /// The supervisor's requests stall; the worker's replies still flow.
    Requests,
    /// The worker's replies stall; the supervisor's requests still flow.
    Replies,
    /// Both ways stall, and flow again at the heal.
    Hold,
}

/// The cuts in force, by worker address; shared by every stream the connector made.
/// Overlapping cuts of one address stack: the latest governs, and each heal lifts
/// only its own.
#[derive(Clone, Debug, Default)]
pub(crate) struct LinkCuts {
    cuts: Arc<Mutex<BTreeMap<String, Vec<Cut>>>>,
}

impl LinkCuts {
    /// Cuts the link to `address` (`host:port` or `http://host:port`).
    pub(crate) fn cut(&self, address: &str, cut: Cut) {
        self.lock().entry(authority(address).to_owned()).or_default().push(cut);
    }

    /// Lifts one `cut` of the link to `address`.
    pub(crate) fn heal(&self, address: &str, cut: Cut) {
        let mut cuts = self.lock();
        if let Some(stack) = cuts.get_mut(authority(address)) {
            if let Some(index) = stack.iter().rposition(|held| *held == cut) {
                stack.remove(index);
            }
            if stack.is_empty() {
                cuts.remove(authority(address));
            }
        }
    }

    fn get(&self, authority: &str) -> Option<Cut> {
        self.lock().get(authority).and_then(|stack| stack.last().copied())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Vec<Cut>>> {
        self.cuts.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn authority(address: &str) -> &str {
    address.trim_start_matches("http://").trim_end_matches('/')
}

/// Channels over TCP through the cuts of `cuts`.
pub(crate) fn cut_connect(cuts: LinkCuts) -> impl Connect {
    Dial::new(move |uri: Uri| connect_through(cuts.clone(), uri))
}

/// A connection to `uri`'s worker as `cuts` allow it.
async fn connect_through(cuts: LinkCuts, uri: Uri) -> io::Result<CutStream> {
    let authority = uri
        .authority()
        .map(|authority| authority.as_str().to_owned())
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, format!("{uri}: no host:port")))?;
    loop {
        match cuts.get(&authority) {
            None => break,
            Some(Cut::Both) => return Err(refused(&authority)),
            // A handshake needs both ways: it waits for the heal (or the caller's
            // deadline).
            Some(Cut::Requests | Cut::Replies | Cut::Hold) => {
                tokio::time::sleep(Duration::from_millis(RECHECK_MS)).await;
            }
        }
    }
    let stream = TcpStream::connect(authority.as_str()).await?;
    stream.set_nodelay(true)?;
    Ok(CutStream { inner: stream, authority, cuts, read_wait: None, write_wait: None })
}

fn refused(authority: &str) -> io::Error {
    io::Error::new(io::ErrorKind::ConnectionRefused, format!("the link to {authority} is cut"))
}

/// A TCP stream that obeys the cuts of its worker's address.
#[derive(Debug)]
struct CutStream {
    inner: TcpStream,
    authority: String,
    cuts: LinkCuts,
    /// The timers that wake a stalled or idle side to look at the cuts again.
    read_wait: Option<Pin<Box<Sleep>>>,
    write_wait: Option<Pin<Box<Sleep>>>,
}

/// Arms `wait` to wake the task in [`RECHECK_MS`].
fn recheck_soon(wait: &mut Option<Pin<Box<Sleep>>>, cx: &mut Context<'_>) {
    let mut sleep = Box::pin(tokio::time::sleep(Duration::from_millis(RECHECK_MS)));
    // Polled once to register the waker; a fresh timer is never ready yet.
    let _ = sleep.as_mut().poll(cx);
    *wait = Some(sleep);
}

impl AsyncRead for CutStream {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        match this.cuts.get(&this.authority) {
            Some(Cut::Both) => Poll::Ready(Err(io::Error::new(io::ErrorKind::ConnectionReset, "the link is cut"))),
            Some(Cut::Replies | Cut::Hold) => {
                recheck_soon(&mut this.read_wait, cx);
                Poll::Pending
            }
            Some(Cut::Requests) | None => {
                let read = Pin::new(&mut this.inner).poll_read(cx, buf);
                if read.is_pending() {
                    // An idle read must see a cut that starts while it waits.
                    recheck_soon(&mut this.read_wait, cx);
                }
                read
            }
        }
    }
}

impl AsyncWrite for CutStream {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        match this.cuts.get(&this.authority) {
            Some(Cut::Both) => Poll::Ready(Err(io::Error::new(io::ErrorKind::ConnectionReset, "the link is cut"))),
            Some(Cut::Requests | Cut::Hold) => {
                recheck_soon(&mut this.write_wait, cx);
                Poll::Pending
            }
            Some(Cut::Replies) | None => Pin::new(&mut this.inner).poll_write(cx, buf),
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    use super::*;

    async fn connect(cuts: &LinkCuts, address: &str) -> io::Result<CutStream> {
        connect_through(cuts.clone(), format!("http://{address}").parse().unwrap()).await
    }

    #[tokio::test]
    async fn a_cut_link_refuses_and_resets_and_a_healed_one_carries_bytes_again() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let echo = tokio::spawn(async move {
            loop {
                let (mut socket, _) = listener.accept().await.unwrap();
                tokio::spawn(async move {
                    let mut buffer = [0u8; 16];
                    while let Ok(read) = socket.read(&mut buffer).await {
                        if read == 0 || socket.write_all(&buffer[..read]).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        let cuts = LinkCuts::default();
        let mut open = connect(&cuts, &address).await.unwrap();
        cuts.cut(&format!("http://{address}"), Cut::Both);
        let refused = connect(&cuts, &address).await.err().unwrap();
        assert_eq!(refused.kind(), io::ErrorKind::ConnectionRefused);
        assert_eq!(open.write_all(b"x").await.unwrap_err().kind(), io::ErrorKind::ConnectionReset);
        cuts.cut(&address, Cut::Hold);
        cuts.heal(&address, Cut::Both);
        // The hold still stands over the healed cut.
        assert_eq!(cuts.get(&address), Some(Cut::Hold));
        cuts.heal(&address, Cut::Hold);
        let mut healed = connect(&cuts, &address).await.unwrap();
        healed.write_all(b"ping").await.unwrap();
        let mut reply = [0u8; 4];
        healed.read_exact(&mut reply).await.unwrap();
        assert_eq!(&reply, b"ping");
        echo.abort();
    }

    #[tokio::test]
    async fn held_replies_stall_and_then_flow_on() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let server = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut buffer = [0u8; 4];
            socket.read_exact(&mut buffer).await.unwrap();
            socket.write_all(&buffer).await.unwrap();
            socket
        });
        let cuts = LinkCuts::default();
        let mut stream = connect(&cuts, &address).await.unwrap();
        cuts.cut(&address, Cut::Replies);
        // Requests still go out; the reply stalls while the cut lasts.
        stream.write_all(b"pong").await.unwrap();
        let _socket = server.await.unwrap();
        let mut reply = [0u8; 4];
        let stalled = tokio::time::timeout(Duration::from_millis(200), stream.read_exact(&mut reply)).await;
        assert!(stalled.is_err(), "a reply came through a cut link");
        cuts.heal(&address, Cut::Replies);
        stream.read_exact(&mut reply).await.unwrap();
        assert_eq!(&reply, b"pong");
    }
}
