//! The measured loops: the echo, tasks one at a time, and tasks (and echoes) from
//! several concurrent clients. Each loop warms up first, untimed.

use core::time::Duration;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Instant;

use quorum_core::{Outcome, Task, TaskResult};
use quorum_real::{AuthToken, GrpcConfig, SupervisorClient, WORKER_SERVICE};
use tokio::task::JoinSet;
use tonic::transport::{Channel, Endpoint};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

use crate::bench_error::BenchError;
use crate::samples::Samples;
use crate::timed_link::SpanBook;

/// Fresh tasks over the questions the mock knows: every task gets a new id (a known
/// id would be answered from the supervisor's memory of results, with no worker
/// call), its text cycling through the questions.
#[derive(Debug)]
pub struct TaskSource {
    questions: Vec<String>,
    next: AtomicU64,
}

impl TaskSource {
    /// Tasks over `questions` (at least one).
    pub fn new(questions: Vec<String>) -> Self {
        assert!(!questions.is_empty(), "the mock knows no question");
        Self { questions, next: AtomicU64::new(0) }
    }

    fn task(&self) -> Task {
        let number = self.next.fetch_add(1, Ordering::Relaxed);
        let text = &self.questions[(number % self.questions.len() as u64) as usize];
        Task::new(format!("bench-{number:07}"), text.clone())
    }
}

/// The echo's per-call latency, and the task figures of one sequential run.
#[derive(Debug)]
pub struct Sequential {
    /// Client-side submit to result.
    pub task: Samples,
    /// The supervisor's execute calls of each task, first start to last end.
    pub worker_calls: Samples,
    /// `task - worker_calls`, per task.
    pub added: Samples,
}

/// A channel to `address`, connected.
async fn connect(address: &str) -> Result<Channel, BenchError> {
    let endpoint = Endpoint::from_shared(address.to_owned())
        .map_err(|error| BenchError::Echo { detail: format!("address {address}: {error}") })?;
    endpoint.connect().await.map_err(|error| BenchError::Echo { detail: format!("connect to {address}: {error}") })
}

/// One echo: the standard grpc health `Check` of the worker service.
async fn echo(health: &mut HealthClient<Channel>) -> Result<(), BenchError> {
    let request = HealthCheckRequest { service: WORKER_SERVICE.to_owned() };
    let reply = health.check(request).await.map_err(|status| BenchError::Echo { detail: status.to_string() })?;
    match reply.into_inner().status() {
        ServingStatus::Serving => Ok(()),
        other => Err(BenchError::Echo { detail: format!("the worker reports {other:?}") }),
    }
}

/// `calls` echoes one after another to the server at `address`, after `warm_up`.
///
/// # Errors
/// [`BenchError::Echo`] when a call fails.
pub async fn echo_sequential(address: &str, warm_up: usize, calls: usize) -> Result<Samples, BenchError> {
    let mut health = HealthClient::new(connect(address).await?);
    for _ in 0..warm_up {
        echo(&mut health).await?;
    }
    let mut samples = Vec::with_capacity(calls);
    for _ in 0..calls {
        let started = Instant::now();
        echo(&mut health).await?;
        samples.push(started.elapsed());
    }
    Ok(Samples::new(samples))
}

/// Submits one task and reads its events to its result, which must be agreed.
async fn run_task(client: &SupervisorClient, task: Task) -> Result<TaskResult, BenchError> {
    let id = task.id.clone();
    let result = client.submit(task).await?.result().await?;
    match &result.outcome {
        Outcome::Agreed { .. } => Ok(result),
        outcome => Err(BenchError::NotAgreed { task: id, outcome: format!("{outcome:?}") }),
    }
}

/// `tasks` tasks one after another, after `warm_up`, each timed at the client and
/// split into its worker calls (from `spans`) and the rest.
///
/// # Errors
/// [`BenchError`] when a task fails, is not agreed or made no timed worker call.
pub async fn tasks_sequential(
    client: &SupervisorClient,
    source: &TaskSource,
    spans: &SpanBook,
    warm_up: usize,
    tasks: usize,
) -> Result<Sequential, BenchError> {
    for _ in 0..warm_up {
        run_task(client, source.task()).await?;
    }
    spans.clear();
    let (mut task_samples, mut call_samples, mut added_samples) =
        (Vec::with_capacity(tasks), Vec::with_capacity(tasks), Vec::with_capacity(tasks));
    for _ in 0..tasks {
        let task = source.task();
        let id = task.id.clone();
        let started = Instant::now();
        run_task(client, task).await?;
        let ended = Instant::now();
        let span = spans.take(&id).ok_or(BenchError::Untimed { task: id })?;
        // The calls run inside the task's time: after its submit reached the
        // supervisor and before its result left it.
        assert!(span.first_started >= started && span.last_ended <= ended, "worker calls outside their task");
        let total = ended.duration_since(started);
        task_samples.push(total);
        call_samples.push(span.duration());
        added_samples.push(total - span.duration());
    }
    Ok(Sequential {
        task: Samples::new(task_samples),
        worker_calls: Samples::new(call_samples),
        added: Samples::new(added_samples),
    })
}

/// Runs `total` operations from `clients` concurrent loops, each with its own
/// connection (`setup`, untimed); returns operations per second.
async fn concurrently<C, S, SF, O, OF>(clients: usize, total: usize, setup: S, operation: O) -> Result<f64, BenchError>
where
    C: Send + 'static,
    S: Fn() -> SF,
    SF: Future<Output = Result<C, BenchError>>,
    O: Fn(C) -> OF + Clone + Send + 'static,
    OF: Future<Output = Result<C, BenchError>> + Send,
{
    let mut connections = Vec::with_capacity(clients);
    for _ in 0..clients {
        connections.push(setup().await?);
    }
    let remaining = Arc::new(AtomicUsize::new(total));
    let started = Instant::now();
    let mut loops = JoinSet::new();
    for connection in connections {
        let (remaining, operation) = (Arc::clone(&remaining), operation.clone());
        loops.spawn(async move {
            let mut connection = connection;
            while remaining.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| left.checked_sub(1)).is_ok() {
                connection = operation(connection).await?;
            }
            Ok::<(), BenchError>(())
        });
    }
    while let Some(finished) = loops.join_next().await {
        finished.map_err(|error| BenchError::crashed("a client loop", &error))??;
    }
    Ok(total as f64 / started.elapsed().max(Duration::from_nanos(1)).as_secs_f64())
}

/// Tasks per second from `clients` concurrent clients, `total` tasks in all.
///
/// # Errors
/// As [`tasks_sequential`].
pub async fn tasks_per_second(
    address: &str,
    token: &AuthToken,
    source: &Arc<TaskSource>,
    clients: usize,
    total: usize,
) -> Result<f64, BenchError> {
    let setup = || async {
        let client = SupervisorClient::connect_lazy(address, token, GrpcConfig::default())?;
        // Connected before the clock starts.
        client.status().await?;
        Ok(client)
    };
    let source = Arc::clone(source);
    let operation = move |client: SupervisorClient| {
        let source = Arc::clone(&source);
        async move {
            run_task(&client, source.task()).await?;
            Ok(client)
        }
    };
    concurrently(clients, total, setup, operation).await
}

/// Echoes per second from `clients` concurrent clients, `total` echoes in all.
///
/// # Errors
/// As [`echo_sequential`].
pub async fn echoes_per_second(address: &str, clients: usize, total: usize) -> Result<f64, BenchError> {
    let setup = || async {
        let mut health = HealthClient::new(connect(address).await?);
        echo(&mut health).await?;
        Ok(health)
    };
    let operation = |mut health: HealthClient<Channel>| async move {
        echo(&mut health).await?;
        Ok(health)
    };
    concurrently(clients, total, setup, operation).await
}
