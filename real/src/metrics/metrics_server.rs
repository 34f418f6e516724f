//! [`serve_metrics`]: `GET /metrics` over plain HTTP/1.1, one response per
//! connection, for Prometheus scrapers.

use core::future::Future;
use core::time::Duration;
use std::sync::Arc;

use quorum_core::SupervisorService;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

use super::exposition::render;
use super::task_metrics::TaskMetrics;

/// Longest request head read (request line and headers); a longer one is refused.
pub const METRICS_REQUEST_BYTES_MAX: usize = 8 * 1024;
/// Longest a client may take to send its request head.
const REQUEST_READ_MS_MAX: u64 = 5_000;
/// Longest a scrape waits for the supervisor's status before leaving it out.
const STATUS_WAIT_MS_MAX: u64 = 1_000;
/// Scrapes served at once; further connections are closed at once.
const CONNECTIONS_MAX: usize = 16;
/// Pause after a failed accept (out of descriptors, say) before the next.
const ACCEPT_RETRY_MS: u64 = 100;
/// The Prometheus text format's content type.
const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// What a scrape reads: the counts from results and the supervisor itself.
#[derive(Clone, Debug)]
pub struct MetricsSource {
    /// Counts from every result.
    pub tasks: TaskMetrics,
    /// The supervisor, for its status and counters.
    pub service: SupervisorService,
}

impl MetricsSource {
    /// The metrics text now.
    pub async fn scrape(&self) -> String {
        let wait = Duration::from_millis(STATUS_WAIT_MS_MAX);
        let status = match tokio::time::timeout(wait, self.service.status()).await {
            Ok(Ok(status)) => Some(status),
            // Stopped, or too busy: the rest still says something.
            Ok(Err(_)) | Err(_) => None,
        };
        render(&self.tasks.counts(), &self.service.stats(), status.as_ref())
    }
}

/// Serves `GET /metrics` from `source` on `listener` until `shutdown` resolves.
/// Any other path is 404, any other method 405, a malformed or oversized request
/// 400; each connection gets one response and is closed.
pub async fn serve_metrics(source: MetricsSource, listener: TcpListener, shutdown: impl Future<Output = ()>) {
    let permits = Arc::new(Semaphore::new(CONNECTIONS_MAX));
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            biased;
            () = &mut shutdown => return,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, peer)) => {
                // Over the limit, the connection is dropped: a scraper retries.
                let Ok(permit) = Arc::clone(&permits).try_acquire_owned() else {
                    tracing::debug!(%peer, "metrics: too many connections; one closed");
                    continue;
                };
                let source = source.clone();
                tokio::spawn(async move {
                    if let Err(error) = respond(&source, stream).await {
                        tracing::debug!(%peer, %error, "metrics: connection failed");
                    }
                    drop(permit);
                });
            }
            Err(error) => {
                tracing::warn!(%error, "metrics: accept failed");
                tokio::time::sleep(Duration::from_millis(ACCEPT_RETRY_MS)).await;
            }
        }
    }
}

/// What a request head asks.
#[derive(Debug, PartialEq, Eq)]
enum Asked {
    Metrics,
    /// Status and the reason, for anything else.
    Refused(u16, &'static str),
}

async fn respond(source: &MetricsSource, mut stream: TcpStream) -> std::io::Result<()> {
    let limit = Duration::from_millis(REQUEST_READ_MS_MAX);
    let asked = match tokio::time::timeout(limit, read_head(&mut stream)).await {
        Ok(head) => asked_of(&head?),
        Err(_) => Asked::Refused(408, "request head not received in time"),
    };
    let (code, reason, content_type, body) = match asked {
        Asked::Metrics => (200, "OK", CONTENT_TYPE, source.scrape().await),
        Asked::Refused(code, why) => (code, reason_phrase(code), "text/plain; charset=utf-8", format!("{why}\n")),
    };
    let head = format!(
        "HTTP/1.1 {code} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body.as_bytes()).await?;
    stream.shutdown().await
}

/// The request head, or what was read when it grew past the limit or the client
/// stopped sending (then [`asked_of`] refuses it as incomplete).
async fn read_head(stream: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(512);
    let mut buffer = [0_u8; 1024];
    while !head.windows(4).any(|window| window == b"\r\n\r\n") && head.len() <= METRICS_REQUEST_BYTES_MAX {
        let read = stream.read(&mut buffer).await?;
        if read == 0 {
            break;
        }
        head.extend_from_slice(&buffer[..read]);
    }
    Ok(head)
}

fn asked_of(head: &[u8]) -> Asked {
    if head.len() > METRICS_REQUEST_BYTES_MAX {
        return Asked::Refused(431, "request head too long");
    }
    let Some(end) = head.windows(4).position(|window| window == b"\r\n\r\n") else {
        return Asked::Refused(400, "incomplete request head");
    };
    let Ok(head) = core::str::from_utf8(&head[..end]) else {
        return Asked::Refused(400, "request head is not UTF-8");
    };
    let request_line = head.lines().next().unwrap_or_default();
    let mut parts = request_line.split(' ');
    let (Some(method), Some(target), Some(version), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Asked::Refused(400, "malformed request line");
    };
    if !version.starts_with("HTTP/1.") {
        return Asked::Refused(400, "not an HTTP/1 request");
    }
    // A query string (`?name[]=...` filters) is ignored: every metric is sent.
    let path = target.split('?').next().unwrap_or_default();
    if path != "/metrics" {
        return Asked::Refused(404, "only /metrics is served");
    }
    if method != "GET" {
        return Asked::Refused(405, "only GET is served");
    }
    Asked::Metrics
}

fn reason_phrase(code: u16) -> &'static str {
    match code {
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        431 => "Request Header Fields Too Large",
        _ => "Error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_get_of_metrics_is_served_and_bad_heads_are_named() {
        assert_eq!(asked_of(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"), Asked::Metrics);
        assert_eq!(asked_of(b"GET /metrics?name[]=x HTTP/1.0\r\n\r\n"), Asked::Metrics);
        assert_eq!(asked_of(b"GET / HTTP/1.1\r\n\r\n"), Asked::Refused(404, "only /metrics is served"));
        assert_eq!(asked_of(b"POST /metrics HTTP/1.1\r\n\r\n"), Asked::Refused(405, "only GET is served"));
        assert_eq!(asked_of(b"GET /metrics HTTP/1.1\r\n"), Asked::Refused(400, "incomplete request head"));
        assert_eq!(asked_of(b"GET  /metrics HTTP/1.1\r\n\r\n"), Asked::Refused(400, "malformed request line"));
        assert_eq!(asked_of(b"GET /metrics SPDY/3\r\n\r\n"), Asked::Refused(400, "not an HTTP/1 request"));
        assert_eq!(asked_of(b"\xff\xfe /metrics HTTP/1.1\r\n\r\n"), Asked::Refused(400, "request head is not UTF-8"));
        let long = vec![b'a'; METRICS_REQUEST_BYTES_MAX + 1];
        assert_eq!(asked_of(&long), Asked::Refused(431, "request head too long"));
    }
}
