//! The driver over an in-process link, in paused tokio time.

use super::*;
use crate::local_link::LocalLink;
use crate::result::Outcome;
use crate::scaler::FixedWorkers;
use crate::testing::ScriptedLlm;
use crate::worker::{Worker, WorkerConfig};

fn cluster(answers: &[(&str, &'static str, u64)]) -> Arc<LocalLink<ScriptedLlm>> {
    let link = Arc::new(LocalLink::new());
    for (id, answer, latency_ms) in answers {
        let worker =
            Worker::new((*id).into(), WorkerConfig::default(), ScriptedLlm::answering(*latency_ms, answer), 1).unwrap();
        link.add(worker);
    }
    link
}

fn ids(answers: &[(&str, &'static str, u64)]) -> Vec<WorkerId> {
    answers.iter().map(|(id, _, _)| WorkerId::from(*id)).collect()
}

#[tokio::test(start_paused = true)]
async fn submits_receives_one_result_per_task_and_drains_on_shutdown() {
    let workers = [("w1", "4", 200), ("w2", "4", 300), ("w3", "5", 400)];
    let link = cluster(&workers);
    let supervisor = Supervisor::new(SupervisorConfig::default(), Arc::clone(&link), FixedWorkers)
        .unwrap()
        .with_workers(ids(&workers));
    let (handle, mut results, driver) = supervisor.start();
    let running = tokio::spawn(driver.run());
    for i in 0..5 {
        assert_eq!(handle.submit(Task::new(format!("t{i}"), "What is 2 + 2?")).await.unwrap(), Submitted::Accepted);
    }
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..5 {
        let result = results.recv().await.unwrap();
        assert_eq!(result.answer(), Some("4"));
        assert!(seen.insert(result.task.clone()), "one result per task");
    }
    let status = handle.status().await.unwrap();
    assert_eq!(status.workers.len(), 3);
    assert!(status.powers.iter().any(|(w, r)| w.as_str() == "w1" && r.power > 1.0));
    handle.shutdown().await;
    running.await.unwrap();
    assert!(results.recv().await.is_none(), "stream ends after shutdown");
}

#[tokio::test(start_paused = true)]
async fn shutdown_waits_for_running_tasks() {
    let workers = [("w1", "Paris", 5_000), ("w2", "Paris", 5_000), ("w3", "Paris", 5_000)];
    let link = cluster(&workers);
    let supervisor =
        Supervisor::new(SupervisorConfig::default(), link, FixedWorkers).unwrap().with_workers(ids(&workers));
    let (handle, mut results, driver) = supervisor.start();
    tokio::spawn(driver.run());
    handle.submit(Task::new("t1", "What is the capital of France?")).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    handle.shutdown().await;
    let result = results.try_recv().expect("the running task finished before shutdown returned");
    assert_eq!(result.answer(), Some("Paris"));
    assert!(matches!(handle.submit(Task::new("t2", "x")).await, Err(SubmitError::ShuttingDown)));
}

#[tokio::test(start_paused = true)]
async fn a_crashed_worker_is_replaced_and_recovers() {
    let workers = [("w1", "4", 100), ("w2", "4", 100), ("w3", "4", 100), ("w4", "4", 100)];
    let link = cluster(&workers);
    let supervisor = Supervisor::new(SupervisorConfig::default(), Arc::clone(&link), FixedWorkers)
        .unwrap()
        .with_workers(ids(&workers));
    let (handle, mut results, driver) = supervisor.start();
    tokio::spawn(driver.run());
    link.set_down(&"w1".into(), true);
    for i in 0..4 {
        handle.submit(Task::new(format!("t{i}"), "What is 2 + 2?")).await.unwrap();
    }
    for _ in 0..4 {
        assert_eq!(results.recv().await.unwrap().answer(), Some("4"));
    }
    tokio::time::sleep(Duration::from_secs(12)).await;
    let status = handle.status().await.unwrap();
    let w1 = status.workers.iter().find(|w| w.worker.as_str() == "w1").unwrap();
    assert_eq!(w1.status, crate::pool::WorkerStatus::Offline);
    link.set_down(&"w1".into(), false);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let status = handle.status().await.unwrap();
    let w1 = status.workers.iter().find(|w| w.worker.as_str() == "w1").unwrap();
    assert_eq!(w1.status, crate::pool::WorkerStatus::Available, "recovered after heartbeats resume");
    handle.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn dropping_every_handle_shuts_down_cleanly() {
    let workers = [("w1", "x", 100)];
    let link = cluster(&workers);
    let supervisor = Supervisor::new(SupervisorConfig::default().with_workers(1, 3), link, FixedWorkers)
        .unwrap()
        .with_workers(ids(&workers));
    let (handle, mut results, driver) = supervisor.start();
    let running = tokio::spawn(driver.run());
    handle.submit(Task::new("t1", "Name a letter.")).await.unwrap();
    drop(handle);
    running.await.unwrap();
    // The plan wants three workers (a quorum of two); one alone cannot start it, so the
    // queued task ends with the shutdown rather than vanishing.
    let result = results.recv().await.unwrap();
    assert_eq!(result.outcome, Outcome::Failed { reason: crate::result::FailureReason::ShutDown });
    assert!(results.recv().await.is_none());
}
