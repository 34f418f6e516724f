//! The service: its bounded feeds and ledger alone, then end to end over the driver
//! and an in-process link, in paused tokio time.

use core::time::Duration;
use std::sync::Arc;

use super::task_events::Feed;
use super::*;
use crate::WorkerId;
use crate::analysis::{AnalysisLimits, HeuristicAnalyser};
use crate::link::LinkError;
use crate::local_link::LocalLink;
use crate::result::{FailureReason, Outcome, ResultMetadata};
use crate::scaler::FixedWorkers;
use crate::supervisor::{Supervisor, SupervisorConfig};
use crate::testing::ScriptedLlm;
use crate::worker::{Worker, WorkerConfig};

fn result_of(task: &str) -> TaskResult {
    TaskResult {
        task: task.into(),
        outcome: Outcome::Failed { reason: FailureReason::ShutDown },
        alternatives: Vec::new(),
        metadata: ResultMetadata {
            plan: HeuristicAnalyser::new(AnalysisLimits::default()).analyse("What is 2 + 2?"),
            threshold: 0.5,
            workers_asked: Vec::new(),
            votes: Vec::new(),
            excluded: Vec::new(),
            failures: Vec::new(),
            rounds: 0,
            early_stopped: false,
            submitted_at_ms: 0,
            started_at_ms: None,
            finished_at_ms: 0,
            llm_calls: 0,
            prompt_tokens: 0,
            completion_tokens: 0,
            rate_limit_wait_ms: 0,
        },
    }
}

fn failure(attempt: u32) -> TaskEvent {
    TaskEvent::Failed { worker: "w1".into(), attempt, error: LinkError::Timeout }
}

#[test]
fn a_full_feed_drops_the_oldest_events_says_how_many_and_keeps_the_result() {
    let feed = Feed::new(3);
    let mut early = feed.subscribe();
    feed.push(TaskEvent::Accepted);
    assert_eq!(early.try_next(), Some(TaskEvent::Accepted));
    let mut late = feed.subscribe();
    for attempt in 1..=5 {
        feed.push(failure(attempt));
    }
    feed.push(TaskEvent::Finished { result: Box::new(result_of("t1")) });
    feed.push(failure(9));
    // `early` read one event; of the six after it, the buffer holds the last three.
    assert_eq!(early.try_next(), Some(TaskEvent::Dropped { events: 3 }));
    assert_eq!(early.try_next(), Some(failure(4)));
    assert_eq!(early.try_next(), Some(failure(5)));
    assert!(!early.is_ended());
    assert!(early.try_next().unwrap().is_final(), "the result is never the one dropped");
    assert!(early.is_ended(), "nothing is written after the result");
    assert_eq!(early.try_next(), None);
    // `late` started at the oldest event buffered then: Accepted, then lost four.
    assert_eq!(late.try_next(), Some(TaskEvent::Dropped { events: 4 }));
}

#[tokio::test(start_paused = true)]
async fn a_waiting_subscriber_wakes_for_each_event_and_ends_when_the_feed_closes() {
    let feed = Feed::new(8);
    let mut events = feed.subscribe();
    let writer = {
        let feed = Arc::clone(&feed);
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(10)).await;
            feed.push(TaskEvent::Accepted);
            tokio::time::sleep(Duration::from_millis(10)).await;
            feed.close();
        })
    };
    assert_eq!(events.next().await, Some(TaskEvent::Accepted));
    assert_eq!(events.next().await, None, "closed without a result: the supervisor is gone");
    writer.await.unwrap();
}

#[test]
fn the_ledger_keeps_results_by_id_for_nobody_in_particular_bounded_and_counts_duplicates() {
    let ledger = Ledger::new(2, 8);
    assert_eq!(ledger.status(&"t1".into()), TaskStatus::Unknown);
    ledger.accept(&"t1".into());
    assert_eq!(ledger.status(&"t1".into()), TaskStatus::Pending);
    // Nobody subscribed to t1: its result is kept all the same.
    assert_eq!(ledger.finish(&result_of("t1")), Emission::First);
    assert_eq!(ledger.status(&"t1".into()), TaskStatus::Done(Box::new(result_of("t1"))));
    let mut events = ledger.subscribe(&"t1".into()).expect("a finished task can be subscribed to");
    assert_eq!(events.try_next(), Some(TaskEvent::Finished { result: Box::new(result_of("t1")) }));
    assert!(events.is_ended());
    assert_eq!(ledger.finish(&result_of("t1")), Emission::Duplicate);
    assert_eq!(ledger.duplicate_results(), 1);
    // Two results are kept: a third forgets the oldest.
    for task in ["t2", "t3"] {
        ledger.accept(&task.into());
        ledger.finish(&result_of(task));
    }
    assert_eq!(ledger.result(&"t1".into()), None);
    assert!(ledger.subscribe(&"t1".into()).is_none());
    assert!(ledger.result(&"t3".into()).is_some());
}

#[test]
fn a_stopped_ledger_ends_live_streams_and_forgets_live_tasks() {
    let ledger = Ledger::new(8, 8);
    ledger.accept(&"t1".into());
    let mut events = ledger.subscribe(&"t1".into()).unwrap();
    ledger.stop();
    assert_eq!(events.try_next(), Some(TaskEvent::Accepted));
    assert!(events.is_ended());
    assert_eq!(ledger.status(&"t1".into()), TaskStatus::Unknown, "a restarted client submits it again");
    ledger.publish(&"t1".into(), failure(1));
    assert!(ledger.subscribe(&"t1".into()).is_none());
}

fn link(workers: &[(&str, &'static str, u64)]) -> Arc<LocalLink<ScriptedLlm>> {
    let link = Arc::new(LocalLink::new());
    for (id, answer, latency_ms) in workers {
        let llm = ScriptedLlm::answering(*latency_ms, answer);
        link.add(Worker::new((*id).into(), WorkerConfig::default(), llm, 1).unwrap()).unwrap();
    }
    link
}

fn start(
    config: SupervisorConfig,
    workers: &[(&str, &'static str, u64)],
) -> (SupervisorService, Arc<LocalLink<ScriptedLlm>>) {
    let link = link(workers);
    let supervisor = Supervisor::new(config, Arc::clone(&link), FixedWorkers).unwrap().with_registry(link.registry());
    let (service, driver) = supervisor.start();
    tokio::spawn(driver.run());
    (service, link)
}

#[tokio::test(start_paused = true)]
async fn submit_is_idempotent_by_id_and_status_follows_the_task() {
    let (service, _link) = start(SupervisorConfig::default(), &[("w1", "4", 100), ("w2", "4", 200), ("w3", "4", 300)]);
    let task = Task::new("t1", "What is 2 + 2?");
    assert_eq!(service.task_status(&"t1".into()), TaskStatus::Unknown);
    assert!(matches!(service.subscribe(&"t1".into()), Err(UnknownTask { task }) if task.as_str() == "t1"));
    assert_eq!(service.submit(task.clone()).await, Ok(Submitted::Accepted));
    assert_eq!(service.submit(task.clone()).await, Ok(Submitted::InProgress), "never a second task");
    assert_eq!(service.task_status(&"t1".into()), TaskStatus::Pending);
    let result = service.subscribe(&"t1".into()).unwrap().result().await.unwrap();
    assert_eq!(service.task_status(&"t1".into()), TaskStatus::Done(Box::new(result.clone())));
    assert_eq!(service.result(&"t1".into()), Some(result.clone()));
    assert_eq!(service.submit(task).await, Ok(Submitted::Completed(Box::new(result))));
    let status = service.status().await.unwrap();
    assert_eq!(status.stats.rounds_started, 1, "resubmissions started nothing");
    service.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_task_stream_tells_acceptance_the_round_each_answer_and_the_result_in_order() {
    let config = SupervisorConfig { early_stop: false, ..SupervisorConfig::default() };
    let (service, _link) = start(config, &[("w1", "4", 300), ("w2", "4", 100), ("w3", "5", 200)]);
    service.submit(Task::new("t1", "What is 2 + 2?")).await.unwrap();
    let mut events = service.subscribe(&"t1".into()).unwrap();
    let mut seen = Vec::new();
    while let Some(event) = events.next().await {
        seen.push(event);
    }
    assert_eq!(seen.len(), 6, "{seen:?}");
    assert_eq!(seen[0], TaskEvent::Accepted);
    let TaskEvent::RoundStarted { attempt: 1, workers } = &seen[1] else { panic!("{:?}", seen[1]) };
    let mut asked: Vec<&str> = workers.iter().map(WorkerId::as_str).collect();
    asked.sort_unstable();
    assert_eq!(asked, ["w1", "w2", "w3"]);
    let answered: Vec<(&str, &str)> = seen[2..5]
        .iter()
        .map(|event| match event {
            TaskEvent::Answered { worker, attempt: 1, text, pushed: false, .. } => (worker.as_str(), text.as_str()),
            other => panic!("expected an answer, got {other:?}"),
        })
        .collect();
    assert_eq!(answered, [("w2", "4"), ("w3", "5"), ("w1", "4")], "in the order they arrived");
    let TaskEvent::Finished { result } = &seen[5] else { panic!("{:?}", seen[5]) };
    assert_eq!(result.answer(), Some("4"));
    service.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_flood_of_pushed_answers_never_reaches_a_task_feed_nor_loses_its_result() {
    let config = SupervisorConfig { task_events_max: 4, ..SupervisorConfig::default() };
    let (service, _link) = start(config, &[("w1", "4", 5_000), ("w2", "4", 5_000), ("w3", "4", 5_000)]);
    service.submit(Task::new("t1", "What is 2 + 2?")).await.unwrap();
    let mut events = service.subscribe(&"t1".into()).unwrap();
    // A worker nobody asked pushes answer after answer while nobody reads.
    for i in 0..500 {
        let answer = crate::link::WorkerAnswer {
            worker: "intruder".into(),
            task: "t1".into(),
            attempt: 1,
            text: format!("flood {i}"),
            confidence: 0.9,
            llm_calls: 1,
            prompt_tokens: 1,
            completion_tokens: 1,
            latency_ms: 1,
            rate_limit_wait_ms: 0,
        };
        service.deliver(answer).await.unwrap();
    }
    // The reader comes back only after the task finished.
    tokio::time::sleep(Duration::from_secs(10)).await;
    let mut seen = Vec::new();
    while let Some(event) = events.next().await {
        seen.push(event);
    }
    // The boundary refused every push: none reached the task's feed (so none could
    // push the workers' own events out of it), and each was counted.
    let intruding = |e: &TaskEvent| matches!(e, TaskEvent::Answered { worker, .. } if worker.as_str() == "intruder");
    assert!(!seen.iter().any(intruding), "{seen:?}");
    assert!(seen.len() <= 5, "{seen:?}");
    let TaskEvent::Finished { result } = seen.last().unwrap() else { panic!("{seen:?}") };
    assert_eq!(result.answer(), Some("4"), "the intruder's answers were never counted");
    assert_eq!(service.stats().unassigned_answers, 500);
    service.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_dropped_driver_ends_streams_and_the_service_answers_stopped() {
    let link = link(&[("w1", "4", 5_000)]);
    let supervisor = Supervisor::new(SupervisorConfig::default().fit_to_workers(1), Arc::clone(&link), FixedWorkers)
        .unwrap()
        .with_registry(link.registry());
    let (service, driver) = supervisor.start();
    let running = tokio::spawn(driver.run());
    service.submit(Task::new("t1", "What is 2 + 2?")).await.unwrap();
    let events = service.subscribe(&"t1".into()).unwrap();
    running.abort();
    let _ = running.await;
    assert_eq!(events.result().await, None, "a crashed supervisor leaves no result");
    assert_eq!(service.task_status(&"t1".into()), TaskStatus::Unknown);
    assert_eq!(service.status().await, Err(Stopped));
    assert!(matches!(service.submit(Task::new("t2", "x")).await, Err(SubmitError::ShuttingDown)));
}

/// A planning model shared with the test, which counts its calls.
struct SharedPlanner(Arc<ScriptedLlm>);

impl crate::llm::Llm for SharedPlanner {
    async fn complete(
        &self,
        request: crate::llm::CompletionRequest,
    ) -> Result<crate::llm::Completion, crate::llm::LlmError> {
        self.0.complete(request).await
    }
}

/// A planner that answers after `latency_ms` with a plan of its own: 3 workers and
/// a round timeout of 7,777 ms, which the heuristic never picks.
fn planner(latency_ms: u64) -> Arc<ScriptedLlm> {
    Arc::new(ScriptedLlm::new(latency_ms, |_, _| {
        Ok(r#"{"complexity": 2, "workers": 3, "timeout_ms": 7777, "strategy": "numeric", "threshold": 0.6,
            "tolerance": 0.01}"#
            .to_owned())
    }))
}

fn start_analysed(planner: &Arc<ScriptedLlm>, model_call_ms: u64) -> SupervisorService {
    let workers = [("w1", "4", 100), ("w2", "4", 200), ("w3", "4", 300)];
    let link = link(&workers);
    let mut config = SupervisorConfig::default();
    config.deadlines.model_call_ms = model_call_ms;
    let supervisor = Supervisor::new(config, Arc::clone(&link), FixedWorkers)
        .unwrap()
        .with_registry(link.registry())
        .with_analyser(crate::boxed::BoxLlm::new(SharedPlanner(Arc::clone(planner))));
    let (service, driver) = supervisor.start();
    tokio::spawn(driver.run());
    service
}

#[tokio::test(start_paused = true)]
async fn an_analyser_plans_a_new_task_once_and_a_known_id_never_pays_a_model_call() {
    let planner = planner(50);
    let service = start_analysed(&planner, 1_000);
    let task = Task::new("t1", "What is 2 + 2?");
    assert_eq!(service.submit(task.clone()).await.unwrap(), Submitted::Accepted);
    assert_eq!(planner.calls(), 1);
    assert_eq!(service.submit(task.clone()).await.unwrap(), Submitted::InProgress);
    let result = service.subscribe(&"t1".into()).unwrap().result().await.unwrap();
    assert_eq!(result.metadata.plan.timeout_ms, 7_777, "the model's plan ran");
    assert!(matches!(service.submit(task).await.unwrap(), Submitted::Completed(_)));
    assert_eq!(planner.calls(), 1, "resubmitting a known id asked the model again");
    // An invalid task is refused by the machine without a model call.
    let empty = Task::new("t2", "");
    assert!(matches!(service.submit(empty).await, Err(SubmitError::Invalid(_))));
    assert_eq!(planner.calls(), 1);
    service.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn an_analyser_slower_than_its_deadline_leaves_the_task_to_the_heuristic() {
    let planner = planner(60_000);
    let service = start_analysed(&planner, 500);
    let asked = tokio::time::Instant::now();
    assert_eq!(service.submit(Task::new("t1", "What is 2 + 2?")).await.unwrap(), Submitted::Accepted);
    assert_eq!(asked.elapsed(), Duration::from_millis(500), "submit waited for the deadline, no longer");
    assert_eq!(planner.calls(), 1);
    let result = service.subscribe(&"t1".into()).unwrap().result().await.unwrap();
    let heuristic = HeuristicAnalyser::new(AnalysisLimits::default())
        .with_base(SupervisorConfig::default().consensus, None)
        .analyse("What is 2 + 2?");
    assert_eq!(result.metadata.plan, heuristic);
    assert_eq!(result.answer(), Some("4"));
    service.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_retry_while_the_model_plans_hears_in_progress_and_pays_no_second_call() {
    let planner = planner(800);
    let service = start_analysed(&planner, 2_000);
    let task = Task::new("t1", "What is 2 + 2?");
    let first = tokio::spawn({
        let (service, task) = (service.clone(), task.clone());
        async move { service.submit(task).await }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(service.task_status(&"t1".into()), TaskStatus::Pending, "pending while the model plans");
    assert_eq!(service.submit(task).await.unwrap(), Submitted::InProgress);
    assert_eq!(first.await.unwrap().unwrap(), Submitted::Accepted);
    assert_eq!(planner.calls(), 1, "the retry asked the model again");
    let result = service.subscribe(&"t1".into()).unwrap().result().await.unwrap();
    assert_eq!(result.metadata.plan.timeout_ms, 7_777, "the first submit's plan ran");
    service.shutdown().await;
}
