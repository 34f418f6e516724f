//! The connections a node serves, from its caller's listener.

use tokio::net::TcpListener;
use tonic::transport::server::TcpIncoming;

/// The connections accepted on `listener`, each with `TCP_NODELAY` set. tonic's
/// server sets it only on listeners it binds itself (its `tcp_nodelay` is ignored
/// for a caller's stream of connections); without it, a reply written in several
/// small pieces (a streamed answer's event, then its end) waits for the peer's
/// delayed ACK, some 40 ms on Linux, on every call.
pub(crate) fn incoming(listener: TcpListener) -> TcpIncoming {
    TcpIncoming::from(listener).with_nodelay(Some(true))
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;

    #[tokio::test]
    async fn accepted_connections_have_nodelay() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let mut connections = incoming(listener);
        let _client = tokio::net::TcpStream::connect(address).await.unwrap();
        let accepted = connections.next().await.unwrap().unwrap();
        assert!(accepted.nodelay().unwrap());
    }
}
