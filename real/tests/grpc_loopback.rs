//! The gRPC runtime over real TCP on 127.0.0.1: a supervisor and workers in one
//! process, core's mock model answering.

mod support;

use std::collections::BTreeSet;

use quorum_core::consensus::Strategy;
use quorum_core::mock::workload::Truth;
use quorum_core::{ExecuteRequest, LinkError, Task, TaskEvent, WorkerId, WorkerLink, WorkerRegistry};
use quorum_real::{ClientError, GrpcConfig, GrpcLink, SUPERVISOR_SERVICE, TcpConnect, WORKER_SERVICE};
use support::{SupervisorProcess, WorkerProcess, token, workload, wrong_token};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

/// A plain channel: health and reflection need no token.
async fn channel(address: &str) -> tonic::transport::Channel {
    tonic::transport::Endpoint::from_shared(address.to_owned()).unwrap().connect().await.unwrap()
}

/// Whether `answer` is the truth (the mock's exact style writes the canonical form).
fn is_right(truth: &Truth, answer: &str) -> bool {
    match truth {
        Truth::Semantic { .. } => truth.known_verdict(answer) == Some(true),
        Truth::Numeric { .. } | Truth::Exact { .. } => answer == truth.canonical(),
    }
}

fn voters(result: &quorum_core::TaskResult) -> BTreeSet<String> {
    result.metadata.votes.iter().map(|vote| vote.worker.as_str().to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_workers_agree_on_every_task_end_to_end() {
    let (tasks, truths) = workload(3);
    let supervisor = SupervisorProcess::start(token()).await;
    let _workers = supervisor.workers(&["w1", "w2", "w3"], &truths, 20).await;
    let client = supervisor.client(&token());
    for task in tasks {
        let mut events = client.submit(task.clone()).await.unwrap();
        assert_eq!(events.next().await.unwrap(), Some(TaskEvent::Accepted));
        let result = events.result().await.unwrap();
        assert_eq!(result.task, task.id);
        assert!(result.is_agreed(), "{:?}", result.outcome);
        assert!(is_right(&truths[&task.text], result.answer().unwrap()), "{:?}", result.outcome);
        assert_eq!(voters(&result), BTreeSet::from(["w1".to_owned(), "w2".to_owned(), "w3".to_owned()]));
        assert!(result.metadata.llm_calls >= 3, "{}", result.metadata.llm_calls);
        assert!(result.metadata.prompt_tokens > 0 && result.metadata.completion_tokens > 0);
        // The same result by id, and again through an idempotent resubmission.
        assert_eq!(client.result(&task.id).await.unwrap(), Some(result.clone()));
        assert_eq!(client.submit(task).await.unwrap().result().await.unwrap(), result);
    }
    let status = client.status().await.unwrap();
    assert_eq!(status.workers.len(), 3);
    assert_eq!(
        client.result(&"never-submitted".into()).await,
        Err(ClientError::UnknownTask { task: "never-submitted".into() })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_with_a_wrong_token_can_neither_join_nor_answer() {
    let (tasks, truths) = workload(1);
    let supervisor = SupervisorProcess::start(token()).await;
    let rogue = WorkerProcess::start("rogue", wrong_token(), &truths, 20);
    let refused = supervisor.client(&wrong_token()).join(&rogue.id, &rogue.address).await;
    assert_eq!(refused, Err(ClientError::Unauthenticated));
    assert!(!supervisor.registry.contains(&rogue.id), "a refused join registers nothing");
    // Registered by other means, it still cannot answer: it refuses the supervisor's
    // token, so its execute call fails and no answer of it ever reaches a vote.
    let registry = WorkerRegistry::<String>::new();
    registry.join(rogue.id.clone(), rogue.address.clone()).unwrap();
    let link = GrpcLink::new(registry, token(), GrpcConfig::default(), TcpConnect).unwrap();
    let request = ExecuteRequest {
        task: tasks[0].id.clone(),
        attempt: 1,
        text: tasks[0].text.clone(),
        strategy: Strategy::Exact,
        timeout_ms: 2_000,
    };
    let error = link.execute(&rogue.id, request).await.unwrap_err();
    assert!(matches!(&error, LinkError::Protocol { detail } if detail.contains("Unauthenticated")), "{error:?}");
    assert!(error.is_health_failure());
    assert!(link.heartbeat(&rogue.id).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_with_a_wrong_token_is_unauthenticated() {
    let (tasks, _) = workload(1);
    let supervisor = SupervisorProcess::start(token()).await;
    let client = supervisor.client(&wrong_token());
    assert_eq!(client.submit(tasks[0].clone()).await.err(), Some(ClientError::Unauthenticated));
    assert_eq!(client.status().await.err(), Some(ClientError::Unauthenticated));
    assert_eq!(supervisor.service.task_status(&tasks[0].id), quorum_core::TaskStatus::Unknown);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_message_is_refused_and_the_server_serves_on() {
    let supervisor = SupervisorProcess::start(token()).await;
    let generous = GrpcConfig { request_bytes_max: 16 * 1024 * 1024, ..GrpcConfig::default() };
    let client = quorum_real::SupervisorClient::connect_lazy(&supervisor.address, &token(), generous).unwrap();
    let huge = Task::new("huge", "x".repeat(1024 * 1024));
    let error = client.submit(huge).await.err().unwrap();
    assert!(matches!(&error, ClientError::Protocol { detail } if detail.contains("OutOfRange")), "{error:?}");
    // Under the wire's limit but over core's: refused by name.
    let long = Task::new("long", "x".repeat(quorum_core::TASK_TEXT_BYTES_MAX + 1));
    let error = client.submit(long).await.err().unwrap();
    assert!(matches!(&error, ClientError::Invalid { detail } if detail.contains("task.text")), "{error:?}");
    let empty = Task::new("", "What is 2+2?");
    let error = client.submit(empty).await.err().unwrap();
    assert!(matches!(&error, ClientError::Invalid { detail } if detail.contains("task.id")), "{error:?}");
    // The server is still up, on the same connection and on a new one.
    assert!(client.status().await.is_ok());
    assert!(supervisor.client(&token()).status().await.is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_reports_serving_for_both_services() {
    let (_, truths) = workload(1);
    let supervisor = SupervisorProcess::start(token()).await;
    let worker = WorkerProcess::start("w1", token(), &truths, 20);
    for (address, service) in [(&supervisor.address, SUPERVISOR_SERVICE), (&worker.address, WORKER_SERVICE)] {
        let mut health = HealthClient::new(channel(address).await);
        for name in [service, ""] {
            let reply = health.check(HealthCheckRequest { service: name.to_owned() }).await.unwrap();
            assert_eq!(reply.into_inner().status(), ServingStatus::Serving, "{service} {name:?}");
        }
        let unknown = health.check(HealthCheckRequest { service: "nope".to_owned() }).await.unwrap_err();
        assert_eq!(unknown.code(), tonic::Code::NotFound);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reflection_lists_the_services() {
    use tonic_reflection::pb::v1::ServerReflectionRequest;
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;

    let (_, truths) = workload(1);
    let supervisor = SupervisorProcess::start(token()).await;
    let worker = WorkerProcess::start("w1", token(), &truths, 20);
    for (address, service) in [(&supervisor.address, SUPERVISOR_SERVICE), (&worker.address, WORKER_SERVICE)] {
        let mut reflection = ServerReflectionClient::new(channel(address).await);
        let request = ServerReflectionRequest {
            host: String::new(),
            message_request: Some(MessageRequest::ListServices(String::new())),
        };
        let mut replies = reflection.server_reflection_info(tokio_stream::iter([request])).await.unwrap().into_inner();
        let reply = replies.message().await.unwrap().unwrap();
        let Some(MessageResponse::ListServicesResponse(list)) = reply.message_response else {
            panic!("not a list of services: {reply:?}");
        };
        let names: BTreeSet<String> = list.service.into_iter().map(|service| service.name).collect();
        for expected in [service, "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection"] {
            assert!(names.contains(expected), "{expected} missing from {names:?}");
        }
    }
}

/// Reads `events` until the first round starts; returns the workers asked.
async fn first_round(events: &mut quorum_real::SubmittedTask) -> Vec<WorkerId> {
    loop {
        match events.next().await.unwrap() {
            Some(TaskEvent::RoundStarted { workers, .. }) => return workers,
            Some(TaskEvent::Finished { result }) => panic!("finished before a round started: {result:?}"),
            Some(_) => {}
            None => panic!("the stream ended"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_killed_mid_task_are_replaced_and_the_task_completes() {
    let (tasks, truths) = workload(1);
    let supervisor = SupervisorProcess::start(token()).await;
    let mut workers = supervisor.workers(&["w1", "w2", "w3", "w4", "w5"], &truths, 1_500).await;
    let client = supervisor.client(&token());
    let mut events = client.submit(tasks[0].clone()).await.unwrap();
    let asked = first_round(&mut events).await;
    assert_eq!(asked.len(), 3);
    // Two of three killed: the one answer left is short of a quorum, so the task
    // needs replacements.
    let victims = &asked[..2];
    for worker in workers.iter_mut().filter(|worker| victims.contains(&worker.id)) {
        worker.kill();
    }
    let result = events.result().await.unwrap();
    assert!(result.is_agreed(), "{:?}", result.outcome);
    assert!(is_right(&truths[&tasks[0].text], result.answer().unwrap()), "{:?}", result.outcome);
    let voted = voters(&result);
    for victim in victims {
        assert!(!voted.contains(victim.as_str()), "killed {victim} cannot have voted: {voted:?}");
        let failure = result.metadata.failures.iter().find(|failure| failure.worker == *victim).unwrap();
        assert!(failure.error.is_health_failure(), "{:?}", failure.error);
    }
    assert!(
        voted.iter().any(|worker| !asked.iter().any(|first| first.as_str() == worker)),
        "a replacement voted: {voted:?} (first round {asked:?})"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_lets_in_flight_tasks_finish_with_their_results() {
    let (tasks, truths) = workload(1);
    let mut supervisor = SupervisorProcess::start(token()).await;
    let mut workers = supervisor.workers(&["w1", "w2", "w3"], &truths, 1_500).await;
    let client = supervisor.client(&token());
    let mut events = client.submit(tasks[0].clone()).await.unwrap();
    let asked = first_round(&mut events).await;
    // One asked worker shuts down while it works on the task (its request arrived:
    // one sent after the shutdown began would rightly be refused).
    let worker = workers.iter_mut().find(|worker| worker.id == asked[0]).unwrap();
    worker.wait_until_busy().await;
    let (worker_stopped, result) = tokio::join!(worker.stop(), events.result());
    worker_stopped.unwrap();
    let supervisor_stop = tokio::spawn(async move { supervisor.stop().await });
    let result = result.unwrap();
    assert!(result.is_agreed(), "{:?}", result.outcome);
    assert_eq!(
        voters(&result).len(),
        3,
        "the stopping worker's answer still counts: {:?} {:?}",
        result.metadata.votes,
        result.metadata.failures
    );
    supervisor_stop.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_supervisor_stopping_mid_task_still_streams_the_result() {
    let (tasks, truths) = workload(1);
    let mut supervisor = SupervisorProcess::start(token()).await;
    let _workers = supervisor.workers(&["w1", "w2", "w3"], &truths, 1_000).await;
    let client = supervisor.client(&token());
    let mut events = client.submit(tasks[0].clone()).await.unwrap();
    first_round(&mut events).await;
    let address = supervisor.address.clone();
    let stopping = tokio::spawn(async move { supervisor.stop().await });
    let result = events.result().await.unwrap();
    assert!(result.is_agreed(), "{:?}", result.outcome);
    stopping.await.unwrap().unwrap();
    // Stopped: a new client finds nobody.
    let late = quorum_real::SupervisorClient::connect_lazy(&address, &token(), GrpcConfig::default()).unwrap();
    assert_eq!(late.status().await.err(), Some(ClientError::Unavailable));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_worker_ends_in_a_timeout() {
    let (address, _silent) = silent_peer().await;
    let registry = WorkerRegistry::<String>::new();
    registry.join("mute".into(), address).unwrap();
    let config = GrpcConfig { connect_timeout_ms: 5_000, ..GrpcConfig::default() };
    let link = GrpcLink::new(registry, token(), config, TcpConnect).unwrap();
    assert_eq!(link.heartbeat(&"mute".into()).await, Err(LinkError::Timeout));
    assert_eq!(link.heartbeat(&"unregistered".into()).await, Err(LinkError::Unavailable));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_supervisor_ends_a_clients_call_in_a_timeout() {
    // As for a worker: the client's deadline, not a broken connection, ends the call.
    let (address, _silent) = silent_peer().await;
    let config = GrpcConfig { connect_timeout_ms: 5_000, ..GrpcConfig::default() };
    let client = quorum_real::SupervisorClient::connect_lazy(&address, &token(), config).unwrap();
    assert_eq!(client.status().await.err(), Some(ClientError::Timeout));
}

/// A peer that accepts connections and never speaks: the HTTP/2 handshake and any
/// call stall until the caller's deadline. Its address, and the task holding it.
async fn silent_peer() -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    let holding = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    (address, holding)
}
