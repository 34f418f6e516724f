//! The real gRPC path, measured: tasks through a supervisor and three workers over
//! TCP on 127.0.0.1 with an instant mock model, beside a bare tonic unary call (the
//! echo) measured in the same run on the same stack, as ratios.
//!
//! `cargo bench -p quorum-real --bench grpc_path`; `QUORUM_BENCH_TASKS=N` (default
//! 1000) sets how many echoes and tasks each measurement takes.
//!
//! # Layout
//! - `cluster`: the supervisor and workers, in this process;
//! - `timed_link`: the supervisor's link to its workers, timing every execute call;
//! - `measure`: the measured loops;
//! - `samples`: percentiles;
//! - `bench_error`: why a run stops.

mod bench_error;
mod cluster;
mod measure;
mod samples;
mod timed_link;

use core::fmt::Write as _;
use core::time::Duration;
use std::io::Write as _;
use std::process::ExitCode;
use std::sync::Arc;

use quorum_real::SupervisorClient;
use quorum_real::node::{TokenSecret, mock_questions};

use crate::bench_error::BenchError;
use crate::cluster::{Cluster, WORKER_CAPACITY, WORKERS};
use crate::measure::{Sequential, TaskSource, echo_sequential, echoes_per_second, tasks_per_second, tasks_sequential};
use crate::samples::Samples;

/// This bench's name, for cargo's filters.
const NAME: &str = "grpc_path";
/// Samples per measurement by default: a release run takes a few seconds.
const TASKS_DEFAULT: usize = 1_000;
/// Most samples per measurement: each task's result stays in the supervisor's
/// memory (up to its own bound), and a run should end in minutes.
const TASKS_MAX: usize = 1_000_000;
/// Concurrent clients of the throughput runs.
const CLIENT_COUNTS: [usize; 3] = [1, 8, 32];
/// The target of issue 10: what the supervisor adds to a task, at the median.
const ADDED_P50_TARGET: Duration = Duration::from_millis(1);

const _: () = assert!(CLIENT_COUNTS[CLIENT_COUNTS.len() - 1] <= WORKER_CAPACITY as usize);

/// What one run measured.
struct Figures {
    tasks: usize,
    warm_up: usize,
    echo: Samples,
    sequential: Sequential,
    /// (clients, tasks per second, echoes per second).
    throughput: Vec<(usize, f64, f64)>,
}

fn main() -> ExitCode {
    let filters: Vec<String> = std::env::args().skip(1).filter(|arg| !arg.starts_with('-')).collect();
    if !filters.is_empty() && !filters.iter().any(|filter| NAME.contains(filter.as_str())) {
        return ExitCode::SUCCESS;
    }
    match run() {
        Ok(report) => {
            let _ = std::io::stdout().lock().write_all(report.as_bytes());
            ExitCode::SUCCESS
        }
        Err(error) => {
            let _ = writeln!(std::io::stderr().lock(), "{NAME}: {error}");
            ExitCode::FAILURE
        }
    }
}

fn tasks_from_env() -> Result<usize, BenchError> {
    match std::env::var("QUORUM_BENCH_TASKS") {
        Err(_) => Ok(TASKS_DEFAULT),
        Ok(value) => match value.trim().parse::<usize>() {
            Ok(tasks) if (1..=TASKS_MAX).contains(&tasks) => Ok(tasks),
            _ => Err(BenchError::Tasks { value: value.chars().take(64).collect(), max: TASKS_MAX }),
        },
    }
}

/// Measures and renders the report; the shared token never appears in it.
fn run() -> Result<String, BenchError> {
    let tasks = tasks_from_env()?;
    let secret = match TokenSecret::from_var()? {
        Some(secret) => secret,
        None => TokenSecret::fresh()?,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|error| BenchError::Runtime { detail: error.to_string() })?;
    let figures = runtime.block_on(measure(&secret, tasks))?;
    let report = render(&figures);
    assert!(!report.contains(secret.environment().1), "the report shows the shared token");
    Ok(report)
}

async fn measure(secret: &TokenSecret, tasks: usize) -> Result<Figures, BenchError> {
    let token = secret.token();
    let workload = mock_questions();
    let questions = workload.tasks.iter().map(|planned| planned.task.text.clone()).collect();
    let source = Arc::new(TaskSource::new(questions));
    let cluster = Cluster::start(token, &Arc::new(workload.truths)).await?;
    let warm_up = (tasks / 10).max(20);
    let echo_address = &cluster.worker_addresses[0];
    let echo = echo_sequential(echo_address, warm_up, tasks).await?;
    let client =
        SupervisorClient::connect_lazy(&cluster.supervisor_address, token, quorum_real::GrpcConfig::default())?;
    let sequential = tasks_sequential(&client, &source, &cluster.spans, warm_up, tasks).await?;
    let mut throughput = Vec::with_capacity(CLIENT_COUNTS.len());
    for clients in CLIENT_COUNTS {
        let tasks_rate = tasks_per_second(&cluster.supervisor_address, token, &source, clients, tasks).await?;
        cluster.spans.clear();
        let echo_rate = echoes_per_second(echo_address, clients, tasks).await?;
        throughput.push((clients, tasks_rate, echo_rate));
    }
    drop(client);
    cluster.stop().await?;
    Ok(Figures { tasks, warm_up, echo, sequential, throughput })
}

fn micros(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e6
}

fn ratio(figure: Duration, echo: Duration) -> f64 {
    figure.as_secs_f64() / echo.as_secs_f64().max(1e-9)
}

fn render(figures: &Figures) -> String {
    let Figures { tasks, warm_up, echo, sequential, throughput } = figures;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "grpc_path: a supervisor and {WORKERS} workers (instant mock model, capacity {WORKER_CAPACITY}) over TCP on \
         127.0.0.1, one process"
    );
    let _ = writeln!(out, "samples: {tasks} per measurement after {warm_up} untimed (QUORUM_BENCH_TASKS)");
    let _ =
        writeln!(out, "  echo             grpc.health.v1.Health/Check of a worker's server: a bare tonic unary call");
    let _ = writeln!(out, "  task             SupervisorClient::submit to its result, timed at the client");
    let _ = writeln!(
        out,
        "  worker calls     the supervisor's execute calls of the task ({WORKERS} at once, all awaited), first start \
         to last end"
    );
    let _ = writeln!(out, "  supervisor added task - worker calls, per task");
    let _ = writeln!(out);
    let _ =
        writeln!(out, "{:<18} {:>10} {:>10} {:>10} {:>10}", "latency", "p50 us", "p99 us", "p50 xecho", "p99 xecho");
    let rows = [
        ("echo", echo),
        ("task", &sequential.task),
        ("worker calls", &sequential.worker_calls),
        ("supervisor added", &sequential.added),
    ];
    for (name, samples) in rows {
        let _ = writeln!(
            out,
            "{name:<18} {:>10.0} {:>10.0} {:>10.2} {:>10.2}",
            micros(samples.p50()),
            micros(samples.p99()),
            ratio(samples.p50(), echo.p50()),
            ratio(samples.p99(), echo.p99()),
        );
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "{:<18} {:>10} {:>10} {:>10}", "throughput", "tasks/s", "echoes/s", "xecho");
    for (clients, tasks_rate, echo_rate) in throughput {
        let label = format!("{clients} client{}", if *clients == 1 { "" } else { "s" });
        let _ = writeln!(out, "{label:<18} {tasks_rate:>10.0} {echo_rate:>10.0} {:>10.3}", tasks_rate / echo_rate);
    }
    let _ = writeln!(out);
    let added = sequential.added.p50();
    let verdict = if added < ADDED_P50_TARGET { "met" } else { "NOT met" };
    let _ = writeln!(
        out,
        "target: supervisor added p50 under {} us: {verdict} ({:.0} us)",
        micros(ADDED_P50_TARGET),
        micros(added)
    );
    out
}
