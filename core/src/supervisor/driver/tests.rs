//! The driver over an in-process link, in paused tokio time.

use std::sync::Mutex;

use super::*;
use crate::local_link::LocalLink;
use crate::result::{FailureReason, Outcome};
use crate::scaler::FixedWorkers;
use crate::supervisor::machine::SubmitError;
use crate::task::Task;
use crate::testing::ScriptedLlm;
use crate::worker::{Worker, WorkerConfig};

fn worker(id: &str, answer: &'static str, latency_ms: u64) -> Worker<ScriptedLlm> {
    Worker::new(id.into(), WorkerConfig::default(), ScriptedLlm::answering(latency_ms, answer), 1).unwrap()
}

fn cluster(answers: &[(&str, &'static str, u64)]) -> Arc<LocalLink<ScriptedLlm>> {
    let link = Arc::new(LocalLink::new());
    for (id, answer, latency_ms) in answers {
        link.add(worker(id, answer, *latency_ms)).unwrap();
    }
    link
}

fn ids(answers: &[(&str, &'static str, u64)]) -> Vec<WorkerId> {
    answers.iter().map(|(id, _, _)| WorkerId::from(*id)).collect()
}

fn status_of(status: &SupervisorStatus, worker: &str) -> Option<crate::pool::WorkerStatus> {
    status.workers.iter().find(|w| w.worker.as_str() == worker).map(|w| w.status)
}

#[tokio::test(start_paused = true)]
async fn submits_receives_one_result_per_task_and_drains_on_shutdown() {
    let workers = [("w1", "4", 200), ("w2", "4", 300), ("w3", "5", 400)];
    let link = cluster(&workers);
    let supervisor = Supervisor::new(SupervisorConfig::default(), Arc::clone(&link), FixedWorkers)
        .unwrap()
        .with_workers(ids(&workers));
    let (service, driver) = supervisor.start();
    let running = tokio::spawn(driver.run());
    let mut streams = Vec::new();
    for i in 0..5 {
        let task = TaskId::new(format!("t{i}"));
        assert_eq!(service.submit(Task::new(task.clone(), "What is 2 + 2?")).await.unwrap(), Submitted::Accepted);
        streams.push(service.subscribe(&task).unwrap());
    }
    for events in streams {
        assert_eq!(events.result().await.unwrap().answer(), Some("4"));
    }
    let status = service.status().await.unwrap();
    assert_eq!(status.workers.len(), 3);
    assert!(status.powers.iter().any(|(w, r)| w.as_str() == "w1" && r.power > 1.0));
    service.shutdown().await;
    running.await.unwrap();
    assert_eq!(service.result(&"t4".into()).unwrap().answer(), Some("4"), "results outlive the driver");
    assert_eq!(service.duplicate_results(), 0);
}

#[tokio::test(start_paused = true)]
async fn shutdown_waits_for_running_tasks() {
    let workers = [("w1", "Paris", 5_000), ("w2", "Paris", 5_000), ("w3", "Paris", 5_000)];
    let link = cluster(&workers);
    let supervisor =
        Supervisor::new(SupervisorConfig::default(), link, FixedWorkers).unwrap().with_workers(ids(&workers));
    let (service, driver) = supervisor.start();
    tokio::spawn(driver.run());
    service.submit(Task::new("t1", "What is the capital of France?")).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    service.shutdown().await;
    let result = service.result(&"t1".into()).expect("the running task finished before shutdown returned");
    assert_eq!(result.answer(), Some("Paris"));
    assert!(matches!(service.submit(Task::new("t2", "x")).await, Err(SubmitError::ShuttingDown)));
}

#[tokio::test(start_paused = true)]
async fn a_crashed_worker_is_replaced_and_recovers() {
    let workers = [("w1", "4", 100), ("w2", "4", 100), ("w3", "4", 100), ("w4", "4", 100)];
    let link = cluster(&workers);
    let supervisor = Supervisor::new(SupervisorConfig::default(), Arc::clone(&link), FixedWorkers)
        .unwrap()
        .with_workers(ids(&workers));
    let (service, driver) = supervisor.start();
    tokio::spawn(driver.run());
    link.set_down(&"w1".into(), true);
    let mut streams = Vec::new();
    for i in 0..4 {
        let task = TaskId::new(format!("t{i}"));
        service.submit(Task::new(task.clone(), "What is 2 + 2?")).await.unwrap();
        streams.push(service.subscribe(&task).unwrap());
    }
    for events in streams {
        assert_eq!(events.result().await.unwrap().answer(), Some("4"));
    }
    tokio::time::sleep(Duration::from_secs(12)).await;
    let status = service.status().await.unwrap();
    assert_eq!(status_of(&status, "w1"), Some(crate::pool::WorkerStatus::Offline));
    link.set_down(&"w1".into(), false);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let status = service.status().await.unwrap();
    assert_eq!(status_of(&status, "w1"), Some(crate::pool::WorkerStatus::Available), "recovered after heartbeats");
    service.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn dropping_every_service_clone_shuts_down_cleanly() {
    let workers = [("w1", "x", 100)];
    let link = cluster(&workers);
    let supervisor = Supervisor::new(SupervisorConfig::default().with_workers(1, 3), link, FixedWorkers)
        .unwrap()
        .with_workers(ids(&workers));
    let (service, driver) = supervisor.start();
    let running = tokio::spawn(driver.run());
    service.submit(Task::new("t1", "Name a letter.")).await.unwrap();
    let events = service.subscribe(&"t1".into()).unwrap();
    drop(service);
    running.await.unwrap();
    // The plan wants three workers (a quorum of two); one alone cannot start it, so the
    // queued task ends with the shutdown rather than vanishing.
    let result = events.result().await.unwrap();
    assert_eq!(result.outcome, Outcome::Failed { reason: FailureReason::ShutDown });
}

#[tokio::test(start_paused = true)]
async fn a_followed_registry_brings_joins_and_leaves_to_the_machine() {
    let workers = [("w1", "4", 100), ("w2", "4", 100), ("w3", "4", 100)];
    let link = cluster(&workers);
    let supervisor = Supervisor::new(SupervisorConfig::default(), Arc::clone(&link), FixedWorkers)
        .unwrap()
        .with_registry(link.registry());
    let (service, driver) = supervisor.start();
    tokio::spawn(driver.run());
    service.submit(Task::new("t1", "What is 2 + 2?")).await.unwrap();
    let result = service.subscribe(&"t1".into()).unwrap().result().await.unwrap();
    assert_eq!(result.answer(), Some("4"), "the registry's members at start are the workers");
    link.add(worker("w4", "4", 100)).unwrap();
    assert!(link.remove(&"w1".into()));
    tokio::time::sleep(Duration::from_millis(10)).await;
    let status = service.status().await.unwrap();
    let known: Vec<&str> = status.workers.iter().map(|w| w.worker.as_str()).collect();
    assert_eq!(known, ["w2", "w3", "w4"]);
    service.submit(Task::new("t2", "What is 2 + 2?")).await.unwrap();
    let result = service.subscribe(&"t2".into()).unwrap().result().await.unwrap();
    assert!(result.metadata.workers_asked.iter().all(|w| w.as_str() != "w1"), "a worker that left is not asked");
    service.shutdown().await;
}

/// Starts spare workers by joining them to the link's registry, as a real scaler
/// would register the processes it starts, and reports them in its reply too.
#[derive(Debug)]
struct RegisteringScaler {
    link: Arc<LocalLink<ScriptedLlm>>,
    spares: Mutex<Vec<&'static str>>,
    calls: Arc<Mutex<u32>>,
}

impl Scaler for RegisteringScaler {
    async fn scale_up(&self, count: usize) -> Result<Vec<WorkerId>, ScaleError> {
        *self.calls.lock().unwrap() += 1;
        let mut spares = self.spares.lock().unwrap();
        let take = count.min(spares.len());
        let started: Vec<&str> = spares.drain(..take).collect();
        if started.is_empty() {
            return Err(ScaleError::NoCapacity);
        }
        for id in &started {
            self.link.add(worker(id, "4", 100)).unwrap();
        }
        Ok(started.into_iter().map(WorkerId::from).collect())
    }

    async fn scale_down(&self, worker: &WorkerId) -> Result<(), ScaleError> {
        if self.link.remove(worker) { Ok(()) } else { Err(ScaleError::UnknownWorker(worker.clone())) }
    }
}

#[tokio::test(start_paused = true)]
async fn a_worker_a_scaler_starts_and_registers_joins_and_works() {
    let link = cluster(&[("w1", "4", 100)]);
    let scaler_calls = Arc::new(Mutex::new(0));
    let scaler = RegisteringScaler {
        link: Arc::clone(&link),
        spares: Mutex::new(vec!["s1", "s2"]),
        calls: Arc::clone(&scaler_calls),
    };
    // Three workers wanted at least: the pool asks the scaler for the two missing.
    let config = SupervisorConfig::default().with_workers(3, 3);
    let supervisor = Supervisor::new(config, Arc::clone(&link), scaler).unwrap().with_registry(link.registry());
    let (service, driver) = supervisor.start();
    tokio::spawn(driver.run());
    service.submit(Task::new("t1", "What is 2 + 2?")).await.unwrap();
    let result = service.subscribe(&"t1".into()).unwrap().result().await.unwrap();
    assert_eq!(result.answer(), Some("4"));
    assert!(result.metadata.workers_asked.iter().any(|w| w.as_str() == "s1"), "a spare joined and was asked");
    assert_eq!(*scaler_calls.lock().unwrap(), 1);
    let status = service.status().await.unwrap();
    let known: Vec<&str> = status.workers.iter().map(|w| w.worker.as_str()).collect();
    assert_eq!(known, ["s1", "s2", "w1"]);
    service.shutdown().await;
}
