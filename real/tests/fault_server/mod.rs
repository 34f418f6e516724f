//! A scripted OpenAI-compatible HTTP/1.1 server on 127.0.0.1, for fault tests.
//!
//! Request `n` (counted from 0, whatever its path) gets `script[n]`, the last entry
//! once the script runs out. Every request is recorded (path, headers, body, arrival)
//! so a test can count them and see what the client sent. One request per
//! connection (`Connection: close`), which keeps the parser small.

#![allow(dead_code, reason = "each test file uses a different part of the server")]

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// Largest request head or body read; larger is a broken client.
const REQUEST_BYTES_MAX: usize = 1024 * 1024;

/// One scripted reply.
#[derive(Clone, Debug)]
pub enum Reply {
    /// A status line, extra headers and a body.
    Respond { status: u16, headers: Vec<(String, String)>, body: String },
    /// Read the request, then never answer (until the client gives up).
    Stall,
}

impl Reply {
    /// `status` with a JSON `body`.
    pub fn json(status: u16, body: &str) -> Self {
        Self::Respond { status, headers: Vec::new(), body: body.to_owned() }
    }

    /// A 200 chat completion with usage.
    pub fn completion(content: &str, finish_reason: &str, prompt_tokens: u32, completion_tokens: u32) -> Self {
        let body = serde_json::json!({
            "id": "chatcmpl-1", "object": "chat.completion", "created": 1_700_000_000, "model": "fault-model",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                         "finish_reason": finish_reason}],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                      "total_tokens": prompt_tokens + completion_tokens}
        });
        Self::json(200, &body.to_string())
    }

    /// An OpenAI-style error body.
    pub fn error(status: u16, kind: &str, code: &str, message: &str) -> Self {
        let body = serde_json::json!({"error": {"message": message, "type": kind, "code": code}});
        Self::json(status, &body.to_string())
    }

    /// The same reply with one more header.
    pub fn with_header(self, name: &str, value: &str) -> Self {
        match self {
            Self::Respond { status, mut headers, body } => {
                headers.push((name.to_owned(), value.to_owned()));
                Self::Respond { status, headers, body }
            }
            Self::Stall => Self::Stall,
        }
    }
}

/// What the server received.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
    pub arrived: Instant,
}

impl Recorded {
    /// A header's value by name, case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(key, _)| key.eq_ignore_ascii_case(name)).map(|(_, value)| value.as_str())
    }
}

/// The running server; stops when dropped.
pub struct FaultServer {
    pub base_url: String,
    recorded: Arc<Mutex<Vec<Recorded>>>,
    accept: JoinHandle<()>,
}

impl FaultServer {
    /// Listens on an ephemeral port of 127.0.0.1 and answers with `script`.
    pub async fn start(script: Vec<Reply>) -> Self {
        assert!(!script.is_empty(), "a script needs at least one reply");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
        let base_url = format!("http://{}/v1", listener.local_addr().expect("local address"));
        let recorded = Arc::new(Mutex::new(Vec::new()));
        let script = Arc::new(script);
        let accept = tokio::spawn({
            let recorded = Arc::clone(&recorded);
            async move {
                while let Ok((stream, _)) = listener.accept().await {
                    tokio::spawn(serve(stream, Arc::clone(&script), Arc::clone(&recorded)));
                }
            }
        });
        Self { base_url, recorded, accept }
    }

    /// Requests received so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.recorded.lock().unwrap().clone()
    }

    /// How many requests arrived.
    pub fn count(&self) -> usize {
        self.recorded.lock().unwrap().len()
    }
}

impl Drop for FaultServer {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

async fn serve(mut stream: TcpStream, script: Arc<Vec<Reply>>, recorded: Arc<Mutex<Vec<Recorded>>>) {
    let Some(request) = read_request(&mut stream).await else { return };
    let reply = {
        let mut recorded = recorded.lock().unwrap();
        let reply = script[recorded.len().min(script.len() - 1)].clone();
        recorded.push(request);
        reply
    };
    match reply {
        Reply::Respond { status, headers, body } => {
            let mut head = format!(
                "HTTP/1.1 {status} Scripted\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
                body.len()
            );
            for (name, value) in headers {
                head.push_str(&format!("{name}: {value}\r\n"));
            }
            head.push_str("\r\n");
            let _ = stream.write_all(head.as_bytes()).await;
            let _ = stream.write_all(body.as_bytes()).await;
            let _ = stream.shutdown().await;
        }
        Reply::Stall => {
            // Hold the connection open until the client closes it.
            let mut sink = [0u8; 1024];
            while matches!(stream.read(&mut sink).await, Ok(read) if read > 0) {}
        }
    }
}

async fn read_request(stream: &mut TcpStream) -> Option<Recorded> {
    let mut buffer = Vec::new();
    let head_end = loop {
        if let Some(end) = buffer.windows(4).position(|window| window == b"\r\n\r\n") {
            break end;
        }
        if buffer.len() > REQUEST_BYTES_MAX {
            return None;
        }
        let mut chunk = [0u8; 4096];
        let read = stream.read(&mut chunk).await.ok()?;
        if read == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..read]);
    };
    let arrived = Instant::now();
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let path = lines.next()?.split(' ').nth(1)?.to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_owned(), value.trim().to_owned()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, value)| value.parse().ok())
        .unwrap_or(0)
        .min(REQUEST_BYTES_MAX);
    let mut body = buffer[head_end + 4..].to_vec();
    while body.len() < length {
        let mut chunk = [0u8; 4096];
        let read = stream.read(&mut chunk).await.ok()?;
        if read == 0 {
            return None;
        }
        body.extend_from_slice(&chunk[..read]);
    }
    Some(Recorded { path, headers, body: String::from_utf8_lossy(&body).into_owned(), arrived })
}
