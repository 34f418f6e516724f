//! The P2P agent's service end to end on 127.0.0.1 through the public API: a fake
//! agent served on an ephemeral port, the client's identity, deliveries, submits
//! and status queries, and the refusals (token, bad fields, message limit).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use quorum_core::consensus::{Ballot, ConsensusConfig, decide};
use quorum_core::p2p::{
    AgentId, AgentKey, Block, BlockHash, CommittedTask, Message, Payload, PeerMessage, Proposal, QuorumCert,
    STEP_SEPARATOR, SignedAnswer, SubmitError, Submitted, TaskNotice, TaskStatus, Timeout, View, Vote,
};
use quorum_core::{Task, TaskId, WorkerId};
use quorum_grpc::{
    AGENT_SERVICE, AgentClient, AuthToken, ClientError, GrpcConfig, REQUEST_BYTES_MAX_DEFAULT, ServeError, ServedAgent,
    serve_agent, tcp_incoming,
};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

const SECRET: &str = "agent-test-secret-0123456789";
const OTHER_SECRET: &str = "some-other-secret-9876543210";
/// Open tasks the fake takes before it answers `TooManyTasks`.
const OPEN_TASKS_MAX: usize = 3;

fn token() -> AuthToken {
    AuthToken::new(SECRET).unwrap()
}

fn key(id: &str) -> AgentKey {
    AgentKey::from_seed(AgentId::from(id), 7)
}

/// A fake agent: records deliveries, answers submits and status queries from a map.
struct FakeAgent {
    key: AgentKey,
    deliveries: Mutex<Vec<(AgentId, PeerMessage)>>,
    tasks: Mutex<BTreeMap<TaskId, TaskStatus>>,
}

impl FakeAgent {
    fn new() -> Arc<Self> {
        Arc::new(Self { key: key("a1"), deliveries: Mutex::default(), tasks: Mutex::default() })
    }

    fn deliveries(&self) -> Vec<(AgentId, PeerMessage)> {
        self.deliveries.lock().unwrap().clone()
    }
}

impl ServedAgent for FakeAgent {
    fn identity(&self) -> (AgentId, [u8; 32]) {
        (self.key.id().clone(), self.key.verifying_key().to_bytes())
    }

    fn deliver(&self, from: AgentId, message: PeerMessage) {
        self.deliveries.lock().unwrap().push((from, message));
    }

    async fn submit(&self, task: Task) -> Result<Submitted, SubmitError> {
        if task.id.as_str().contains(STEP_SEPARATOR) {
            return Err(SubmitError::ReservedId { task: task.id });
        }
        let mut tasks = self.tasks.lock().unwrap();
        match tasks.get(&task.id) {
            Some(TaskStatus::Committed(_)) => Ok(Submitted::AlreadyCommitted),
            Some(_) => Ok(Submitted::AlreadyOpen),
            None if tasks.values().filter(|status| **status == TaskStatus::Open).count() >= OPEN_TASKS_MAX => {
                Err(SubmitError::TooManyTasks { max: OPEN_TASKS_MAX })
            }
            None => {
                tasks.insert(task.id, TaskStatus::Open);
                Ok(Submitted::Accepted)
            }
        }
    }

    async fn status(&self, task: TaskId) -> TaskStatus {
        self.tasks.lock().unwrap().get(&task).cloned().unwrap_or(TaskStatus::Unknown)
    }
}

/// A served agent: its address, and how to stop it.
struct Served {
    address: String,
    stop: oneshot::Sender<()>,
    server: JoinHandle<Result<(), ServeError>>,
}

impl Served {
    async fn start(agent: Arc<FakeAgent>, config: GrpcConfig) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = oneshot::channel::<()>();
        let shutdown = async {
            let _ = stopped.await;
        };
        let server = tokio::spawn(serve_agent(agent, token(), config, tcp_incoming(listener), shutdown));
        Self { address, stop, server }
    }

    fn client(&self) -> AgentClient {
        AgentClient::connect(&self.address, &token(), GrpcConfig::default()).unwrap()
    }

    /// Stops the server and checks that it shut down cleanly.
    async fn stop(self) {
        self.stop.send(()).unwrap();
        self.server.await.unwrap().unwrap();
    }
}

/// A committed task built by hand: two agents' signed answers and `decide()` over them.
fn committed(task: &str) -> CommittedTask {
    let answers = vec![
        SignedAnswer::new(&key("a1"), TaskId::new(task), "4", 0.9),
        SignedAnswer::new(&key("a2"), TaskId::new(task), "4.0", 0.7),
    ];
    let ballots: Vec<Ballot> = answers
        .iter()
        .map(|signed| {
            Ballot::new(WorkerId::new(signed.answer.agent.as_str()), signed.answer.text.clone())
                .confidence(signed.answer.confidence)
        })
        .collect();
    let decision = decide(&ballots, &ConsensusConfig::default()).unwrap();
    let payload = Payload {
        task: TaskId::new(task),
        text: "What is 2+2?".to_owned(),
        asked: vec![AgentId::from("a1"), AgentId::from("a2")],
        answers,
        decision,
    };
    let block = Block {
        view: View(2),
        height: 1,
        parent: BlockHash::genesis(),
        justify: QuorumCert::genesis(),
        proposer: AgentId::from("a1"),
        payload: Some(payload.clone()),
    };
    CommittedTask { height: 1, view: View(2), block: block.hash(), proposer: AgentId::from("a1"), payload, plan: None }
}

/// One peer message of each kind a replica and an agent send.
fn peer_messages() -> Vec<PeerMessage> {
    let a2 = key("a2");
    let committed = committed("t1");
    let block = Block {
        view: committed.view,
        height: committed.height,
        parent: BlockHash::genesis(),
        justify: QuorumCert::genesis(),
        proposer: a2.id().clone(),
        payload: Some(committed.payload.clone()),
    };
    let vote = Vote::new(&a2, View(2), block.hash());
    let certificate =
        QuorumCert { view: View(2), block: block.hash(), votes: vec![(vote.voter.clone(), vote.signature)] };
    vec![
        PeerMessage::Task(TaskNotice { task: TaskId::new("t1"), text: "What is 2+2?".to_owned() }),
        PeerMessage::Answer(SignedAnswer::new(&a2, TaskId::new("t1"), "4", 0.1 + 0.2)),
        PeerMessage::Consensus(Box::new(Message::Proposal(Proposal::new(&a2, block.clone())))),
        PeerMessage::Consensus(Box::new(Message::Vote(vote))),
        PeerMessage::Consensus(Box::new(Message::Timeout(Timeout::new(&a2, View(3), certificate.clone())))),
        PeerMessage::Consensus(Box::new(Message::Certificate(certificate))),
        PeerMessage::Consensus(Box::new(Message::BlockRequest(block.hash()))),
        PeerMessage::Consensus(Box::new(Message::BlockResponse(block))),
    ]
}

#[tokio::test]
async fn identity_and_every_kind_of_peer_message_survive_the_trip() {
    let agent = FakeAgent::new();
    let served = Served::start(Arc::clone(&agent), GrpcConfig::default()).await;
    let client = served.client();
    let (id, public_key) = client.identity().await.unwrap();
    assert_eq!(id, AgentId::from("a1"));
    assert_eq!(public_key, key("a1").verifying_key().to_bytes());
    let from = AgentId::from("a2");
    let messages = peer_messages();
    for message in &messages {
        client.deliver(&from, message).await.unwrap();
    }
    let expected: Vec<(AgentId, PeerMessage)> = messages.into_iter().map(|message| (from.clone(), message)).collect();
    assert_eq!(agent.deliveries(), expected);
    drop(client);
    served.stop().await;
}

#[tokio::test]
async fn submits_are_accepted_reported_or_refused_by_name() {
    let agent = FakeAgent::new();
    let served = Served::start(Arc::clone(&agent), GrpcConfig::default()).await;
    let client = served.client();
    assert_eq!(client.submit(Task::new("t1", "What is 2+2?")).await, Ok(Submitted::Accepted));
    assert_eq!(client.submit(Task::new("t1", "What is 2+2?")).await, Ok(Submitted::AlreadyOpen));
    agent.tasks.lock().unwrap().insert(TaskId::new("t0"), TaskStatus::Committed(Box::new(committed("t0"))));
    assert_eq!(client.submit(Task::new("t0", "What is 2+2?")).await, Ok(Submitted::AlreadyCommitted));

    let reserved = client.submit(Task::new("t1/step", "What is 2+2?")).await.unwrap_err();
    let ClientError::Invalid { detail } = &reserved else { panic!("{reserved:?}") };
    assert!(detail.contains("task.id") && detail.contains("t1/step"), "{detail}");

    // The wire's own checks come first: an empty id never reaches the agent.
    let empty = client.submit(Task::new("", "What is 2+2?")).await.unwrap_err();
    assert!(matches!(&empty, ClientError::Invalid { detail } if detail.contains("task.id")), "{empty:?}");

    for open in ["t2", "t3"] {
        assert_eq!(client.submit(Task::new(open, "q")).await, Ok(Submitted::Accepted));
    }
    let full = client.submit(Task::new("t4", "q")).await.unwrap_err();
    assert!(matches!(&full, ClientError::Overloaded { detail } if detail.contains("3 tasks are open")), "{full:?}");
    drop(client);
    served.stop().await;
}

#[tokio::test]
async fn status_is_unknown_open_or_committed_with_its_block() {
    let agent = FakeAgent::new();
    let served = Served::start(Arc::clone(&agent), GrpcConfig::default()).await;
    let client = served.client();
    assert_eq!(client.status(&TaskId::new("t1")).await, Ok(TaskStatus::Unknown));
    client.submit(Task::new("t1", "What is 2+2?")).await.unwrap();
    assert_eq!(client.status(&TaskId::new("t1")).await, Ok(TaskStatus::Open));
    let committed = committed("t1");
    agent.tasks.lock().unwrap().insert(TaskId::new("t1"), TaskStatus::Committed(Box::new(committed.clone())));
    assert_eq!(client.status(&TaskId::new("t1")).await, Ok(TaskStatus::Committed(Box::new(committed))));
    let long = TaskId::new("x".repeat(quorum_core::TASK_ID_BYTES_MAX + 1));
    let error = client.status(&long).await.unwrap_err();
    assert!(matches!(&error, ClientError::Invalid { detail } if detail.contains("agent_status.task")), "{error:?}");
    drop(client);
    served.stop().await;
}

#[tokio::test]
async fn a_wrong_token_is_refused_and_never_shown() {
    let agent = FakeAgent::new();
    let served = Served::start(Arc::clone(&agent), GrpcConfig::default()).await;
    let other = AuthToken::new(OTHER_SECRET).unwrap();
    let intruder = AgentClient::connect(&served.address, &other, GrpcConfig::default()).unwrap();
    let errors = [
        intruder.identity().await.unwrap_err(),
        intruder.deliver(&AgentId::from("a2"), &peer_messages()[0]).await.unwrap_err(),
        intruder.submit(Task::new("t1", "q")).await.unwrap_err(),
        intruder.status(&TaskId::new("t1")).await.unwrap_err(),
    ];
    for error in errors {
        assert_eq!(error, ClientError::Unauthenticated);
        for shown in [error.to_string(), format!("{error:?}"), format!("{intruder:?}")] {
            assert!(!shown.contains(SECRET) && !shown.contains(OTHER_SECRET), "{shown}");
        }
    }
    assert!(agent.deliveries().is_empty());
    assert!(agent.tasks.lock().unwrap().is_empty());
    drop(intruder);
    served.stop().await;
}

#[tokio::test]
async fn a_bad_sender_id_is_refused_naming_the_field() {
    let agent = FakeAgent::new();
    let served = Served::start(Arc::clone(&agent), GrpcConfig::default()).await;
    let client = served.client();
    let message = &peer_messages()[1];
    let long = AgentId::new("a".repeat(quorum_core::p2p::AGENT_ID_BYTES_MAX + 1));
    for from in [long, AgentId::from(""), AgentId::from("  ")] {
        let error = client.deliver(&from, message).await.unwrap_err();
        assert!(matches!(&error, ClientError::Invalid { detail } if detail.contains("deliver.from")), "{error:?}");
    }
    assert!(agent.deliveries().is_empty());
    drop(client);
    served.stop().await;
}

/// A peer answer of `bytes` of text: its JSON is a little larger.
fn answer_of(bytes: usize) -> PeerMessage {
    PeerMessage::Answer(SignedAnswer::new(&key("a2"), TaskId::new("t1"), "x".repeat(bytes), 0.5))
}

#[tokio::test]
async fn an_oversized_delivery_is_refused_by_the_message_limit() {
    let agent = FakeAgent::new();
    let served = Served::start(Arc::clone(&agent), GrpcConfig::default()).await;
    let from = AgentId::from("a2");

    // The client does not send what the limit forbids, and says which field is over.
    let client = served.client();
    let error = client.deliver(&from, &answer_of(REQUEST_BYTES_MAX_DEFAULT)).await.unwrap_err();
    assert!(
        matches!(&error, ClientError::Invalid { detail } if detail.contains("deliver.message_json") && detail.contains("at most")),
        "{error:?}"
    );

    // A sender with a larger limit is refused by the server's.
    let generous = GrpcConfig { request_bytes_max: 4 * REQUEST_BYTES_MAX_DEFAULT, ..GrpcConfig::default() };
    let sender = AgentClient::connect(&served.address, &token(), generous).unwrap();
    let error = sender.deliver(&from, &answer_of(REQUEST_BYTES_MAX_DEFAULT)).await.unwrap_err();
    assert!(matches!(&error, ClientError::Protocol { detail } if detail.contains("too large")), "{error:?}");
    assert!(agent.deliveries().is_empty());

    // The server goes on: a delivery within the limit still arrives.
    let fits = answer_of(1024);
    sender.deliver(&from, &fits).await.unwrap();
    assert_eq!(agent.deliveries(), vec![(from, fits)]);
    drop((client, sender));
    served.stop().await;
}

#[tokio::test]
async fn health_reports_the_agent_service_without_a_token() {
    let served = Served::start(FakeAgent::new(), GrpcConfig::default()).await;
    let channel = tonic::transport::Endpoint::from_shared(served.address.clone()).unwrap().connect().await.unwrap();
    let mut health = HealthClient::new(channel);
    let reply = health.check(HealthCheckRequest { service: AGENT_SERVICE.to_owned() }).await.unwrap();
    assert_eq!(reply.into_inner().status(), ServingStatus::Serving);
    drop(health);
    served.stop().await;
}

#[tokio::test]
async fn a_bad_address_or_config_is_refused_by_name() {
    let error = AgentClient::connect("not a uri", &token(), GrpcConfig::default()).unwrap_err();
    assert!(matches!(&error, ClientError::Invalid { detail } if detail.contains("not a URI")), "{error:?}");
    let bad = GrpcConfig { keepalive_interval_ms: 0, ..GrpcConfig::default() };
    let error = AgentClient::connect("http://127.0.0.1:1", &token(), bad).unwrap_err();
    assert!(
        matches!(&error, ClientError::Invalid { detail } if detail.contains("grpc.keepalive_interval_ms")),
        "{error:?}"
    );
}
