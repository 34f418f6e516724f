//! What no well-behaved client sends: raw requests with a garbage message, a
//! missing task, an unknown field value, straight at the served agent on 127.0.0.1.

use std::sync::Mutex;

use quorum_core::p2p::AgentKey;
use tokio::sync::oneshot;
use tonic::Code;

use super::*;
use crate::proto::agent_client::AgentClient as RawClient;
use crate::serve::tcp_incoming;

const SECRET: &str = "raw-test-secret-0123456789";

/// Records deliveries; takes every task; knows none.
#[derive(Default)]
struct Recorder {
    deliveries: Mutex<Vec<(AgentId, PeerMessage)>>,
    submits: Mutex<Vec<Task>>,
}

impl ServedAgent for Recorder {
    fn identity(&self) -> (AgentId, [u8; 32]) {
        let key = AgentKey::from_seed(AgentId::from("a1"), 1);
        (key.id().clone(), key.verifying_key().to_bytes())
    }

    fn deliver(&self, from: AgentId, message: PeerMessage) {
        self.deliveries.lock().unwrap().push((from, message));
    }

    async fn submit(&self, task: Task) -> Result<Submitted, SubmitError> {
        self.submits.lock().unwrap().push(task);
        Ok(Submitted::Accepted)
    }

    async fn status(&self, _task: TaskId) -> TaskStatus {
        TaskStatus::Unknown
    }
}

/// Serves `agent`, runs `test` with a raw client carrying the token, then stops the
/// server and checks it shut down cleanly.
async fn with_raw_client<F, Fut>(agent: Arc<Recorder>, test: F)
where
    F: FnOnce(
        RawClient<tonic::service::interceptor::InterceptedService<tonic::transport::Channel, crate::SendToken>>,
    ) -> Fut,
    Fut: Future<Output = ()>,
{
    let token = AuthToken::new(SECRET).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = oneshot::channel::<()>();
    let shutdown = async {
        let _ = stopped.await;
    };
    let server =
        tokio::spawn(serve_agent(agent, token.clone(), GrpcConfig::default(), tcp_incoming(listener), shutdown));
    let channel = tonic::transport::Endpoint::from_shared(address).unwrap().connect().await.unwrap();
    test(RawClient::with_interceptor(channel, token.sender())).await;
    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
}

#[tokio::test]
async fn garbage_peer_messages_are_invalid_arguments_naming_the_field() {
    let agent = Arc::new(Recorder::default());
    with_raw_client(Arc::clone(&agent), |mut client| async move {
        let garbage: [&[u8]; 4] = [b"not json", b"{\"answer\": {\"answer\": 1}}", b"", &[0xc3, 0x28]];
        for json in garbage {
            let request = proto::DeliverPeerRequest { from: "a2".to_owned(), message_json: json.to_vec() };
            let status = client.deliver(request).await.unwrap_err();
            assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
            assert!(status.message().starts_with("deliver.message_json: "), "{}", status.message());
        }
        // A signature that is not 64 bytes of hex is no peer message either.
        let bad_signature =
            br#"{"answer":{"answer":{"task":"t1","agent":"a2","text":"4","confidence":0.5},"signature":"zz"}}"#;
        let request = proto::DeliverPeerRequest { from: "a2".to_owned(), message_json: bad_signature.to_vec() };
        let status = client.deliver(request).await.unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
        assert!(status.message().contains("deliver.message_json"), "{}", status.message());
    })
    .await;
    assert!(agent.deliveries.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_submit_without_a_good_task_never_reaches_the_agent() {
    let agent = Arc::new(Recorder::default());
    with_raw_client(Arc::clone(&agent), |mut client| async move {
        let status = client.submit(proto::AgentSubmitRequest { task: None }).await.unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument);
        assert!(status.message().starts_with("submit.task: missing"), "{}", status.message());
        let task = proto::Task { id: "t1".to_owned(), text: "q".to_owned(), ground_truth: None, priority: 42 };
        let status = client.submit(proto::AgentSubmitRequest { task: Some(task) }).await.unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument);
        assert!(status.message().starts_with("task.priority: "), "{}", status.message());
        let status = client.status(proto::AgentStatusRequest { task: String::new() }).await.unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument);
        assert!(status.message().starts_with("agent_status.task: "), "{}", status.message());
    })
    .await;
    assert!(agent.submits.lock().unwrap().is_empty());
}
