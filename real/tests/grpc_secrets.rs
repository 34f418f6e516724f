//! The shared token never appears in a log line (every level, every crate), an
//! error, or `Debug` output, through a whole task and refused calls. Its own test
//! binary, so the captured logs are this test's alone.

mod support;

use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};

use quorum_core::{LinkError, WorkerLink, WorkerRegistry};
use quorum_real::{GrpcConfig, GrpcLink, TcpConnect};
use support::{SECRET, SupervisorProcess, WorkerProcess, token, workload, wrong_token};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_planted_token_is_in_no_log_error_or_debug_output() {
    let captured = Captured::default();
    let writer = captured.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .init();

    let (tasks, truths) = workload(1);
    let supervisor = SupervisorProcess::start(token()).await;
    let workers = supervisor.workers(&["w1", "w2", "w3"], &truths, 20).await;
    let client = supervisor.client(&token());
    let result = client.submit(tasks[0].clone()).await.unwrap().result().await.unwrap();
    assert!(result.is_agreed(), "{:?}", result.outcome);

    // Refusals both ways, whose errors are kept.
    let refused_client = supervisor.client(&wrong_token()).status().await.unwrap_err();
    let registry = WorkerRegistry::<String>::new();
    registry.join(workers[0].id.clone(), workers[0].address.clone()).unwrap();
    let link = GrpcLink::new(registry, wrong_token(), GrpcConfig::default(), TcpConnect).unwrap();
    let refused_link = link.heartbeat(&workers[0].id).await.unwrap_err();
    assert!(matches!(refused_link, LinkError::Protocol { .. }), "{refused_link:?}");
    let rogue = WorkerProcess::start("rogue", wrong_token(), &truths, 20);
    let refused_join = supervisor.client(&wrong_token()).join(&rogue.id, &rogue.address).await.unwrap_err();

    let shown = [
        format!("{:?} {}", token(), token()),
        format!("{client:?} {link:?}"),
        format!("{refused_client:?} {refused_client}"),
        format!("{refused_link:?} {refused_link}"),
        format!("{refused_join:?} {refused_join}"),
        format!("{result:?}"),
    ];
    for text in &shown {
        assert!(!text.contains(SECRET), "the token leaked: {text}");
    }
    let logs = String::from_utf8_lossy(&captured.0.lock().unwrap_or_else(PoisonError::into_inner)).into_owned();
    assert!(logs.contains("refused an unauthenticated call"), "the capture works and saw the refusals");
    assert!(logs.lines().count() > 20, "trace level from every crate was captured: {} lines", logs.lines().count());
    for line in logs.lines() {
        assert!(!line.contains(SECRET), "the token leaked into a log line: {line}");
    }
}
